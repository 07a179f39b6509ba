import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePcapHeader, encodePcapRecord, PcapWriter, LINKTYPE_RAW } from './pcap_writer.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('encodePcapHeader() writes the little-endian microsecond header with LINKTYPE_RAW', () => {
  assert.equal(
    hex(encodePcapHeader()),
    'd4c3b2a1' + // magic 0xa1b2c3d4, little-endian
      '0200' + // version_major 2
      '0400' + // version_minor 4
      '00000000' + // thiszone
      '00000000' + // sigfigs
      'ffff0000' + // snaplen 65535
      '65000000', // network 101 (LINKTYPE_RAW)
  );
  assert.equal(LINKTYPE_RAW, 101);
});

test('encodePcapRecord() splits the time into seconds and microseconds', () => {
  const pkt = Uint8Array.of(0x45, 0x00, 0x00, 0x14);
  assert.equal(
    hex(encodePcapRecord(pkt, 1_700_000_000_123.456)),
    '00f15365' + // ts_sec 1700000000
      '40e20100' + // ts_usec 123456
      '04000000' + // incl_len 4
      '04000000' + // orig_len 4
      '45000014', // the packet
  );
});

test('encodePcapRecord() cuts to snaplen and keeps the original length', () => {
  const rec = encodePcapRecord(new Uint8Array(10).fill(0xa5), 0, 4);
  assert.equal(hex(rec), '00000000' + '00000000' + '04000000' + '0a000000' + 'a5a5a5a5');
});

test('encodePcapRecord() rounds 999.9995 µs up into the next second correctly', () => {
  const rec = encodePcapRecord(new Uint8Array(0), 1999.9996);
  const v = new DataView(rec.buffer);
  assert.equal(v.getUint32(0, true), 2);
  assert.equal(v.getUint32(4, true), 0);
});

test('encodePcapRecord() rejects a negative time', () => {
  assert.throws(() => encodePcapRecord(new Uint8Array(1), -1), RangeError);
});

test('PcapWriter writes the header once, then records, and counts them', () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c));
  assert.equal(chunks.length, 1);
  w.writePacket(Uint8Array.of(0x60, 0, 0, 0), 1000);
  w.writePacket(Uint8Array.of(0x45), 2000.5);
  assert.equal(w.count, 2);
  assert.equal(chunks.length, 3);
  assert.equal(hex(chunks[2]!), '02000000' + 'f4010000' + '01000000' + '01000000' + '45');
});
