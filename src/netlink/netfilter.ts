/**
 * Netfilter's names for where a packet is: protocol families and the five IPv4/IPv6 hooks, shared
 * by every layer that meets them (NFQUEUE packet headers, nf_tables base chains, DIVERT rules,
 * divert addresses). include/uapi/linux/netfilter.h
 *
 * ```
 *  in ─▶ prerouting ─▶ (route) ─▶ local-in ─▶ local process ─▶ local-out ─▶ (route) ─▶ postrouting ─▶ out
 *                          └───────────▶ forward ───────────────────────────────────────┘
 * ```
 * One word per hook, everywhere: `prerouting`, `local-in`, `forward`, `local-out`,
 * `postrouting`. (The seed's rule chains `input` and `output` are names of the rule language
 * only: they mean prerouting and postrouting, see src/firewall/rule.ts.)
 * @module
 */

/** `enum nf_inet_hooks`: the hook numbers NFQUEUE reports and base chains register at. */
export const NF_INET_HOOKS = {
  NF_INET_PRE_ROUTING: 0,
  NF_INET_LOCAL_IN: 1,
  NF_INET_FORWARD: 2,
  NF_INET_LOCAL_OUT: 3,
  NF_INET_POST_ROUTING: 4,
} as const;

/** `NFPROTO_*`: the families of nf_tables tables and netfilter hooks. */
export const NFPROTO = {
  NFPROTO_UNSPEC: 0,
  NFPROTO_INET: 1,
  NFPROTO_IPV4: 2,
  NFPROTO_ARP: 3,
  NFPROTO_NETDEV: 5,
  NFPROTO_BRIDGE: 7,
  NFPROTO_IPV6: 10,
} as const;

/** A netfilter hook by its one name. */
export type Hook = 'prerouting' | 'local-in' | 'forward' | 'local-out' | 'postrouting';

/** Hook names in NF_INET_* order: `HOOKS[NF_INET_FORWARD] === 'forward'`. */
export const HOOKS: readonly Hook[] = ['prerouting', 'local-in', 'forward', 'local-out', 'postrouting'];

/** The NF_INET_* number of a hook. */
export function hookNumber(hook: Hook): number {
  return HOOKS.indexOf(hook);
}
