/**
 * Sets of non-negative integers as sorted, disjoint, non-adjacent closed intervals of bigints:
 * the values a register may hold for a kernel condition to pass. Immutable; small (a handful of
 * intervals), so the operations are linear merges.
 * @module
 */
import type { Op } from './ast.js';

export type Interval = readonly [bigint, bigint];
export type ValueSet = readonly Interval[];

export const EMPTY: ValueSet = [];

/** [lo, hi], or empty when lo > hi. */
export function range(lo: bigint, hi: bigint): ValueSet {
  return lo > hi ? EMPTY : [[lo, hi]];
}

export function point(v: bigint): ValueSet {
  return [[v, v]];
}

/** Normalises any list of intervals (sorts, merges overlapping and adjacent ones). */
export function normalize(list: readonly Interval[]): ValueSet {
  const sorted = list.filter(([a, b]) => a <= b).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1n) {
      if (b > last[1]) last[1] = b;
    } else out.push([a, b]);
  }
  return out;
}

export function points(values: readonly bigint[]): ValueSet {
  return normalize(values.map((v) => [v, v] as const));
}

export function union(x: ValueSet, y: ValueSet): ValueSet {
  return normalize([...x, ...y]);
}

export function intersect(x: ValueSet, y: ValueSet): ValueSet {
  const out: Array<[bigint, bigint]> = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const [a1, b1] = x[i]!;
    const [a2, b2] = y[j]!;
    const lo = a1 > a2 ? a1 : a2;
    const hi = b1 < b2 ? b1 : b2;
    if (lo <= hi) out.push([lo, hi]);
    if (b1 < b2) i++;
    else j++;
  }
  return out;
}

/** The values of `domain` not in `x` (both sorted and disjoint: one linear pass). */
export function minus(domain: ValueSet, x: ValueSet): ValueSet {
  const out: Array<[bigint, bigint]> = [];
  let j = 0;
  for (const [c, d] of domain) {
    let lo = c;
    while (j < x.length && x[j]![1] < lo) j++;
    let k = j;
    while (lo <= d) {
      if (k === x.length || x[k]![0] > d) {
        out.push([lo, d]);
        break;
      }
      const [a, b] = x[k]!;
      if (a > lo) out.push([lo, a - 1n]);
      if (b >= d) break;
      lo = b + 1n;
      k++;
    }
    j = k;
  }
  return out;
}

export function equal(x: ValueSet, y: ValueSet): boolean {
  return x.length === y.length && x.every(([a, b], i) => a === y[i]![0] && b === y[i]![1]);
}

/** Whether every value of `x` is in `y`. */
export function subset(x: ValueSet, y: ValueSet): boolean {
  // Each interval of x inside one of y (both sorted, disjoint, non-adjacent).
  let j = 0;
  for (const [a, b] of x) {
    while (j < y.length && y[j]![1] < a) j++;
    if (j === y.length || y[j]![0] > a || y[j]![1] < b) return false;
  }
  return true;
}

/** Number of values (bigint: sets may be huge). */
export function size(x: ValueSet): bigint {
  return x.reduce((n, [a, b]) => n + (b - a + 1n), 0n);
}

/** The values of `x`, when there are at most `max` of them. */
export function listPoints(x: ValueSet, max: number): bigint[] | undefined {
  if (size(x) > BigInt(max)) return undefined;
  const out: bigint[] = [];
  for (const [a, b] of x) for (let v = a; v <= b; v++) out.push(v);
  return out;
}

/** {v in [lo, hi] : v op c}. */
export function fromOp(op: Op, c: bigint, lo: bigint, hi: bigint): ValueSet {
  switch (op) {
    case '==': return c >= lo && c <= hi ? point(c) : EMPTY;
    case '!=': return minus(range(lo, hi), point(c));
    case '<': return range(lo, c - 1n < hi ? c - 1n : hi);
    case '<=': return range(lo, c < hi ? c : hi);
    case '>': return range(c + 1n > lo ? c + 1n : lo, hi);
    case '>=': return range(c > lo ? c : lo, hi);
  }
}

/** {x : x + add in s}: the set shifted down by `add`, clipped to [lo, hi]. */
export function shift(s: ValueSet, add: bigint, lo: bigint, hi: bigint): ValueSet {
  return intersect(normalize(s.map(([a, b]) => [a - add, b - add] as const)), range(lo, hi));
}

/** Text for explain(): `{5..15}`, `{0, 43}`; past `max` intervals, `{1, 3, 5, … (4000 intervals)}`. */
export function formatSet(x: ValueSet, max = Infinity): string {
  const shown = x.length > max ? x.slice(0, max) : x;
  const more = x.length > max ? `, … (${x.length} intervals)` : '';
  return `{${shown.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(', ')}${more}}`;
}
