/**
 * The fake nf_tables' ruleset, one per network namespace, and how the kernel reports it:
 * objects are stored as the divert codec's values in the form the kernel dumps them
 * (`canonicalExpr`), so a fake dump decodes to exactly what a real 6.18 kernel gives.
 *
 * Handles: tables count per namespace; chains, rules and sets share one counter per table
 * (`table->hgenerator` in net/netfilter/nf_tables_api.c).
 * @module
 */
import type { Chain } from '../nftables/chain.js';
import { NFT_LOOKUP_F } from '../nftables/expr_constants.js';
import type { Expr, NftData } from '../nftables/expr_types.js';
import type { Rule } from '../nftables/rule.js';
import type { NftSet, SetElement } from '../nftables/set.js';
import type { Table } from '../nftables/table.js';

/** A rule as stored: its expressions in dump form. */
export interface FakeRule {
  handle: number;
  exprs: Expr[];
  userdata?: Uint8Array | undefined;
}

export interface FakeChain {
  chain: Chain;
  rules: FakeRule[];
}

export interface FakeSetState {
  set: NftSet;
  /** By key (hex), in insertion order. */
  elements: Map<string, SetElement>;
}

export interface FakeTable {
  table: Table;
  /** Netlink port id of the owner (NFT_TABLE_F_OWNER). */
  owner: number | undefined;
  chains: FakeChain[];
  sets: FakeSetState[];
  /** Last handle given to a chain, rule or set of this table. */
  hgen: number;
}

export interface NetnsState {
  tables: FakeTable[];
  /** Ruleset generation: +1 per committed batch. */
  gen: number;
  tableHandles: number;
  lastPid: number;
}

export function newNetnsState(): NetnsState {
  return { tables: [], gen: 1, tableHandles: 0, lastPid: 0 };
}

/** XT_ALIGN on 64-bit hosts: compat info is dumped padded to 8 bytes. */
export function xtAlign(n: number): number {
  return (n + 7) & ~7;
}

/**
 * An expression as the kernel dumps it (measured on 6.18): the attributes its `*_dump` always
 * writes get their defaults, ids become names.
 */
export function canonicalExpr(e: Expr, setName: (id: number) => string | undefined): Expr {
  switch (e.type) {
    case 'payload':
      return e.sreg !== undefined ? { ...e, csumType: e.csumType ?? 0, csumOffset: e.csumOffset ?? 0, csumFlags: e.csumFlags ?? 0 } : e;
    case 'exthdr':
      return { ...e, flags: e.flags ?? 0, op: e.op ?? 0 };
    case 'bitwise':
      return { ...e, op: e.op ?? 0 };
    case 'lookup': {
      const { setId, ...rest } = e;
      const set = e.set ?? (setId !== undefined ? setName(setId) : undefined);
      return { ...rest, ...(set !== undefined ? { set } : {}), flags: (e.flags ?? 0) & NFT_LOOKUP_F.NFT_LOOKUP_F_INV };
    }
    case 'counter':
      return { type: 'counter', bytes: e.bytes ?? 0, packets: e.packets ?? 0 };
    case 'numgen':
      return { ...e, offset: e.offset ?? 0 };
    case 'log':
      return canonicalLog(e);
    case 'queue':
      return e.sregQnum !== undefined ? { type: 'queue', sregQnum: e.sregQnum, flags: e.flags ?? 0 } : { type: 'queue', num: e.num ?? 0, total: e.total ?? 1, flags: e.flags ?? 0 };
    case 'target':
    case 'match': {
      const info = new Uint8Array(xtAlign(e.info.length));
      info.set(e.info);
      return { ...e, info };
    }
    default:
      return e;
  }
}

function canonicalLog(e: Extract<Expr, { type: 'log' }>): Expr {
  const out: Extract<Expr, { type: 'log' }> = { type: 'log' };
  if (e.prefix !== undefined) out.prefix = e.prefix;
  if (e.group !== undefined) {
    // nft_log_dump, NF_LOG_TYPE_ULOG: group always, snaplen and threshold when not 0.
    out.group = e.group;
    if (e.snaplen) out.snaplen = e.snaplen;
    if (e.qthreshold) out.qthreshold = e.qthreshold;
  } else {
    out.level = e.level ?? 4;
    if (e.flags) out.flags = e.flags;
  }
  return out;
}

/** A verdict's chain id resolved to the chain's name, as dumps show jumps. */
export function canonicalData(d: NftData, chainName: (id: number) => string | undefined): NftData {
  if (!('verdict' in d) || d.verdict.chainId === undefined) return d;
  const { chainId, ...v } = d.verdict;
  const chain = v.chain ?? chainName(chainId);
  return { verdict: chain !== undefined ? { ...v, chain } : v };
}

/** A table as dumps and echoes report it. */
export function tableView(t: FakeTable): Table {
  const out: Table = { family: t.table.family, name: t.table.name, flags: t.table.flags ?? 0, use: t.chains.length + t.sets.length, handle: t.table.handle! };
  if (t.table.userdata) out.userdata = t.table.userdata;
  if (t.owner !== undefined) out.owner = t.owner;
  return out;
}

/** A rule as dumps report it: `position` is the handle of the rule before it; no NFTA_RULE_COMPAT. */
export function ruleView(t: FakeTable, c: FakeChain, r: FakeRule, withPosition: boolean): Rule {
  const out: Rule = { family: t.table.family, table: t.table.name, chain: c.chain.name, handle: r.handle, exprs: r.exprs };
  const i = c.rules.indexOf(r);
  if (withPosition && i > 0) out.position = c.rules[i - 1]!.handle;
  if (r.userdata) out.userdata = r.userdata;
  // NFTA_RULE_COMPAT is used while checking the rule and never dumped.
  return out;
}

/** Elements map key. */
export function keyOf(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}

/** Verdict jumps and gotos to chain `name` in the rules of `t`'s chains, except `except`'s. */
export function jumpsTo(t: FakeTable, name: string, except?: FakeChain): number {
  let n = 0;
  for (const c of t.chains) {
    if (c === except) continue;
    for (const r of c.rules) for (const e of r.exprs) if (e.type === 'immediate' && 'verdict' in e.data && e.data.verdict.chain === name) n++;
  }
  return n;
}

/** References to chain `c`: its rules plus the jumps and gotos to it (nf_tables' chain->use). */
export function chainUse(t: FakeTable, c: FakeChain): number {
  return c.rules.length + jumpsTo(t, c.chain.name);
}
