import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PacketError } from '../errors.js';
import { DATAGRAM_OVERHEAD, PIECE_OVERHEAD, Reassembler } from './reassembler.js';
import { fragmentPacket } from './fragment.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { verifyChecksums } from './checksum.js';
import { Prng, atomicFragment } from './_test_util.js';
import { UDP4, UDP6 } from './_test_vectors.js';
import { setU16be } from './_bytes.js';

function ipv4(size: number, rng: Prng, ident = 0x1234): Uint8Array {
  const b = rng.bytes(size);
  b.set(UDP4.subarray(0, 20));
  const ip = new Ipv4Packet(b);
  ip.totalLength = size;
  ip.flags = 0;
  ip.ident = ident;
  ip.fillChecksum();
  return b;
}

function ipv6(size: number, rng: Prng): Uint8Array {
  const b = rng.bytes(size);
  b.set(UDP6.subarray(0, 40));
  new Ipv6Packet(b).payloadLength = size - 40;
  return b;
}

function feed(r: Reassembler, frags: Uint8Array[], now = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of frags) {
    const whole = r.push(f, now);
    if (whole) out.push(whole);
  }
  return out;
}

test('Reassembler.push() rebuilds IPv4 fragments in any order, with duplicates (seeded)', () => {
  const rng = new Prng(815);
  for (let i = 0; i < 200; i++) {
    const orig = ipv4(rng.int(100, 3000), rng, i);
    const frags = fragmentPacket(orig, rng.int(68, Math.min(1500, orig.length - 1)));
    const dups = frags.filter(() => rng.int(0, 3) === 0);
    const r = new Reassembler();
    const out = feed(r, rng.shuffle([...frags, ...dups.map((d) => d.slice())]));
    // Duplicates arriving after completion open a new entry (and may even complete it again).
    assert.ok(out.length >= 1);
    for (const o of out) assert.deepEqual(o, orig);
  }
});

test('Reassembler.push() rebuilds IPv6 fragments in any order, with duplicates (seeded)', () => {
  const rng = new Prng(5722);
  for (let i = 0; i < 200; i++) {
    const orig = ipv6(rng.int(100, 3000), rng);
    const frags = fragmentPacket(orig, rng.int(96, Math.min(1500, orig.length - 1)), { ident: i });
    const dups = frags.filter(() => rng.int(0, 3) === 0);
    const r = new Reassembler();
    const out = feed(r, rng.shuffle([...frags, ...dups]));
    assert.ok(out.length >= 1);
    for (const o of out) assert.deepEqual(o, orig);
    assert.equal(r.stats.overlaps, 0);
  }
});

test('Reassembler.push() clears fragment fields and refills the IPv4 header checksum', () => {
  const rng = new Prng(1);
  const orig = ipv4(1000, rng);
  new Ipv4Packet(orig).df = false;
  const frags = fragmentPacket(orig, 300);
  const r = new Reassembler();
  const whole = feed(r, frags.reverse())[0]!;
  const ip = Ipv4Packet.checked(whole);
  assert.equal(ip.isFragment, false);
  assert.equal(ip.totalLength, 1000);
  assert.equal(verifyChecksums(whole).ip, true);
  assert.equal(r.stats.completed, 1);
});

test('Reassembler.push() passes a packet that is not a fragment straight through', () => {
  const r = new Reassembler();
  const padded = new Uint8Array(UDP4.length + 6);
  padded.set(UDP4);
  assert.deepEqual(r.push(padded, 0), UDP4);
});

test('Reassembler drops a whole IPv6 datagram on an overlap, and its later fragments (RFC 5722)', () => {
  const rng = new Prng(2);
  const frags = fragmentPacket(ipv6(1000, rng), 300, { ident: 7 });
  const r = new Reassembler();
  assert.equal(r.push(frags[0]!, 0), undefined);
  const overlap = frags[1]!.slice();
  const fh = new Ipv6Packet(overlap).chain().fragmentOffset;
  overlap[fh + 3] = (overlap[fh + 3]! & 7) | (8 << 3); // offset - 8 bytes: overlaps fragment 0 by 8
  overlap[fh + 2] = 0;
  overlap[fh + 3] = 0xf1; // offset 240 with M set (fragment 0 covers [0, 248))
  assert.equal(r.push(overlap, 0), undefined);
  assert.equal(r.stats.overlaps, 1);
  assert.deepEqual(feed(r, frags.slice(1)), []);
  assert.equal(r.stats.completed, 0);
  assert.equal(r.stats.bytes, 0);
});

test('Reassembler accepts an IPv4 overlap with identical bytes and rejects one with different bytes', () => {
  const rng = new Prng(3);
  const orig = ipv4(1000, rng);
  const frags = fragmentPacket(orig, 300); // 280 data bytes each
  // A fragment covering [272, 552) copied from the original: overlapping bytes are the same.
  const same = fragmentPacket(orig.slice(), 300)[1]!.slice();
  const v = new Ipv4Packet(same);
  v.fragOffset = 34;
  same.set(orig.subarray(20 + 272, 20 + 552), 20);
  v.fillChecksum();
  const r = new Reassembler();
  assert.deepEqual(feed(r, [frags[0]!, same, ...frags.slice(1)]), [orig]);
  const diff = same.slice();
  diff[20] = diff[20]! ^ 0xff;
  const r2 = new Reassembler();
  assert.deepEqual(feed(r2, [frags[0]!, diff, ...frags.slice(1)]), []);
  assert.equal(r2.stats.overlaps, 1);
});

test('Reassembler.expire() drops datagrams older than timeoutMs', () => {
  const rng = new Prng(4);
  const frags = fragmentPacket(ipv4(1000, rng), 300);
  const r = new Reassembler({ timeoutMs: 1000 });
  r.push(frags[0]!, 0);
  assert.equal(r.expire(999), 0);
  assert.equal(r.expire(1000), 1);
  assert.equal(r.stats.expired, 1);
  assert.deepEqual(feed(r, frags.slice(1), 1001), []); // fragment 0 is gone
  assert.equal(r.stats.pending, 1);
});

test('Reassembler caps memory per datagram, in total and in count', () => {
  const rng = new Prng(5);
  const r = new Reassembler({ maxDatagramBytes: 500 });
  assert.deepEqual(feed(r, fragmentPacket(ipv4(1000, rng), 300)), []);
  assert.equal(r.stats.droppedMemory, 1);
  const total = new Reassembler({ maxTotalBytes: 2000, maxDatagrams: 1000 });
  for (let i = 0; i < 50; i++) total.push(fragmentPacket(ipv4(1000, rng, i), 300)[0]!, i);
  assert.ok(total.stats.bytes <= 2000);
  assert.ok(total.stats.droppedMemory >= 40);
  const count = new Reassembler({ maxDatagrams: 3 });
  for (let i = 0; i < 10; i++) count.push(fragmentPacket(ipv4(1000, rng, i), 300)[0]!, i);
  assert.equal(count.stats.pending, 3);
  assert.equal(count.stats.droppedMemory, 7);
  assert.throws(() => new Reassembler({ timeoutMs: 0 }), RangeError);
});

test('Reassembler.push() rejects fragments that break length rules', () => {
  const rng = new Prng(6);
  const f = fragmentPacket(ipv4(1000, rng), 300)[0]!.slice();
  const ip = new Ipv4Packet(f);
  ip.totalLength = 299; // 279 data bytes with MF set
  ip.fillChecksum();
  assert.throws(() => new Reassembler().push(f.subarray(0, 299), 0), (e: unknown) => e instanceof PacketError && /multiple of 8/.test(e.reason));
  ip.totalLength = 300;
  ip.fragOffset = 8190;
  assert.throws(() => new Reassembler().push(f, 0), /beyond 65535/);
});

test('Reassembler abandons a datagram whose fragments disagree on the end', () => {
  const rng = new Prng(7);
  const frags = fragmentPacket(ipv4(1000, rng), 300);
  const last = frags.at(-1)!.slice(0, 100); // same offset, MF clear, but only 80 data bytes
  const v = new Ipv4Packet(last);
  v.totalLength = 100;
  v.fillChecksum();
  const r = new Reassembler();
  assert.deepEqual(feed(r, [last, frags.at(-1)!, ...frags.slice(0, -1)]), []);
  assert.equal(r.stats.inconsistent, 1);
});

/** An IPv4 fragment of `orig` carrying data bytes `[from, to)`; MF unless it reaches the end. */
function v4Fragment(orig: Uint8Array, from: number, to: number): Uint8Array {
  const f = new Uint8Array(20 + to - from);
  f.set(orig.subarray(0, 20));
  f.set(orig.subarray(20 + from, 20 + to), 20);
  const ip = new Ipv4Packet(f);
  ip.totalLength = f.length;
  ip.mf = to < orig.length - 20;
  ip.fragOffsetBytes = from;
  ip.fillChecksum();
  return f;
}

test('Reassembler accepts random IPv4 overlaps with identical bytes in any order (seeded)', () => {
  const rng = new Prng(791);
  for (let i = 0; i < 200; i++) {
    const orig = ipv4(20 + 8 * rng.int(2, 200), rng, i);
    const n = orig.length - 20;
    const frags: Uint8Array[] = [];
    for (let pos = 0; pos < n; ) {
      const to = Math.min(n, pos + 8 * rng.int(1, 20));
      frags.push(v4Fragment(orig, pos, to));
      pos = to;
    }
    for (let k = rng.int(0, 10); k > 0; k--) {
      const from = 8 * rng.int(0, n / 8 - 1);
      frags.push(v4Fragment(orig, from, Math.min(n, from + 8 * rng.int(1, 30))));
    }
    const r = new Reassembler({ maxFragments: 1000 });
    const out = feed(r, rng.shuffle(frags));
    assert.ok(out.length >= 1);
    for (const o of out) assert.deepEqual(o, orig);
    assert.equal(r.stats.overlaps + r.stats.inconsistent, 0);
  }
});

test('Reassembler caps fragments per datagram: a 1000-fragment flood is dropped and counted', () => {
  const rng = new Prng(8);
  const frags = fragmentPacket(ipv4(20 + 8 * 1000, rng), 28); // 1000 fragments of 8 bytes
  assert.equal(frags.length, 1000);
  const r = new Reassembler({ maxFragments: 100 });
  let peak = 0;
  for (const f of rng.shuffle(frags)) {
    assert.equal(r.push(f, 0), undefined);
    peak = Math.max(peak, r.stats.bytes);
  }
  assert.equal(r.stats.tooManyFragments, 1);
  assert.equal(r.stats.pending, 1); // a tombstone: the other 899 fragments were discarded at once
  assert.equal(r.stats.bytes, 0);
  assert.ok(peak <= 100 * (8 + PIECE_OVERHEAD) + 20 + PIECE_OVERHEAD + DATAGRAM_OVERHEAD, `peak ${peak}`);
  assert.equal(new Reassembler().push(frags[0]!, 0), undefined); // default cap is at least 64...
  const dflt = new Reassembler();
  feed(dflt, frags.slice(0, 129));
  assert.equal(dflt.stats.tooManyFragments, 1); // ...and at most 128
  assert.throws(() => new Reassembler({ maxFragments: 0.5 }), RangeError);
});

test('Reassembler rebuilds a datagram of 7501 eight-byte fragments when maxFragments allows', () => {
  const rng = new Prng(9);
  const orig = ipv4(20 + 8 * 7501, rng);
  const frags = fragmentPacket(orig, 28);
  const r = new Reassembler({ maxFragments: 8000, maxDatagramBytes: 4 << 20 });
  assert.deepEqual(feed(r, rng.shuffle(frags)), [orig]);
  assert.equal(r.stats.bytes, 0);
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and array-buffer bytes still reachable after a full collection. */
function retained(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test('Reassembler accounting bounds the memory it really retains (within 2x)', () => {
  const rng = new Prng(10);
  for (const [size, frags, datagrams] of [[8, 100, 200], [8, 2, 1000], [1024, 20, 200]] as const) {
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < datagrams; i++) {
      inputs.push(...fragmentPacket(ipv4(20 + size * frags, rng, i), 20 + size).slice(0, -1)); // never complete
    }
    const r = new Reassembler({ maxTotalBytes: 1 << 30, maxDatagramBytes: 1 << 20, maxDatagrams: 1000 });
    const before = retained();
    feed(r, inputs);
    const real = retained() - before;
    const accounted = r.stats.bytes;
    const what = `${datagrams} datagrams of ${frags - 1} ${size}-byte pieces: real ${real}, accounted ${accounted}`;
    assert.ok(real <= 2 * accounted && real >= accounted / 4, what);
  }
});

test('Reassembler.push() returns an IPv6 atomic fragment alone, without its fragment header (RFC 6946)', () => {
  const rng = new Prng(11);
  const r = new Reassembler();
  const frags = fragmentPacket(ipv6(1000, rng), 300, { ident: 7 });
  r.push(frags[0]!, 0);
  const atomic = atomicFragment(UDP6, 7); // same source, destination and ident as the pending one
  const out = r.push(atomic, 0)!;
  assert.deepEqual(out, UDP6);
  assert.notEqual(out.buffer, atomic.buffer);
  assert.equal(verifyChecksums(out).udp, true);
  assert.equal(r.stats.atomic, 1);
  assert.equal(r.stats.pending, 1);
  assert.equal(feed(r, frags.slice(1)).length, 1); // the pending reassembly survived
  // Overlapping an atomic fragment with a pending datagram's range kills nothing either.
  const r2 = new Reassembler();
  r2.push(frags[1]!, 0);
  assert.deepEqual(r2.push(atomicFragment(UDP6, 7), 0), UDP6);
  assert.equal(r2.stats.overlaps, 0);
  assert.equal(feed(r2, [frags[0]!, ...frags.slice(2)]).length, 1);
  // Behind a hop-by-hop header, with trailing link padding.
  const hbh = new Uint8Array(UDP6.length + 8 + 8 + 3);
  hbh.set(UDP6.subarray(0, 40));
  hbh[6] = 0;
  hbh.set([44, 0, 1, 4, 0, 0, 0, 0], 40); // HBH -> fragment, PadN
  hbh.set([17, 0, 0, 0, 0, 0, 0, 9], 48);
  hbh.set(UDP6.subarray(40), 56);
  setU16be(hbh, 4, hbh.length - 3 - 40);
  const whole = r2.push(hbh, 0)!;
  assert.equal(whole.length, UDP6.length + 8);
  assert.equal(whole[40], 17);
  assert.equal(new Ipv6Packet(whole).payloadLength, UDP6.length + 8 - 40);
  assert.deepEqual(verifyChecksums(whole), { udp: true });
});
