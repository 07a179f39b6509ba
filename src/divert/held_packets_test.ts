import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeldPackets } from './held_packets.js';

interface P {
  n: number;
  held: boolean;
}
const packets = (n: number): P[] => Array.from({ length: n }, (_, i) => ({ n: i, held: false }));

test('HeldPackets: in-order answers pop the front; size, oldest and toArray follow', () => {
  const h = new HeldPackets<P>();
  const ps = packets(5);
  for (const p of ps) h.add(p);
  assert.equal(h.size, 5);
  assert.equal(h.oldest(), ps[0]);
  assert.equal(h.remove(ps[0]!), true);
  assert.equal(h.remove(ps[0]!), false, 'a second remove is refused');
  assert.equal(h.oldest(), ps[1]);
  assert.deepEqual(h.toArray().map((p) => p.n), [1, 2, 3, 4]);
});

test('HeldPackets: an answer out of order leaves a hole; the front skips it once the older ones go', () => {
  const h = new HeldPackets<P>();
  const ps = packets(4);
  for (const p of ps) h.add(p);
  h.remove(ps[2]!);
  h.remove(ps[1]!);
  assert.deepEqual(h.toArray().map((p) => p.n), [0, 3]);
  assert.equal(h.oldest(), ps[0]);
  h.remove(ps[0]!);
  assert.equal(h.oldest(), ps[3], 'holes 1 and 2 were skipped');
  assert.equal(h.size, 1);
  h.remove(ps[3]!);
  assert.equal(h.oldest(), undefined);
  assert.equal(h.size, 0);
});

test('HeldPackets: one packet held for ever while a million pass keeps the ring small, order kept', () => {
  const h = new HeldPackets<P>();
  const stuck = { n: -1, held: false };
  h.add(stuck);
  let maxCapacity = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const p = { n: i, held: false };
    h.add(p);
    h.remove(p);
    maxCapacity = Math.max(maxCapacity, h.capacity);
  }
  assert.equal(h.size, 1);
  assert.equal(h.oldest(), stuck);
  assert.equal(maxCapacity, 64, 'compacted in place, never grown (a Map-free ring of 2^20 slots otherwise)');
  const many = packets(3000);
  for (const p of many) h.add(p);
  for (let i = 0; i < many.length; i += 2) h.remove(many[i]!);
  assert.deepEqual(h.toArray().map((p) => p.n), [-1, ...many.filter((_, i) => i % 2 === 1).map((p) => p.n)]);
});

test('HeldPackets: random adds and removes agree with a Set kept in arrival order', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const h = new HeldPackets<P>();
  const model = new Set<P>();
  let next = 0;
  for (let step = 0; step < 50_000; step++) {
    if (model.size === 0 || rand(3) !== 0) {
      const p = { n: next++, held: false };
      h.add(p);
      model.add(p);
    } else {
      const all = [...model];
      const p = all[rand(Math.min(all.length, 8))]!; // mostly near the front, as answers are
      assert.equal(h.remove(p), true);
      model.delete(p);
    }
    assert.equal(h.size, model.size);
    assert.equal(h.oldest(), model.values().next().value);
  }
  assert.deepEqual(h.toArray(), [...model]);
});
