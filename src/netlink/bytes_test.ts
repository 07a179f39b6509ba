import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HOST_LITTLE_ENDIAN,
  i32ne,
  putU16be,
  putU16ne,
  putU32be,
  putU32ne,
  putU64be,
  u16be,
  u16ne,
  u32be,
  u32ne,
  u64beBig,
  u64beNumber,
} from './bytes.js';
import { NLA_ALIGN, NLMSG_ALIGN } from './align.js';

test('HOST_LITTLE_ENDIAN matches os.endianness()', async () => {
  const { endianness } = await import('node:os');
  assert.equal(HOST_LITTLE_ENDIAN, endianness() === 'LE');
});

test('u16be()/u32be()/u64be*() read network order', () => {
  const b = Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]);
  assert.equal(u16be(b, 0), 0x0102);
  assert.equal(u32be(b, 0), 0x01020304);
  assert.equal(u64beBig(b, 0), 0x0102030405060708n);
  assert.equal(u64beNumber(b, 0), 0x0102030405060708);
  assert.equal(u32be(Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 0), 0xffffffff);
});

test('u16ne()/u32ne()/i32ne() read host order', () => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, 0xfffffffe, HOST_LITTLE_ENDIAN);
  assert.equal(u32ne(b, 0), 0xfffffffe);
  assert.equal(i32ne(b, 0), -2);
  new DataView(b.buffer).setUint16(0, 0x1234, HOST_LITTLE_ENDIAN);
  assert.equal(u16ne(b, 0), 0x1234);
});

test('put*() writers round-trip with their readers', () => {
  const b = new Uint8Array(8);
  putU16be(b, 0, 0xabcd);
  assert.deepEqual([...b.subarray(0, 2)], [0xab, 0xcd]);
  putU32be(b, 0, 0xdeadbeef);
  assert.deepEqual([...b.subarray(0, 4)], [0xde, 0xad, 0xbe, 0xef]);
  putU64be(b, 0, 0x1122334455667788n);
  assert.deepEqual([...b], [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
  putU32ne(b, 0, 0x80000001);
  assert.equal(u32ne(b, 0), 0x80000001);
  putU16ne(b, 4, 0xbeef);
  assert.equal(u16ne(b, 4), 0xbeef);
});

test('NLMSG_ALIGN() and NLA_ALIGN() round up to 4', () => {
  assert.deepEqual([0, 1, 4, 5, 7, 8].map(NLMSG_ALIGN), [0, 4, 4, 8, 8, 8]);
  assert.deepEqual([0, 3, 9].map(NLA_ALIGN), [0, 4, 12]);
});
