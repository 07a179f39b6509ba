/**
 * Which packets a filter's residue must still look at. Rules are per hook and family, exact ones
 * first: a packet queued at a hook and family with no residual rule was queued by an exact rule,
 * so it matches the filter and user space need not evaluate it. (`udp.DstPort == 53` is exact for
 * IPv4 and residual only for IPv6 packets with extension headers: IPv4 packets skip the check.)
 * @module
 */
import type { LoweredFilter } from './lower_nft.js';

const HOOK_BITS: Readonly<Record<string, number>> = { prerouting: 0, postrouting: 2 };

/** A test of (hook, family): true where the residue must decide, false where the kernel did. */
export function residuePlaces(lowered: LoweredFilter): (hook: string, family: 4 | 6) => boolean {
  let mask = 0;
  for (const r of lowered.rules) if (r.residual) mask |= 1 << (HOOK_BITS[r.hook]! + (r.family === 'ipv6' ? 1 : 0));
  // A hook no filter rule uses cannot queue for the filter: evaluate, to be safe.
  return (hook, family) => {
    const base = HOOK_BITS[hook];
    return base === undefined || (mask & (1 << (base + (family === 6 ? 1 : 0)))) !== 0;
  };
}
