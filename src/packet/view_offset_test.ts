import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { TcpPacket } from './tcp.js';
import { UdpPacket } from './udp.js';
import { IcmpPacket } from './icmp.js';
import { Icmpv6Packet } from './icmpv6.js';
import { finalDestinationOffset, newIpv6Chain, walkIpv6Chain } from './ipv6_ext.js';
import { strictBytes, touchAll } from './_test_util.js';
import { ICMP_ECHO_REQUEST, ICMPV6_ECHO_REQUEST, TCP_SYN, UDP4, UDP6 } from './_test_vectors.js';

interface View {
  readonly bytes: Uint8Array;
  readonly offset: number;
}

interface ViewClass {
  readonly name: string;
  new (bytes: Uint8Array, offset?: number): View;
  checked(bytes: Uint8Array, offset?: number): View;
  checkLen(bytes: Uint8Array, offset?: number): boolean;
}

/** Each view with its layer name and a buffer holding a valid header at `at`. */
const VIEWS: ReadonlyArray<{ view: ViewClass; layer: string; bytes: Uint8Array; at: number }> = [
  { view: Ipv4Packet, layer: 'IPv4', bytes: UDP4, at: 0 },
  { view: Ipv6Packet, layer: 'IPv6', bytes: UDP6, at: 0 },
  { view: TcpPacket, layer: 'TCP', bytes: TCP_SYN, at: 20 },
  { view: UdpPacket, layer: 'UDP', bytes: UDP4, at: 20 },
  { view: IcmpPacket, layer: 'ICMP', bytes: ICMP_ECHO_REQUEST, at: 20 },
  { view: Icmpv6Packet, layer: 'ICMPv6', bytes: ICMPV6_ECHO_REQUEST, at: 40 },
];

/** Offsets no view may start at in a buffer of `n` bytes. */
const bad = (n: number): number[] => [-2, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, n + 1];

for (const { view, layer, bytes, at } of VIEWS) {
  test(`${view.name}.checked() refuses a negative, fractional or out-of-range offset with a PacketError naming ${layer}`, () => {
    for (const o of bad(bytes.length)) {
      assert.throws(() => view.checked(bytes, o), (e: unknown) =>
        e instanceof PacketError && e.layer === layer && e.reason === `offset ${String(o)} is not an integer in [0, ${bytes.length}]`,
      `offset ${o}`);
      assert.equal(view.checkLen(bytes, o), false, `checkLen at ${o}`);
    }
  });

  test(`new ${view.name}() refuses a bad offset with a RangeError (not a PacketError)`, () => {
    for (const o of bad(bytes.length)) {
      assert.throws(() => new view(bytes, o), (e: unknown) =>
        e instanceof RangeError && !(e instanceof PacketError) &&
        e.message === `Cannot create ${view.name}: offset ${String(o)} is not an integer in [0, ${bytes.length}]`,
      `offset ${o}`);
    }
  });

  test(`${view.name}: a valid offset still works, and the end of the buffer is an empty unchecked view`, () => {
    assert.equal(view.checkLen(bytes, at), true);
    assert.equal(view.checked(bytes, at).offset, at);
    assert.equal(new view(bytes, bytes.length).offset, bytes.length);
    assert.equal(view.checkLen(bytes, bytes.length), false);
  });

  test(`${view.name}: a checked view at the buffer's last offsets reads nothing outside the bytes`, () => {
    const strict = strictBytes(bytes);
    for (let o = Math.max(0, bytes.length - 12); o <= bytes.length; o++) {
      if (!view.checkLen(strict, o)) continue;
      touchAll(view.checked(strict, o));
    }
    touchAll(view.checked(strict, at));
  });
}

test('UdpPacket.checked(b, -2) no longer passes with the last two bytes as its source port', () => {
  // Before the offset check: 12 "available" bytes, Length read from b[2..3] = 8, and a view whose
  // payload was b.subarray(6, 6) and whose header reads went to b[-2], b[-1].
  const b = Uint8Array.of(0x12, 0x34, 0x00, 0x08, 0, 0, 0, 0, 0, 0);
  assert.throws(() => UdpPacket.checked(b, -2), /Cannot parse UDP packet: offset -2 is not an integer in \[0, 10\]/);
});

test('walkIpv6Chain() refuses a start or end outside the bytes', () => {
  const out = newIpv6Chain();
  assert.throws(() => walkIpv6Chain(UDP6, -40, UDP6.length, out), RangeError);
  assert.throws(() => walkIpv6Chain(UDP6, 0, UDP6.length + 1, out), /end 55 is not an integer in \[0, 54\]/);
  assert.throws(() => walkIpv6Chain(UDP6, 10, 5, out), RangeError);
  assert.equal(walkIpv6Chain(UDP6, 0, UDP6.length, out).protocol, 17);
});

test('finalDestinationOffset() refuses bad offsets and never points past the bytes', () => {
  assert.throws(() => finalDestinationOffset(UDP6, -1, -1), RangeError);
  assert.throws(() => finalDestinationOffset(UDP6, 0, 12), /routing header offset 12/);
  assert.throws(() => finalDestinationOffset(UDP6, 0, -5), RangeError);
  assert.equal(finalDestinationOffset(UDP6, 0, -1), 24);
  // A type 2 routing header "at" the last 4 bytes: its address would not fit, so the header's own.
  const b = new Uint8Array(48);
  b.set([0x11, 0x02, 0x02, 0x01], 44);
  assert.equal(finalDestinationOffset(b, 0, 44), 24);
});
