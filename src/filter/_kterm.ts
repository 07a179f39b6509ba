/**
 * Kernel conditions and terms: the algebra the lowering works in before any expression is
 * written. A condition is "load this (meta key, or payload bytes under a mask) and require its
 * value in a set"; a term is a conjunction of conditions, one per load, plus whether it decides
 * the filter exactly. Two conditions on the same load intersect, so contradictions (`nfproto`
 * 4 and 6, port 80 and 443) vanish before they become rules.
 *
 * Loads that can fail (payload past the packet's end, `meta l4proto` without a layer 4) make the
 * rule fail: a condition whose set is the whole domain still loads, as a presence guard.
 * @module
 */
import { NFT_META, NFT_PAYLOAD } from '../nftables/expr_constants.js';
import * as iv from './_intervals.js';
import type { ValueSet } from './_intervals.js';

/** What is loaded into the register, and how its bits are read. */
export interface LoadSpec {
  /** Canonical key: equal loads share it. */
  readonly id: string;
  /** 'virtual': a fact about the WinDivert value that no expression checks (see virtualSpec). */
  readonly kind: 'meta' | 'payload' | 'virtual';
  /** NFT_META_* */
  readonly key: number;
  /** NFT_PAYLOAD_* */
  readonly base: number;
  readonly offset: number;
  /** Register bytes loaded. */
  readonly len: number;
  /** Bits that make the value (register bytes as one integer: big-endian for payload, host order for meta). */
  readonly mask: bigint | undefined;
  /** value = (register & mask) >> shift. */
  readonly shift: number;
  /** Host-order register (meta iif, mark…): only sets of a few points can be written. */
  readonly host: boolean;
  /** The load itself may fail and so fail the rule. */
  readonly canFail: boolean;
  /** The values the register can hold. */
  readonly domain: ValueSet;
  /** Order in the rule: cheap and selective first. */
  readonly rank: number;
  /** For explain(): "meta l4proto", "network header + 9". */
  readonly label: string;
}

export interface KCond {
  readonly spec: LoadSpec;
  readonly set: ValueSet;
}

export interface KTerm {
  /** By spec id. */
  readonly conds: ReadonlyMap<string, KCond>;
  /** True when every packet it matches matches the filter: no user-space check needed. */
  readonly exact: boolean;
  /** Why it is not exact. */
  readonly reasons: readonly string[];
}

/** A disjunction of terms: the packets any of them matches. */
export type KDisj = readonly KTerm[];

const BASE_NAME = ['link', 'network', 'transport'];
const META_NAME: Record<number, string> = {
  [NFT_META.NFT_META_NFPROTO]: 'nfproto', [NFT_META.NFT_META_L4PROTO]: 'l4proto', [NFT_META.NFT_META_IIF]: 'iif',
  [NFT_META.NFT_META_OIF]: 'oif', [NFT_META.NFT_META_IIFTYPE]: 'iiftype', [NFT_META.NFT_META_OIFTYPE]: 'oiftype', [NFT_META.NFT_META_MARK]: 'mark',
};

function metaSpec(key: number, len: number, host: boolean, canFail: boolean, rank: number, domain?: ValueSet, mask?: bigint): LoadSpec {
  const shift = mask === undefined ? 0 : trailingZeros(mask);
  const dom = domain ?? iv.range(0n, mask === undefined ? (1n << BigInt(8 * len)) - 1n : mask >> BigInt(shift));
  const name = META_NAME[key] ?? `key ${key}`;
  return {
    id: `meta:${key}${mask === undefined ? '' : `&${mask.toString(16)}`}`, kind: 'meta', key, base: 0, offset: 0, len, mask, shift,
    host, canFail, domain: dom, rank, label: `meta ${name}${mask === undefined ? '' : ` & 0x${mask.toString(16)}`}`,
  };
}

/** `meta nfproto`: 2 (ipv4) or 10 (ipv6) in an inet chain. */
export const NFPROTO_SPEC = metaSpec(NFT_META.NFT_META_NFPROTO, 1, false, false, 0, iv.points([2n, 10n]));
/** `meta l4proto`: fails when nf_tables found no layer 4 (a guard on IPv4, see lower_atoms.ts). */
export const L4PROTO_SPEC = metaSpec(NFT_META.NFT_META_L4PROTO, 1, false, true, 20);
export const IIF_SPEC = metaSpec(NFT_META.NFT_META_IIF, 4, true, false, 10);
export const OIF_SPEC = metaSpec(NFT_META.NFT_META_OIF, 4, true, false, 11);
export const IIFTYPE_SPEC = metaSpec(NFT_META.NFT_META_IIFTYPE, 2, true, false, 12);
export const OIFTYPE_SPEC = metaSpec(NFT_META.NFT_META_OIFTYPE, 2, true, false, 13);

/** `meta mark & mask`, host order: the value is the masked bits shifted down. */
export function markSpec(mask: number): LoadSpec {
  return metaSpec(NFT_META.NFT_META_MARK, 4, true, false, 90, undefined, BigInt(mask >>> 0));
}

/**
 * `len` bytes at `offset` of the network or transport header, big-endian, under `mask` (a
 * contiguous run of bits; all bits when omitted).
 */
export function payloadSpec(base: number, offset: number, len: number, mask?: bigint): LoadSpec {
  const full = (1n << BigInt(8 * len)) - 1n;
  const m = mask === undefined || mask === full ? undefined : mask;
  const shift = m === undefined ? 0 : trailingZeros(m);
  const rank = (base === NFT_PAYLOAD.NFT_PAYLOAD_NETWORK_HEADER ? 30 : 50) + offset / 100_000;
  return {
    id: `pl:${base}:${offset}:${len}${m === undefined ? '' : `&${m.toString(16)}`}`, kind: 'payload', key: 0, base, offset, len, mask: m, shift,
    host: false, canFail: true, domain: iv.range(0n, m === undefined ? full : m >> BigInt(shift)), rank,
    label: `${BASE_NAME[base] ?? base} header + ${offset}${len > 1 ? ` (${len} bytes)` : ''}${m === undefined ? '' : ` & 0x${m.toString(16)}`}`,
  };
}

function trailingZeros(m: bigint): number {
  let n = 0;
  while (m > 0n && (m & 1n) === 0n) {
    m >>= 1n;
    n++;
  }
  return n;
}

/**
 * A condition user space checks but the kernel does not: residual terms carry the facts their
 * test implies (the layer is TCP, the port is 80) so that contradicting residual terms (`tcp and
 * udp` behind IPv6 extension headers) still vanish. Never written as an expression.
 */
export function virtualSpec(of: LoadSpec | string, domain?: ValueSet): LoadSpec {
  if (typeof of === 'string') {
    return { ...NFPROTO_SPEC, id: `v:${of}`, kind: 'virtual', canFail: false, domain: domain ?? iv.range(0n, 1n), rank: 1000, label: `(user space) ${of}` };
  }
  return { ...of, id: `v:${of.id}`, kind: 'virtual', canFail: false, rank: 1000, label: `(user space) ${of.label}` };
}

/** A condition; `set` is clipped to the spec's domain. */
export function cond(spec: LoadSpec, set: ValueSet): KCond {
  return { spec, set: iv.intersect(set, spec.domain) };
}

/** A term from conditions (undefined when they contradict each other). */
export function term(conds: readonly KCond[], exact = true, reason?: string): KTerm | undefined {
  const map = new Map<string, KCond>();
  for (const c of conds) {
    const prev = map.get(c.spec.id);
    const set = prev ? iv.intersect(prev.set, c.set) : c.set;
    if (set.length === 0) return undefined;
    map.set(c.spec.id, { spec: c.spec, set });
  }
  return { conds: map, exact, reasons: reason ? [reason] : [] };
}

/** The term matching everything (exact), and its residual twin. */
export const ALL: KTerm = { conds: new Map(), exact: true, reasons: [] };

export function residual(reason: string, conds: readonly KCond[] = []): KTerm | undefined {
  return term(conds, false, reason);
}

/** Both terms at once; undefined when they contradict. */
export function conj(a: KTerm, b: KTerm): KTerm | undefined {
  const map = new Map(a.conds);
  for (const [id, c] of b.conds) {
    const prev = map.get(id);
    const set = prev ? iv.intersect(prev.set, c.set) : c.set;
    if (set.length === 0) return undefined;
    map.set(id, { spec: c.spec, set });
  }
  const reasons = a.reasons.length === 0 ? b.reasons : b.reasons.length === 0 ? a.reasons : [...new Set([...a.reasons, ...b.reasons])];
  return { conds: map, exact: a.exact && b.exact, reasons };
}

/** The same term, residual for `reason`. */
export function loosen(t: KTerm, reason: string): KTerm {
  return { conds: t.conds, exact: false, reasons: t.reasons.includes(reason) ? t.reasons : [...t.reasons, reason] };
}

let compared = 0;

/** subsumes() calls and terms merge() keyed so far, in this process: a measure of lowering work for tests. */
export function termWork(): number {
  return compared;
}

/** Whether every packet `b` matches, `a` matches too (a's conditions are weaker). */
function subsumes(a: KTerm, b: KTerm): boolean {
  compared++;
  if (a.conds.size > b.conds.size) return false;
  for (const [id, c] of a.conds) {
    const other = b.conds.get(id);
    if (!other) return false;
    // Terms made by conj() share the conditions they did not narrow.
    if (other !== c && other.set !== c.set && !iv.subset(other.set, c.set)) return false;
  }
  return true;
}

/** Lists simplify() returned: no term of one covers another (so a union need not compare them). */
const SIMPLIFIED = new WeakSet<readonly KTerm[]>();

/** Whether no term of `terms` covers another as simplify() sees it (known, or one term). */
function isSimplified(terms: readonly KTerm[]): boolean {
  return terms.length <= 1 || SIMPLIFIED.has(terms);
}

/** Removes terms another one covers (keeping exactness: a residual term never swallows an exact one). */
export function simplify(terms: readonly KTerm[]): KTerm[] {
  return simplifyUnion([terms]);
}

/**
 * simplify() of the lists one after the other, comparing no two terms of the same list when
 * that list is already simplified: the union of two simplified lists costs their product, not
 * the square of their sum. Same result, same order.
 */
export function simplifyUnion(lists: ReadonlyArray<readonly KTerm[]>): KTerm[] {
  const out: Array<KTerm | undefined> = [];
  const from: number[] = [];
  lists.forEach((terms, l) => {
    const skip = isSimplified(terms) ? l : -1;
    for (const t of terms) {
      let covered = false;
      for (let i = 0; i < out.length && !covered; i++) {
        const o = out[i];
        covered = o !== undefined && from[i] !== skip && (o.exact || !t.exact) && subsumes(o, t);
      }
      if (covered) continue;
      for (let i = 0; i < out.length; i++) {
        const o = out[i];
        if (o !== undefined && from[i] !== skip && (t.exact || !o.exact) && subsumes(t, o)) out[i] = undefined;
      }
      out.push(t);
      from.push(l);
    }
  });
  const result = out.filter((t): t is KTerm => t !== undefined);
  SIMPLIFIED.add(result);
  return result;
}

/**
 * Merges terms that differ in the set of one load only (and agree on exactness) into one term
 * with the union: `dport 80` ∨ `dport 443` becomes `dport {80, 443}`.
 *
 * Keyed on the rest of the term: for each load in turn, the terms are grouped by their
 * exactness and their other conditions, and each group becomes one term (at its first member's
 * place); rounds repeat until nothing merges. Linear in the terms per round (the pairwise
 * search it replaces was cubic: 1.1 s for 4000 values of one field).
 */
export function merge(terms: readonly KTerm[]): KTerm[] {
  const setIds = new Map<ValueSet, string>();
  const texts = new Map<string, string>();
  const setId = (x: ValueSet): string => {
    let id = setIds.get(x);
    if (id === undefined) {
      const text = x.map(([a, b]) => (a === b ? a.toString(16) : `${a.toString(16)}-${b.toString(16)}`)).join(',');
      id = texts.get(text);
      if (id === undefined) texts.set(text, (id = texts.size.toString(36)));
      setIds.set(x, id);
    }
    return id;
  };
  let list = dedupeEmpty(terms);
  let any = list.length !== terms.length;
  for (let changed = true; changed; ) {
    changed = false;
    const loads: string[] = [];
    const seen = new Set<string>();
    for (const t of list) {
      for (const id of t.conds.keys()) {
        if (!seen.has(id)) {
          seen.add(id);
          loads.push(id);
        }
      }
    }
    for (const d of loads) {
      const groups = new Map<string, number[]>();
      list.forEach((t, i) => {
        if (!t.conds.has(d)) return;
        compared++;
        const parts: string[] = [];
        for (const [id, c] of t.conds) if (id !== d) parts.push(`${id.length}:${id}=${setId(c.set)}`); // length-prefixed: unambiguous
        const key = `${t.exact ? 1 : 0}${parts.sort().join(';')}`;
        const g = groups.get(key);
        if (g) g.push(i);
        else groups.set(key, [i]);
      });
      const merged = new Map<number, KTerm | undefined>();
      for (const g of groups.values()) {
        if (g.length < 2) continue;
        merged.set(g[0]!, mergeOn(g.map((i) => list[i]!), d));
        for (const i of g.slice(1)) merged.set(i, undefined);
      }
      if (merged.size === 0) continue;
      changed = any = true;
      list = list.flatMap((t, i) => (merged.has(i) ? (merged.get(i) ?? []) : [t]));
    }
  }
  if (!any && isSimplified(terms)) SIMPLIFIED.add(list);
  return list;
}

/** Terms without conditions (everything, exact or residual) kept once each. */
function dedupeEmpty(terms: readonly KTerm[]): KTerm[] {
  const kept = new Map<boolean, KTerm>();
  const out: KTerm[] = [];
  for (const t of terms) {
    if (t.conds.size > 0) out.push(t);
    else if (!kept.has(t.exact)) {
      kept.set(t.exact, t);
      out.push(t);
    } else {
      const k = kept.get(t.exact)!;
      const reasons = [...new Set([...k.reasons, ...t.reasons])];
      const m: KTerm = { conds: k.conds, exact: k.exact, reasons };
      out[out.indexOf(k)] = m;
      kept.set(t.exact, m);
    }
  }
  return out;
}

/** One term for `group` (equal but for load `d`): the union of their sets for `d`. */
function mergeOn(group: readonly KTerm[], d: string): KTerm {
  const first = group[0]!;
  const c = first.conds.get(d)!;
  const set = iv.normalize(group.flatMap((t) => t.conds.get(d)!.set));
  const map = new Map(first.conds);
  // A condition that no longer constrains anything goes, unless its load is a guard.
  if (iv.equal(set, c.spec.domain) && !c.spec.canFail) map.delete(d);
  else map.set(d, { spec: c.spec, set });
  return { conds: map, exact: first.exact, reasons: [...new Set(group.flatMap((t) => t.reasons))] };
}
