/**
 * Validation of every user string before it reaches a firewall binary: interface names,
 * addresses, labels and namespace names. Pure; no DNS (host names are refused).
 * @module
 */

/** Linux IFNAMSIZ - 1: the longest name, a trailing `+` wildcard included (as iptables counts). */
export const IFNAME_MAX = 15;

/**
 * Why `name` is not an interface name iptables and nft can take (`eth0`, `veth+`), or undefined.
 * The kernel's rules (dev_valid_name: no `/`, `:` or white space, not `.`/`..`) plus: printable
 * ASCII only, no quotes, backslash or `*` (nft's wildcard), no leading `-`/`!`, not a bare `+`.
 */
export function interfaceNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  if (name.length < 1 || name.length > IFNAME_MAX) return `use 1–${IFNAME_MAX} characters (a trailing + counts)`;
  if (name === '+') return 'a bare "+" matches every interface: leave out -i/-o instead';
  if (name === '.' || name === '..') return 'the kernel refuses "." and ".."';
  if (/^[-!]/.test(name)) return 'it must not start with "-" or "!"';
  if (!/^[\x21-\x7e]+$/.test(name)) return 'white space, control and non-ASCII characters are not allowed';
  if (/[/:"'\\*`]/.test(name)) return 'the characters / : " \' \\ * ` are not allowed';
  return undefined;
}

/** True for a name iptables accepts after `-i`/`-o` (`eth0`, `veth+`); see {@link interfaceNameProblem}. */
export function isInterfaceName(name: string): boolean {
  return interfaceNameProblem(name) === undefined;
}

/** Owner labels: they end up inside an iptables comment. */
const LABEL = /^[A-Za-z0-9_.-]{1,32}$/;

export function isLabel(text: string): boolean {
  return LABEL.test(text);
}

/** Names as `ip netns add` creates them under /run/netns. */
const NETNS = /^[A-Za-z0-9_.-]{1,64}$/;

/** Throws TypeError unless `name` is a plain network-namespace name. */
export function checkNetnsName(name: string): void {
  if (!NETNS.test(name) || name === '.' || name === '..') {
    throw new TypeError(`Invalid network namespace name ${JSON.stringify(name)}: use the NAME shown by "ip netns list"`);
  }
}

/** Parses a dotted-quad IPv4 address to its 4 bytes; undefined when malformed. */
export function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out.push(Number(p));
  }
  return out;
}

/** Parses an IPv6 address (with `::` and an optional dotted IPv4 tail) to 16 bytes. */
export function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  let s = text;
  if (s.includes('.')) {
    const i = s.lastIndexOf(':');
    const v4 = i >= 0 ? parseIpv4(s.slice(i + 1)) : undefined;
    if (!v4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    s = `${s.slice(0, i + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const split = (x: string): string[] => (x === '' ? [] : x.split(':'));
  const head = split(halves[0] ?? '');
  const tail = halves[1] === undefined ? undefined : split(halves[1]);
  let words: string[];
  if (tail === undefined) {
    if (head.length !== 8) return undefined;
    words = head;
  } else {
    if (head.length + tail.length > 7) return undefined;
    words = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  }
  const bytes: number[] = [];
  for (const w of words) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(w)) return undefined;
    const n = parseInt(w, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}

/** Zeroes the host bits of an address. */
export function maskBytes(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** RFC 5952 text of 16 bytes (lower case, longest zero run compressed), as iptables prints. */
export function formatIpv6(bytes: readonly number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical `addr/prefix` text with host bits cleared (what `iptables -S` shows). */
export function canonicalNetwork(address: string, prefix: number): string {
  const v4 = parseIpv4(address);
  if (v4) return `${maskBytes(v4, prefix).join('.')}/${prefix}`;
  const v6 = parseIpv6(address);
  if (!v6) throw new TypeError(`Not an IP address: ${JSON.stringify(address)}`);
  return `${formatIpv6(maskBytes(v6, prefix))}/${prefix}`;
}

/** Prefix length of a contiguous dotted netmask (`255.255.255.0` → 24); undefined otherwise. */
export function netmaskPrefix(mask: string): number | undefined {
  const bytes = parseIpv4(mask);
  if (!bytes) return undefined;
  const bits = bytes.map((b) => b.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}
