import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueProc } from './queue_proc.js';

test('parseQueueProc() reads the kernel columns (anchors §6.6 example)', () => {
  assert.deepEqual(parseQueueProc('    1  31621     0 2  4016     0     0        2  1\n  7 99 3 2 65531 4 5 100 1\ngarbage\n'), [
    { queue: 1, portid: 31621, waiting: 0, copyMode: 2, copyRange: 4016, queueDropped: 0, userDropped: 0, idSequence: 2 },
    { queue: 7, portid: 99, waiting: 3, copyMode: 2, copyRange: 65531, queueDropped: 4, userDropped: 5, idSequence: 100 },
  ]);
  assert.deepEqual(parseQueueProc(''), []);
});
