import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { UdpPacket } from './udp.js';
import { Prng, filledA5 } from './_test_util.js';
import { UDP4, UDP6 } from './_test_vectors.js';

test('UdpPacket reads every field of a UDP/IPv4 datagram', () => {
  const u = UdpPacket.checked(UDP4, 20);
  assert.equal(u.srcPort, 5353);
  assert.equal(u.dstPort, 53);
  assert.equal(u.length, 14);
  assert.equal(u.checksum, 0x1149);
  assert.equal(new TextDecoder().decode(u.payload), 'divert');
});

test('UdpPacket setters emit the UDP/IPv6 datagram into a 0xa5 buffer', () => {
  const buf = filledA5(14);
  const u = new UdpPacket(buf);
  u.srcPort = 5353;
  u.dstPort = 53;
  u.length = 14;
  u.checksum = 0x41fc;
  u.payload.set(new TextEncoder().encode('divert'));
  assert.deepEqual(buf, UDP6.subarray(40));
});

test('UdpPacket.checked() rejects a length below 8 or past the buffer', () => {
  const b = UDP4.slice(20);
  b[5] = 7;
  assert.throws(() => UdpPacket.checked(b), (e: unknown) => e instanceof PacketError && e.layer === 'UDP' && /below 8/.test(e.reason));
  b[5] = 15;
  assert.throws(() => UdpPacket.checked(b), /length 15 exceeds/);
  assert.throws(() => UdpPacket.checked(b.subarray(0, 7)), /header needs 8/);
  assert.equal(UdpPacket.checkLen(UDP4, 20), true);
});

test('UdpPacket random headers: set → read identity (seeded)', () => {
  const rng = new Prng(17);
  for (let i = 0; i < 500; i++) {
    const f = { srcPort: rng.bits(16), dstPort: rng.bits(16), length: rng.int(8, 40), checksum: rng.bits(16) };
    const buf = filledA5(40);
    Object.assign(new UdpPacket(buf), f);
    const u = UdpPacket.checked(buf);
    assert.deepEqual({ srcPort: u.srcPort, dstPort: u.dstPort, length: u.length, checksum: u.checksum }, f);
    assert.equal(u.payload.length, f.length - 8);
  }
});
