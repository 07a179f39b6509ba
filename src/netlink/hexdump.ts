/**
 * Debug dumps of netlink bytes, 4 bytes per line as libmnl's `mnl_nlmsg_fprintf` lays them out,
 * so a failing golden test shows which header field or attribute differs.
 * @module
 */

/**
 * Dumps `bytes` 4 per line: offset, hex, printable ASCII.
 * @example hexdump(new Uint8Array([0x14, 0, 0, 0])) // "0000  14 00 00 00  |....|"
 */
export function hexdump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 4) lines.push(dumpLine(bytes, off));
  return lines.join('\n');
}

function dumpLine(bytes: Uint8Array, off: number): string {
  let hex = '';
  let text = '';
  for (let i = off; i < off + 4; i++) {
    const v = bytes[i];
    hex += v === undefined ? '   ' : ` ${v.toString(16).padStart(2, '0')}`;
    text += v === undefined ? ' ' : v >= 0x20 && v < 0x7f ? String.fromCharCode(v) : '.';
  }
  return `${off.toString(16).padStart(4, '0')} ${hex}  |${text}|`;
}

/**
 * Line diff of two dumps; `undefined` when the bytes are equal. Differing lines are shown as
 * `-` (expected) / `+` (actual) pairs, equal lines with two spaces.
 * @example
 * ```ts
 * const d = diffHex(actual, expected);
 * if (d !== undefined) assert.fail(`bytes differ:\n${d}`);
 * ```
 */
export function diffHex(actual: Uint8Array, expected: Uint8Array): string | undefined {
  if (actual.length === expected.length && actual.every((v, i) => v === expected[i])) return undefined;
  const out = [`expected ${expected.length} bytes, actual ${actual.length} bytes`];
  const n = Math.max(actual.length, expected.length);
  for (let off = 0; off < n; off += 4) {
    const e = off < expected.length ? dumpLine(expected, off) : undefined;
    const a = off < actual.length ? dumpLine(actual, off) : undefined;
    if (e === a) {
      out.push(`  ${e}`);
    } else {
      if (e !== undefined) out.push(`- ${e}`);
      if (a !== undefined) out.push(`+ ${a}`);
    }
  }
  return out.join('\n');
}
