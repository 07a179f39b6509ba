import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageBuilder } from './message_builder.js';
import { MessageIter } from './message_iter.js';
import { AttrDecoder } from './attr_decoder.js';
import { diffHex } from './hexdump.js';
import { HOST_LITTLE_ENDIAN } from './bytes.js';

// Golden vectors write host-order fields little-endian (x86-64, arm64).
const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

function assertBytes(actual: Uint8Array, expected: number[]): void {
  const d = diffHex(actual, Uint8Array.from(expected));
  if (d !== undefined) assert.fail(`bytes differ\n${d}`);
}

test('MessageBuilder encodes header, nfgenmsg and typed attributes, zeroing padding', { skip }, () => {
  const b = new MessageBuilder(new Uint8Array(128).fill(0xa5));
  b.begin(0x0302, 0x0005, 0x01020304, 99);
  b.putNfgenmsg(2, 0, 0x0107);
  b.putAttrU8(1, 0x7f);
  b.putAttrU16be(2, 0x0102);
  b.putAttrU32be(3, 0xdeadbeef);
  b.putAttrU32ne(4, 0x11223344);
  b.putAttrU64be(5, 0x0102030405060708n);
  b.putAttrString(6, 'lo');
  b.putAttrEmpty(7);
  b.putAttr(8, Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd, 0xee]));
  assert.equal(b.end(), 0);
  assertBytes(b.bytes(), [
    0x58, 0x00, 0x00, 0x00, // nlmsg_len 88
    0x02, 0x03, //             nlmsg_type 0x0302
    0x05, 0x00, //             nlmsg_flags REQUEST|ACK
    0x04, 0x03, 0x02, 0x01, // nlmsg_seq 0x01020304
    0x63, 0x00, 0x00, 0x00, // nlmsg_pid 99
    0x02, //                   nfgen_family AF_INET
    0x00, //                   version NFNETLINK_V0
    0x01, 0x07, //             res_id 0x0107 (big-endian)
    0x05, 0x00, 0x01, 0x00, // nlattr len 5, type 1
    0x7f, 0x00, 0x00, 0x00, // u8 0x7f + 3 pad
    0x06, 0x00, 0x02, 0x00, // nlattr len 6, type 2
    0x01, 0x02, 0x00, 0x00, // be16 0x0102 + 2 pad
    0x08, 0x00, 0x03, 0x00, // nlattr len 8, type 3
    0xde, 0xad, 0xbe, 0xef, // be32 0xdeadbeef
    0x08, 0x00, 0x04, 0x00, // nlattr len 8, type 4
    0x44, 0x33, 0x22, 0x11, // u32 host order 0x11223344
    0x0c, 0x00, 0x05, 0x00, // nlattr len 12, type 5
    0x01, 0x02, 0x03, 0x04, // be64 high word
    0x05, 0x06, 0x07, 0x08, // be64 low word
    0x07, 0x00, 0x06, 0x00, // nlattr len 7, type 6
    0x6c, 0x6f, 0x00, 0x00, // "lo" NUL + 1 pad
    0x04, 0x00, 0x07, 0x00, // nlattr len 4, type 7 (flag, no payload)
    0x09, 0x00, 0x08, 0x00, // nlattr len 9, type 8
    0xaa, 0xbb, 0xcc, 0xdd, // bytes
    0xee, 0x00, 0x00, 0x00, // bytes + 3 pad
  ]);
});

test('MessageBuilder.nestStart()/nestEnd() set NLA_F_NESTED and the nest length', { skip }, () => {
  const b = new MessageBuilder(new Uint8Array(64).fill(0xa5));
  b.begin(16, 1, 0);
  const nest = b.nestStart(11);
  b.putAttrU32be(8, 0x11);
  b.nestEnd(nest);
  b.end();
  assertBytes(b.bytes(), [
    0x1c, 0x00, 0x00, 0x00, // nlmsg_len 28
    0x10, 0x00, //             nlmsg_type 16
    0x01, 0x00, //             nlmsg_flags REQUEST
    0x00, 0x00, 0x00, 0x00, // nlmsg_seq 0
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x0c, 0x00, 0x0b, 0x80, // nest len 12, type 11 | NLA_F_NESTED
    0x08, 0x00, 0x08, 0x00, //   nlattr len 8, type 8
    0x00, 0x00, 0x00, 0x11, //   be32 0x11
  ]);
});

test('MessageBuilder writes many messages back to back and grows its buffer', () => {
  const b = new MessageBuilder(64);
  for (let i = 0; i < 100; i++) {
    b.begin(0x0301, 1, i);
    b.putNfgenmsg(0, 0, 7);
    b.putAttr(10, new Uint8Array(37).fill(i));
    b.end();
  }
  assert.equal(b.length, 100 * (16 + 4 + 4 + 40));
  const it = new MessageIter().reset(b.bytes());
  const ad = new AttrDecoder();
  let n = 0;
  while (it.next()) {
    assert.equal(it.seq, n);
    ad.reset(it.buffer, it.payloadOffset + 4, it.end);
    assert.ok(ad.next());
    assert.deepEqual(ad.bytes(), new Uint8Array(37).fill(n));
    n++;
  }
  assert.equal(it.err, undefined);
  assert.equal(n, 100);
});

test('MessageBuilder.reset() reuses the buffer and bytes() is a view', () => {
  const b = new MessageBuilder(256);
  b.begin(1, 0, 0);
  b.end();
  const before = b.buffer;
  b.reset();
  assert.equal(b.length, 0);
  b.begin(2, 0, 0);
  b.end();
  assert.equal(b.buffer, before);
  assert.equal(b.bytes().buffer, before.buffer);
  assert.equal(b.bytes().length, 16);
});

test('MessageBuilder.begin() twice and end() without begin() throw TypeError', () => {
  const b = new MessageBuilder();
  assert.throws(() => b.end(), TypeError);
  b.begin(1, 0, 0);
  assert.throws(() => b.begin(1, 0, 0), TypeError);
});

test('MessageBuilder.putAttr() rejects payloads over 65531 bytes', () => {
  const b = new MessageBuilder();
  b.begin(1, 0, 0);
  assert.throws(() => b.putAttr(1, new Uint8Array(65532)), RangeError);
  b.putAttr(1, new Uint8Array(65531));
  assert.equal(b.messageLength, 16 + 4 + 65532);
});

test('MessageBuilder integer attributes keep their value when the buffer grows under them', () => {
  // A 64-byte builder grows several times; a put that read the old buffer before reserving
  // wrote its value into the discarded one (the 7th u32 below went out as 0).
  for (const put of ['u16be', 'u32be', 'u32ne', 'u64be'] as const) {
    const b = new MessageBuilder(64);
    b.begin(0x10, 0, 1);
    const values = Array.from({ length: 40 }, (_, i) => 0x1000 + i);
    for (const [i, v] of values.entries()) {
      if (put === 'u16be') b.putAttrU16be(i + 1, v);
      else if (put === 'u32be') b.putAttrU32be(i + 1, v);
      else if (put === 'u32ne') b.putAttrU32ne(i + 1, v);
      else b.putAttrU64be(i + 1, BigInt(v));
    }
    b.end();
    const ad = new AttrDecoder(b.bytes(), 16, b.length);
    const got: number[] = [];
    while (ad.next()) got.push(put === 'u16be' ? ad.u16be() : put === 'u32be' ? ad.u32be() : put === 'u32ne' ? ad.u32ne() : ad.u64beNumber());
    assert.deepEqual(got, values, put);
  }
});
