/**
 * The term algebra (_kterm.ts) on small random terms, checked point by point: merge() and
 * simplify() keep the packets matched (exactly and at all), merge() leaves nothing mergeable,
 * simplifyUnion() of simplified lists equals simplify() of their concatenation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NFT_PAYLOAD } from '../nftables/expr_constants.js';
import * as iv from './_intervals.js';
import { cond, merge, payloadSpec, simplify, simplifyUnion, term, type KTerm, type LoadSpec } from './_kterm.js';
import { Rng } from './_random.js';

// Three loads of 3 bits each (values 0..7), and a guard (canFail) whose whole domain stays.
const SPECS: LoadSpec[] = [0, 1, 2].map((k) => payloadSpec(NFT_PAYLOAD.NFT_PAYLOAD_NETWORK_HEADER, k, 1, 0x07n));

function randomTerm(rng: Rng): KTerm {
  const conds = SPECS.filter(() => rng.chance(0.7)).map((spec) => {
    const values = [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n].filter(() => rng.chance(rng.chance(0.5) ? 0.3 : 0.8));
    return cond(spec, iv.points(values.length > 0 ? values : [BigInt(rng.int(0, 7))]));
  });
  return term(conds, rng.chance(0.7), 'r')!;
}

/** For each of the 512 points: 2 when an exact term matches it, 1 when only residual ones do, 0 when none. */
function coverage(terms: readonly KTerm[]): number[] {
  const out: number[] = [];
  for (let p = 0; p < 512; p++) {
    const v = [BigInt(p & 7), BigInt((p >> 3) & 7), BigInt(p >> 6)];
    let c = 0;
    for (const t of terms) {
      const hit = SPECS.every((spec, k) => {
        const x = t.conds.get(spec.id);
        return x === undefined || iv.subset(iv.point(v[k]!), x.set);
      });
      if (hit) c = Math.max(c, t.exact ? 2 : 1);
    }
    out.push(c);
  }
  return out;
}

/** Two terms of the same exactness that differ in the set of one load only. */
function mergeable(a: KTerm, b: KTerm): boolean {
  if (a.exact !== b.exact || a.conds.size !== b.conds.size) return false;
  let differ = 0;
  for (const [id, c] of a.conds) {
    const o = b.conds.get(id);
    if (!o) return false;
    if (!iv.equal(o.set, c.set)) differ++;
  }
  return differ <= 1;
}

test('merge(): the same packets, exact where they were, and no two terms left that differ in one load', () => {
  const rng = new Rng(42);
  let merged = 0;
  for (let i = 0; i < 400; i++) {
    const terms = Array.from({ length: rng.int(1, 40) }, () => randomTerm(rng));
    const out = merge(terms);
    merged += terms.length - out.length;
    assert.deepEqual(coverage(out), coverage(terms));
    for (let a = 0; a < out.length; a++) for (let b = a + 1; b < out.length; b++) assert.ok(!mergeable(out[a]!, out[b]!), `terms ${a} and ${b} still merge`);
  }
  assert.ok(merged > 300, `${merged} terms merged`);
});

test('simplify(): the same packets; simplifyUnion() of simplified lists is simplify() of them together', () => {
  const rng = new Rng(7);
  for (let i = 0; i < 300; i++) {
    const x = Array.from({ length: rng.int(0, 20) }, () => randomTerm(rng));
    const a = simplify(x);
    const b = simplify(Array.from({ length: rng.int(0, 20) }, () => randomTerm(rng)));
    const raw = Array.from({ length: rng.int(0, 10) }, () => randomTerm(rng));
    assert.deepEqual(coverage(a), coverage(x));
    const whole = simplify([...a, ...raw, ...b]);
    assert.deepEqual(simplifyUnion([a, raw, b]), whole);
    assert.deepEqual(coverage(whole), coverage([...a, ...raw, ...b]));
  }
});
