/**
 * Fuzz target for the pcap reader (what `divert filter test -r` reads from a user's file): files
 * written by the pcap writer read back record for record (time to the microsecond, snaplen cuts),
 * and mutated files are refused only with a PacketError.
 * @module
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketError } from '../../src/errors.js';
import { parsePcap } from '../../src/pcap/pcap_reader.js';
import { encodePcapHeader, encodePcapRecord } from '../../src/pcap/pcap_writer.js';
import { mutated, onlyThrows } from './_mutate.js';
import { counter, type FuzzTarget } from './_target.js';

const capture = fc.record({
  snaplen: fc.integer({ min: 1, max: 300 }),
  records: fc.array(fc.record({ packet: fc.uint8Array({ maxLength: 200 }), usec: fc.nat({ max: 2 ** 32 * 1e6 - 1 }) }), { maxLength: 6 }),
});

function encode(c: { snaplen: number; records: { packet: Uint8Array; usec: number }[] }): Uint8Array {
  const parts = [encodePcapHeader(c.snaplen), ...c.records.map((r) => encodePcapRecord(r.packet, r.usec / 1000, c.snaplen))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const pcapRoundTrip: FuzzTarget = {
  name: 'pcap: encodePcapHeader/encodePcapRecord → parsePcap() gives every record back',
  property: fc.property(capture, (c) => {
    const file = parsePcap(encode(c));
    assert.equal(file.header.snaplen, c.snaplen);
    assert.deepEqual(
      file.records.map((r) => [r.seconds * 1e6 + r.fraction, [...r.data], r.origLen]),
      c.records.map((r) => [r.usec, [...r.packet.subarray(0, c.snaplen)], r.packet.length]),
    );
  }),
};

const read = counter();
const pcapMutation: FuzzTarget = {
  name: 'pcap: parsePcap() on mutated captures throws only PacketError; records stay inside the file',
  deep: read,
  property: fc.property(mutated(capture.map(encode), 3), (bytes) => {
    onlyThrows([PacketError], () => {
      const file = parsePcap(bytes);
      for (const r of file.records) assert.ok(r.data.byteOffset + r.data.length <= bytes.byteOffset + bytes.length);
      read.count++;
    });
  }),
};

export const PCAP_TARGETS: readonly FuzzTarget[] = [pcapRoundTrip, pcapMutation];
