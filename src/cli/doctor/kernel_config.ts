/**
 * Kernel build options divert cares about, read from /proc/config.gz (or /boot/config-<release>).
 * @module
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { release } from 'node:os';

/** `y`, `m`, or undefined when the option is not set. */
export type ConfigValue = 'y' | 'm' | undefined;

/** Options checked, with what divert needs each for. */
export const KERNEL_OPTIONS = [
  { name: 'CONFIG_NETFILTER_NETLINK_QUEUE', need: 'required', what: 'nfnetlink_queue (divert sockets)', module: 'nfnetlink_queue' },
  { name: 'CONFIG_NETFILTER_XT_TARGET_NFQUEUE', need: 'required', what: 'the iptables NFQUEUE target (DIVERT rules)', module: 'xt_NFQUEUE' },
  { name: 'CONFIG_NF_CONNTRACK', need: 'optional', what: 'conntrack (--defragment)', module: 'nf_conntrack' },
  { name: 'CONFIG_NF_DEFRAG_IPV4', need: 'optional', what: 'IPv4 defragmentation (--defragment)', module: 'nf_defrag_ipv4' },
  { name: 'CONFIG_NF_DEFRAG_IPV6', need: 'optional', what: 'IPv6 defragmentation (--defragment)', module: 'nf_defrag_ipv6' },
  { name: 'CONFIG_NFT_QUEUE', need: 'optional', what: "nftables' native queue statement (iptables is used without it)", module: 'nft_queue' },
] as const;

/** Parses kernel config text into name → value (only set options appear). */
export function parseKernelConfig(text: string): Map<string, 'y' | 'm'> {
  const out = new Map<string, 'y' | 'm'>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Z0-9_]+)=([ym])$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2] as 'y' | 'm');
  }
  return out;
}

/** Reads the running kernel's config; undefined (with where it looked) when unreadable. */
export function readKernelConfig(): { config: Map<string, 'y' | 'm'>; source: string } | { config: undefined; tried: string[] } {
  const tried = ['/proc/config.gz', `/boot/config-${release()}`];
  try {
    return { config: parseKernelConfig(gunzipSync(readFileSync(tried[0]!)).toString('utf8')), source: tried[0]! };
  } catch {
    try {
      return { config: parseKernelConfig(readFileSync(tried[1]!, 'utf8')), source: tried[1]! };
    } catch {
      return { config: undefined, tried };
    }
  }
}
