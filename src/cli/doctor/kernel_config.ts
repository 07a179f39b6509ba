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
  { name: 'CONFIG_NF_TABLES', need: 'required', what: 'nf_tables (DIVERT rules)', module: 'nf_tables' },
  { name: 'CONFIG_NF_TABLES_INET', need: 'required', what: 'nf_tables inet tables (DIVERT rules)', module: 'nf_tables' },
  { name: 'CONFIG_NFT_COMPAT', need: 'optional', what: 'the xtables NFQUEUE target in nf_tables (needed without CONFIG_NFT_QUEUE)', module: 'nft_compat' },
  { name: 'CONFIG_NETFILTER_XT_TARGET_NFQUEUE', need: 'optional', what: 'the xtables NFQUEUE target (needed without CONFIG_NFT_QUEUE)', module: 'xt_NFQUEUE' },
  { name: 'CONFIG_NFT_CT', need: 'optional', what: 'the ct expression (--defragment)', module: 'nft_ct' },
  { name: 'CONFIG_NF_CONNTRACK', need: 'optional', what: 'conntrack (--defragment)', module: 'nf_conntrack' },
  { name: 'CONFIG_NF_DEFRAG_IPV4', need: 'optional', what: 'IPv4 defragmentation (--defragment)', module: 'nf_defrag_ipv4' },
  { name: 'CONFIG_NF_DEFRAG_IPV6', need: 'optional', what: 'IPv6 defragmentation (--defragment)', module: 'nf_defrag_ipv6' },
  { name: 'CONFIG_NFT_QUEUE', need: 'optional', what: "nf_tables' native queue expression (the compat NFQUEUE target is used without it)", module: 'nft_queue' },
  { name: 'CONFIG_NET_SCH_INGRESS', need: 'optional', what: 'the clsact qdisc (inbound injection)', module: 'sch_ingress' },
  { name: 'CONFIG_NET_CLS_BPF', need: 'optional', what: 'the bpf classifier (inbound injection)', module: 'cls_bpf' },
  { name: 'CONFIG_NET_ACT_MIRRED', need: 'optional', what: 'the mirred action (inbound injection)', module: 'act_mirred' },
  { name: 'CONFIG_NETFILTER_NETLINK_LOG', need: 'optional', what: 'nfnetlink_log (sniff mode)', module: 'nfnetlink_log' },
  { name: 'CONFIG_NFT_LOG', need: 'optional', what: "nf_tables' log expression (sniff mode)", module: 'nft_log' },
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
