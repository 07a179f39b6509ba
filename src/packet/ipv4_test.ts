import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { Ipv4Packet } from './ipv4.js';
import { Prng, filledA5 } from './_test_util.js';
import { ICMP_ECHO_REQUEST, IPV4_OPTIONS } from './_test_vectors.js';

test('Ipv4Packet reads every field of a captured echo request', () => {
  const ip = Ipv4Packet.checked(ICMP_ECHO_REQUEST);
  assert.equal(ip.version, 4);
  assert.equal(ip.ihl, 5);
  assert.equal(ip.hdrLen, 20);
  assert.equal(ip.tos, 0);
  assert.equal(ip.dscp, 0);
  assert.equal(ip.ecn, 0);
  assert.equal(ip.totalLength, 84);
  assert.equal(ip.ident, 0xf0ec);
  assert.equal(ip.flags, 2);
  assert.equal(ip.df, true);
  assert.equal(ip.mf, false);
  assert.equal(ip.fragOffset, 0);
  assert.equal(ip.isFragment, false);
  assert.equal(ip.ttl, 64);
  assert.equal(ip.protocol, 1);
  assert.equal(ip.checksum, 0xbd94);
  assert.equal(ip.src, '198.18.0.1');
  assert.equal(ip.dst, '198.18.0.2');
  assert.deepEqual([...ip.srcBytes], [198, 18, 0, 1]);
  assert.equal(ip.options.length, 0);
  assert.equal(ip.payload.length, 64);
  assert.equal(ip.verifyChecksum(), true);
});

test('Ipv4Packet setters emit the captured echo request header into a 0xa5 buffer', () => {
  const buf = filledA5(84);
  buf.set(ICMP_ECHO_REQUEST.subarray(20), 20);
  const ip = new Ipv4Packet(buf);
  ip.version = 4;
  ip.ihl = 5;
  ip.tos = 0;
  ip.totalLength = 84;
  ip.ident = 0xf0ec;
  ip.flags = 0;
  ip.df = true;
  ip.fragOffset = 0;
  ip.ttl = 64;
  ip.protocol = 1;
  ip.src = '198.18.0.1';
  ip.dst = '198.18.0.2';
  ip.fillChecksum();
  assert.deepEqual(buf, ICMP_ECHO_REQUEST);
});

test('Ipv4Packet reads a header with Router Alert and Record Route options', () => {
  const ip = Ipv4Packet.checked(IPV4_OPTIONS);
  assert.equal(ip.ihl, 8);
  assert.equal(ip.hdrLen, 32);
  assert.equal(ip.dst, '198.19.255.254');
  assert.deepEqual([...ip.options], [0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0]);
  assert.equal(ip.payload.length, 14);
  assert.equal(ip.verifyChecksum(), true);
});

test('Ipv4Packet.options setter emits options zero-padded into a 0xa5 buffer', () => {
  const buf = filledA5(46);
  buf.set(IPV4_OPTIONS.subarray(32), 32);
  const ip = new Ipv4Packet(buf);
  ip.version = 4;
  ip.hdrLen = 32;
  ip.tos = 0;
  ip.totalLength = 46;
  ip.ident = 0x0bad;
  ip.flags = 0;
  ip.fragOffset = 0;
  ip.ttl = 1;
  ip.protocol = 17;
  ip.srcBytes = new Uint8Array([198, 18, 0, 1]);
  ip.dst = '198.19.255.254';
  ip.options = new Uint8Array([0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0]);
  ip.fillChecksum();
  assert.deepEqual(buf, IPV4_OPTIONS);
});

test('Ipv4Packet.checked() rejects IHL below 5', () => {
  const b = ICMP_ECHO_REQUEST.slice();
  b[0] = 0x44;
  assert.throws(() => Ipv4Packet.checked(b), (e: unknown) => e instanceof PacketError && e.layer === 'IPv4' && /IHL 4/.test(e.reason));
  assert.equal(Ipv4Packet.checkLen(b), false);
});

test('Ipv4Packet.checked() rejects a version other than 4', () => {
  const b = ICMP_ECHO_REQUEST.slice();
  b[0] = 0x65;
  assert.throws(() => Ipv4Packet.checked(b), /version is 6/);
});

test('Ipv4Packet.checked() rejects a truncated header and a total length past the buffer', () => {
  assert.throws(() => Ipv4Packet.checked(ICMP_ECHO_REQUEST.subarray(0, 19)), /truncated: 19 bytes/);
  assert.throws(() => Ipv4Packet.checked(ICMP_ECHO_REQUEST.subarray(0, 83)), /total length 84 exceeds/);
  assert.throws(() => Ipv4Packet.checked(IPV4_OPTIONS.subarray(0, 24)), PacketError);
});

test('Ipv4Packet.checked() rejects a total length shorter than the header', () => {
  const b = IPV4_OPTIONS.slice();
  b[3] = 28;
  assert.throws(() => Ipv4Packet.checked(b), /shorter than the 32-byte header/);
});

test('Ipv4Packet.checked() accepts a header at an offset and trailing bytes', () => {
  const b = new Uint8Array(100);
  b.set(ICMP_ECHO_REQUEST, 10);
  const ip = Ipv4Packet.checked(b, 10);
  assert.equal(ip.src, '198.18.0.1');
  assert.equal(ip.payload.length, 64);
});

test('Ipv4Packet setters refuse out-of-range values and bad text without writing', () => {
  const b = ICMP_ECHO_REQUEST.slice();
  const ip = new Ipv4Packet(b);
  assert.throws(() => { ip.ttl = 256; }, RangeError);
  assert.throws(() => { ip.ident = -1; }, RangeError);
  assert.throws(() => { ip.fragOffset = 0x2000; }, RangeError);
  assert.throws(() => { ip.hdrLen = 22; }, RangeError);
  assert.throws(() => { ip.src = '198.18.0.256'; }, SyntaxError);
  assert.throws(() => { ip.srcBytes = new Uint8Array(3); }, RangeError);
  assert.deepEqual(b, ICMP_ECHO_REQUEST);
});

test('Ipv4Packet bit-field setters keep their neighbours', () => {
  const ip = new Ipv4Packet(ICMP_ECHO_REQUEST.slice());
  ip.dscp = 46;
  ip.ecn = 3;
  assert.equal(ip.tos, 0xbb);
  ip.mf = true;
  ip.fragOffsetBytes = 1480;
  assert.equal(ip.df, true);
  assert.equal(ip.fragOffset, 185);
  assert.equal(ip.isFragment, true);
  ip.df = false;
  assert.equal(ip.flags, 1);
  assert.equal(ip.fragOffset, 185);
});

test('Ipv4Packet reads through: a change to the bytes shows at once', () => {
  const b = ICMP_ECHO_REQUEST.slice();
  const ip = new Ipv4Packet(b);
  b[8] = 5;
  b[15] = 9;
  assert.equal(ip.ttl, 5);
  assert.equal(ip.src, '198.18.0.9');
});

test('Ipv4Packet random headers: read → emit into 0xa5 → identical bytes (seeded)', () => {
  const rng = new Prng(0x4a11ce);
  for (let i = 0; i < 500; i++) {
    const ihl = rng.int(5, 15);
    const src = rng.bytes(ihl * 4 + rng.int(0, 20));
    src[0] = 0x40 | ihl;
    src[2] = 0;
    src[3] = rng.int(ihl * 4, src.length);
    const a = Ipv4Packet.checked(src);
    const out = filledA5(src.length);
    out.set(src.subarray(ihl * 4), ihl * 4);
    const b = new Ipv4Packet(out);
    b.version = a.version;
    b.ihl = a.ihl;
    b.dscp = a.dscp;
    b.ecn = a.ecn;
    b.totalLength = a.totalLength;
    b.ident = a.ident;
    b.flags = a.flags;
    b.fragOffset = a.fragOffset;
    b.ttl = a.ttl;
    b.protocol = a.protocol;
    b.checksum = a.checksum;
    b.src = a.src;
    b.dst = a.dst;
    b.options = a.options;
    assert.deepEqual(out, src);
  }
});
