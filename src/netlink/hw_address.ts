/**
 * Link-layer address text. Used for IFLA_ADDRESS and NFQA_HWADDR.
 * @module
 */

/**
 * Formats `len` bytes from `off` as lowercase colon-separated hex ("02:00:5e:00:53:01").
 * @example formatHwAddr(new Uint8Array([2, 0, 0x5e, 0, 0x53, 1])) // "02:00:5e:00:53:01"
 */
export function formatHwAddr(bytes: Uint8Array, off = 0, len = bytes.length - off): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    if (i > 0) s += ':';
    s += HEX[bytes[off + i] ?? 0]!;
  }
  return s;
}

/** "00"…"ff": an inbound packet's NFQA_HWADDR is formatted per packet, and toString(16) is dear there. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, v) => v.toString(16).padStart(2, '0'));
