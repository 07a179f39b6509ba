import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenerResult, skippedReason } from './listener_result.js';

test('parseListenerResult: the numbers and the extra words of the result line among other output', () => {
  const r = parseListenerResult('ready\npackets=200000 seconds=2.001 cpu_us=900000 qdrop=12 udrop=0 offered=200012 api=handler served=10:5,11:7\n');
  assert.deepEqual(r, { packets: 200000, seconds: 2.001, cpuUs: 900000, queueDropped: 12, userDropped: 0, offered: 200012, extra: { api: 'handler', served: '10:5,11:7' } });
});

test('parseListenerResult: no result line is undefined; a result line missing a number throws naming it', () => {
  assert.equal(parseListenerResult('ready\n'), undefined);
  assert.throws(() => parseListenerResult('packets=1 seconds=1 cpu_us=x qdrop=0 udrop=0 offered=1'), /cpu_us/);
});

test('skippedReason: the reason after "skipped:", else undefined', () => {
  assert.equal(skippedReason('skipped: sock.onPacket() not available yet (no method)\n'), 'sock.onPacket() not available yet (no method)');
  assert.equal(skippedReason('ready\n'), undefined);
});
