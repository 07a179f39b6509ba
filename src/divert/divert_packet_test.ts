import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DivertPacket, type VerdictSink, type VerdictKind } from './divert_packet.js';
import { DivertAddress, type DivertAddressInit } from './address.js';

function make(bytes: number[], address: Partial<DivertAddressInit> = {}): { p: DivertPacket; calls: Array<[VerdictKind, Uint8Array | undefined]> } {
  const calls: Array<[VerdictKind, Uint8Array | undefined]> = [];
  const sink: VerdictSink = {
    prepare: (q, b) => b ?? (q.changed ? q.packet : undefined),
    injectVia: () => {},
    settle: (_p, kind, b) => void calls.push([kind, b]),
  };
  const packet = Uint8Array.from(bytes);
  const addr = new DivertAddress({
    family: 4, address: '198.18.0.1', port: 1, ifindex: 2, ifname: 'eth0', outIfindex: 0, outIfname: undefined,
    direction: 'inbound', hook: 'prerouting', mark: 0, timestamp: undefined, hwAddr: undefined, uid: undefined,
    gid: undefined, checksumNotReady: false, gso: false, truncated: false, originalLength: bytes.length, loopback: false, ...address,
  });
  return { p: new DivertPacket(sink, 7, packet, packet.slice(), addr, 0), calls };
}

test('DivertPacket.reinject() gives exactly one verdict; a second one throws', () => {
  const { p, calls } = make([1, 2, 3]);
  p.reinject();
  assert.equal(p.verdict, 'accept');
  assert.throws(() => p.drop(), { code: 'ERR_DIVERT_VERDICT_TWICE' });
  assert.throws(() => p.reinject(), { code: 'ERR_DIVERT_VERDICT_TWICE' });
  assert.equal(calls.length, 1);
});

test('DivertPacket.changed tells in-place edits apart from untouched bytes', () => {
  const { p } = make([1, 2, 3]);
  assert.equal(p.changed, false);
  p.packet[1] = 9;
  assert.equal(p.changed, true);
});

test('DivertPacket.reinject() refuses changed bytes of a truncated packet, and keeps it held', () => {
  const { p, calls } = make([1, 2, 3], { truncated: true, originalLength: 1500 });
  p.packet[0] = 4;
  assert.throws(() => p.reinject(), (e: Error & { code?: string }) => e.code === 'ERR_DIVERT_TRUNCATED' && /3 of its 1500 bytes/.test(e.message));
  assert.equal(p.verdict, undefined);
  p.drop();
  assert.deepEqual(calls.map((c) => c[0]), ['drop']);
});

test('DivertPacket.queue() checks the port range', () => {
  const { p } = make([1]);
  assert.throws(() => p.queue(65536), RangeError);
  assert.equal(p.verdict, undefined);
  p.queue(5);
  assert.equal(p.verdict, 'queue');
});

test('DivertPacket.settleAutomatically() only acts on held packets', () => {
  const { p, calls } = make([1]);
  assert.equal(p.settleAutomatically('accept', 'timeout'), true);
  assert.equal(p.settleAutomatically('drop', 'close'), false);
  assert.deepEqual(calls.map((c) => c[0]), ['accept']);
});
