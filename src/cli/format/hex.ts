/**
 * `-x`: tcpdump's hex dump, 16 bytes a line in 2-byte groups, offsets in hex.
 * @module
 */

/** `\t0x0000:  4500 0054 …` lines (each ends with a newline). */
export function formatHex(bytes: Uint8Array): string {
  let out = '';
  for (let off = 0; off < bytes.length; off += 16) {
    const groups: string[] = [];
    for (let i = off; i < Math.min(off + 16, bytes.length); i += 2) {
      const a = bytes[i]!.toString(16).padStart(2, '0');
      const b = i + 1 < bytes.length ? bytes[i + 1]!.toString(16).padStart(2, '0') : '';
      groups.push(a + b);
    }
    out += `\t0x${off.toString(16).padStart(4, '0')}:  ${groups.join(' ')}\n`;
  }
  return out;
}
