import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { decodeComment, decodeUdata, encodeComment, encodeUdata, NFTNL_UDATA_RULE } from './udata.js';

test('encodeComment() writes the TLV nft writes for comment "hi"', () => {
  // nft 1.0.6 `add rule … comment "hi"`: NFTA_RULE_USERDATA = 00 03 68 69 00
  assert.deepEqual([...encodeComment('hi')], [
    0x00, //             type NFTNL_UDATA_RULE_COMMENT
    0x03, //             len, the NUL included
    0x68, 0x69, 0x00, // "hi" NUL
  ]);
});

test('decodeComment() reads a comment among other TLVs, and nothing from bytes that are not TLVs', () => {
  const bytes = encodeUdata([{ type: 9, value: Uint8Array.of(1, 2) }, { type: NFTNL_UDATA_RULE.NFTNL_UDATA_RULE_COMMENT, value: new TextEncoder().encode('divert 1\0') }]);
  assert.equal(decodeComment(bytes), 'divert 1');
  assert.equal(decodeComment(Uint8Array.of(0, 9, 1)), undefined);
  assert.equal(decodeComment(Uint8Array.of(5, 1, 1)), undefined);
});

test('decodeUdata() round-trips encodeUdata() and refuses an item running past the end', () => {
  const items = [{ type: 0, value: Uint8Array.of(0x61, 0) }, { type: 1, value: new Uint8Array(0) }];
  assert.deepEqual(decodeUdata(encodeUdata(items)), items);
  assert.throws(() => decodeUdata(Uint8Array.of(0, 4, 1)), PacketError);
  assert.throws(() => decodeUdata(Uint8Array.of(0)), PacketError);
});

test('encodeUdata() and encodeComment() refuse what the kernel or nft would', () => {
  assert.throws(() => encodeUdata([{ type: 0, value: new Uint8Array(255) }]), RangeError); // 257 > NFT_USERDATA_MAXLEN
  assert.throws(() => encodeComment('x'.repeat(128)), RangeError);
  assert.equal(encodeComment('x'.repeat(127)).length, 130);
});
