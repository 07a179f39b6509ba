import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { parsePacket } from './parse.js';
import { fillChecksums, verifyChecksums } from './checksum.js';
import { fragmentPacket } from './fragment.js';
import { formatPacket } from './format.js';
import { Reassembler } from './reassembler.js';
import { OutOfBoundsRead, Prng, strictBytes, touchAll } from './_test_util.js';
import * as V from './_test_vectors.js';

const SEEDS: Uint8Array[] = [V.ICMP_ECHO_REQUEST, V.ICMP_ECHO_REPLY, V.TCP_SYN, V.UDP4, V.UDP6, V.ICMPV6_ECHO_REQUEST, V.IPV6_HBH_FRAG, V.IPV4_OPTIONS];

/** Mutate a golden packet: flip bytes, truncate, extend, or replace it with noise. */
function mutate(rng: Prng): Uint8Array {
  const kind = rng.int(0, 4);
  if (kind === 0) {
    const b = rng.bytes(rng.int(0, 120));
    if (b.length > 0) b[0] = (rng.int(0, 1) ? 0x40 : 0x60) | (b[0]! & 0x0f);
    return b;
  }
  const seed = SEEDS[rng.int(0, SEEDS.length - 1)]!;
  let b = seed.slice();
  for (let n = rng.int(1, 4); n > 0; n--) b[rng.int(0, b.length - 1)] = rng.bits(8);
  if (kind === 2) b = b.slice(0, rng.int(0, b.length));
  if (kind === 3) {
    const longer = new Uint8Array(b.length + rng.int(1, 30));
    longer.set(b);
    b = longer;
  }
  return b;
}

/** Run `fn`; anything thrown must be a PacketError (an OutOfBoundsRead or TypeError fails). */
function onlyPacketError(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof OutOfBoundsRead || !(e instanceof PacketError)) throw e;
  }
}

test('parsePacket() on mutated bytes throws only PacketError and reads nothing out of bounds (seeded)', () => {
  const rng = new Prng(0xf022);
  let parsed = 0;
  for (let i = 0; i < 4000; i++) {
    const b = strictBytes(mutate(rng));
    onlyPacketError(() => {
      const p = parsePacket(b);
      parsed++;
      touchAll(p);
      for (const v of [p.ip, p.tcp, p.udp, p.icmp, p.icmpv6]) if (v) touchAll(v);
      p.tcp?.parseOptions();
      assert.equal(typeof formatPacket(p), 'string');
    });
  }
  assert.ok(parsed > 500, `only ${parsed} mutated packets parsed`);
});

test('fillChecksums(), verifyChecksums() and fragmentPacket() on mutated bytes throw only PacketError (seeded)', () => {
  const rng = new Prng(0xc5);
  for (let i = 0; i < 3000; i++) {
    const b = strictBytes(mutate(rng));
    onlyPacketError(() => verifyChecksums(b));
    onlyPacketError(() => fillChecksums(b));
    onlyPacketError(() => { fragmentPacket(b, rng.int(100, 200), { ident: i }); });
  }
});

test('Reassembler.push() on mutated fragments throws only PacketError and stays bounded (seeded)', () => {
  const rng = new Prng(0x5eed);
  const r = new Reassembler({ maxTotalBytes: 20_000, maxDatagrams: 16 });
  const base = new Uint8Array(600);
  base.set(V.UDP4.subarray(0, 20));
  base[2] = 600 >> 8;
  base[3] = 600 & 0xff;
  base[6] = 0;
  const frags = fragmentPacket(base, 128);
  for (let i = 0; i < 5000; i++) {
    const f = frags[rng.int(0, frags.length - 1)]!.slice();
    for (let n = rng.int(0, 3); n > 0; n--) f[rng.int(0, f.length - 1)] = rng.bits(8);
    const b = strictBytes(rng.int(0, 9) === 0 ? mutate(rng) : f);
    onlyPacketError(() => { r.push(b, i); });
    if (i % 500 === 0) r.expire(i);
    assert.ok(r.stats.bytes <= 20_000);
    assert.ok(r.stats.pending <= 16);
  }
});
