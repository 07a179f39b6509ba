/**
 * The fake nf_tables' handling of one batch message, with the kernel's errno choices and extack
 * offsets (measured on 6.18): a missing table is ENOENT at the message's table attribute, a
 * table another socket owns is EPERM there, an expression the kernel lacks (or whose set or
 * chain is missing) is ENOENT at its NFTA_LIST_ELEM, an NFQUEUE target whose range overflows
 * is Errno.ERANGE at its element. Every change goes to the transaction copy `ns`.
 * @module
 */
import { Errno } from '../_native/errno.js';
import { PacketError } from '../errors.js';
import { NlmFlags } from '../netlink/constants.js';
import { decodeChain, type Chain } from '../nftables/chain.js';
import { NF_INET, NFT_CHAIN, NFT_MSG, NFT_TABLE_F, NFT_USERDATA_MAXLEN } from '../nftables/constants.js';
import { EXPR_SCHEMAS } from '../nftables/expr_schema.js';
import type { Expr } from '../nftables/expr_types.js';
import { decodeRule } from '../nftables/rule.js';
import { decodeSet } from '../nftables/set.js';
import { decodeTable } from '../nftables/table.js';
import { canonicalData, canonicalExpr, jumpsTo, keyOf, type FakeChain, type FakeTable, type NetnsState } from './_fake_nftables_state.js';
import type { FakeNack } from './_fake_netlink.js';
import { scanAttrs, type ParsedMessage } from './_fake_nftables_msg.js';


/** The outcome of one message: an errno (and the attribute path the extack points at), or what to echo. */
export type Outcome = { errno: number; path?: string | undefined; scripted?: FakeNack | undefined } | { echo: () => Uint8Array | undefined };

/** What the message handlers need besides the message. */
export interface ApplyContext {
  ns: NetnsState;
  portId: number;
  /** Whether expression `queue` exists (CONFIG_NFT_QUEUE). */
  queueAvailable: boolean;
  /** Set ids given in this batch → their tables' sets. */
  setIds: Map<number, { table: FakeTable; name: string }>;
  /** Chain ids given in this batch → chain names. */
  chainIds: Map<number, string>;
  /** Builds the echo of an object (a NEW* message with the request's seq). */
  echoOf: (m: ParsedMessage, kind: 'table' | 'chain' | 'rule' | 'set' | 'elements', t: FakeTable, name?: string, handle?: number) => Uint8Array | undefined;
}

/** Applies message `m` to `ctx.ns`. */
export function applyMessage(m: ParsedMessage, ctx: ApplyContext): Outcome {
  try {
    switch (m.msg) {
      case NFT_MSG.NFT_MSG_NEWTABLE: return newTable(m, ctx);
      case NFT_MSG.NFT_MSG_DELTABLE: return delTable(m, ctx);
      case NFT_MSG.NFT_MSG_NEWCHAIN: return newChain(m, ctx);
      case NFT_MSG.NFT_MSG_DELCHAIN: return delChain(m, ctx);
      case NFT_MSG.NFT_MSG_NEWRULE: return newRule(m, ctx);
      case NFT_MSG.NFT_MSG_DELRULE: return delRule(m, ctx);
      case NFT_MSG.NFT_MSG_NEWSET: return newSet(m, ctx);
      case NFT_MSG.NFT_MSG_DELSET: return delSet(m, ctx);
      case NFT_MSG.NFT_MSG_NEWSETELEM: case NFT_MSG.NFT_MSG_DELSETELEM: return setElems(m, ctx);
      default: return { errno: Errno.EINVAL };
    }
  } catch (err) {
    // A decoder refused the attributes: nla_parse would have. Anything else is a bug of the fake.
    if (err instanceof PacketError) return { errno: Errno.EINVAL };
    throw err;
  }
}

/** The table `name` of `family`, or the errno the kernel's nft_table_lookup gives. */
function lookupTable(ctx: ApplyContext, family: number, name: string | undefined, path: string): FakeTable | { errno: number; path: string } {
  const t = ctx.ns.tables.find((x) => x.table.family === family && x.table.name === name);
  if (!t) return { errno: Errno.ENOENT, path };
  if (t.owner !== undefined && t.owner !== ctx.portId) return { errno: Errno.EPERM, path };
  return t;
}

function isErr<T extends object>(x: T | { errno: number; path: string }): x is { errno: number; path: string } {
  return 'errno' in x;
}

function newTable(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const t = decodeTable(m.bytes, 16, m.bytes.length);
  const found = ctx.ns.tables.find((x) => x.table.family === m.family && x.table.name === t.name);
  const flags = t.flags ?? 0;
  if (found) {
    if (found.owner !== undefined && found.owner !== ctx.portId) return { errno: Errno.EPERM, path: 'NFTA_TABLE_NAME' };
    if (m.flags & NlmFlags.NLM_F_EXCL) return { errno: Errno.EEXIST, path: 'NFTA_TABLE_NAME' };
    if (t.flags !== undefined && ((flags ^ (found.table.flags ?? 0)) & NFT_TABLE_F.NFT_TABLE_F_OWNER)) return { errno: Errno.EOPNOTSUPP };
    if (t.flags !== undefined) found.table.flags = flags;
    return { echo: () => ctx.echoOf(m, 'table', found) };
  }
  const owner = flags & NFT_TABLE_F.NFT_TABLE_F_OWNER ? ctx.portId : undefined;
  const table: FakeTable = { table: { family: m.family, name: t.name, flags, handle: ++ctx.ns.tableHandles }, owner, chains: [], sets: [], hgen: 0 };
  if (t.userdata) table.table.userdata = t.userdata;
  ctx.ns.tables.push(table);
  return { echo: () => ctx.echoOf(m, 'table', table) };
}

function delTable(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const a = scanAttrs(m.bytes);
  const name = a.string(1);
  const handle = a.u64(4);
  const t = ctx.ns.tables.find((x) => x.table.family === m.family && (handle !== undefined ? x.table.handle === handle : x.table.name === name));
  const path = handle !== undefined ? 'NFTA_TABLE_HANDLE' : 'NFTA_TABLE_NAME';
  if (!t) return { errno: Errno.ENOENT, path };
  if (t.owner !== undefined && t.owner !== ctx.portId) return { errno: Errno.EPERM, path };
  // NLM_F_NONREC: only an empty table (chains or sets deleted earlier in the batch are gone).
  if (m.flags & NlmFlags.NLM_F_NONREC && (t.chains.length > 0 || t.sets.length > 0)) return { errno: Errno.EBUSY, path };
  ctx.ns.tables.splice(ctx.ns.tables.indexOf(t), 1);
  return { echo: () => undefined };
}

function newChain(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const c = decodeChain(m.bytes, 16, m.bytes.length);
  const t = lookupTable(ctx, m.family, c.table, 'NFTA_CHAIN_TABLE');
  if (isErr(t)) return t;
  const found = t.chains.find((x) => x.chain.name === c.name);
  if (found) {
    if (m.flags & NlmFlags.NLM_F_EXCL) return { errno: Errno.EEXIST, path: 'NFTA_CHAIN_NAME' };
    if (c.policy !== undefined) found.chain.policy = c.policy;
    return { echo: () => ctx.echoOf(m, 'chain', t, c.name) };
  }
  const invalid = checkChain(c);
  if (invalid) return invalid;
  const chain: FakeChain = {
    chain: {
      family: m.family, table: t.table.name, name: c.name, handle: ++t.hgen,
      ...(c.hook ? { hook: c.hook, policy: c.policy ?? 1, type: c.type ?? 'filter', flags: NFT_CHAIN.NFT_CHAIN_BASE } : {}),
      ...(c.userdata ? { userdata: c.userdata } : {}),
    },
    rules: [],
  };
  t.chains.push(chain);
  if (c.id !== undefined) ctx.chainIds.set(c.id, c.name);
  return { echo: () => ctx.echoOf(m, 'chain', t, c.name) };
}

/** nf_tables_addchain's refusals, as Linux 6.18 gives them. */
function checkChain(c: Chain): Outcome | undefined {
  if (!c.hook) return c.policy !== undefined ? { errno: Errno.EOPNOTSUPP, path: 'NFTA_CHAIN_POLICY' } : undefined;
  if (c.type !== undefined && !['filter', 'route', 'nat'].includes(c.type)) return { errno: Errno.ENOENT, path: 'NFTA_CHAIN_TYPE' };
  if (c.policy !== undefined && c.policy !== 0 && c.policy !== 1) return { errno: Errno.EINVAL };
  if (c.hook.hooknum > NF_INET.NF_INET_POST_ROUTING) return { errno: Errno.EOPNOTSUPP };
  if (c.type === 'route' && c.hook.hooknum !== NF_INET.NF_INET_LOCAL_OUT) return { errno: Errno.EOPNOTSUPP };
  return undefined;
}

function delChain(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const a = scanAttrs(m.bytes);
  const t = lookupTable(ctx, m.family, a.string(1), 'NFTA_CHAIN_TABLE');
  if (isErr(t)) return t;
  const handle = a.u64(2);
  const c = t.chains.find((x) => (handle !== undefined ? x.chain.handle === handle : x.chain.name === a.string(3)));
  if (!c) return { errno: Errno.ENOENT, path: handle !== undefined ? 'NFTA_CHAIN_HANDLE' : 'NFTA_CHAIN_NAME' };
  // nf_tables_delchain: NLM_F_NONREC refuses a chain in use; otherwise its rules go with it,
  // but jumps from other chains still hold it.
  if (m.flags & NlmFlags.NLM_F_NONREC && c.rules.length > 0) return { errno: Errno.EBUSY, path: 'NFTA_CHAIN_NAME' };
  if (jumpsTo(t, c.chain.name, c) > 0) return { errno: Errno.EBUSY, path: 'NFTA_CHAIN_NAME' };
  t.chains.splice(t.chains.indexOf(c), 1);
  return { echo: () => undefined };
}

function newRule(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const r = decodeRule(m.bytes, 16, m.bytes.length);
  const t = lookupTable(ctx, m.family, r.table, 'NFTA_RULE_TABLE');
  if (isErr(t)) return t;
  const chainName = r.chain ?? (r.chainId !== undefined ? ctx.chainIds.get(r.chainId) : undefined);
  const c = t.chains.find((x) => x.chain.name === chainName);
  if (!c) return { errno: Errno.ENOENT, path: r.chain !== undefined ? 'NFTA_RULE_CHAIN' : 'NFTA_RULE_CHAIN_ID' };
  if (r.userdata && r.userdata.length > NFT_USERDATA_MAXLEN) return { errno: Errno.ERANGE, path: 'NFTA_RULE_USERDATA' };
  const exprs: Expr[] = [];
  for (const [i, e] of r.exprs.entries()) {
    const errno = checkExpr(e, t, ctx);
    if (errno) return { errno, path: `NFTA_RULE_EXPRESSIONS > elem ${i} (${e.type === 'unknown' ? e.name : e.type})` };
    exprs.push(canonical(e, ctx));
  }
  const rule = { handle: 0, exprs, userdata: r.userdata };
  if (m.flags & NlmFlags.NLM_F_REPLACE) {
    // nf_tables_newrule: REPLACE needs NFTA_RULE_HANDLE, and the new rule keeps that handle.
    if (r.handle === undefined) return { errno: Errno.EINVAL, path: 'NFTA_RULE_HANDLE' };
    const i = c.rules.findIndex((x) => x.handle === r.handle);
    if (i < 0) return { errno: Errno.ENOENT, path: 'NFTA_RULE_HANDLE' };
    rule.handle = r.handle;
    c.rules[i] = rule;
    return { echo: () => ctx.echoOf(m, 'rule', t, c.chain.name, rule.handle) };
  } else {
    let at = m.flags & NlmFlags.NLM_F_APPEND ? c.rules.length : 0;
    if (r.position !== undefined) {
      const i = c.rules.findIndex((x) => x.handle === r.position);
      if (i < 0) return { errno: Errno.ENOENT, path: 'NFTA_RULE_POSITION' };
      at = m.flags & NlmFlags.NLM_F_APPEND ? i + 1 : i;
    }
    c.rules.splice(at, 0, rule);
  }
  rule.handle = ++t.hgen;
  return { echo: () => ctx.echoOf(m, 'rule', t, c.chain.name, rule.handle) };
}

/** The errno the kernel gives an expression it refuses, or 0. */
function checkExpr(e: Expr, t: FakeTable, ctx: ApplyContext): number {
  if (e.type === 'unknown') return EXPR_SCHEMAS.has(e.name) ? Errno.EINVAL : Errno.ENOENT;
  if (e.type === 'queue' && !ctx.queueAvailable) return Errno.ENOENT;
  // nft_log_init: a group (nflog) takes no level or flags; a level goes up to NFT_LOGLEVEL_AUDIT (8).
  if (e.type === 'log' && (e.group !== undefined ? e.level !== undefined || e.flags !== undefined : (e.level ?? 4) > 8)) return Errno.EINVAL;
  if (e.type === 'lookup') {
    const set = e.set !== undefined ? t.sets.find((s) => s.set.name === e.set) : undefined;
    if (!set && (e.setId === undefined || ctx.setIds.get(e.setId)?.table !== t)) return Errno.ENOENT;
  }
  if (e.type === 'immediate' && 'verdict' in e.data) {
    const v = e.data.verdict;
    const target = v.chain ?? (v.chainId !== undefined ? ctx.chainIds.get(v.chainId) : undefined);
    if ((v.chain !== undefined || v.chainId !== undefined) && !t.chains.some((c) => c.chain.name === target)) return Errno.ENOENT;
  }
  if (e.type === 'target') {
    if (e.name !== 'NFQUEUE' || e.rev > 3) return Errno.ENOENT;
    if (e.rev >= 1 && e.info.length >= 4) {
      const num = e.info[0]! | (e.info[1]! << 8);
      const total = e.info[2]! | (e.info[3]! << 8);
      // nfqueue_tg_check: no queues is EINVAL, a range past 65535 ERANGE.
      if (total === 0) return Errno.EINVAL;
      if (num + total - 1 > 0xffff) return Errno.ERANGE;
    }
  }
  if (e.type === 'match') return Errno.ENOENT;
  return 0;
}

function canonical(e: Expr, ctx: ApplyContext): Expr {
  const out = canonicalExpr(e, (id) => ctx.setIds.get(id)?.name);
  return out.type === 'immediate' ? { ...out, data: canonicalData(out.data, (id) => ctx.chainIds.get(id)) } : out;
}

function delRule(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const a = scanAttrs(m.bytes);
  const t = lookupTable(ctx, m.family, a.string(1), 'NFTA_RULE_TABLE');
  if (isErr(t)) return t;
  const chainName = a.string(2);
  const chains = chainName === undefined ? t.chains : t.chains.filter((c) => c.chain.name === chainName);
  if (chainName !== undefined && chains.length === 0) return { errno: Errno.ENOENT, path: 'NFTA_RULE_CHAIN' };
  const handle = a.u64(3);
  if (handle === undefined) {
    for (const c of chains) c.rules = [];
    return { echo: () => undefined };
  }
  for (const c of chains) {
    const i = c.rules.findIndex((r) => r.handle === handle);
    if (i >= 0) {
      c.rules.splice(i, 1);
      return { echo: () => undefined };
    }
  }
  return { errno: Errno.ENOENT, path: 'NFTA_RULE_HANDLE' };
}

function newSet(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const s = decodeSet(m.bytes, 16, m.bytes.length);
  if (s.keyLen === undefined || s.id === undefined) return { errno: Errno.EINVAL };
  const t = lookupTable(ctx, m.family, s.table, 'NFTA_SET_TABLE');
  if (isErr(t)) return t;
  const found = t.sets.find((x) => x.set.name === s.name);
  if (found) {
    if (m.flags & NlmFlags.NLM_F_EXCL) return { errno: Errno.EEXIST, path: 'NFTA_SET_NAME' };
    ctx.setIds.set(s.id, { table: t, name: s.name });
    return { echo: () => ctx.echoOf(m, 'set', t, s.name) };
  }
  const { id, policy, ...rest } = s;
  void policy;
  // nf_tables_fill_set: NFTA_SET_KEY_TYPE always, NFTA_SET_FLAGS only when not 0.
  const set = { ...rest, keyType: rest.keyType ?? 0, table: t.table.name, handle: ++t.hgen };
  if (!set.flags) delete set.flags;
  t.sets.push({ set, elements: new Map() });
  ctx.setIds.set(id, { table: t, name: s.name });
  return { echo: () => ctx.echoOf(m, 'set', t, s.name) };
}

function delSet(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const a = scanAttrs(m.bytes);
  const t = lookupTable(ctx, m.family, a.string(1), 'NFTA_SET_TABLE');
  if (isErr(t)) return t;
  const handle = a.u64(16);
  const s = t.sets.find((x) => (handle !== undefined ? x.set.handle === handle : x.set.name === a.string(2)));
  if (!s) return { errno: Errno.ENOENT, path: handle !== undefined ? 'NFTA_SET_HANDLE' : 'NFTA_SET_NAME' };
  const used = t.chains.some((c) => c.rules.some((r) => r.exprs.some((e) => e.type === 'lookup' && e.set === s.set.name)));
  if (used) return { errno: Errno.EBUSY, path: 'NFTA_SET_NAME' };
  t.sets.splice(t.sets.indexOf(s), 1);
  return { echo: () => undefined };
}

function setElems(m: ParsedMessage, ctx: ApplyContext): Outcome {
  const a = scanAttrs(m.bytes);
  const t = lookupTable(ctx, m.family, a.string(1), 'NFTA_SET_ELEM_LIST_TABLE');
  if (isErr(t)) return t;
  const byId = a.u32(4) !== undefined ? ctx.setIds.get(a.u32(4)!) : undefined;
  const name = a.string(2) ?? (byId?.table === t ? byId.name : undefined);
  const s = t.sets.find((x) => x.set.name === name);
  if (!s) return { errno: Errno.ENOENT, path: a.string(2) !== undefined ? 'NFTA_SET_ELEM_LIST_SET' : 'NFTA_SET_ELEM_LIST_SET_ID' };
  const elems = a.elements();
  const add = m.msg === NFT_MSG.NFT_MSG_NEWSETELEM;
  for (const [i, e] of elems.entries()) {
    const path = `NFTA_SET_ELEM_LIST_ELEMENTS > elem ${i}`;
    const k = keyOf(e.key);
    if (e.key.length !== s.set.keyLen) return { errno: Errno.EINVAL, path };
    if (!add) {
      if (!s.elements.delete(k)) return { errno: Errno.ENOENT, path };
      continue;
    }
    if (s.elements.has(k) && m.flags & NlmFlags.NLM_F_EXCL) return { errno: Errno.EEXIST, path };
    s.elements.set(k, e);
  }
  return { echo: add ? () => ctx.echoOf(m, 'elements', t, s.set.name) : () => undefined };
}

