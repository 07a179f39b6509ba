import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { IcmpPacket } from './icmp.js';
import { Icmpv6Packet } from './icmpv6.js';
import { filledA5 } from './_test_util.js';
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMPV6_ECHO_REQUEST } from './_test_vectors.js';

test('IcmpPacket reads every field of a captured echo request', () => {
  const m = IcmpPacket.checked(ICMP_ECHO_REQUEST, 20);
  assert.equal(m.type, 8);
  assert.equal(m.code, 0);
  assert.equal(m.checksum, 0x3f29);
  assert.equal(m.id, 1);
  assert.equal(m.seq, 1);
  assert.equal(m.restOfHeader, 0x00010001);
  assert.equal(m.payload.length, 56);
  assert.equal(m.verifyChecksum(), true);
  assert.equal(IcmpPacket.checked(ICMP_ECHO_REPLY, 20).verifyChecksum(), true);
});

test('IcmpPacket setters and fillChecksum() emit the echo request into a 0xa5 buffer', () => {
  const buf = filledA5(64);
  buf.set(ICMP_ECHO_REQUEST.subarray(28), 8);
  const m = new IcmpPacket(buf);
  m.type = 8;
  m.code = 0;
  m.restOfHeader = 0;
  m.id = 1;
  m.seq = 1;
  m.fillChecksum();
  assert.deepEqual(buf, ICMP_ECHO_REQUEST.subarray(20));
});

test('IcmpPacket.checked() rejects fewer than 8 bytes', () => {
  assert.throws(() => IcmpPacket.checked(new Uint8Array(7)), (e: unknown) => e instanceof PacketError && e.layer === 'ICMP');
  assert.equal(IcmpPacket.checkLen(new Uint8Array(8)), true);
});

test('Icmpv6Packet reads and emits a captured echo request', () => {
  const m = Icmpv6Packet.checked(ICMPV6_ECHO_REQUEST, 40);
  assert.deepEqual([m.type, m.code, m.checksum, m.id, m.seq], [128, 0, 0xd7ed, 1, 1]);
  const buf = filledA5(16);
  buf.set(m.payload, 8);
  const w = new Icmpv6Packet(buf);
  w.type = 128;
  w.code = 0;
  w.checksum = 0xd7ed;
  w.id = 1;
  w.seq = 1;
  assert.deepEqual(buf, ICMPV6_ECHO_REQUEST.subarray(40));
  assert.throws(() => Icmpv6Packet.checked(new Uint8Array(4)), /ICMPv6/);
  assert.throws(() => { w.type = 256; }, RangeError);
});
