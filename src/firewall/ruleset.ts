/**
 * DIVERT rules on one nf_tables connection: installing a set of rules in one batch (their
 * table and base chains created as needed, handles learnt by echo), listing divert's tables as
 * rows, deleting rows by handle, and deleting the shared table once it is empty.
 * @module
 */
import type { NftConnection } from '../nftables/conn.js';
import type { NftBatch } from '../nftables/batch.js';
import type { Rule } from '../nftables/rule.js';
import type { CounterExpr, Expr } from '../nftables/expr_types.js';
import type { NftSet, SetElement } from '../nftables/set.js';
import { formatExprs } from '../nftables/format.js';
import { NFT_TABLE_F } from '../nftables/constants.js';
import { NFPROTO, hookNumber, type Hook } from '../netlink/netfilter.js';
import { FirewallError } from '../errors.js';
import type { Capabilities } from './kernel.js';
import { compileDefrag, compileMatches, compileRule, divertTail, logTail, queueChainName, queueExpr } from './compile.js';
import { chainName, chainPriority, decodeNote, defragText, encodeNote, filterText, isDivertTable, parseChainName, sniffText, SHARED_TABLE, unsniffText, type RuleKind } from './layout.js';
import { CHAIN_HOOK, HOOK_CHAIN, portBounds, type DivertChain, type DivertRule, type Family, type Owner, type PortRange } from './rule.js';
import { formatRule } from './format.js';
import { parseRule } from './parse.js';
import { ownerAlive, ownerTag } from './owner.js';

const INET = NFPROTO.NFPROTO_INET;

/** What to install: a DIVERT rule, the defragmentation rule of a family, or a rule a filter compiled to. */
export type InstallEntry =
  | {
      /** A DIVERT rule. */
      readonly kind: 'divert';
      /** The rule to install. */
      readonly rule: DivertRule;
      /** 1-based place in its chain to insert at; absent appends. */
      readonly position?: number | undefined;
      /** Log copies to the rule's port as an NFLOG group instead of queueing. */
      readonly sniff?: SniffSpec | undefined;
    }
  | {
      /** The rule that makes the kernel defragment every packet of a family (`always-defragment`). */
      readonly kind: 'defrag';
      /** The IP version it defragments. */
      readonly family: Family;
    }
  | FilterEntry;

/**
 * Sniff instead of divert: the rule's port is an NFLOG group and the rule ends in `log group
 * <port>` (a copy to the group, the packet goes on) instead of the queue verdict.
 */
export interface SniffSpec {
  /** Bytes of each packet copied (the log expression's snaplen); default all. */
  readonly snaplen?: number | undefined;
}

/** One rule of a lowered filter (src/filter/lower_nft.ts), with where it diverts to. */
export interface FilterEntry {
  readonly kind: 'filter';
  /** The filter's canonical text (kept, maybe cut short, in the rule's note). */
  readonly filter: string;
  readonly hook: 'prerouting' | 'postrouting';
  readonly family: Family;
  /** The rule's matches (no verdict). */
  readonly exprs: readonly Expr[];
  /** Its anonymous sets, added in the same batch before the rule. */
  readonly sets: ReadonlyArray<{ readonly set: NftSet; readonly elements: readonly SetElement[] }>;
  readonly port: number | PortRange;
  readonly passThrough: boolean;
  /** Append the loop-avoidance test (false when the filter itself decides about `impostor`). */
  readonly skipInjected: boolean;
  /** Log copies to the port's NFLOG group instead of queueing. */
  readonly sniff?: SniffSpec | undefined;
}

/** An installed rule: enough to find it again and delete it. */
export interface InstalledRule {
  /** `<table>:<handle>`, the row's name in `divert rules list`. */
  readonly id: string;
  /** Its nf_tables table (`divert` or `divert-<pid>`, family inet). */
  readonly table: string;
  /** Its base chain, named by hook and priority (`prerouting`, `postrouting@5`). */
  readonly chain: string;
  /** The rule's nf_tables handle in that table. */
  readonly handle: number;
  /** The netfilter hook of its chain. */
  readonly hook: Hook;
  /** The IP version the rule matches. */
  readonly family: Family;
  /** What the rule is: a DIVERT rule, a defragmentation rule, a filter's rule or a sniffing rule. */
  readonly kind: RuleKind;
  /** Canonical rule text (`-A input -p icmp -j DIVERT 1234`) or `always-defragment ipv4`. */
  readonly text: string;
  /** Who owns it (recorded in the rule's user data). */
  readonly owner: Owner;
}

/** A row of `divert rules list`: a rule in one of divert's tables, with its counters. */
export interface ListedRule {
  /** `<table>:<handle>`, the row's name (what `divert rules delete` takes). */
  readonly id: string;
  /** Its nf_tables table (`divert` or `divert-<pid>`, family inet). */
  readonly table: string;
  /** Its base chain, named by hook and priority (`prerouting`, `postrouting@5`). */
  readonly chain: string;
  /** The rule's nf_tables handle in that table. */
  readonly handle: number;
  /** The netfilter hook of its chain. */
  readonly hook: Hook;
  /** The chain name `list` shows: the seed's name where there is one (`input` for prerouting). */
  readonly seedChain: DivertChain;
  /** The divert priority of its chain (higher sees packets first). */
  readonly priority: number;
  /** 1-based place in its chain. */
  readonly position: number;
  /** In the shared table `inet divert` (persistent), else in a running program's own table. */
  readonly persistent: boolean;
  /** `foreign`: a rule in divert's tables that divert did not write (its text is nft's notation). */
  readonly kind: RuleKind | 'foreign';
  /** The IP version the rule matches; `inet` for a foreign rule. */
  readonly family: Family | 'inet';
  /** Canonical rule text (`-A input -p icmp -j DIVERT 1234`), or nft's notation for a foreign rule. */
  readonly text: string;
  /** The DIVERT rule, for `divert` and `sniff` rows (a sniffing rule's port is its NFLOG group). */
  readonly rule?: DivertRule;
  /** Who owns it, from the rule's user data; absent for a foreign rule. */
  readonly owner?: Owner;
  /** A persistent rule whose owner process is gone (`sweep` removes it). */
  readonly stale: boolean;
  /** Packets the rule's counter has seen. */
  readonly packets: number;
  /** Bytes the rule's counter has seen. */
  readonly bytes: number;
}

export interface InstallTarget {
  readonly table: string;
  /** The table belongs to this connection's socket (NFT_TABLE_F_OWNER). */
  readonly owned: boolean;
  readonly priority: number;
  readonly owner: Owner;
  /**
   * Chains known to exist (the table too, when any is known): they are not added again. Only an
   * owner can know (nobody else may change its table); the set is updated after a commit. NB:
   * re-adding an existing table or base chain makes the commit wait for an RCU grace period
   * (tens of milliseconds); adding a rule alone does not.
   */
  readonly known?: Set<string> | undefined;
}

/**
 * Installs `entries` in one batch: the table and the base chains they need first (created when
 * missing), then the rules, each appended or inserted at its 1-based `position` within the chain.
 * @throws {FirewallError} when the kernel refuses (nothing is applied); RangeError when a rule's
 *   text and owner do not fit the kernel's 256 bytes of rule data.
 */
export async function installRules(conn: NftConnection, caps: Capabilities, target: InstallTarget, entries: readonly InstallEntry[]): Promise<InstalledRule[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await installOnce(conn, caps, target, entries);
    } catch (err) {
      // In the shared table another process may have made the same queue chain (EEXIST), or
      // deleted a chain we saw, tidying (ENOENT), between our look and our commit: look again.
      if (attempt >= 3 || target.known || !(err instanceof FirewallError && (err.code === 'EEXIST' || err.code === 'ENOENT'))) throw err;
    }
  }
}

async function installOnce(conn: NftConnection, caps: Capabilities, target: InstallTarget, entries: readonly InstallEntry[]): Promise<InstalledRule[]> {
  const planned = entries.map((e) => plan(e, target, caps));
  const existing = target.known ?? (await tableChains(conn, target.table));
  const b = conn.batch();
  // The shared table is added every time (cheap when it exists): another process's tidy may delete it meanwhile.
  if (existing.size === 0 || !target.known) b.addTable({ family: INET, name: target.table, ...(target.owned ? { flags: NFT_TABLE_F.NFT_TABLE_F_OWNER } : {}) }, { echo: false });
  const made: string[] = [];
  for (const hook of new Set(planned.map((p) => p.hook))) {
    const name = chainName(hook, target.priority);
    if (existing.has(name)) continue;
    addBaseChain(b, target.table, hook, target.priority);
    made.push(name);
  }
  for (const p of planned) {
    if (p.queueChain === undefined || existing.has(p.queueChain.name) || made.includes(p.queueChain.name)) continue;
    // Exclusive: two processes making it at once must not give it two target rules.
    b.addChain({ family: INET, table: target.table, name: p.queueChain.name }, { echo: false, exclusive: true });
    b.addRule({ family: INET, table: target.table, chain: p.queueChain.name, exprs: [p.queueChain.target] }, { echo: false });
    made.push(p.queueChain.name);
  }
  for (const p of planned) {
    for (const { set, elements } of p.sets) {
      b.addSet({ ...set, table: target.table }, { echo: false });
      b.addElements({ family: INET, table: target.table, name: set.name, ...(set.id === undefined ? {} : { id: set.id }) }, [...elements]);
    }
  }
  const positioned = planned.some((p) => p.position !== undefined);
  const ruleHandles = positioned ? await chainRules(conn, target.table) : new Map<string, number[]>();
  const messages = planned.map((p) => {
    const handles = ruleHandles.get(p.chain) ?? [];
    const before = p.position !== undefined && p.position <= handles.length ? handles[p.position - 1] : undefined;
    const rule: Rule = { family: INET, table: target.table, chain: p.chain, exprs: p.exprs, userdata: p.userdata };
    // -I beyond the end of the chain appends, as iptables' own -I does not.
    return before === undefined ? b.addRule(rule) : b.insertRule({ ...rule, position: before });
  });
  const results = await conn.commit(b);
  for (const name of made) target.known?.add(name);
  return planned.map((p, i) => {
    const echoed = results.find((r) => r.message === messages[i])?.object;
    const handle = echoed?.kind === 'rule' ? echoed.rule.handle : undefined;
    if (handle === undefined) throw new FirewallError(`nf_tables did not echo the handle of the rule ${JSON.stringify(p.text)}`, { messageType: 'NFT_MSG_NEWRULE', object: `rule inet ${target.table} ${p.chain}` });
    return { id: `${target.table}:${handle}`, table: target.table, chain: p.chain, handle, hook: p.hook, family: p.family, kind: p.kind, text: p.text, owner: target.owner };
  });
}

/** Names of the chains `table` has (empty when the table does not exist). */
async function tableChains(conn: NftConnection, table: string): Promise<Set<string>> {
  try {
    return new Set((await conn.listChains(INET, table)).map((c) => c.name));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return new Set();
    throw err;
  }
}

interface Planned {
  /** The chain holding the compat NFQUEUE target this rule jumps to (compat kernels only). */
  queueChain: { name: string; target: Expr } | undefined;
  sets: FilterEntry['sets'];
  kind: RuleKind;
  family: Family;
  hook: Hook;
  chain: string;
  text: string;
  exprs: Rule['exprs'];
  userdata: Uint8Array;
  position: number | undefined;
}

function plan(e: InstallEntry, target: InstallTarget, caps: Capabilities): Planned {
  const note = (kind: RuleKind, text: string): Uint8Array => encodeNote({ kind, text, owner: target.owner });
  if (e.kind === 'defrag') {
    const text = defragText(e.family);
    const hook: Hook = 'prerouting';
    return { queueChain: undefined, sets: [], kind: 'defrag', family: e.family, hook, chain: chainName(hook, target.priority), text, exprs: compileDefrag(e.family), userdata: note('defrag', text), position: undefined };
  }
  if (e.sniff) return planSniff(e, e.sniff, target.priority, note);
  const queueChain = caps.queue === 'compat' ? { name: queueChainName(e.kind === 'divert' ? e.rule : e), target: queueExpr(e.kind === 'divert' ? e.rule : e, 'compat') } : undefined;
  if (e.kind === 'filter') {
    const { first, last } = portBounds(e.port);
    const text = filterText(e.family, `${first === last ? first : `${first}:${last}`}${e.passThrough ? ' --pass-through' : ''}`, e.filter);
    const exprs = [...e.exprs, ...divertTail(e, caps.queue, e.skipInjected)];
    return { queueChain, sets: e.sets, kind: 'filter', family: e.family, hook: e.hook, chain: chainName(e.hook, target.priority), text, exprs, userdata: note('filter', text), position: undefined };
  }
  const hook = CHAIN_HOOK[e.rule.chain];
  const text = formatRule(e.rule);
  const exprs = compileRule(e.rule, caps.queue);
  return { queueChain, sets: [], kind: 'divert', family: e.rule.family, hook, chain: chainName(hook, target.priority), text, exprs, userdata: note('divert', text), position: e.position };
}

/** A sniffing rule: the same matches, ending in `log group <port>` (no queue, no compat chain). */
function planSniff(e: Exclude<InstallEntry, { kind: 'defrag' }>, sniff: SniffSpec, priority: number, note: (kind: RuleKind, text: string) => Uint8Array): Planned {
  const port = e.kind === 'divert' ? e.rule.port : e.port;
  if (typeof port !== 'number') throw new RangeError('A sniffing rule logs to one NFLOG group: give one port, not a range');
  const target = { group: port, snaplen: sniff.snaplen };
  if (e.kind === 'filter') {
    const text = sniffText(filterText(e.family, String(port), e.filter));
    const exprs = [...e.exprs, ...logTail(target, e.skipInjected)];
    return { queueChain: undefined, sets: e.sets, kind: 'sniff', family: e.family, hook: e.hook, chain: chainName(e.hook, priority), text, exprs, userdata: note('sniff', text), position: undefined };
  }
  const hook = CHAIN_HOOK[e.rule.chain];
  const text = sniffText(formatRule(e.rule));
  const exprs = [...compileMatches(e.rule), ...logTail(target, true)];
  return { queueChain: undefined, sets: [], kind: 'sniff', family: e.rule.family, hook, chain: chainName(hook, priority), text, exprs, userdata: note('sniff', text), position: e.position };
}

/** A base chain at `hook` with divert's type and priority (kept when it exists). */
function addBaseChain(b: NftBatch, table: string, hook: Hook, priority: number): void {
  // local-out is a route chain, as iptables' mangle OUTPUT: a changed packet is routed again.
  const type = hook === 'local-out' ? 'route' : 'filter';
  b.addChain({ family: INET, table, name: chainName(hook, priority), type, hook: { hooknum: hookNumber(hook), priority: chainPriority(priority) } }, { echo: false });
}

/** Handles of the rules of each chain of `table`, in chain order. */
async function chainRules(conn: NftConnection, table: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  try {
    for (const r of await conn.listRules(INET, table)) {
      if (r.chain === undefined || r.handle === undefined) continue;
      out.set(r.chain, [...(out.get(r.chain) ?? []), r.handle]);
    }
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err; // no such table yet: no rules
  }
  return out;
}

/**
 * The rows of divert's tables (`inet divert` and every `inet divert-<pid>`) in this namespace, or
 * of `table` only (the kernel dumps just that table then).
 * @param alive liveness of owners (tests replace it); asked once per owner
 */
export async function listDivertRules(conn: NftConnection, alive: (o: Owner) => boolean = ownerAlive, table?: string): Promise<ListedRule[]> {
  const rules = (await conn.listRules(INET, table)).filter((r) => isDivertTable(r.table));
  // Many rows share an owner: read each owner's /proc entry once.
  const known = new Map<string, boolean>();
  const aliveOnce = (o: Owner): boolean => {
    const key = ownerTag(o);
    let v = known.get(key);
    if (v === undefined) known.set(key, (v = alive(o)));
    return v;
  };
  const position = new Map<string, number>();
  const out: ListedRule[] = [];
  for (const r of rules) {
    const where = r.chain === undefined ? undefined : parseChainName(r.chain);
    if (!where || r.handle === undefined || r.chain === undefined) continue;
    const key = `${r.table}/${r.chain}`;
    const n = (position.get(key) ?? 0) + 1;
    position.set(key, n);
    out.push(row(r, r.chain, r.handle, where.hook, where.priority, n, aliveOnce));
  }
  return out;
}

function row(r: Rule, chain: string, handle: number, hook: Hook, priority: number, position: number, alive: (o: Owner) => boolean): ListedRule {
  const note = decodeNote(r.userdata);
  const counter = r.exprs.find((e): e is CounterExpr => e.type === 'counter');
  const persistent = r.table === SHARED_TABLE;
  const base = {
    id: `${r.table}:${handle}`, table: r.table, chain, handle, hook, seedChain: HOOK_CHAIN[hook], priority, position, persistent,
    packets: counter?.packets ?? 0, bytes: counter?.bytes ?? 0,
  };
  if (!note) return { ...base, kind: 'foreign', family: 'inet', text: formatExprs(r.exprs), stale: false };
  const stale = persistent && note.owner.kind === 'process' && !alive(note.owner);
  if (note.kind === 'sniff' && !note.text.startsWith('filter ')) {
    const rule = tryParse(unsniffText(note.text));
    return { ...base, kind: 'sniff', family: rule?.family ?? 'ipv4', text: note.text, ...(rule ? { rule: { ...rule, owner: note.owner } } : {}), owner: note.owner, stale };
  }
  if (note.kind === 'defrag' || note.kind === 'filter' || note.kind === 'sniff') {
    const family = note.kind === 'defrag' ? (note.text.endsWith('ipv6') ? 'ipv6' : 'ipv4') : note.text.startsWith('filter ipv6') ? 'ipv6' : 'ipv4';
    return { ...base, kind: note.kind, family, text: note.text, owner: note.owner, stale };
  }
  let rule: DivertRule | undefined;
  try {
    rule = { ...parseRule(note.text), owner: note.owner };
  } catch {
    rule = undefined; // written by another version of divert: shown and removable, not rebuilt
  }
  return { ...base, kind: 'divert', family: rule?.family ?? 'ipv4', text: note.text, ...(rule ? { rule } : {}), owner: note.owner, stale };
}

/** The rule a note's text says, or undefined for one another version of divert wrote. */
function tryParse(text: string): DivertRule | undefined {
  try {
    return parseRule(text);
  } catch {
    return undefined;
  }
}

/**
 * Deletes rows by handle in one batch, then the shared table when that left it empty.
 * @returns how many were deleted.
 */
export async function deleteRows(conn: NftConnection, rows: ReadonlyArray<Pick<ListedRule, 'table' | 'chain' | 'handle'>>, tidy = true): Promise<number> {
  if (rows.length === 0) return 0;
  const b = conn.batch();
  for (const r of rows) b.deleteRule({ family: INET, table: r.table, chain: r.chain, handle: r.handle });
  await conn.commit(b);
  if (tidy && rows.some((r) => r.table === SHARED_TABLE)) await tidySharedTable(conn);
  return rows.length;
}

/**
 * Deletes the shared table if it holds no rule: each chain with NLM_F_NONREC (refused with
 * EBUSY while it has rules) and then the table, in one batch, so a rule another process adds
 * meanwhile makes the whole batch fail instead of vanishing with the table.
 */
export async function tidySharedTable(conn: NftConnection): Promise<boolean> {
  const chains = await conn.listChains(INET, SHARED_TABLE).catch(() => []);
  const rules = await conn.listRules(INET, SHARED_TABLE).catch(() => []);
  if (rules.some((r) => r.chain !== undefined && parseChainName(r.chain))) return false;
  const b = conn.batch();
  // The hook chains only if empty; then the queue chains with their target rule (a jump into
  // one from a rule added meanwhile would make it EBUSY too); then the table only if empty.
  for (const c of chains) if (parseChainName(c.name)) b.deleteChain({ family: INET, table: SHARED_TABLE, name: c.name }, { nonRecursive: true });
  for (const c of chains) if (!parseChainName(c.name)) b.deleteChain({ family: INET, table: SHARED_TABLE, name: c.name });
  b.deleteTable({ family: INET, name: SHARED_TABLE }, { nonRecursive: true });
  try {
    await conn.commit(b);
    return true;
  } catch (err) {
    if (err instanceof FirewallError && (err.code === 'EBUSY' || err.code === 'ENOENT')) return false; // a rule arrived, or another tidy won
    throw err;
  }
}

/** Whether a row is the DIVERT rule `wanted` (same hook, matches and target; chain spelling aside). */
export function sameRule(row: ListedRule, wanted: DivertRule): boolean {
  if (row.kind !== 'divert' || !row.rule) return false;
  const norm = (r: DivertRule): string => formatRule({ ...r, chain: HOOK_CHAIN[CHAIN_HOOK[r.chain]] });
  return norm(row.rule) === norm(wanted);
}
