import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { parsePacket, tryParsePacket } from './parse.js';
import { fragmentPacket } from './fragment.js';
import { atomicFragment } from './_test_util.js';
import { ICMP_ECHO_REQUEST, ICMPV6_ECHO_REQUEST, IPV4_OPTIONS, IPV6_HBH_FRAG, TCP_SYN, UDP4, UDP6 } from './_test_vectors.js';

function layerOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof PacketError) return e.layer;
    throw e;
  }
  return 'none';
}

test('parsePacket() gives an ICMP echo request its IPv4 and ICMP views', () => {
  const p = parsePacket(ICMP_ECHO_REQUEST);
  assert.equal(p.ipVersion, 4);
  assert.equal(p.ipv4?.ttl, 64);
  assert.equal(p.ipv6, undefined);
  assert.equal(p.protocol, 1);
  assert.equal(p.icmp?.type, 8);
  assert.equal(p.tcp ?? p.udp ?? p.icmpv6, undefined);
  assert.equal(p.payload.length, 56);
  assert.equal(p.srcAddr, '198.18.0.1');
  assert.equal(p.srcPort, undefined);
  assert.equal(p.isFragment, false);
  assert.equal(p.fragment, undefined);
});

test('parsePacket() gives a TCP SYN its ports and options', () => {
  const p = parsePacket(TCP_SYN);
  assert.equal(p.tcp?.syn, true);
  assert.equal(p.srcPort, 40000);
  assert.equal(p.dstPort, 80);
  assert.equal(p.payload.length, 0);
  assert.equal(p.tcp?.parseOptions().length, 4);
});

test('parsePacket() reads UDP over IPv4 and IPv6, and ICMPv6', () => {
  assert.equal(new TextDecoder().decode(parsePacket(UDP4).payload), 'divert');
  const p6 = parsePacket(UDP6);
  assert.equal(p6.ipVersion, 6);
  assert.equal(p6.udp?.dstPort, 53);
  assert.equal(p6.dstAddr, '2001:db8::2');
  assert.equal(new TextDecoder().decode(p6.payload), 'divert');
  assert.equal(parsePacket(ICMPV6_ECHO_REQUEST).icmpv6?.seq, 1);
  assert.equal(parsePacket(IPV4_OPTIONS).udp?.srcPort, 1024);
});

test('parsePacket() gives an IPv6 first fragment an unchecked UDP view and fragment info', () => {
  const p = parsePacket(IPV6_HBH_FRAG);
  assert.equal(p.protocol, 17);
  assert.equal(p.isFragment, true);
  assert.deepEqual(p.fragment, { ident: 0x00c0ffee, offset: 0, more: true });
  assert.equal(p.udp?.length, 1000); // the whole datagram's length, not checked against the fragment
  assert.equal(p.payload.length, 8);
});

test('parsePacket() gives non-first fragments no L4 view', () => {
  const big = new Uint8Array(200);
  big.set(UDP4.subarray(0, 28));
  big[2] = 0;
  big[3] = 200;
  big[6] = 0; // clear DF
  const frags = fragmentPacket(big, 100);
  const second = parsePacket(frags[1]!);
  assert.equal(second.udp, undefined);
  assert.equal(second.protocol, 17);
  assert.deepEqual(second.fragment, { ident: 0x1234, offset: 80, more: true });
  assert.equal(parsePacket(frags[0]!).udp?.srcPort, 5353);
  const big6 = new Uint8Array(140);
  big6.set(UDP6.subarray(0, 48));
  big6[5] = 100; // payload length 100
  const v6 = fragmentPacket(big6, 96, { ident: 9 });
  assert.equal(parsePacket(v6[1]!).udp, undefined);
  assert.equal(parsePacket(v6[1]!).fragment?.offset, 48);
});

test('parsePacket() ignores link-layer padding after the IP total length', () => {
  const b = new Uint8Array(UDP4.length + 12);
  b.set(UDP4);
  const p = parsePacket(b);
  assert.equal(p.payload.length, 6);
  assert.equal(p.udp?.bytes.length, UDP4.length);
});

test('parsePacket() names the layer that is malformed', () => {
  assert.equal(layerOf(() => parsePacket(new Uint8Array(0))), 'IP');
  assert.equal(layerOf(() => parsePacket(new Uint8Array([0x50]))), 'IP');
  assert.equal(layerOf(() => parsePacket(TCP_SYN.subarray(0, 10))), 'IPv4');
  const tcp = TCP_SYN.slice();
  tcp[32] = 0x30;
  assert.equal(layerOf(() => parsePacket(tcp)), 'TCP');
  const udp = UDP4.slice();
  udp[25] = 99;
  assert.equal(layerOf(() => parsePacket(udp)), 'UDP');
  assert.equal(layerOf(() => parsePacket(ICMPV6_ECHO_REQUEST.subarray(0, 50))), 'IPv6');
  const icmp6 = ICMPV6_ECHO_REQUEST.slice(0, 44);
  icmp6[5] = 4;
  assert.equal(layerOf(() => parsePacket(icmp6)), 'ICMPv6');
});

test('tryParsePacket() returns undefined for malformed bytes', () => {
  assert.equal(tryParsePacket(new Uint8Array([0x45, 0])), undefined);
  assert.equal(tryParsePacket(UDP4)?.udp?.dstPort, 53);
});

test('ParsedPacket reads through: a port set on the TCP view shows everywhere', () => {
  const b = TCP_SYN.slice();
  const p = parsePacket(b);
  p.tcp!.dstPort = 8080;
  assert.equal(p.dstPort, 8080);
  assert.equal(b[22]! * 256 + b[23]!, 8080);
  p.ip.src = '198.19.0.7';
  assert.equal(p.srcAddr, '198.19.0.7');
});

test('parsePacket() gives an IPv6 atomic fragment checked L4 views (RFC 6946)', () => {
  const p = parsePacket(atomicFragment(UDP6, 0xabcd));
  assert.equal(p.isFragment, true);
  assert.deepEqual(p.fragment, { ident: 0xabcd, offset: 0, more: false });
  assert.equal(p.udp?.dstPort, 53);
  assert.equal(new TextDecoder().decode(p.payload), 'divert');
  assert.equal(parsePacket(atomicFragment(ICMPV6_ECHO_REQUEST, 1)).icmpv6?.seq, 1);
  const bad = atomicFragment(UDP6, 1);
  bad[53] = 99; // UDP Length 99: checked as for a whole packet
  assert.equal(layerOf(() => parsePacket(bad)), 'UDP');
});
