/**
 * A filter as nf_tables rules: for each hook it can match at and each IP family, a list of
 * expression lists, each exact (a packet it matches matches the filter) or residual (the kernel
 * over-approximates; user space runs the evaluator and accepts a non-matching packet at once).
 *
 * ```
 * filter ─normalize─▶ and/or of tests, per (hook, family) ─lowerAtom─▶ kernel terms per test
 *        ─and: product, or: union (contradictions dropped, covered terms removed)─▶ terms
 *        ─merge (`dport 80 ∨ dport 443` → a set)─▶ split or loosen what one rule cannot hold
 *        (withinRules, limitIntervalSets) ─▶ rules
 * ```
 * Hooks: `inbound` packets are taken at prerouting, `outbound` ones at postrouting. Each packet
 * is diverted at most once: the prerouting rules skip packets received on a loopback device
 * (they were taken when they left, as outbound, loopback = 1, as WinDivert does), and the
 * postrouting rules skip forwarded packets (`meta iif != 0` there: they were taken at
 * prerouting, as inbound packets of the interface they arrived on). A filter without a
 * direction gets rules at both hooks.
 *
 * Size: a filter whose rules would exceed `maxRules` per hook is approximated (each family's
 * terms are merged into their common conditions, and a set no rule can write is loosened,
 * residual; see withinRules): the kernel always over-approximates, never misses.
 * @module
 */
import { NFPROTO } from '../netlink/netfilter.js';
import { NFT_SET, NFT_SET_ELEM } from '../nftables/constants.js';
import type { Expr } from '../nftables/expr_types.js';
import { formatExprs } from '../nftables/format.js';
import type { NftSet, SetElement } from '../nftables/set.js';
import type { FilterAst } from './ast.js';
import { parseFilter } from './check.js';
import { emitTerm, limitIntervalSets, splitForEmit, widenForEmit, type EmittedSet } from './_emit.js';
import * as iv from './_intervals.js';
import { ALL, conj, loosen, merge, simplify, simplifyUnion, termWork, type KTerm } from './_kterm.js';
import { formatFilter } from './format.js';
import { baseTerm, lowerAtom } from './lower_atoms.js';
import { normalize, type Env, type Ir, type RuleHook } from './normalize.js';

export type { RuleHook } from './normalize.js';

/** Options of {@link lowerFilter}. */
export interface LowerOptions {
  /** Table the sets belong to (the firewall's table). Default ''. */
  table?: string | undefined;
  /** Family of that table (default NFPROTO_INET: the rules test `meta nfproto` themselves). */
  family?: number | undefined;
  /** Set names are `<setPrefix><rule>_<n>`; unique per filter within the table. Default 'filter'. */
  setPrefix?: string | undefined;
  /** Most rules per hook: past it the filter is approximated (default 48; at least 2, one per IP family). */
  maxRules?: number | undefined;
}

/** One rule, without the verdict: the firewall appends its loop-avoidance test, counter and queue. */
export interface LoweredRule {
  /** Where the rule goes: prerouting (inbound packets) or postrouting (outbound ones). */
  readonly hook: RuleHook;
  /** The IP family the rule matches (it tests `meta nfproto` itself). */
  readonly family: 'ipv4' | 'ipv6';
  /** The rule's matches, without a verdict. */
  readonly exprs: Expr[];
  /** The kernel over-approximates: user space must evaluate the packet. */
  readonly residual: boolean;
  /** Why it is residual. */
  readonly reasons: readonly string[];
  /** Names of the sets (in `sets`) its lookups use. */
  readonly sets: readonly string[];
}

/** A constant set to add (with its elements) in the same batch, before the rules. */
export interface LoweredSet {
  /** The set (anonymous and constant) in the firewall's table. */
  readonly set: NftSet;
  /** Its elements. */
  readonly elements: SetElement[];
}

/** A filter lowered to nf_tables rules: what {@link lowerFilter} returns. */
export interface LoweredFilter {
  /** The filter's canonical text. */
  readonly filter: string;
  /** Exact rules first, per hook and family. */
  readonly rules: readonly LoweredRule[];
  /** The sets the rules look up, to add before them. */
  readonly sets: readonly LoweredSet[];
  /** Hooks that have rules. */
  readonly hooks: readonly RuleHook[];
  /** Some rule is residual: user space must evaluate what those rules queue. */
  readonly residual: boolean;
  /** The rules in `nft --debug=netlink` notation, and what user space decides. */
  explain(): string;
}

/** Terms an and/or may grow to before it is approximated. */
const TERM_CAP = 256;
/**
 * Expressions one rule may hold: the kernel takes NFT_RULE_MAXEXPRS (128), and the firewall
 * appends its mark test, counter and verdict.
 */
export const MAX_RULE_EXPRS = 112;

/**
 * Lowers a filter to nf_tables rules.
 * @throws {FilterSyntaxError} when the text does not parse.
 * @example
 * ```ts
 * const l = lowerFilter('outbound and tcp.DstPort == 80', { table: 'divert-42' });
 * for (const r of l.rules) batch.addRule({ family: NFPROTO_INET, table: 'divert-42', chain: r.hook, exprs: [...r.exprs, ...verdict] });
 * console.log(l.explain());
 * ```
 */
export function lowerFilter(filter: string | FilterAst, options: LowerOptions = {}): LoweredFilter {
  return lowerCounted(filter, options);
}

/** lowerFilter(), counting its work in `stats` (for tests). */
export function lowerCounted(filter: string | FilterAst, options: LowerOptions = {}, stats?: LowerStats): LoweredFilter {
  const work = termWork();
  try {
    return lower(filter, options, stats);
  } finally {
    if (stats) stats.compared = (stats.compared ?? 0) + termWork() - work;
  }
}

function lower(filter: string | FilterAst, options: LowerOptions, stats: LowerStats | undefined): LoweredFilter {
  const ast = typeof filter === 'string' ? parseFilter(filter) : filter;
  const prefix = options.setPrefix ?? 'filter';
  const maxRules = options.maxRules ?? 48;
  if (!Number.isInteger(maxRules) || maxRules < 2) throw new RangeError(`maxRules is ${maxRules}: at least 2 (one rule per IP family) are needed`);
  const rules: LoweredRule[] = [];
  const sets: LoweredSet[] = [];
  const lists: Array<{ hook: RuleHook; family: 4 | 6; terms: KTerm[] }> = [];
  for (const hook of ['prerouting', 'postrouting'] as const) {
    const perHook: Array<{ family: 4 | 6; terms: KTerm[] }> = [];
    for (const family of [4, 6] as const) {
      const env: Env = { hook, family };
      const base = baseTerm(env);
      const terms = dnf(normalize(ast.root, env, stats), env, new Map(), stats).flatMap((x) => conj(base, x) ?? []);
      perHook.push({ family, terms: merge(simplify(terms)) });
    }
    const fitted = withinRules(perHook.map((p) => p.terms), maxRules);
    perHook.forEach((p, i) => lists.push({ hook, family: p.family, terms: fitted[i]! }));
  }
  const limited = limitIntervalSets(lists.map((l) => l.terms));
  lists.forEach((l, i) => (l.terms = limited[i]!));
  for (const { hook, family, terms } of lists) {
    const ordered = [...terms.filter((x) => x.exact), ...terms.filter((x) => !x.exact)];
    for (const t0 of ordered) {
      const name = `${prefix}${rules.length}_`;
      const t = fit(t0, name);
      const emitted = emitTerm(t, name);
      const names = emitted.sets.map((s, k) => {
        sets.push(toSet(s, `${name}${k}`, options));
        return `${name}${k}`;
      });
      rules.push({ hook, family: family === 4 ? 'ipv4' : 'ipv6', exprs: emitted.exprs, residual: !t.exact, reasons: t.reasons, sets: names });
    }
  }
  const text = formatFilter(ast);
  return {
    filter: text,
    rules,
    sets,
    hooks: (['prerouting', 'postrouting'] as const).filter((h) => rules.some((r) => r.hook === h)),
    residual: rules.some((r) => r.residual),
    explain: () => explain(text, rules, sets),
  };
}

/** Work a lowering did, for tests that bound it: IR nodes rewritten and turned into terms. */
export interface LowerStats {
  /** (node, negation) pairs normalize() rewrote, over all hooks and families. */
  pushed: number;
  /** IR nodes turned into terms (each once per hook and family). */
  dnfNodes: number;
  /** Terms compared (subsumes) or keyed (merge) while simplifying and merging. */
  compared?: number;
}

/**
 * The filter as a disjunction of kernel terms (approximated past TERM_CAP). The IR is a DAG (a
 * ternary's condition is shared by both branches): `memo` gives each node's terms once.
 */
function dnf(x: Ir, env: Env, memo: Map<Ir, readonly KTerm[]>, stats?: LowerStats): readonly KTerm[] {
  const done = memo.get(x);
  if (done) return done;
  if (stats) stats.dnfNodes++;
  const out = dnfOnce(x, env, (y) => dnf(y, env, memo, stats));
  memo.set(x, out);
  return out;
}

function dnfOnce(x: Ir, env: Env, dnf: (x: Ir) => readonly KTerm[]): readonly KTerm[] {
  switch (x.k) {
    case 'const':
      return x.v ? [ALL] : [];
    case 'atom':
      return lowerAtom(x, env) as KTerm[];
    case 'not':
      throw new Error('dnf: the filter must be normalized first');
    case 'or': {
      // Merged before the cap: `dport 1 or … or dport 300` is one term with a set, not 300.
      // Many alternatives are merged first (linear), and hulled before simplify (quadratic).
      const parts = x.xs.map((y) => dnf(y));
      let terms: KTerm[];
      if (parts.reduce((n, p) => n + p.length, 0) > TERM_CAP) {
        const merged = merge(parts.flat());
        if (merged.length > TERM_CAP) return [hull(merged, 'too many alternatives: approximated')];
        terms = merge(simplify(merged));
      } else terms = merge(simplifyUnion(parts));
      return terms.length > TERM_CAP ? [hull(terms, 'too many alternatives: approximated')] : terms;
    }
    case 'and': {
      const parts = x.xs.map((y) => dnf(y)).sort((a, b) => a.length - b.length);
      let acc: KTerm[] = [ALL];
      for (const part of parts) {
        if (part.length === 0) return [];
        if (acc.length * part.length > TERM_CAP) {
          // Leaving a conjunct out only widens the match: the terms become residual.
          acc = acc.map((t) => loosen(t, 'too many alternatives: approximated'));
          continue;
        }
        acc = simplify(acc.flatMap((a) => part.flatMap((b) => conj(a, b) ?? [])));
        if (acc.length === 0) return [];
      }
      return acc;
    }
  }
}

/**
 * The terms of one hook (a list per family) as rules, at most `maxRules` of them, the first of
 * these that fits: the terms as they are (a set one rule cannot write split over its
 * intervals); the terms with such sets loosened into one rule each (widenForEmit); each
 * family's terms merged into their common conditions (hull), split; that hull loosened into one
 * rule per family. What is merged or loosened becomes residue, decided in user space: the
 * kernel still over-approximates.
 */
function withinRules(lists: ReadonlyArray<readonly KTerm[]>, maxRules: number): KTerm[][] {
  const split = (ls: ReadonlyArray<readonly KTerm[]>): KTerm[][] | undefined => {
    const out: KTerm[][] = [];
    let left = maxRules;
    for (const l of ls) {
      const s = splitForEmit(l, left);
      if (!s) return undefined;
      out.push(s);
      left -= s.length;
    }
    return out;
  };
  const exact = split(lists);
  if (exact) return exact;
  if (lists.reduce((n, l) => n + l.length, 0) <= maxRules) return lists.map((l) => l.map(widenForEmit));
  const hulls = lists.map((l) => (l.length === 0 ? [] : [hull(l, `more than ${maxRules} rules: approximated`)]));
  return split(hulls) ?? hulls.map((h) => h.map(widenForEmit));
}

/** The term with as many of its conditions (in rank order) as fit in one rule; residual if some had to go. */
function fit(t: KTerm, name: string): KTerm {
  if (emitTerm(t, name).exprs.length <= MAX_RULE_EXPRS) return t;
  const conds = [...t.conds.values()].sort((a, b) => a.spec.rank - b.spec.rank);
  const kept = new Map<string, (typeof conds)[number]>();
  for (const c of conds) {
    kept.set(c.spec.id, c);
    if (emitTerm({ ...t, conds: kept }, name).exprs.length > MAX_RULE_EXPRS) kept.delete(c.spec.id);
  }
  return loosen({ ...t, conds: kept }, `more tests than one rule holds (${MAX_RULE_EXPRS} expressions): the kernel checks some`);
}

/** One residual term covering all of `terms`: the conditions they share, sets united. */
function hull(terms: readonly KTerm[], reason: string): KTerm {
  const [first, ...rest] = terms;
  const conds = new Map(first!.conds);
  for (const t of rest) {
    for (const [id, c] of conds) {
      const o = t.conds.get(id);
      if (!o) conds.delete(id);
      else conds.set(id, { spec: c.spec, set: iv.union(c.set, o.set) });
    }
  }
  const reasons = [...new Set([...terms.flatMap((t) => t.reasons), reason])];
  return { conds, exact: false, reasons };
}

function toSet(s: EmittedSet, name: string, options: LowerOptions): LoweredSet {
  const set: NftSet = {
    family: options.family ?? NFPROTO.NFPROTO_INET,
    table: options.table ?? '',
    name,
    flags: NFT_SET.NFT_SET_ANONYMOUS | NFT_SET.NFT_SET_CONSTANT | (s.interval ? NFT_SET.NFT_SET_INTERVAL : 0),
    keyLen: s.keyLen,
  };
  return { set, elements: s.elements.map((e) => (e.end ? { key: e.key, flags: NFT_SET_ELEM.NFT_SET_ELEM_INTERVAL_END } : { key: e.key })) };
}

function explain(filter: string, rules: readonly LoweredRule[], sets: readonly LoweredSet[]): string {
  const lines = [`filter: ${filter}`];
  if (rules.length === 0) lines.push('no rules: the filter matches no packet at prerouting or postrouting');
  rules.forEach((r, i) => {
    lines.push(`rule ${i} ${r.hook} ${r.family} ${r.residual ? 'residual' : 'exact'}`);
    if (r.exprs.length > 0) lines.push(formatExprs(r.exprs));
    for (const reason of r.reasons) lines.push(`  # ${reason}`);
  });
  for (const s of sets) {
    const els = s.elements.map((e) => `0x${[...e.key].map((b) => b.toString(16).padStart(2, '0')).join('')}${(e.flags ?? 0) & NFT_SET_ELEM.NFT_SET_ELEM_INTERVAL_END ? ' end' : ''}`).join(', ');
    lines.push(`set ${s.set.name}${(s.set.flags ?? 0) & NFT_SET.NFT_SET_INTERVAL ? ' interval' : ''} { ${els} }`);
  }
  const residual = rules.filter((r) => r.residual);
  if (residual.length === 0) lines.push('residue: none, the kernel decides every packet');
  else {
    lines.push(`residue: user space evaluates the packets rules ${residual.map((r) => rules.indexOf(r)).join(', ')} queue, and accepts the non-matching ones at once:`);
    for (const reason of new Set(residual.flatMap((r) => r.reasons))) lines.push(`  - ${reason}`);
  }
  return lines.join('\n');
}
