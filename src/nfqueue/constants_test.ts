import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NFQA, NFQA_CFG, NFQA_CFG_F, NFQNL_MAX_COPY_RANGE, NFQNL_MSG } from './constants.js';

test('NFQA values follow enum nfqnl_attr_type order', () => {
  assert.equal(NFQA.NFQA_PAYLOAD, 10);
  assert.equal(NFQA.NFQA_SECCTX, 18);
  assert.equal(NFQA.NFQA_PRIORITY, 21);
  assert.equal(NFQA.NFQA_CGROUP_CLASSID, 22);
  const values = Object.values(NFQA);
  assert.deepEqual(values, values.map((_, i) => i), 'dense 0..22');
});

test('config constants match nfnetlink_queue.h', () => {
  assert.deepEqual(Object.values(NFQNL_MSG), [0, 1, 2, 3]);
  assert.deepEqual(Object.values(NFQA_CFG), [0, 1, 2, 3, 4, 5]);
  assert.equal(NFQA_CFG_F.NFQA_CFG_F_SECCTX, 16);
  assert.equal(NFQNL_MAX_COPY_RANGE, 65531);
});

