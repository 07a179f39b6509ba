/**
 * Validation of user strings before they reach the kernel: interface names, labels and
 * namespace names (addresses are parsed by `src/ip/address.ts`). Pure; no DNS.
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

/** Owner labels: they end up in the owner tag of a rule's user data (`divert:owner=…:<label>`). */
const LABEL = /^[A-Za-z0-9_.-]{1,32}$/;

export function isLabel(text: string): boolean {
  return LABEL.test(text);
}

