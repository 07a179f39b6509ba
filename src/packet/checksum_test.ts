import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import {
  fillChecksums, foldChecksum, internetChecksum, pseudoHeaderSumIpv4, pseudoHeaderSumIpv6, sumBytes,
  updateChecksum16, updateChecksum32, updateChecksumBytes, verifyChecksums,
} from './checksum.js';
import { u16be, setU16be } from './_bytes.js';
import { Prng, atomicFragment, hex } from './_test_util.js';
import {
  ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMPV6_ECHO_REQUEST, IPV4_OPTIONS, IPV6_HBH_FRAG, TCP_SYN, UDP4, UDP6,
} from './_test_vectors.js';

test('sumBytes() and foldChecksum() match the RFC 1071 §3 worked example', () => {
  const b = hex('0001 f203 f4f5 f6f7');
  assert.equal(sumBytes(b), 0x2ddf0);
  assert.equal(foldChecksum(sumBytes(b)), 0xddf2);
  assert.equal(internetChecksum(b), 0x220d);
});

test('internetChecksum() gives the well-known b861 for the classic IPv4 header example', () => {
  // The header used in the Wikipedia "IPv4 header checksum" article (private addresses, checksum zeroed).
  assert.equal(internetChecksum(hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7')), 0xb861);
});

test('sumBytes() pads an odd trailing byte with zero (RFC 1071 §4.1)', () => {
  assert.equal(sumBytes(hex('0102 03')), 0x0102 + 0x0300);
  assert.equal(sumBytes(hex('ffff ffff'), 0, 4, 5), 0x1fffe + 5);
});

test('verifyChecksums() accepts every golden vector', () => {
  assert.deepEqual(verifyChecksums(ICMP_ECHO_REQUEST), { ip: true, icmp: true });
  assert.deepEqual(verifyChecksums(ICMP_ECHO_REPLY), { ip: true, icmp: true });
  assert.deepEqual(verifyChecksums(TCP_SYN), { ip: true, tcp: true });
  assert.deepEqual(verifyChecksums(UDP4), { ip: true, udp: true });
  assert.deepEqual(verifyChecksums(IPV4_OPTIONS), { ip: true, udp: true });
  assert.deepEqual(verifyChecksums(UDP6), { udp: true });
  assert.deepEqual(verifyChecksums(ICMPV6_ECHO_REQUEST), { icmpv6: true });
  assert.deepEqual(verifyChecksums(IPV6_HBH_FRAG), {}); // a fragment: L4 not judged
});

test('fillChecksums() rewrites the known checksums of every golden vector', () => {
  const spots: [Uint8Array, number[]][] = [
    [ICMP_ECHO_REQUEST, [10, 22]], [ICMP_ECHO_REPLY, [10, 22]], [TCP_SYN, [10, 36]], [UDP4, [10, 26]],
    [IPV4_OPTIONS, [10, 38]], [UDP6, [46]], [ICMPV6_ECHO_REQUEST, [42]],
  ];
  for (const [golden, offsets] of spots) {
    const b = golden.slice();
    for (const o of offsets) setU16be(b, o, 0x5a5a);
    fillChecksums(b);
    assert.deepEqual(b, golden);
  }
});

test('fillChecksums() skips the layers switched off', () => {
  const b = TCP_SYN.slice();
  setU16be(b, 10, 0);
  setU16be(b, 36, 0);
  fillChecksums(b, { tcp: false });
  assert.equal(u16be(b, 10), 0x2ec6);
  assert.equal(u16be(b, 36), 0);
  fillChecksums(b, { ip: false });
  assert.equal(u16be(b, 36), 0xcf09);
});

test('fillChecksums() writes a UDP checksum that computes to 0 as 0xffff (RFC 768)', () => {
  for (const golden of [UDP4, UDP6]) {
    const b = golden.slice();
    const l4 = golden === UDP4 ? 20 : 40;
    b[b.length - 2] = 0;
    b[b.length - 1] = 0;
    fillChecksums(b);
    const c = u16be(b, l4 + 6);
    setU16be(b, b.length - 2, c === 0xffff ? 0 : c); // adding the checksum word zeroes the complement
    fillChecksums(b);
    assert.equal(u16be(b, l4 + 6), 0xffff);
    assert.equal(verifyChecksums(b).udp, true);
  }
});

test('verifyChecksums() passes UDP checksum 0 over IPv4 only', () => {
  const v4 = UDP4.slice();
  setU16be(v4, 26, 0);
  assert.equal(verifyChecksums(v4).udp, true);
  const v6 = UDP6.slice();
  setU16be(v6, 46, 0);
  assert.equal(verifyChecksums(v6).udp, false);
});

test('fillChecksums() leaves a fragment\'s L4 checksum alone', () => {
  const b = IPV6_HBH_FRAG.slice();
  fillChecksums(b);
  assert.deepEqual(b, IPV6_HBH_FRAG);
});

test('fillChecksums() uses the routing header\'s final destination in the ICMPv6 pseudo-header (RFC 8200 §8.1)', () => {
  const b = new Uint8Array(40 + 24 + 8);
  b.set(ICMPV6_ECHO_REQUEST.subarray(0, 40));
  setU16be(b, 4, 32);
  b[6] = 43;
  b.set(hex('3a 02 02 01 00000000 20010db8000000000000000000000099'), 40); // type 2, segments left 1
  b.set(hex('80 00 0000 0001 0001'), 64);
  fillChecksums(b);
  const final = hex('20010db8000000000000000000000099');
  const expect = internetChecksum(b.subarray(64).map((v, i) => (i === 2 || i === 3 ? 0 : v)), 0, 8,
    pseudoHeaderSumIpv6(b.subarray(8, 24), final, 58, 8));
  assert.equal(u16be(b, 66), expect);
  assert.deepEqual(verifyChecksums(b), { icmpv6: true });
});

test('pseudoHeaderSumIpv4() matches the captured SYN checksum', () => {
  const tcp = TCP_SYN.slice(20);
  setU16be(tcp, 16, 0);
  const pseudo = pseudoHeaderSumIpv4(TCP_SYN.subarray(12, 16), TCP_SYN.subarray(16, 20), 6, tcp.length);
  assert.equal(internetChecksum(tcp, 0, tcp.length, pseudo), 0xcf09);
});

test('fillChecksums() throws PacketError on bytes it cannot place', () => {
  assert.throws(() => fillChecksums(new Uint8Array(0)), (e: unknown) => e instanceof PacketError && e.layer === 'IP');
  assert.throws(() => fillChecksums(TCP_SYN.subarray(0, 30)), (e: unknown) => e instanceof PacketError && e.layer === 'IPv4');
  const short = TCP_SYN.slice(0, 30);
  setU16be(short, 2, 30);
  assert.throws(() => fillChecksums(short), (e: unknown) => e instanceof PacketError && e.layer === 'TCP');
});

test('updateChecksum16/32/Bytes() equal a full recompute on random changes (seeded)', () => {
  const rng = new Prng(1624);
  for (let i = 0; i < 3000; i++) {
    const b = rng.bytes(2 * rng.int(2, 40));
    const c0 = internetChecksum(b);
    const at = 2 * rng.int(0, b.length / 2 - 2);
    if (i % 3 === 0) {
      const old = u16be(b, at);
      const nw = rng.bits(16);
      setU16be(b, at, nw);
      assert.equal(updateChecksum16(c0, old, nw), internetChecksum(b));
    } else if (i % 3 === 1) {
      const old = (u16be(b, at) * 0x10000 + u16be(b, at + 2)) >>> 0;
      const nw = rng.bits(32);
      setU16be(b, at, nw >>> 16);
      setU16be(b, at + 2, nw & 0xffff);
      assert.equal(updateChecksum32(c0, old, nw), internetChecksum(b));
    } else {
      const n = 2 * rng.int(1, (b.length - at) / 2);
      const old = b.slice(at, at + n);
      const nw = rng.bytes(n);
      b.set(nw, at);
      assert.equal(updateChecksumBytes(c0, old, nw), internetChecksum(b));
    }
  }
});

test('updateChecksum32() keeps a NAT-rewritten IPv4 header valid', () => {
  const b = UDP4.slice();
  const old = (u16be(b, 16) * 0x10000 + u16be(b, 18)) >>> 0;
  b.set([198, 19, 1, 2], 16);
  setU16be(b, 10, updateChecksum32(u16be(b, 10), old, 0xc6130102));
  assert.equal(verifyChecksums(b).ip, true);
});

test('sumBytes() equals a byte-by-byte sum at every offset and length (seeded)', () => {
  const rng = new Prng(1071);
  const naive = (b: Uint8Array, s: number, e: number): number => {
    let t = 0;
    for (let i = s; i < e; i++) t += (i - s) % 2 === 0 ? b[i]! * 256 : b[i]!;
    return t;
  };
  for (let i = 0; i < 3000; i++) {
    const buf = rng.bytes(rng.int(0, 3000));
    if (i % 10 === 0) buf.fill(0xff); // the largest lanes
    const off = rng.int(0, Math.min(7, buf.length));
    const view = buf.subarray(off);
    const s = rng.int(0, view.length);
    const e = rng.int(s, view.length);
    assert.equal(sumBytes(view, s, e), naive(view, s, e));
  }
});

/** `golden` with `n` bytes of junk appended inside the IP payload but after the UDP Length. */
function udpPadded(golden: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(golden.length + n).fill(0xa5);
  b.set(golden);
  if (golden[0]! >> 4 === 4) {
    setU16be(b, 2, b.length);
    setU16be(b, 10, 0);
    setU16be(b, 10, internetChecksum(b, 0, 20));
  } else {
    setU16be(b, 4, b.length - 40);
  }
  return b;
}

test('fillChecksums()/verifyChecksums() cover the UDP Length, not IP padding after it (RFC 768)', () => {
  for (const [golden, l4] of [[UDP4, 20], [UDP6, 40]] as const) {
    for (const n of [1, 4, 7]) {
      const b = udpPadded(golden, n);
      assert.equal(verifyChecksums(b).udp, true, `verify, ${n} padding bytes`);
      setU16be(b, l4 + 6, 0x5a5a);
      fillChecksums(b);
      assert.equal(u16be(b, l4 + 6), u16be(golden, l4 + 6), `fill, ${n} padding bytes`);
    }
  }
});

test('fillChecksums() falls back to the IP payload when the UDP Length is invalid', () => {
  for (const [golden, l4] of [[UDP4, 20], [UDP6, 40]] as const) {
    for (const bad of [0, 7, 17, 0xffff]) {
      const b = udpPadded(golden, 2);
      setU16be(b, l4 + 4, bad);
      fillChecksums(b);
      const len = b.length - l4;
      const pseudo = golden === UDP4
        ? pseudoHeaderSumIpv4(b.subarray(12, 16), b.subarray(16, 20), 17, len)
        : pseudoHeaderSumIpv6(b.subarray(8, 24), b.subarray(24, 40), 17, len);
      assert.equal(foldChecksum(sumBytes(b, l4, b.length, pseudo)), 0xffff, `UDP Length ${bad}`);
      assert.equal(verifyChecksums(b).udp, true);
    }
  }
});

test('fillChecksums()/verifyChecksums() treat an IPv6 atomic fragment as a whole packet (RFC 6946)', () => {
  const b = atomicFragment(UDP6, 0x1234);
  assert.deepEqual(verifyChecksums(b), { udp: true }); // the fragment header is not in the pseudo-header
  setU16be(b, 54, 0);
  fillChecksums(b);
  assert.equal(u16be(b, 54), u16be(UDP6, 46));
  const icmp = atomicFragment(ICMPV6_ECHO_REQUEST, 1);
  setU16be(icmp, 50, 0x5a5a);
  assert.deepEqual(verifyChecksums(icmp), { icmpv6: false });
  fillChecksums(icmp);
  assert.deepEqual(verifyChecksums(icmp), { icmpv6: true });
});

test('sumBytes(): long ranges (32-bit reads) give the byte loop\'s exact sum at every offset, length and alignment', () => {
  // The reference: RFC 1071 word by word, one byte at a time.
  const reference = (b: Uint8Array, start: number, end: number): number => {
    let sum = 0;
    for (let i = start; i < end; i += 2) sum += (b[i]! << 8) + (i + 1 < end ? b[i + 1]! : 0);
    return sum;
  };
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) & 0xff;
  const store = new Uint8Array(4096 + 16);
  for (let i = 0; i < store.length; i++) store[i] = rand();
  for (const fill of ['random', 'zero', 'ones'] as const) {
    const data = fill === 'random' ? store : new Uint8Array(store.length).fill(fill === 'zero' ? 0 : 0xff);
    for (let viewOffset = 0; viewOffset < 4; viewOffset++) {
      const view = data.subarray(viewOffset);
      for (const start of [0, 1, 2, 3, 20, 28, 41]) {
        for (const len of [127, 128, 129, 130, 131, 255, 1400, 1401, 1402, 1403, 4000]) {
          const got = sumBytes(view, start, start + len);
          assert.equal(got, reference(view, start, start + len), `${fill} offset ${viewOffset} start ${start} length ${len}`);
        }
      }
    }
  }
  // With an initial sum, as the pseudo-header adds it.
  assert.equal(sumBytes(store, 0, 1400, 0x1234), reference(store, 0, 1400) + 0x1234);
});
