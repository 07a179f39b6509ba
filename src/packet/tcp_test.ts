import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { TCP_FLAGS, TCP_OPTION, TcpPacket, encodeTcpOptions, parseTcpOptions } from './tcp.js';
import { Prng, filledA5, hex } from './_test_util.js';
import { TCP_SYN } from './_test_vectors.js';

const SYN = TCP_SYN.subarray(20);

test('TcpPacket reads every field of a captured SYN', () => {
  const t = TcpPacket.checked(SYN);
  assert.equal(t.srcPort, 40000);
  assert.equal(t.dstPort, 80);
  assert.equal(t.seqNum, 0x5e40d1e1);
  assert.equal(t.ackNum, 0);
  assert.equal(t.dataOffset, 10);
  assert.equal(t.hdrLen, 40);
  assert.equal(t.flags, TCP_FLAGS.SYN);
  assert.deepEqual([t.ns, t.cwr, t.ece, t.urg, t.ack, t.psh, t.rst, t.syn, t.fin], [false, false, false, false, false, false, false, true, false]);
  assert.equal(t.window, 65495);
  assert.equal(t.checksum, 0xcf09);
  assert.equal(t.urgentPtr, 0);
  assert.equal(t.payload.length, 0);
  const opts = t.parseOptions().map((o) => [o.kind, [...o.data]]);
  assert.deepEqual(opts, [
    [TCP_OPTION.MSS, [0xff, 0xd7]],
    [TCP_OPTION.SACK_PERMITTED, []],
    [TCP_OPTION.TIMESTAMP, [0x66, 0xb1, 0xbf, 0x6b, 0, 0, 0, 0]],
    [TCP_OPTION.WINDOW_SCALE, [10]],
  ]);
});

test('TcpPacket setters and encodeTcpOptions() emit the captured SYN into a 0xa5 buffer', () => {
  const buf = filledA5(40);
  const t = new TcpPacket(buf);
  t.srcPort = 40000;
  t.dstPort = 80;
  t.seqNum = 0x5e40d1e1;
  t.ackNum = 0;
  t.dataOffset = 10;
  t.reserved = 0;
  t.flags = 0;
  t.syn = true;
  t.window = 65495;
  t.checksum = 0xcf09;
  t.urgentPtr = 0;
  t.options = encodeTcpOptions([
    { kind: TCP_OPTION.MSS, data: hex('ffd7') },
    { kind: TCP_OPTION.SACK_PERMITTED, data: new Uint8Array(0) },
    { kind: TCP_OPTION.TIMESTAMP, data: hex('66b1bf6b 00000000') },
    { kind: TCP_OPTION.NOP, data: new Uint8Array(0) },
    { kind: TCP_OPTION.WINDOW_SCALE, data: hex('0a') },
  ]);
  assert.deepEqual(buf, SYN);
});

test('TcpPacket.checked() rejects a data offset below 5 or past the buffer', () => {
  const b = SYN.slice();
  b[12] = 0x40;
  assert.throws(() => TcpPacket.checked(b), (e: unknown) => e instanceof PacketError && e.layer === 'TCP' && /below 5/.test(e.reason));
  b[12] = 0xf0;
  assert.throws(() => TcpPacket.checked(b), /exceeds/);
  assert.throws(() => TcpPacket.checked(SYN.subarray(0, 19)), /header needs 20/);
});

test('TcpPacket.checked() rejects an option whose length runs past the header', () => {
  const b = SYN.slice();
  b[21] = 30; // MSS length 30
  assert.throws(() => TcpPacket.checked(b), /bad length 30/);
  assert.equal(TcpPacket.checkLen(b), false);
  assert.throws(() => parseTcpOptions(hex('02')), /no length byte/);
});

test('TcpPacket flag setters keep the data offset and reserved bits', () => {
  const t = new TcpPacket(SYN.slice());
  t.ns = true;
  t.ack = true;
  t.fin = true;
  assert.equal(t.flags, TCP_FLAGS.NS | TCP_FLAGS.ACK | TCP_FLAGS.SYN | TCP_FLAGS.FIN);
  assert.equal(t.dataOffset, 10);
  t.syn = false;
  t.ns = false;
  assert.equal(t.flags, TCP_FLAGS.ACK | TCP_FLAGS.FIN);
  assert.throws(() => { t.flags = 0x200; }, RangeError);
  assert.throws(() => { t.options = new Uint8Array(21); }, RangeError);
});

test('TcpPacket random headers: read → emit into 0xa5 → identical bytes (seeded)', () => {
  const rng = new Prng(0x7c9);
  for (let i = 0; i < 500; i++) {
    const src = rng.bytes(20 + rng.int(0, 30));
    src[12] = (5 << 4) | (src[12]! & 0x0f); // no options: random option bytes would not parse
    const a = TcpPacket.checked(src);
    const out = filledA5(src.length);
    out.set(src.subarray(20), 20);
    const b = new TcpPacket(out);
    b.srcPort = a.srcPort;
    b.dstPort = a.dstPort;
    b.seqNum = a.seqNum;
    b.ackNum = a.ackNum;
    b.dataOffset = a.dataOffset;
    b.reserved = a.reserved;
    b.flags = a.flags;
    b.window = a.window;
    b.checksum = a.checksum;
    b.urgentPtr = a.urgentPtr;
    assert.deepEqual(out, src);
  }
});
