/**
 * The whole nf_tables ruleset of a test namespace, read over divert's own netlink (no nft
 * binary), as text that compares equal when nothing changed: tables (with their flags and
 * owners), chains (with hooks and priorities) and rules (with their expressions and user data,
 * counters left out: traffic moves them).
 */
import { NftConnection } from '../../src/nftables/conn.js';
import { formatExprs } from '../../src/nftables/format.js';
import { NFPROTO } from '../../src/netlink/netfilter.js';
import { listRules } from '../../src/firewall/mod.js';
import type { Netns } from './netns.js';

/**
 * The ruleset of `ns`, one line per object, sorted. Any namespace path will do, e.g. the host's
 * own `{ path: '/proc/1/ns/net' }` (read only).
 */
export async function rulesetDump(ns: Pick<Netns, 'path'>): Promise<string[]> {
  const conn = NftConnection.open({ netnsPath: ns.path });
  try {
    const lines: string[] = [];
    for (const t of await conn.listTables(NFPROTO.NFPROTO_UNSPEC)) lines.push(`table ${t.family} ${t.name} flags ${t.flags ?? 0}`);
    for (const c of await conn.listChains(NFPROTO.NFPROTO_UNSPEC)) {
      lines.push(`chain ${c.family} ${c.table} ${c.name} ${c.hook ? `hook ${c.hook.hooknum} priority ${c.hook.priority} type ${c.type}` : ''}`);
    }
    for (const r of await conn.listRules(NFPROTO.NFPROTO_UNSPEC)) {
      const exprs = r.exprs.map((e) => (e.type === 'counter' ? { type: 'counter' as const } : e));
      lines.push(`rule ${r.family} ${r.table} ${r.chain} handle ${r.handle}: ${formatExprs(exprs)} ${Buffer.from(r.userdata ?? []).toString('hex')}`);
    }
    return lines.sort();
  } finally {
    conn.close();
  }
}

/** Names of divert's tables in `ns` (`divert`, `divert-<pid>`). */
export async function divertTables(ns: Pick<Netns, 'path'>): Promise<string[]> {
  const conn = NftConnection.open({ netnsPath: ns.path });
  try {
    return (await conn.listTables(NFPROTO.NFPROTO_INET)).map((t) => t.name).filter((n) => /^divert(-\d+)?$/.test(n)).sort();
  } finally {
    conn.close();
  }
}

/**
 * divert's rules in `ns` as `divert rules list` reads them (listRules, over netlink), one
 * `<table> <kind> <text>` line each in listing order: e.g.
 * `divert-4242 divert -A input -p icmp -j DIVERT 7`, `divert defrag …` for the defrag rule.
 */
export async function divertRules(ns: Pick<Netns, 'path'>): Promise<string[]> {
  return (await listRules({ netns: ns.path })).map((r) => `${r.table} ${r.kind} ${r.text}`);
}
