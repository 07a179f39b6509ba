/**
 * IPv4 and IPv6 address text: dotted quad, and RFC 5952 canonical IPv6 text.
 *
 * Formatting reads straight from a packet buffer at an offset (no copy); parsing validates the
 * whole string before writing a byte, so a bad string never leaves a half-written address.
 * @module
 */

const DECIMAL_OCTET_REGEXP = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP_REGEXP = /^[0-9a-fA-F]{1,4}$/;

/** Format the 4 bytes at `offset` as a dotted quad (`"198.18.0.1"`). */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * Parse a dotted quad into 4 bytes. Leading zeros are refused: `"010"` is octal to some parsers.
 * @throws {SyntaxError} when `text` is not four decimal octets
 */
export function parseIpv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  if (!parseIpv4Into(text, out, 0)) {
    throw new SyntaxError(`Cannot parse IPv4 address ${JSON.stringify(text)}: expected a.b.c.d`);
  }
  return out;
}

function parseIpv4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!DECIMAL_OCTET_REGEXP.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

/**
 * Format the 16 bytes at `offset` as RFC 5952 text: lower case, no leading zeros, the longest
 * (first on a tie) run of two or more zero groups as `::` (§4.2), and IPv4-mapped addresses in
 * mixed notation `::ffff:198.18.0.1` (§5).
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1; // §4.2.2: a single zero group is never shortened
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number): string => g.slice(a, b).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/**
 * Parse IPv6 text (RFC 4291 §2.2: full, `::`-compressed, or with a trailing dotted quad) into 16
 * bytes. Zone indices (`%eth0`) are refused: they are not part of the address on the wire.
 * @throws {SyntaxError} when `text` is not an IPv6 address
 */
export function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!parseIpv6Into(text, out)) {
    throw new SyntaxError(`Cannot parse IPv6 address ${JSON.stringify(text)}: not RFC 4291 text`);
  }
  return out;
}

function parseGroups(text: string, out: number[], tail: boolean): boolean {
  if (text === '') return true;
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (tail && i === parts.length - 1 && p.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(p, v4, 0)) return false;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (HEX_GROUP_REGEXP.test(p)) {
      out.push(parseInt(p, 16));
    } else {
      return false;
    }
  }
  return true;
}

function parseIpv6Into(text: string, out: Uint8Array): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const head: number[] = [];
  const tail: number[] = [];
  if (halves.length === 1) {
    if (!parseGroups(text, head, true) || head.length !== 8) return false;
  } else {
    if (!parseGroups(halves[0]!, head, false) || !parseGroups(halves[1]!, tail, true)) return false;
    if (head.length + tail.length > 7) return false;
  }
  const groups = head.concat(new Array<number>(8 - head.length - tail.length).fill(0), tail);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >>> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return true;
}
