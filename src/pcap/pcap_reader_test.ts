import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DLT_RAW, DLT_RAW_OPENBSD, isRawIpLinktype, parsePcap, PCAP_MAGIC_NSEC } from './pcap_reader.js';
import { LINKTYPE_RAW, PcapWriter } from './pcap_writer.js';
import { PCAP_NS, PCAP_US } from './_test_vectors.js';
import { PacketError } from '../errors.js';
import { buildUdpPacket, parsePacket } from '../packet/mod.js';

const bytes = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex'));

function written(packets: Array<[Uint8Array, number]>, snaplen?: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c), snaplen === undefined ? {} : { snaplen });
  for (const [p, t] of packets) w.writePacket(p, t);
  return Uint8Array.from(Buffer.concat(chunks));
}

const UDP4 = buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 4000, dstPort: 53, payload: 'divert' });
const UDP6 = buildUdpPacket({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 4000, dstPort: 53, payload: 'divert' });

test('parsePcap() reads back what PcapWriter wrote: header, data and times to the microsecond', () => {
  const file = parsePcap(written([[UDP4, 1_700_000_000_123.456], [UDP6, 1_700_000_001_000]]));
  assert.deepEqual(file.header, {
    byteOrder: 'little-endian', nanoseconds: false, versionMajor: 2, versionMinor: 4, snaplen: 65535, linktype: LINKTYPE_RAW,
  });
  assert.equal(file.records.length, 2);
  const [a, b] = file.records;
  assert.deepEqual(a!.data, UDP4);
  assert.deepEqual(b!.data, UDP6);
  assert.deepEqual([a!.seconds, a!.fraction, a!.timeMs, a!.origLen], [1_700_000_000, 123_456, 1_700_000_000_123.456, UDP4.length]);
  assert.equal(b!.timeMs, 1_700_000_001_000);
  assert.equal(parsePacket(b!.data).ipv6?.src, '2001:db8::1');
});

test('parsePcap() keeps the original length of a record the writer cut to snaplen', () => {
  const [r] = parsePcap(written([[UDP4, 0]], 20)).records;
  assert.equal(r!.data.length, 20);
  assert.equal(r!.origLen, UDP4.length);
});

test('parsePcap() reads a dumpcap + editcap file (LINKTYPE_RAW, microseconds) as tshark does', () => {
  const { header, records } = parsePcap(PCAP_US);
  assert.deepEqual(header, {
    byteOrder: 'little-endian', nanoseconds: false, versionMajor: 2, versionMinor: 4, snaplen: 262144, linktype: LINKTYPE_RAW,
  });
  // tshark -r … -T fields -e frame.time_epoch -e frame.len -e frame.cap_len
  assert.deepEqual(records.map((r) => [r.seconds, r.fraction, r.origLen, r.data.length]), [
    [1796018754, 645995, 50, 36],
    [1796018754, 646011, 50, 36],
    [1796018754, 648732, 70, 56],
    [1796018754, 648743, 70, 56],
  ]);
  const seen = records.map((r) => {
    const p = parsePacket(r.data);
    return [p.ipv4?.src ?? p.ipv6?.src, p.ipv4?.dst ?? p.ipv6?.dst, p.icmp?.type ?? p.icmpv6?.type];
  });
  assert.deepEqual(seen, [
    ['198.18.0.1', '198.18.0.2', 8],
    ['198.18.0.2', '198.18.0.1', 0],
    ['2001:db8::1', '2001:db8::2', 128],
    ['2001:db8::2', '2001:db8::1', 129],
  ]);
});

test('parsePcap() reads the nanosecond variant to the same times', () => {
  const us = parsePcap(PCAP_US);
  const ns = parsePcap(PCAP_NS);
  assert.equal(ns.header.nanoseconds, true);
  assert.deepEqual(ns.records.map((r) => r.fraction), us.records.map((r) => r.fraction * 1000));
  assert.deepEqual(ns.records.map((r) => r.timeMs), us.records.map((r) => r.timeMs));
  assert.deepEqual(ns.records.map((r) => r.data), us.records.map((r) => r.data));
});

/** A big-endian file of one 4-byte record, with `magic` as written (big-endian). */
function bigEndian(magic: string, frac: string): Uint8Array {
  return bytes(`
    ${magic}    # magic, big-endian
    0002        # version_major 2
    0004        # version_minor 4
    00000000    # thiszone 0
    00000000    # sigfigs 0
    0000ffff    # snaplen 65535
    00000065    # network 101 (LINKTYPE_RAW)
    6553f100    # ts_sec 1700000000
    ${frac}     # ts_frac
    00000004    # incl_len 4
    00000014    # orig_len 20
    45000014    # the first 4 bytes of an IPv4 header
  `);
}

test('parsePcap() reads big-endian files, microsecond and nanosecond', () => {
  const us = parsePcap(bigEndian('a1b2c3d4', '0001e240'));
  assert.equal(us.header.byteOrder, 'big-endian');
  assert.equal(us.header.nanoseconds, false);
  assert.equal(us.header.snaplen, 65535);
  assert.equal(us.header.linktype, LINKTYPE_RAW);
  assert.deepEqual([us.records[0]!.fraction, us.records[0]!.timeMs, us.records[0]!.origLen], [123456, 1_700_000_000_123.456, 20]);
  assert.deepEqual([...us.records[0]!.data], [0x45, 0, 0, 0x14]);
  const ns = parsePcap(bigEndian(PCAP_MAGIC_NSEC.toString(16), '075bca00'));
  assert.equal(ns.header.nanoseconds, true);
  assert.equal(ns.records[0]!.timeMs, 1_700_000_000_123.456);
});

test('parsePcap() refuses what it cannot read, saying why', () => {
  const refuses = (b: Uint8Array, re: RegExp): void => {
    assert.throws(() => parsePcap(b), (e: unknown) => e instanceof PacketError && e.layer === 'pcap' && re.test(e.reason), String(re));
  };
  refuses(PCAP_US.subarray(0, 23), /the global header needs 24/);
  refuses(bytes('0a0d0d0a 1c000000 4d3c2b1a 01000000 ffffffffffffffff'), /pcapng file: convert it with "editcap -F pcap/);
  refuses(bytes('34cdb2a1 0200 0400 00000000 00000000 ffff0000 65000000'), /unknown magic number 0xa1b2cd34/);
  refuses(PCAP_US.subarray(0, 24 + 10), /record 1 at offset 24: header cut short \(10 of 16 bytes\)/);
  refuses(PCAP_US.subarray(0, PCAP_US.length - 1), /record 4 at offset 200: incl_len 56 exceeds the 55 bytes left/);
  refuses(bigEndian('a1b2c3d4', '000f4240'), /ts_frac 1000000 is not below 1000000/);
  assert.deepEqual(parsePcap(PCAP_US.subarray(0, 24)).records, [], 'a header alone is an empty capture');
});

test('isRawIpLinktype(): LINKTYPE_RAW (101) and DLT_RAW as files carry it (12, OpenBSD 14)', () => {
  assert.deepEqual([LINKTYPE_RAW, DLT_RAW, DLT_RAW_OPENBSD], [101, 12, 14]);
  for (const t of [LINKTYPE_RAW, DLT_RAW, DLT_RAW_OPENBSD]) assert.equal(isRawIpLinktype(t), true, String(t));
  for (const t of [0, 1, 113, 228, 229]) assert.equal(isRawIpLinktype(t), false, String(t));
});
