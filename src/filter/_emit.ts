/**
 * Kernel terms as nf_tables expressions. Each condition is one load into register 1, an
 * optional mask (`bitwise`), then what its value set needs: `cmp eq`, `cmp neq` for each hole,
 * `cmp lt/gt` or `range` for intervals, a `lookup` in a constant set for many points, or (a
 * big-endian load) in a constant interval set (NFT_SET_INTERVAL: the kernel's rbtree, each
 * interval a start element and an end element one past it, flagged NFT_SET_ELEM_INTERVAL_END).
 * Sets that fit none of those split the term into one term per interval (`splitForEmit`).
 * @module
 */
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { NFT_CMP, NFT_LOOKUP_F, NFT_RANGE, NFT_REG } from '../nftables/expr_constants.js';
import type { Expr } from '../nftables/expr_types.js';
import { bigToBytes } from './_bytes.js';
import * as iv from './_intervals.js';
import type { ValueSet } from './_intervals.js';
import { loosen, type KCond, type KTerm, type LoadSpec } from './_kterm.js';

const R1 = NFT_REG.NFT_REG_1;
/** Holes written as one `cmp neq`/`range neq` each, at most. */
const MAX_HOLES = 4;
/** Points written as a set lookup, at most. */
const MAX_SET_POINTS = 256;
/** Intervals written as an interval-set lookup, at most (two elements each). */
const MAX_SET_INTERVALS = 256;

/** One element of an emitted set: register bytes; `end` closes an interval (the first value after it). */
export interface EmittedElement {
  readonly key: Uint8Array;
  readonly end?: true;
}

/** A constant set a rule looks up; `interval`: an NFT_SET_INTERVAL set of start/end elements. */
export interface EmittedSet {
  readonly keyLen: number;
  readonly interval: boolean;
  readonly elements: readonly EmittedElement[];
}

export interface EmittedRule {
  readonly exprs: Expr[];
  /** Sets in the order their lookups appear; the lookups name them `<prefix><n>`, n from 0. */
  readonly sets: EmittedSet[];
}

type Plan =
  | { kind: 'none' }
  | { kind: 'cmps'; ops: Array<{ op: 'eq' | 'neq' | 'lt' | 'gt' | 'lte' | 'gte'; v: bigint } | { op: 'range' | 'nrange'; a: bigint; b: bigint }> }
  | { kind: 'lookup'; values: bigint[]; invert: boolean }
  | { kind: 'intervals'; ranges: ValueSet; invert: boolean };

/** How a condition's set is written in one rule, or undefined when it is not writable at once. */
function plan(c: KCond): Plan | undefined {
  const { spec, set } = c;
  const dom = spec.domain;
  if (spec.kind === 'virtual' || iv.equal(set, dom)) return { kind: 'none' };
  const holes = iv.minus(dom, set);
  const lo = dom[0]![0];
  const hi = dom[dom.length - 1]![1];
  const contiguousDomain = dom.length === 1;
  // Two or more isolated values (`dport 80 or dport 443`): one lookup, as nft writes `{ 80, 443 }`.
  if (set.length >= 2 && set.every(([a, b]) => a === b)) {
    const pts = iv.listPoints(set, MAX_SET_POINTS);
    if (pts) return { kind: 'lookup', values: pts, invert: false };
  }
  if (!spec.host) {
    if (set.length === 1) {
      const [a, b] = set[0]!;
      if (a === b) return { kind: 'cmps', ops: [{ op: 'eq', v: a }] };
      if (contiguousDomain && a === lo) return { kind: 'cmps', ops: [{ op: 'lte', v: b }] };
      if (contiguousDomain && b === hi) return { kind: 'cmps', ops: [{ op: 'gte', v: a }] };
      if (holes.length > 1 || !contiguousDomain) return { kind: 'cmps', ops: [{ op: 'range', a, b }] };
    }
    if (contiguousDomain && holes.length <= MAX_HOLES) {
      return {
        kind: 'cmps',
        ops: holes.map(([a, b]) =>
          a === b ? { op: 'neq' as const, v: a } : a === lo ? { op: 'gt' as const, v: b } : b === hi ? { op: 'lt' as const, v: a } : { op: 'nrange' as const, a, b }),
      };
    }
  } else if (holes.length <= MAX_HOLES && holes.every(([a, b]) => a === b)) {
    if (set.length === 1 && set[0]![0] === set[0]![1]) return { kind: 'cmps', ops: [{ op: 'eq', v: set[0]![0] }] };
    return { kind: 'cmps', ops: holes.map(([a]) => ({ op: 'neq' as const, v: a })) };
  }
  // The smaller of the set and its complement goes in the lookup.
  const pts = iv.listPoints(set, MAX_SET_POINTS);
  const inv = iv.listPoints(holes, MAX_SET_POINTS);
  if (inv && (!pts || inv.length < pts.length)) return { kind: 'lookup', values: inv, invert: true };
  if (pts) return pts.length === 1 ? { kind: 'cmps', ops: [{ op: 'eq', v: pts[0]! }] } : { kind: 'lookup', values: pts, invert: false };
  // Big-endian registers compare as numbers (memcmp): an interval set of the set or its holes.
  if (!spec.host) {
    if (holes.length < set.length && holes.length <= MAX_SET_INTERVALS) return { kind: 'intervals', ranges: holes, invert: true };
    if (set.length <= MAX_SET_INTERVALS) return { kind: 'intervals', ranges: set, invert: false };
  }
  return undefined;
}

/**
 * Terms every condition of which can be written in one rule: a set that cannot is split over its
 * intervals (big-endian loads), or dropped with the term made residual (host-order loads such as
 * `meta iif`, where only equality is possible). Undefined as soon as there would be more than
 * `limit` terms (the caller then loosens instead: widenForEmit).
 */
export function splitForEmit(terms: readonly KTerm[], limit = Infinity): KTerm[] | undefined {
  const out: KTerm[] = [];
  const todo = [...terms];
  for (let head = 0; head < todo.length; head++) {
    if (out.length + todo.length - head > limit) return undefined;
    const t = todo[head]!;
    const bad = [...t.conds.values()].find((c) => plan(c) === undefined);
    if (!bad) {
      out.push(t);
      continue;
    }
    if (bad.spec.host) {
      todo.push(dropCond(t, bad));
      continue;
    }
    for (const part of bad.set) {
      const conds = new Map(t.conds);
      conds.set(bad.spec.id, { spec: bad.spec, set: [part] });
      todo.push({ ...t, conds });
    }
  }
  return out;
}

/**
 * The term with every condition one rule cannot write loosened into one it can (residual): a
 * big-endian load keeps the MAX_SET_INTERVALS - 1 widest gaps inside its set (an interval-set
 * lookup), a host-order load is dropped. One rule instead of one per interval.
 */
export function widenForEmit(t: KTerm): KTerm {
  let out = t;
  for (const c of t.conds.values()) {
    if (plan(c) !== undefined) continue;
    if (c.spec.host) {
      out = dropCond(out, c);
      continue;
    }
    const set = fillGaps(c.set, MAX_SET_INTERVALS);
    const conds = new Map(out.conds);
    conds.set(c.spec.id, { spec: c.spec, set });
    out = loosen({ ...out, conds }, `${c.spec.label} in ${iv.formatSet(c.set, 6)}: more intervals than one rule holds, the kernel checks ${iv.formatSet(set, 6)}`);
  }
  return out;
}

/**
 * Bytes the interval sets of one filter may take in its netlink batch, at most: the batch goes
 * in one sendmsg(2), which fails with EMSGSIZE past the socket's send buffer (net.core.wmem_default,
 * 212,992 bytes by default: 8,192 two-byte elements fitted, 10,240 did not), and the rules and
 * other sets share it.
 */
export const MAX_INTERVAL_SET_BYTES = 96 * 1024;

/** Netlink bytes of one set element: its nest, flags, key nest and the key padded to 4. */
function elementBytes(keyLen: number): number {
  return 24 + ((keyLen + 3) & ~3);
}

/**
 * The terms (all hooks and families of a filter) with their interval sets within
 * MAX_INTERVAL_SET_BYTES: when they would take more, every set is cut to the same number of
 * intervals, the largest that fits (its narrowest gaps filled), and its term becomes residual.
 */
export function limitIntervalSets(lists: ReadonlyArray<readonly KTerm[]>, budget = MAX_INTERVAL_SET_BYTES): KTerm[][] {
  const sized: Array<{ n: number; bytes: number }> = [];
  for (const l of lists) {
    for (const t of l) {
      for (const c of t.conds.values()) {
        const p = plan(c);
        if (p?.kind === 'intervals') sized.push({ n: p.ranges.length, bytes: 2 * elementBytes(c.spec.len) });
      }
    }
  }
  const cost = (m: number): number => sized.reduce((sum, x) => sum + Math.min(x.n, m) * x.bytes, 0);
  const most = sized.reduce((m, x) => Math.max(m, x.n), 0);
  if (cost(most) <= budget) return lists.map((l) => [...l]);
  let lo = 1;
  let hi = most;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (cost(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  // At most `lo` intervals in a set (or its holes, one more).
  const cap = Math.max(1, lo - 1);
  return lists.map((l) => l.map((t) => {
    let out = t;
    for (const c of t.conds.values()) {
      const p = plan(c);
      if (p?.kind !== 'intervals' || p.ranges.length <= lo) continue;
      const set = fillGaps(c.set, cap);
      const conds = new Map(out.conds);
      conds.set(c.spec.id, { spec: c.spec, set });
      out = loosen({ ...out, conds }, `${c.spec.label} in ${iv.formatSet(c.set, 6)}: the filter's interval sets would outgrow one netlink batch, the kernel checks ${iv.formatSet(set, 6)}`);
    }
    return out;
  }));
}

/** The term without condition `c`, residual: only equality is possible in the kernel for its host-order load. */
function dropCond(t: KTerm, c: KCond): KTerm {
  const conds = new Map(t.conds);
  conds.delete(c.spec.id);
  return loosen({ ...t, conds }, `${c.spec.label} in ${iv.formatSet(c.set)}: only equality is possible in the kernel, user space decides`);
}

/** `set` with its narrowest inner gaps filled until at most `max` intervals remain: the closest superset of that size. */
function fillGaps(set: ValueSet, max: number): ValueSet {
  if (set.length <= max) return set;
  const gaps = set.slice(1).map((x, i) => [set[i]![1] + 1n, x[0] - 1n] as const);
  const filled = [...gaps].sort((x, y) => {
    const a = x[1] - x[0];
    const b = y[1] - y[0];
    return a < b ? -1 : a > b ? 1 : x[0] < y[0] ? -1 : 1;
  }).slice(0, set.length - max);
  return iv.normalize([...set, ...filled]);
}

/** The expressions of a term (conditions in rank order), and the sets its lookups use. */
export function emitTerm(t: KTerm, setPrefix: string): EmittedRule {
  const exprs: Expr[] = [];
  const sets: EmittedSet[] = [];
  const conds = [...t.conds.values()].sort((a, b) => a.spec.rank - b.spec.rank || (a.spec.id < b.spec.id ? -1 : 1));
  for (const c of conds) {
    const p = plan(c);
    if (!p) throw new Error(`emitTerm: ${c.spec.label} in ${iv.formatSet(c.set)} cannot be written; split the terms first`);
    if (p.kind === 'none' && !c.spec.canFail) continue;
    exprs.push(load(c.spec));
    if (p.kind === 'none') continue;
    if (c.spec.mask !== undefined) {
      const mask = bytes(c.spec, c.spec.mask, false);
      exprs.push({ type: 'bitwise', sreg: R1, dreg: R1, len: c.spec.len, mask, xor: new Uint8Array(c.spec.len) });
    }
    if (p.kind === 'lookup' || p.kind === 'intervals') {
      sets.push(p.kind === 'lookup'
        ? { keyLen: c.spec.len, interval: false, elements: p.values.map((v) => ({ key: bytes(c.spec, v, true) })) }
        : { keyLen: c.spec.len, interval: true, elements: intervalElements(c.spec, p.ranges) });
      const lookup: Expr = { type: 'lookup', set: `${setPrefix}${sets.length - 1}`, sreg: R1 };
      exprs.push(p.invert ? { ...lookup, flags: NFT_LOOKUP_F.NFT_LOOKUP_F_INV } : lookup);
      continue;
    }
    for (const o of p.ops) {
      if ('a' in o) {
        const op = o.op === 'range' ? NFT_RANGE.NFT_RANGE_EQ : NFT_RANGE.NFT_RANGE_NEQ;
        exprs.push({ type: 'range', op, sreg: R1, from: bytes(c.spec, o.a, true), to: bytes(c.spec, o.b, true) });
      } else {
        exprs.push({ type: 'cmp', op: CMP[o.op], sreg: R1, data: bytes(c.spec, o.v, true) });
      }
    }
  }
  return { exprs, sets };
}

/**
 * An interval set's elements: a start element at each interval's first value, an end element
 * (NFT_SET_ELEM_INTERVAL_END) at the first value after it, omitted when that value no longer
 * fits the register (the interval runs to the top, as nft writes `{ 1024-65535 }`).
 */
function intervalElements(spec: LoadSpec, ranges: ValueSet): EmittedElement[] {
  const top = 1n << BigInt(8 * spec.len);
  const out: EmittedElement[] = [];
  for (const [a, b] of ranges) {
    out.push({ key: bytes(spec, a, true) });
    if ((b + 1n) << BigInt(spec.shift) < top) out.push({ key: bytes(spec, b + 1n, true), end: true });
  }
  return out;
}

const CMP = { eq: NFT_CMP.NFT_CMP_EQ, neq: NFT_CMP.NFT_CMP_NEQ, lt: NFT_CMP.NFT_CMP_LT, lte: NFT_CMP.NFT_CMP_LTE, gt: NFT_CMP.NFT_CMP_GT, gte: NFT_CMP.NFT_CMP_GTE } as const;

function load(spec: LoadSpec): Expr {
  if (spec.kind === 'meta') return { type: 'meta', key: spec.key, dreg: R1 };
  return { type: 'payload', base: spec.base, offset: spec.offset, len: spec.len, dreg: R1 };
}

/** `v` (a value, shifted into place when `value`) as the register's bytes: big-endian, or host order for meta. */
function bytes(spec: LoadSpec, v: bigint, value: boolean): Uint8Array {
  const out = bigToBytes(value ? v << BigInt(spec.shift) : v, spec.len);
  return spec.host && HOST_LITTLE_ENDIAN ? out.reverse() : out;
}
