import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNfqueueProc, queueTotals } from './nfq_proc.js';

// As the kernel prints it (seq_show: "%5u %6u %5u %1u %5u %5u %5u %8u %2d").
const TEXT = [
  ' 4242  12345     0 2 65535   17     3   900123  1',
  '   10 -41234    12 2 65535    0     0      555  1',
  '   11 -41235     0 2 65535    5     1      444  1',
  'not a queue line',
  '',
].join('\n');

test('parseNfqueueProc: the nine columns by name; other lines skipped', () => {
  const lines = parseNfqueueProc(TEXT.replace(/-4123/g, '4123'));
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0], { queue: 4242, portid: 12345, queued: 0, copyMode: 2, copyRange: 65535, queueDropped: 17, userDropped: 3, idSequence: 900123 });
});

test('parseNfqueueProc: a line with a negative number (not one of the kernel\'s) is skipped', () => {
  assert.deepEqual(parseNfqueueProc(TEXT).map((l) => l.queue), [4242]);
});

test('queueTotals: drops and ids summed over the queues asked for; a queue not listed counts 0', () => {
  const lines = parseNfqueueProc(TEXT.replace(/-4123/g, '4123'));
  assert.deepEqual(queueTotals(lines, [10, 11, 12]), { queueDropped: 5, userDropped: 1, idSequence: 999 });
  assert.deepEqual(queueTotals(lines, [7]), { queueDropped: 0, userDropped: 0, idSequence: 0 });
});
