import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutstandingIds } from './outstanding.js';

test('OutstandingIds: answers in order pop the head; none waits at the end', () => {
  const o = new OutstandingIds();
  for (let id = 1; id <= 5; id++) o.push(id);
  assert.equal(o.head, 1);
  for (let id = 1; id <= 5; id++) {
    assert.equal(o.head, id);
    o.answer(id);
  }
  assert.deepEqual([o.head, o.size], [undefined, 0]);
});

test('OutstandingIds: an answer out of order waits until the head reaches it', () => {
  const o = new OutstandingIds();
  for (let id = 1; id <= 5; id++) o.push(id);
  o.answer(3);
  o.answer(4);
  assert.deepEqual([o.head, o.size], [1, 3]);
  o.answer(1);
  assert.equal(o.head, 2);
  o.answer(2);
  assert.deepEqual([o.head, o.size], [5, 1], '3 and 4 were answered already');
});

test('OutstandingIds: ids wrap at 2^32; gaps (ids the kernel never queued) and unknown ids change nothing', () => {
  const o = new OutstandingIds();
  const ids = [0xfffffffe, 0xffffffff, 0, 3];
  for (const id of ids) o.push(id);
  o.answer(0); // out of order, across the wrap
  o.answer(2); // a gap: never delivered
  o.answer(77); // far outside the window
  assert.deepEqual([o.head, o.size], [0xfffffffe, 3]);
  o.answer(0xfffffffe);
  o.answer(0xffffffff);
  assert.deepEqual([o.head, o.size], [3, 1]);
});

test('OutstandingIds: grows past its first ring, keeping the order', () => {
  const o = new OutstandingIds();
  for (let id = 1; id <= 5000; id++) o.push(id);
  for (let id = 1; id <= 4000; id++) o.answer(id);
  for (let id = 5001; id <= 7000; id++) o.push(id);
  assert.deepEqual([o.head, o.size], [4001, 3000]);
  for (let id = 4001; id <= 7000; id++) {
    assert.equal(o.head, id);
    o.answer(id);
  }
  assert.equal(o.size, 0);
});
