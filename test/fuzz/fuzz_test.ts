/**
 * The fuzz targets, a few hundred inputs each from a fixed seed (a few seconds in all): the same
 * properties `npm run fuzz` checks for millions of inputs, so a regression fails here first.
 * Each target that can skip an input must also have reached its main check on at least a twentieth
 * of them (a generator that drifted to only invalid inputs would check nothing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TARGETS } from './targets.js';

const SEED = 20261130;
const RUNS = 400;

for (const t of TARGETS) {
  test(`fuzz (seed ${SEED}) ${t.name}`, () => {
    const runs = Math.ceil(RUNS / (t.cost ?? 1));
    const before = t.deep?.count ?? 0;
    fc.assert(t.property, { seed: SEED, numRuns: runs });
    if (t.deep) assert.ok(t.deep.count - before >= runs / 20, `only ${t.deep.count - before} of ${runs} inputs reached the main check`);
  });
}
