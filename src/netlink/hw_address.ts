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
    const v = bytes[off + i] ?? 0;
    if (i > 0) s += ':';
    s += v < 16 ? `0${v.toString(16)}` : v.toString(16);
  }
  return s;
}
