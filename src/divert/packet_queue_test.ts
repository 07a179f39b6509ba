import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketQueue } from './packet_queue.js';

function source(): { calls: string[]; pause(): void; resume(): void } {
  const calls: string[] = [];
  return { calls, pause: () => void calls.push('pause'), resume: () => void calls.push('resume') };
}

test('PacketQueue: a waiting read gets the next packet at once; others are buffered in order', async () => {
  const q = new PacketQueue<number>(10, source());
  const waiting = q.wait(undefined);
  q.push(1);
  q.push(2);
  q.push(3);
  assert.equal(await waiting, 1);
  assert.deepEqual([q.shift(), q.shift(), q.shift(), q.size], [2, 3, undefined, 0]);
});

test('PacketQueue: pauses its source at the high-water mark, resumes below half', () => {
  const s = source();
  const q = new PacketQueue<number>(4, s);
  for (let i = 0; i < 5; i++) q.push(i);
  assert.deepEqual(s.calls, ['pause'], 'once, at the fourth');
  q.shift();
  q.shift();
  q.shift();
  assert.deepEqual(s.calls, ['pause'], '2 left: not below half');
  q.shift();
  assert.deepEqual(s.calls, ['pause', 'resume']);
});

test('PacketQueue: an aborted wait rejects with the reason and takes no packet; fail() and end() settle every wait', async () => {
  const q = new PacketQueue<number>(10, source());
  const ac = new AbortController();
  const aborted = q.wait(ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(aborted, /stop/);
  q.push(7);
  assert.equal(q.shift(), 7, 'the aborted wait did not take it');
  await assert.rejects(q.wait(AbortSignal.abort(new Error('before'))), /before/);
  const a = q.wait(undefined);
  const b = q.wait(undefined);
  q.fail(new Error('broken'));
  await assert.rejects(a, /broken/);
  await assert.rejects(b, /broken/);
  const c = q.wait(undefined);
  q.push(8);
  q.push(9);
  q.end();
  assert.equal(await c, 8);
  const d = q.wait(undefined);
  q.end();
  assert.equal(await d, undefined);
  assert.equal(q.shift(), 9, 'end() keeps what is buffered');
  q.push(10);
  q.clear();
  assert.equal(q.size, 0);
});

test('PacketQueue: a long backlog is taken in order past its compaction', () => {
  const q = new PacketQueue<number>(1e9, source());
  for (let i = 0; i < 5000; i++) q.push(i);
  for (let i = 0; i < 3000; i++) assert.equal(q.shift(), i);
  for (let i = 5000; i < 6000; i++) q.push(i);
  for (let i = 3000; i < 6000; i++) assert.equal(q.shift(), i);
  assert.equal(q.shift(), undefined);
});
