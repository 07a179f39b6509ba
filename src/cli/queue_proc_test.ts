import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueProc, sumCounters } from './queue_proc.js';

test('parseQueueProc() reads the kernel columns (anchors §6.6 example)', () => {
  assert.deepEqual(parseQueueProc('    1  31621     0 2  4016     0     0        2  1\n  7 99 3 2 65531 4 5 100 1\ngarbage\n'), [
    { queue: 1, portid: 31621, waiting: 0, copyMode: 2, copyRange: 4016, queueDropped: 0, userDropped: 0, idSequence: 2 },
    { queue: 7, portid: 99, waiting: 3, copyMode: 2, copyRange: 65531, queueDropped: 4, userDropped: 5, idSequence: 100 },
  ]);
  assert.deepEqual(parseQueueProc(''), []);
});

test('sumCounters() adds up a range\'s waiting packets, drops and ids, with the first queue\'s identity', () => {
  const cs = parseQueueProc('   10  501     1 2  4016     2     0      100  1\n   11  502     3 2  4016     0     7       50  1\n');
  assert.deepEqual(sumCounters(cs), { queue: 10, portid: 501, waiting: 4, copyMode: 2, copyRange: 4016, queueDropped: 2, userDropped: 7, idSequence: 150 });
  assert.deepEqual(sumCounters(cs.slice(1)), cs[1]);
  assert.equal(sumCounters([]), undefined, 'no queue of the range bound');
  assert.equal(cs[0]!.waiting, 1, 'the inputs are left as they were');
});
