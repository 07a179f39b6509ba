import { test } from 'node:test';
import assert from 'node:assert/strict';
import { putBind, putFlags, putParams, putQueueMaxLen, putUnbind } from './config.js';
import { NFQA_CFG_F, NFQNL_COPY } from './constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { diffHex } from '../netlink/hexdump.js';

// Golden vectors: hand-built from the structs in include/uapi/linux/netfilter/nfnetlink_queue.h,
// host-order fields little-endian (x86-64, arm64).
const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

function assertBytes(actual: Uint8Array, expected: number[]): void {
  const d = diffHex(actual, Uint8Array.from(expected));
  if (d !== undefined) assert.fail(`bytes differ\n${d}`);
}

function builder(): MessageBuilder {
  return new MessageBuilder(new Uint8Array(128).fill(0xa5)); // proves padding is zeroed
}

/** nlmsghdr + nfgenmsg of a config request for queue 7. */
function configHeader(len: number, seq: number): number[] {
  return [
    len, 0x00, 0x00, 0x00, //  nlmsg_len
    0x02, 0x03, //             nlmsg_type NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG
    0x05, 0x00, //             nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
    seq, 0x00, 0x00, 0x00, //  nlmsg_seq
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x00, //                   nfgen_family AF_UNSPEC
    0x00, //                   version NFNETLINK_V0
    0x00, 0x07, //             res_id 7 (big-endian)
  ];
}

test('putBind() encodes NFQNL_CFG_CMD_BIND with the pf', { skip }, () => {
  const b = builder();
  putBind(b, 1, 7, 2);
  assertBytes(b.bytes(), [
    ...configHeader(28, 1),
    0x08, 0x00, //             nla_len 8
    0x01, 0x00, //             nla_type NFQA_CFG_CMD
    0x01, //                   command NFQNL_CFG_CMD_BIND
    0x00, //                   _pad
    0x00, 0x02, //             pf AF_INET (big-endian)
  ]);
});

test('putBind() defaults the pf to AF_UNSPEC', { skip }, () => {
  const b = builder();
  putBind(b, 1, 7);
  assert.deepEqual([...b.bytes().subarray(24, 28)], [0x01, 0x00, 0x00, 0x00]);
});

test('putUnbind() encodes NFQNL_CFG_CMD_UNBIND', { skip }, () => {
  const b = builder();
  putUnbind(b, 2, 7);
  assertBytes(b.bytes(), [
    ...configHeader(28, 2),
    0x08, 0x00, //             nla_len 8
    0x01, 0x00, //             nla_type NFQA_CFG_CMD
    0x02, //                   command NFQNL_CFG_CMD_UNBIND
    0x00, //                   _pad
    0x00, 0x00, //             pf AF_UNSPEC
  ]);
});

test('putParams() encodes NFQNL_COPY_PACKET with the maximum range', { skip }, () => {
  const b = builder();
  putParams(b, 3, 7, NFQNL_COPY.NFQNL_COPY_PACKET, 65531);
  assertBytes(b.bytes(), [
    ...configHeader(32, 3),
    0x09, 0x00, //             nla_len 9 (4 + packed 5-byte struct)
    0x02, 0x00, //             nla_type NFQA_CFG_PARAMS
    0x00, 0x00, 0xff, 0xfb, // copy_range 65531 (big-endian)
    0x02, //                   copy_mode NFQNL_COPY_PACKET
    0x00, 0x00, 0x00, //       padding
  ]);
});

test('putParams() encodes NFQNL_COPY_META and a custom range', { skip }, () => {
  const meta = builder();
  putParams(meta, 3, 7, NFQNL_COPY.NFQNL_COPY_META, 0);
  assert.deepEqual([...meta.bytes().subarray(24, 29)], [0x00, 0x00, 0x00, 0x00, 0x01]);
  const range = builder();
  putParams(range, 3, 7, NFQNL_COPY.NFQNL_COPY_PACKET, 128);
  assert.deepEqual([...range.bytes().subarray(24, 29)], [0x00, 0x00, 0x00, 0x80, 0x02]);
});

test('putQueueMaxLen() encodes NFQA_CFG_QUEUE_MAXLEN big-endian', { skip }, () => {
  const b = builder();
  putQueueMaxLen(b, 4, 7, 4096);
  assertBytes(b.bytes(), [
    ...configHeader(28, 4),
    0x08, 0x00, //             nla_len 8
    0x03, 0x00, //             nla_type NFQA_CFG_QUEUE_MAXLEN
    0x00, 0x00, 0x10, 0x00, // 4096 (big-endian)
  ]);
});

test('putFlags() encodes NFQA_CFG_FLAGS then NFQA_CFG_MASK', { skip }, () => {
  const b = builder();
  const { NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_GSO, NFQA_CFG_F_UID_GID } = NFQA_CFG_F;
  putFlags(b, 5, 7, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_UID_GID, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID);
  assertBytes(b.bytes(), [
    ...configHeader(36, 5),
    0x08, 0x00, //             nla_len 8
    0x05, 0x00, //             nla_type NFQA_CFG_FLAGS
    0x00, 0x00, 0x00, 0x09, // FAIL_OPEN | UID_GID (big-endian)
    0x08, 0x00, //             nla_len 8
    0x04, 0x00, //             nla_type NFQA_CFG_MASK
    0x00, 0x00, 0x00, 0x0d, // FAIL_OPEN | GSO | UID_GID (big-endian)
  ]);
});

test('config builders append to one buffer for a single send', () => {
  const b = new MessageBuilder();
  putBind(b, 1, 7);
  putParams(b, 2, 7, NFQNL_COPY.NFQNL_COPY_PACKET, 0);
  putQueueMaxLen(b, 3, 7, 1024);
  assert.equal(b.length, 28 + 32 + 28);
});

test('config builders reject bad numbers with RangeError and write nothing', () => {
  const b = new MessageBuilder();
  assert.throws(() => putBind(b, 1, 65536), RangeError);
  assert.throws(() => putBind(b, 1, -1), RangeError);
  assert.throws(() => putBind(b, 1, 1.5), RangeError);
  assert.throws(() => putParams(b, 1, 7, NFQNL_COPY.NFQNL_COPY_PACKET, 65532), RangeError);
  assert.throws(() => putParams(b, 1, 7, 256, 0), RangeError);
  assert.throws(() => putQueueMaxLen(b, 1, 7, -1), RangeError);
  assert.throws(() => putFlags(b, 1, 7, 2 ** 32, 1), RangeError);
  assert.equal(b.length, 0);
  putBind(b, 1, 65535); // still usable: no message was left open
  assert.equal(b.length, 28);
});
