import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedRatios, relativeSpread, showSpread, spread } from './stats.js';

test('spread: median of odd and even samples, min and max, unsorted input left alone', () => {
  const xs = [5, 1, 3];
  assert.deepEqual(spread(xs), { median: 3, min: 1, max: 5 });
  assert.deepEqual(xs, [5, 1, 3]);
  assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  assert.deepEqual(spread([]), { median: 0, min: 0, max: 0 });
});

test('showSpread: median (min–max), a dash for no sample', () => {
  assert.equal(showSpread([2, 1, 3], String), '2 (1–3)');
  assert.equal(showSpread([], String), '–');
});

test('pairedRatios: one ratio per repetition, pairs with a missing side or a zero divisor left out', () => {
  assert.deepEqual(pairedRatios([2, 3, undefined, 8, 1], [1, 0, 4, 4, undefined]), [2, 2]);
  assert.deepEqual(pairedRatios([1, 2, 3], [1]), [1]);
});

test('relativeSpread: largest distance from the mean over the mean', () => {
  assert.equal(relativeSpread([95, 100, 105]), 0.05);
  assert.equal(relativeSpread([7, 7]), 0);
  assert.equal(relativeSpread([]), 0);
});
