/**
 * Fuzz targets for src/packet: the parser and its views, checksums (fill∘verify), and the
 * fragmenter with the reassembler (fragment∘reassemble). Packets come from the filter tests'
 * structured generator (IPv4 with options, IPv6 with extension headers, TCP/UDP/ICMP/ICMPv6),
 * from the golden vectors, and from their mutations. Documented errors: PacketError (and its
 * subclass FragmentationNeededError); RangeError from fragmentPacket() for an MTU too small.
 * @module
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketError } from '../../src/errors.js';
import { Rng, randomPacket } from '../../src/filter/_random.js';
import { fillChecksums, verifyChecksums } from '../../src/packet/checksum.js';
import { fragmentPacket } from '../../src/packet/fragment.js';
import { formatPacket } from '../../src/packet/format.js';
import { parsePacket } from '../../src/packet/parse.js';
import { Reassembler } from '../../src/packet/reassembler.js';
import { buildUdpPacket } from '../../src/packet/build.js';
import { strictBytes, touchAll } from '../../src/packet/_test_util.js';
import * as V from '../../src/packet/_test_vectors.js';
import { mutated, onlyThrows } from './_mutate.js';
import { counter, type FuzzTarget } from './_target.js';

const GOLDEN = [V.ICMP_ECHO_REQUEST, V.ICMP_ECHO_REPLY, V.TCP_SYN, V.UDP4, V.UDP6, V.ICMPV6_ECHO_REQUEST, V.IPV6_HBH_FRAG, V.IPV4_OPTIONS];

/** A structured random packet (seeded by fast-check, so it shrinks and replays). */
const structured = fc.tuple(fc.nat({ max: 0xffffffff }), fc.constantFrom<4 | 6>(4, 6)).map(([seed, family]) => randomPacket(new Rng(seed), { family }));

const packets = fc.oneof({ weight: 3, arbitrary: structured }, { weight: 1, arbitrary: fc.constantFrom(...GOLDEN) });

const parsed = counter();
const parseTarget: FuzzTarget = {
  deep: parsed,
  name: 'packet: parsePacket() and every view getter on mutated packets throw only PacketError, read nothing out of bounds',
  cost: 4,
  property: fc.property(mutated(packets), (raw) => {
    const b = strictBytes(raw);
    onlyThrows([PacketError], () => {
      const p = parsePacket(b);
      touchAll(p);
      for (const v of [p.ip, p.tcp, p.udp, p.icmp, p.icmpv6]) if (v) touchAll(v);
      p.tcp?.parseOptions();
      assert.equal(typeof formatPacket(p), 'string');
      parsed.count++;
    });
  }),
};

const verified = counter();
const checksumTarget: FuzzTarget = {
  deep: verified,
  name: 'packet: fillChecksums() then verifyChecksums() reports every layer valid (and throws only PacketError)',
  property: fc.property(fc.oneof(packets, mutated(packets, 2)), (raw) => {
    const b = raw.slice();
    if (onlyThrows([PacketError], () => fillChecksums(b))) return;
    let report = {};
    if (onlyThrows([PacketError], () => { report = verifyChecksums(b); })) return;
    for (const [layer, ok] of Object.entries(report)) assert.equal(ok, true, `${layer} checksum invalid after fillChecksums()`);
    if (Object.keys(report).length > 1) verified.count++;
  }),
};

/** A datagram worth fragmenting: UDP over IPv4 or IPv6, up to 4000 bytes of payload. */
const bigUdp = fc.record({
  v6: fc.boolean(),
  // Lengths spread evenly up to 4000 (fast-check's own arrays stay short), bytes from a pattern.
  payload: fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 1, max: 255 })).map(([n, k]) => Uint8Array.from({ length: n }, (_, i) => (i * k + (i >> 8)) & 0xff)),
  ident: fc.integer({ min: 0, max: 0xffff }),
  ports: fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 })),
}).map((u) => buildUdpPacket(u.v6
  ? { src: '2001:db8::1', dst: '2001:db8::2', srcPort: u.ports[0], dstPort: u.ports[1], payload: u.payload }
  : { src: '198.18.0.1', dst: '198.18.0.2', srcPort: u.ports[0], dstPort: u.ports[1], payload: u.payload, ident: u.ident }));

const toFragment = fc.oneof({ weight: 2, arbitrary: bigUdp }, { weight: 1, arbitrary: structured });

const reassembled = counter();
const fragmentTarget: FuzzTarget = {
  deep: reassembled,
  name: 'packet: fragmentPacket() then Reassembler.push() in any order, with duplicates, gives the packet back',
  cost: 2,
  property: fc.property(toFragment, fc.integer({ min: 60, max: 1500 }), fc.nat(), fc.boolean(), (raw, mtu, order, dup) => {
    const original = raw.slice();
    // Only whole, well-formed datagrams round-trip: not fragments, checksums filled.
    if (onlyThrows([PacketError], () => fillChecksums(original))) return;
    let parsed;
    if (onlyThrows([PacketError], () => { parsed = parsePacket(original); }) || parsed!.fragment !== undefined) return;
    let frags: Uint8Array[] = [];
    const err = onlyThrows([PacketError, RangeError], () => { frags = fragmentPacket(original, mtu, { ident: 0x1234 }); });
    if (err) return;
    for (const f of frags) assert.ok(f.length <= mtu || frags.length === 1, `fragment of ${f.length} bytes over MTU ${mtu}`);
    // A fixed shuffle from `order`, and one fragment sent twice.
    const sent = frags.map((f, i) => ({ f, k: ((i + 1) * 2654435761 + order) % 4093 })).sort((a, b) => a.k - b.k).map((x) => x.f);
    if (dup && sent.length > 1) sent.splice(order % sent.length, 0, sent[(order >> 3) % sent.length]!);
    // Limits high enough for any generated datagram (the defaults drop past 128 fragments).
    const r = new Reassembler({ maxFragments: 1024, maxDatagramBytes: 1 << 22, maxTotalBytes: 1 << 23 });
    const out: Uint8Array[] = [];
    for (const f of sent) {
      const whole = r.push(f, 0);
      if (whole) out.push(whole);
    }
    assert.equal(out.length, 1, `${frags.length} fragments gave ${out.length} datagrams`);
    assert.deepEqual(out[0], original);
    if (frags.length > 1) reassembled.count++;
  }),
};

const reassembleTarget: FuzzTarget = {
  name: 'packet: Reassembler.push() on mutated fragments throws only PacketError and stays within its limits',
  property: fc.property(bigUdp, fc.integer({ min: 68, max: 600 }), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }), (raw, mtu, hits) => {
    let frags: Uint8Array[] = [];
    if (onlyThrows([PacketError, RangeError], () => { frags = fragmentPacket(raw, mtu, { ident: 7 }); })) return;
    const r = new Reassembler({ maxTotalBytes: 20_000, maxDatagrams: 8 });
    for (const [which, at, value] of hits) {
      const f = frags[which % frags.length]!.slice();
      f[at % f.length] = value;
      onlyThrows([PacketError], () => void r.push(f, 0));
      assert.ok(r.stats.bytes <= 20_000 && r.stats.pending <= 8);
    }
  }),
};


/** Value fields a view may change without changing the packet's structure: [layer, field, bits]. */
const FIELDS: readonly (readonly ['ipv4' | 'ipv6' | 'tcp' | 'udp', string, number])[] = [
  ['ipv4', 'tos', 8], ['ipv4', 'ident', 16], ['ipv4', 'ttl', 8],
  ['ipv6', 'trafficClass', 8], ['ipv6', 'flowLabel', 20], ['ipv6', 'hopLimit', 8],
  ['tcp', 'srcPort', 16], ['tcp', 'dstPort', 16], ['tcp', 'seqNum', 32], ['tcp', 'ackNum', 32], ['tcp', 'window', 16], ['tcp', 'urgentPtr', 16],
  ['udp', 'srcPort', 16], ['udp', 'dstPort', 16],
];

const writes = fc.array(fc.tuple(fc.nat({ max: FIELDS.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('ok', 'ok', 'ok', 'over', 'negative', 'fraction')), { minLength: 1, maxLength: 8 });

const viewsWritten = counter();
const viewsTarget: FuzzTarget = {
  name: 'packet: view setters write what getters read back (checksums refilled, verified); out-of-range values throw RangeError and change nothing',
  deep: viewsWritten,
  property: fc.property(structured, writes, (raw, list) => {
    const b = raw.slice();
    let p: ReturnType<typeof parsePacket>;
    try {
      p = parsePacket(b);
    } catch {
      return;
    }
    const expected = new Map<string, number>();
    for (const [i, frac, kind] of list) {
      const [layer, field, bits] = FIELDS[i]!;
      const view = p[layer] as unknown as Record<string, number> | undefined;
      if (!view) continue;
      const max = 2 ** bits - 1;
      const good = Math.round(frac * max);
      if (kind === 'ok') {
        view[field] = good;
        expected.set(`${layer}.${field}`, good);
      } else {
        const before = b.slice();
        const bad = kind === 'over' ? max + 1 + good : kind === 'negative' ? -1 - good : good + 0.5;
        assert.throws(() => { view[field] = bad; }, RangeError, `${layer}.${field} = ${bad}`);
        assert.deepEqual(b, before, `${layer}.${field} = ${bad} changed bytes`);
      }
    }
    if (expected.size === 0) return;
    if (onlyThrows([PacketError], () => fillChecksums(b))) return;
    const again = parsePacket(b);
    for (const [key, v] of expected) {
      const [layer, field] = key.split('.') as ['ipv4', string];
      assert.equal((again[layer] as unknown as Record<string, number>)[field], v, key);
    }
    for (const [layer, ok] of Object.entries(verifyChecksums(b))) assert.equal(ok, true, `${layer} checksum after the writes`);
    viewsWritten.count++;
  }),
};

export const PACKET_TARGETS: readonly FuzzTarget[] = [parseTarget, checksumTarget, viewsTarget, fragmentTarget, reassembleTarget];
