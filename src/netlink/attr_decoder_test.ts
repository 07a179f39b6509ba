import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrDecoder } from './attr_decoder.js';
import { MessageBuilder } from './message_builder.js';
import { HOST_LITTLE_ENDIAN } from './bytes.js';
import { PacketError } from '../errors.js';

const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

const ATTRS = [
  0x05, 0x00, 0x01, 0x00, // nla_len 5, type 1
  0x2a, 0x00, 0x00, 0x00, // u8 42 + 3 pad
  0x08, 0x00, 0x02, 0x40, // nla_len 8, type 2 | NLA_F_NET_BYTEORDER
  0x00, 0x01, 0x00, 0x00, // be32 65536
  0x08, 0x00, 0x03, 0x00, // nla_len 8, type 3
  0x00, 0x00, 0x01, 0x00, // u32 host order (LE) 0x00010000
  0x0a, 0x00, 0x04, 0x00, // nla_len 10, type 4
  0x65, 0x74, 0x68, 0x30, // "eth0"
  0x00, 0x00, 0x00, 0x00, // NUL, NUL + 2 pad
  0x0c, 0x00, 0x05, 0x80, // nla_len 12, type 5 | NLA_F_NESTED
  0x08, 0x00, 0x01, 0x00, //   nla_len 8, type 1
  0x00, 0x00, 0x00, 0x07, //   be32 7
  0x0c, 0x00, 0x06, 0x00, // nla_len 12, type 6
  0x00, 0x00, 0x00, 0x01, // be64 high word
  0x00, 0x00, 0x00, 0x02, // be64 low word
];

test('AttrDecoder walks attributes, masks the type and reads each byte order', { skip }, () => {
  const buf = Uint8Array.from(ATTRS);
  const ad = new AttrDecoder(buf, 0, buf.length);
  assert.ok(ad.next());
  assert.deepEqual([ad.type, ad.length, ad.offset, ad.nested, ad.u8()], [1, 1, 4, false, 42]);
  assert.ok(ad.next());
  assert.deepEqual([ad.type, ad.u32be(), ad.u16be()], [2, 65536, 1]);
  assert.ok(ad.next());
  assert.deepEqual([ad.type, ad.u32ne()], [3, 0x00010000]);
  assert.ok(ad.next());
  assert.deepEqual([ad.type, ad.string(), ad.bytes().length], [4, 'eth0', 6]);
  assert.equal(ad.bytes().buffer, buf.buffer, 'bytes() is a view, not a copy');
  assert.ok(ad.next());
  assert.deepEqual([ad.type, ad.nested], [5, true]);
  const inner = ad.nestedDecoder();
  assert.ok(inner.next());
  assert.deepEqual([inner.type, inner.u32be()], [1, 7]);
  assert.equal(inner.next(), false);
  assert.ok(ad.next());
  assert.deepEqual([ad.type, ad.u64be(), ad.u64beNumber()], [6, 0x100000002n, 0x100000002]);
  assert.equal(ad.next(), false);
  assert.equal(ad.err, undefined);
});

test('AttrDecoder readers on a short payload set a sticky error and return 0', () => {
  const b = new MessageBuilder();
  b.begin(1, 0, 0);
  b.putAttrU16be(1, 5);
  b.putAttrU32be(2, 6);
  b.end();
  const ad = new AttrDecoder(b.bytes(), 16, b.length);
  assert.ok(ad.next());
  assert.equal(ad.u32be(), 0);
  assert.ok(ad.err instanceof PacketError);
  assert.equal(ad.next(), false, 'next() stops after an error');
});

test('AttrDecoder reports nla_len past the end and below 4', { skip }, () => {
  const past = new AttrDecoder(Uint8Array.from([0x10, 0x00, 0x01, 0x00, 0, 0, 0, 0]), 0, 8);
  assert.equal(past.next(), false);
  assert.match(String(past.err?.message), /exceeds the 8 bytes left/);
  const tiny = new AttrDecoder(Uint8Array.from([0x02, 0x00, 0x01, 0x00]), 0, 4);
  assert.equal(tiny.next(), false);
  assert.match(String(tiny.err?.message), /below the header size/);
  const trailing = new AttrDecoder(Uint8Array.from([0x04, 0x00, 0x01, 0x00, 0x09]), 0, 5);
  assert.ok(trailing.next());
  assert.equal(trailing.next(), false);
  assert.match(String(trailing.err?.message), /trailing bytes/);
});

test('AttrDecoder.reset() reuses the decoder and clears the error', () => {
  const ad = new AttrDecoder(Uint8Array.from([1, 0]), 0, 2);
  assert.equal(ad.next(), false);
  assert.ok(ad.err);
  const b = new MessageBuilder();
  b.begin(1, 0, 0);
  b.putAttrU32be(9, 0xcafe);
  b.end();
  ad.reset(b.bytes(), 16, b.length);
  assert.equal(ad.err, undefined);
  assert.ok(ad.next());
  assert.deepEqual([ad.type, ad.u32be()], [9, 0xcafe]);
});

test('AttrDecoder.nestedInto() reuses a second decoder', () => {
  const b = new MessageBuilder();
  b.begin(1, 0, 0);
  const n = b.nestStart(3);
  b.putAttrString(1, 'x');
  b.nestEnd(n);
  b.end();
  const outer = new AttrDecoder(b.bytes(), 16, b.length);
  const inner = new AttrDecoder();
  assert.ok(outer.next());
  assert.equal(outer.nestedInto(inner), inner);
  assert.ok(inner.next());
  assert.equal(inner.string(), 'x');
});

test('AttrDecoder.reset() rejects a range outside the buffer', () => {
  assert.throws(() => new AttrDecoder().reset(new Uint8Array(4), 0, 5), RangeError);
});
