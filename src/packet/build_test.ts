import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildUdpPacket } from './build.js';
import { parsePacket } from './parse.js';
import { verifyChecksums } from './checksum.js';

test('buildUdpPacket() builds a valid UDP/IPv4 datagram', () => {
  const b = buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 4000, dstPort: 53, payload: 'hello', ttl: 7, dontFragment: true });
  assert.equal(b.length, 20 + 8 + 5);
  const p = parsePacket(b);
  assert.equal(p.srcAddr, '198.18.0.1');
  assert.equal(p.dstAddr, '198.18.0.2');
  assert.equal(p.srcPort, 4000);
  assert.equal(p.dstPort, 53);
  assert.equal(p.ipv4?.ttl, 7);
  assert.equal(p.ipv4?.df, true);
  assert.equal(Buffer.from(p.payload).toString(), 'hello');
  const v = verifyChecksums(b);
  assert.equal(v.ip, true);
  assert.equal(v.udp, true);
});

test('buildUdpPacket() builds a valid UDP/IPv6 datagram', () => {
  const b = buildUdpPacket({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 1, dstPort: 2, payload: new Uint8Array([1, 2, 3]) });
  assert.equal(b.length, 40 + 8 + 3);
  const p = parsePacket(b);
  assert.equal(p.ipVersion, 6);
  assert.equal(p.ipv6?.payloadLength, 11);
  assert.equal(p.dstAddr, '2001:db8::2');
  assert.equal(verifyChecksums(b).udp, true);
});
