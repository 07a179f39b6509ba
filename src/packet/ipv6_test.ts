import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { Ipv6Packet } from './ipv6.js';
import { Prng, filledA5, hex } from './_test_util.js';
import { ICMPV6_ECHO_REQUEST, IPV6_HBH_FRAG } from './_test_vectors.js';

test('Ipv6Packet reads every field of a captured ICMPv6 echo request', () => {
  const ip = Ipv6Packet.checked(ICMPV6_ECHO_REQUEST);
  assert.equal(ip.version, 6);
  assert.equal(ip.trafficClass, 0);
  assert.equal(ip.flowLabel, 0xad7a9);
  assert.equal(ip.payloadLength, 16);
  assert.equal(ip.nextHeader, 58);
  assert.equal(ip.hopLimit, 64);
  assert.equal(ip.src, '2001:db8::1');
  assert.equal(ip.dst, '2001:db8::2');
  assert.equal(ip.upperProtocol, 58);
  assert.equal(ip.upperOffset, 40);
  assert.equal(ip.fragment, undefined);
  assert.equal(ip.finalDestination, '2001:db8::2');
});

test('Ipv6Packet setters emit the captured echo request header into a 0xa5 buffer', () => {
  const buf = filledA5(56);
  buf.set(ICMPV6_ECHO_REQUEST.subarray(40), 40);
  const ip = new Ipv6Packet(buf);
  ip.version = 6;
  ip.trafficClass = 0;
  ip.flowLabel = 0xad7a9;
  ip.payloadLength = 16;
  ip.nextHeader = 58;
  ip.hopLimit = 64;
  ip.src = '2001:db8::1';
  ip.dstBytes = ICMPV6_ECHO_REQUEST.slice(24, 40);
  assert.deepEqual(buf, ICMPV6_ECHO_REQUEST);
});

test('Ipv6Packet walks hop-by-hop and fragment headers to UDP', () => {
  const ip = Ipv6Packet.checked(IPV6_HBH_FRAG);
  assert.equal(ip.nextHeader, 0);
  const c = ip.chain();
  assert.equal(c.protocol, 17);
  assert.equal(c.offset, 56);
  assert.equal(c.fragmentOffset, 48);
  assert.equal(c.fragmentPrevNext, 40);
  assert.equal(c.unfragmentableEnd, 48);
  assert.deepEqual(ip.fragment, { headerOffset: 48, offset: 0, more: true, ident: 0x00c0ffee, nextHeader: 17 });
  assert.equal(ip.upperPayload.length, 16);
});

test('Ipv6Packet.checked() rejects a truncated extension header', () => {
  const b = IPV6_HBH_FRAG.slice();
  b[41] = 4; // HBH claims 40 bytes
  assert.throws(() => Ipv6Packet.checked(b), (e: unknown) => e instanceof PacketError && e.layer === 'IPv6' && /truncated/.test(e.reason));
});

test('Ipv6Packet.checked() rejects a hop-by-hop header that is not first', () => {
  const b = IPV6_HBH_FRAG.slice();
  b[48] = 0; // the fragment header names a hop-by-hop header next
  assert.throws(() => Ipv6Packet.checked(b), /not first/);
});

test('Ipv6Packet.checked() rejects version 4, short buffers and a payload length past the end', () => {
  const b = ICMPV6_ECHO_REQUEST.slice();
  b[0] = 0x40;
  assert.throws(() => Ipv6Packet.checked(b), /version is 4/);
  assert.throws(() => Ipv6Packet.checked(ICMPV6_ECHO_REQUEST.subarray(0, 39)), /header needs 40/);
  assert.throws(() => Ipv6Packet.checked(ICMPV6_ECHO_REQUEST.subarray(0, 55)), /payload length 16 exceeds/);
  assert.equal(Ipv6Packet.checkLen(ICMPV6_ECHO_REQUEST), true);
});

test('Ipv6Packet.finalDestination follows a type 0 routing header with segments left', () => {
  const b = new Uint8Array(40 + 40 + 8);
  const ip = new Ipv6Packet(b);
  ip.version = 6;
  ip.payloadLength = 48;
  ip.nextHeader = 43;
  ip.src = '2001:db8::1';
  ip.dst = '2001:db8::10';
  b.set(hex('3a 04 00 02 00000000'), 40); // RH0: next ICMPv6, 2 addresses, segments left 2
  b.set(hex('20010db8000000000000000000000011 20010db8000000000000000000000099'), 48);
  assert.equal(Ipv6Packet.checked(b).finalDestination, '2001:db8::99');
  b[43] = 0; // segments left 0: the header's destination is final
  assert.equal(ip.finalDestination, '2001:db8::10');
  b[42] = 4; // SRH: Segment List[0] is final
  b[43] = 1;
  assert.equal(ip.finalDestination, '2001:db8::11');
});

test('Ipv6Packet bit-field setters keep their neighbours', () => {
  const ip = new Ipv6Packet(ICMPV6_ECHO_REQUEST.slice());
  ip.dscp = 46;
  ip.ecn = 1;
  assert.equal(ip.trafficClass, 0xb9);
  assert.equal(ip.flowLabel, 0xad7a9);
  assert.equal(ip.version, 6);
  ip.flowLabel = 0xfffff;
  assert.equal(ip.trafficClass, 0xb9);
  assert.throws(() => { ip.flowLabel = 0x100000; }, RangeError);
  assert.throws(() => { ip.src = '2001:db8::g'; }, SyntaxError);
});

test('Ipv6Packet random fixed headers: set → read identity (seeded)', () => {
  const rng = new Prng(0x6006);
  for (let i = 0; i < 500; i++) {
    const f = {
      trafficClass: rng.bits(8), flowLabel: rng.bits(20), payloadLength: 0, nextHeader: 59,
      hopLimit: rng.bits(8), srcBytes: rng.bytes(16), dstBytes: rng.bytes(16),
    };
    const buf = filledA5(40);
    const ip = new Ipv6Packet(buf);
    ip.version = 6;
    Object.assign(ip, f);
    const back = Ipv6Packet.checked(buf);
    assert.equal(back.trafficClass, f.trafficClass);
    assert.equal(back.flowLabel, f.flowLabel);
    assert.equal(back.hopLimit, f.hopLimit);
    assert.deepEqual(back.srcBytes, f.srcBytes);
    const again = new Ipv6Packet(filledA5(40));
    again.version = 6;
    again.trafficClass = back.trafficClass;
    again.flowLabel = back.flowLabel;
    again.payloadLength = back.payloadLength;
    again.nextHeader = back.nextHeader;
    again.hopLimit = back.hopLimit;
    again.src = back.src;
    again.dst = back.dst;
    assert.deepEqual(again.bytes, buf);
  }
});
