import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { FragmentationNeededError, copiedIpv4Options, fragmentPacket } from './fragment.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { parsePacket } from './parse.js';
import { verifyChecksums } from './checksum.js';
import { hex } from './_test_util.js';
import { IPV4_OPTIONS, TCP_SYN, UDP6 } from './_test_vectors.js';

/** An IPv4 UDP packet of `size` bytes built from the options vector's header (DF clear). */
function bigIpv4(size: number, df = false): Uint8Array {
  const b = new Uint8Array(size);
  b.set(IPV4_OPTIONS.subarray(0, 40));
  for (let i = 40; i < size; i++) b[i] = i & 0xff;
  const ip = new Ipv4Packet(b);
  ip.totalLength = size;
  ip.df = df;
  ip.fillChecksum();
  return b;
}

test('fragmentPacket() refuses an IPv4 packet with DF set that is larger than the MTU', () => {
  const b = bigIpv4(600, true);
  assert.throws(() => fragmentPacket(b, 576), (e: unknown) =>
    e instanceof FragmentationNeededError && e instanceof PacketError && e instanceof RangeError &&
    e.message === 'Cannot fragment IPv4 packet: packet of 600 bytes is larger than MTU 576 and DF is set' &&
    e.mtu === 576 && e.size === 600);
});

test('fragmentPacket() returns one copy of a packet that fits', () => {
  const out = fragmentPacket(TCP_SYN, 1500);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0], TCP_SYN);
  assert.notEqual(out[0]!.buffer, TCP_SYN.buffer);
});

test('fragmentPacket() splits IPv4 in 8-byte units and copies only copied-flag options (RFC 791)', () => {
  const b = bigIpv4(600);
  const out = fragmentPacket(b, 200);
  const views = out.map((f) => Ipv4Packet.checked(f));
  assert.deepEqual(views.map((v) => v.fragOffset), [0, 21, 43, 65]);
  assert.deepEqual(views.map((v) => v.mf), [true, true, true, false]);
  assert.deepEqual(views.map((v) => v.hdrLen), [32, 24, 24, 24]);
  assert.deepEqual(views.map((v) => v.totalLength), [200, 24 + 176, 24 + 176, 24 + 600 - 32 - 168 - 2 * 176]);
  assert.deepEqual([...views[1]!.options], [0x94, 4, 0, 0]);
  assert.deepEqual([...views[0]!.options], [...IPV4_OPTIONS.subarray(20, 32)]);
  for (const v of views) {
    assert.equal(v.ident, 0x0bad);
    assert.ok(v.totalLength <= 200);
    assert.equal(v.verifyChecksum(), true);
  }
});

test('copiedIpv4Options() keeps copied options and rejects a bad length', () => {
  assert.deepEqual([...copiedIpv4Options(hex('01 07 03 04 94 04 00 00'))], [0x94, 4, 0, 0]);
  assert.deepEqual([...copiedIpv4Options(hex('83 03 04 00'))], [0x83, 3, 4, 0]);
  assert.throws(() => copiedIpv4Options(hex('94 09 00 00')), PacketError);
});

test('fragmentPacket() inserts an IPv6 fragment header after hop-by-hop and routing headers (RFC 8200 §4.5)', () => {
  const b = new Uint8Array(40 + 8 + 24 + 8 + 200);
  b.set(UDP6.subarray(0, 40));
  const ip = new Ipv6Packet(b);
  ip.payloadLength = b.length - 40;
  ip.nextHeader = 0;
  b.set(hex('2b 00 01 04 00000000'), 40); // HBH → Routing, PadN
  b.set(hex('3c 02 02 00 00000000 20010db8000000000000000000000099'), 48); // Routing type 2 → DstOpts
  b.set(hex('11 00 01 04 00000000'), 72); // DstOpts → UDP
  b.set(hex('14e9 0035 00d0 0000'), 80);
  const out = fragmentPacket(b, 200, { ident: 0xfeedface });
  assert.equal(out.length, 2);
  for (const f of out) {
    const v = Ipv6Packet.checked(f);
    const c = v.chain();
    assert.equal(c.fragmentOffset, 72); // after HBH and Routing; DstOpts after Routing is fragmentable
    assert.equal(f[48], 44);
    assert.equal(v.fragment?.ident, 0xfeedface);
    assert.equal(v.fragment?.nextHeader, 60);
    assert.ok(f.length <= 200);
  }
  assert.deepEqual(out.map((f) => new Ipv6Packet(f).fragment?.offset), [0, 120]);
  assert.equal(parsePacket(out[0]!).protocol, 17);
  assert.throws(() => fragmentPacket(out[0]!, 100), /already has a fragment header/);
});

test('fragmentPacket() refuses an MTU with no room for 8 data bytes', () => {
  assert.throws(() => fragmentPacket(bigIpv4(600), 39), RangeError);
  assert.throws(() => fragmentPacket(bigIpv4(600), -1), RangeError);
  assert.throws(() => fragmentPacket(new Uint8Array([0x70]), 100), PacketError);
});

test('fragmentPacket() keeps MF on the last piece when re-fragmenting a fragment', () => {
  const first = fragmentPacket(bigIpv4(600), 300)[0]!;
  const again = fragmentPacket(first, 100).map((f) => Ipv4Packet.checked(f));
  assert.equal(again.at(-1)!.mf, true);
  assert.equal(again.at(-1)!.fragOffsetBytes + again.at(-1)!.payload.length, 264);
  for (const f of again) assert.equal(verifyChecksums(f.bytes).ip, true);
});

/**
 * IPv6/UDP with a Hop-by-Hop, a Routing (type 2) and a 24-byte Destination Options header: the
 * unfragmentable part ends after Routing (72 bytes); DstOpts and the UDP header are the first 32
 * bytes of the fragmentable part.
 */
function chainedIpv6(dataLen: number): Uint8Array {
  const b = new Uint8Array(40 + 8 + 24 + 24 + 8 + dataLen);
  b.set(UDP6.subarray(0, 40));
  const ip = new Ipv6Packet(b);
  ip.payloadLength = b.length - 40;
  ip.nextHeader = 0;
  b.set(hex('2b 00 01 04 00000000'), 40); // HBH → Routing, PadN
  b.set(hex('3c 02 02 00 00000000 20010db8000000000000000000000099'), 48); // Routing type 2 → DstOpts
  b.set(hex('11 02 01 14 00000000 0000000000000000 0000000000000000'), 72); // DstOpts (24 bytes, PadN) → UDP
  b.set([0x14, 0xe9, 0x00, 0x35, (8 + dataLen) >> 8, (8 + dataLen) & 0xff, 0, 0], 96);
  for (let i = 104; i < b.length; i++) b[i] = i & 0xff;
  return b;
}

test('fragmentPacket() keeps the whole IPv6 header chain (HBH, Routing, DstOpts, UDP) in the first fragment', () => {
  const b = chainedIpv6(200);
  const out = fragmentPacket(b, 112, { ident: 7 });
  const first = Ipv6Packet.checked(out[0]!);
  const c = first.chain();
  assert.equal(c.fragmentOffset, 72);
  assert.equal(c.protocol, 17, 'the walk reaches the upper layer inside the first fragment');
  assert.equal(c.offset, 104, 'UDP header right after DstOpts (80 + 24)');
  assert.equal(parsePacket(out[0]!).udp?.dstPort, 53);
  // Every fragment fits, and the fragmentable parts put back together are the original bytes.
  let data: number[] = [];
  for (const f of out) {
    assert.ok(f.length <= 112);
    const v = new Ipv6Packet(f);
    assert.equal(v.fragment?.offset, data.length);
    data = data.concat([...f.subarray(80)]);
  }
  assert.deepEqual(data, [...b.subarray(72)]);
});

test('fragmentPacket() refuses an MTU that would cut the IPv6 header chain between fragments (RFC 8200 §4.5)', () => {
  const b = chainedIpv6(200);
  // MTU 100 leaves 16 bytes after the fragment header: the first fragment would end inside DstOpts.
  for (const mtu of [100, 104, 111]) {
    assert.throws(() => fragmentPacket(b, mtu), (e: unknown) =>
      e instanceof RangeError &&
      e.message === `Cannot fragment IPv6 packet: MTU ${mtu} cannot carry the header chain in the first fragment ` +
        '(104 bytes up to the end of the upper-layer header, plus the 8-byte fragment header; the MTU must be at least 112, RFC 8200 §4.5)',
    `MTU ${mtu}`);
  }
});

test('fragmentPacket() counts TCP options as part of the upper-layer header of the chain', () => {
  const b = new Uint8Array(40 + 8 + 32 + 100);
  b.set(UDP6.subarray(0, 40));
  const ip = new Ipv6Packet(b);
  ip.payloadLength = b.length - 40;
  ip.nextHeader = 0;
  b.set(hex('06 00 01 04 00000000'), 40); // HBH → TCP
  b.set(hex('14e9 0050 00000001 00000000 8002 ffff 0000 0000 020405b4 01030307 01010402'), 48); // data offset 8: MSS, NOP, WS, NOP, NOP, SACK-permitted
  assert.throws(() => fragmentPacket(b, 80), /the MTU must be at least 88/);
  const out = fragmentPacket(b, 88);
  assert.equal(parsePacket(out[0]!).tcp?.hdrLen, 32);
});
