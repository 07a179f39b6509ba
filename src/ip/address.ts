/**
 * IPv4 / IPv6 address text <-> bytes: the one implementation, used by the packet views, the
 * firewall's rule parser, nf_tables data, rtnetlink addresses and logs. Not on the packet path.
 * Unparsable text is a `SyntaxError` (as for every other unparsable input); `tryParse*` return
 * `undefined` instead.
 * Output follows RFC 5952 (lowercase, no leading zeros, longest zero run as "::", IPv4-mapped
 * addresses as "::ffff:192.0.2.1").
 * @module
 */

/**
 * Formats 4 bytes as dotted-quad text.
 * @throws {RangeError} when fewer than 4 bytes follow `off`.
 * @example formatIpv4(new Uint8Array([198, 18, 0, 1])) // "198.18.0.1"
 */
export function formatIpv4(bytes: Uint8Array, off = 0): string {
  if (off < 0 || off + 4 > bytes.length) throw new RangeError('formatIpv4() needs 4 bytes');
  return `${bytes[off]}.${bytes[off + 1]}.${bytes[off + 2]}.${bytes[off + 3]}`;
}

/**
 * Formats 16 bytes as RFC 5952 IPv6 text.
 * @throws {RangeError} when fewer than 16 bytes follow `off`.
 * @example formatIpv6(parseIpv6("2001:0db8:0:0:0:0:0:1")) // "2001:db8::1"
 */
export function formatIpv6(bytes: Uint8Array, off = 0): string {
  if (off < 0 || off + 16 > bytes.length) throw new RangeError('formatIpv6() needs 16 bytes');
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[off + 2 * i]! << 8) | bytes[off + 2 * i + 1]!);
  // RFC 5952 §5: ::ffff:0:0/96 (IPv4-mapped) keeps the dotted quad.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes, off + 12)}`;
  }
  // RFC 5952 §4.2: compress the longest run of >= 2 zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
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
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/**
 * Parses strict dotted-quad IPv4 text (four decimal parts 0..255, no leading zeros).
 * @throws {SyntaxError} when `text` is not such an address.
 * @example parseIpv4("192.0.2.1") // Uint8Array [192, 0, 2, 1]
 */
export function parseIpv4(text: string): Uint8Array {
  const out = tryParseIpv4(text);
  if (out === undefined) throw new SyntaxError(`Invalid IPv4 address: ${JSON.stringify(text)}`);
  return out;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2, including "::" and a trailing dotted quad; no zone id).
 * @throws {SyntaxError} when `text` is not such an address.
 * @example parseIpv6("2001:db8::1") // 16 bytes
 */
export function parseIpv6(text: string): Uint8Array {
  const out = tryParseIpv6(text);
  if (out === undefined) throw new SyntaxError(`Invalid IPv6 address: ${JSON.stringify(text)}`);
  return out;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Like {@link parseIpv4} but returns `undefined` on bad input. */
export function tryParseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!DECIMAL_OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** Like {@link parseIpv6} but returns `undefined` on bad input. */
export function tryParseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((v, i) => {
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** Colon-separated hex groups; a dotted quad may end the last side and counts as two groups. */
function parseGroups(side: string, mayEndWithIpv4: boolean): number[] | undefined {
  if (side === '') return [];
  const parts = side.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && mayEndWithIpv4 && p.includes('.')) {
      const v4 = tryParseIpv4(p);
      if (v4 === undefined) return undefined;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (HEX_GROUP.test(p)) {
      out.push(parseInt(p, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

/**
 * Prefix length of a contiguous dotted netmask (`255.255.255.0` → 24); undefined for anything
 * else (`255.0.255.0`, malformed text).
 */
export function netmaskPrefix(mask: string): number | undefined {
  const b = tryParseIpv4(mask);
  if (b === undefined) return undefined;
  const bits = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const inverted = ~bits >>> 0; // host bits: must be 2^k - 1
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return 32 - Math.log2(inverted + 1);
}
