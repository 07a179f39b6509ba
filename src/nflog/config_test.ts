import { test } from 'node:test';
import assert from 'node:assert/strict';
import { putLogBind, putLogFlags, putLogMode, putLogNlbufsiz, putLogQthresh, putLogTimeout, putLogUnbind } from './config.js';
import { NFULA, NFULA_CFG, NFULNL_CFG_F, NFULNL_COPY, NFULNL_COPY_RANGE_MAX, NFULNL_MSG } from './constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { diffHex } from '../netlink/hexdump.js';

// Golden vectors: hand-built from the structs in include/uapi/linux/netfilter/nfnetlink_log.h
// and the policy of nfulnl_recv_config (net/netfilter/nfnetlink_log.c); host-order fields
// little-endian (x86-64, arm64).
const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

function assertBytes(actual: Uint8Array, expected: number[]): void {
  const d = diffHex(actual, Uint8Array.from(expected));
  if (d !== undefined) assert.fail(`bytes differ\n${d}`);
}

function builder(): MessageBuilder {
  return new MessageBuilder(new Uint8Array(128).fill(0xa5)); // proves padding is zeroed
}

/** nlmsghdr + nfgenmsg of a config request for group 7. */
function configHeader(len: number, seq: number): number[] {
  return [
    len, 0x00, 0x00, 0x00, //  nlmsg_len
    0x01, 0x04, //             nlmsg_type NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG
    0x05, 0x00, //             nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
    seq, 0x00, 0x00, 0x00, //  nlmsg_seq
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x00, //                   nfgen_family AF_UNSPEC
    0x00, //                   version NFNETLINK_V0
    0x00, 0x07, //             res_id 7 (big-endian)
  ];
}

test('NFULA and NFULA_CFG values follow nfnetlink_log.h', () => {
  const values = Object.values(NFULA);
  assert.deepEqual(values, values.map((_, i) => i), 'dense 0..21');
  assert.equal(NFULA.NFULA_PAYLOAD, 9);
  assert.equal(NFULA.NFULA_L2HDR, 21);
  assert.deepEqual(Object.values(NFULA_CFG), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Object.values(NFULNL_MSG), [0, 1]);
  assert.equal(NFULNL_COPY_RANGE_MAX, 65531);
});

test('putLogBind() encodes NFULNL_CFG_CMD_BIND as one byte', { skip }, () => {
  const b = builder();
  putLogBind(b, 1, 7);
  assertBytes(b.bytes(), [
    ...configHeader(28, 1),
    0x05, 0x00, //             nla_len 5 (4 + packed 1-byte struct)
    0x01, 0x00, //             nla_type NFULA_CFG_CMD
    0x01, //                   command NFULNL_CFG_CMD_BIND
    0x00, 0x00, 0x00, //       padding
  ]);
});

test('putLogUnbind() encodes NFULNL_CFG_CMD_UNBIND', { skip }, () => {
  const b = builder();
  putLogUnbind(b, 2, 7);
  assertBytes(b.bytes(), [
    ...configHeader(28, 2),
    0x05, 0x00, //             nla_len 5
    0x01, 0x00, //             nla_type NFULA_CFG_CMD
    0x02, //                   command NFULNL_CFG_CMD_UNBIND
    0x00, 0x00, 0x00, //       padding
  ]);
});

test('putLogMode() encodes struct nfulnl_msg_config_mode (6 bytes)', { skip }, () => {
  const b = builder();
  putLogMode(b, 3, 7, NFULNL_COPY.NFULNL_COPY_PACKET, 65531);
  assertBytes(b.bytes(), [
    ...configHeader(32, 3),
    0x0a, 0x00, //             nla_len 10 (4 + packed 6-byte struct)
    0x02, 0x00, //             nla_type NFULA_CFG_MODE
    0x00, 0x00, 0xff, 0xfb, // copy_range 65531 (big-endian)
    0x02, //                   copy_mode NFULNL_COPY_PACKET
    0x00, //                   _pad
    0x00, 0x00, //             padding
  ]);
});

test('putLogQthresh(), putLogTimeout() and putLogNlbufsiz() encode big-endian u32s', { skip }, () => {
  const q = builder();
  putLogQthresh(q, 4, 7, 1);
  assertBytes(q.bytes(), [
    ...configHeader(28, 4),
    0x08, 0x00, //             nla_len 8
    0x05, 0x00, //             nla_type NFULA_CFG_QTHRESH
    0x00, 0x00, 0x00, 0x01, // 1 (big-endian)
  ]);
  const t = builder();
  putLogTimeout(t, 5, 7, 100);
  assert.deepEqual([...t.bytes().subarray(20)], [0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x64]);
  const n = builder();
  putLogNlbufsiz(n, 6, 7, 65536);
  assert.deepEqual([...n.bytes().subarray(20)], [0x08, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00, 0x00]);
});

test('putLogFlags() encodes NFULA_CFG_FLAGS as a be16 with no mask', { skip }, () => {
  const b = builder();
  putLogFlags(b, 7, 7, NFULNL_CFG_F.NFULNL_CFG_F_SEQ | NFULNL_CFG_F.NFULNL_CFG_F_CONNTRACK);
  assertBytes(b.bytes(), [
    ...configHeader(28, 7),
    0x06, 0x00, //             nla_len 6
    0x06, 0x00, //             nla_type NFULA_CFG_FLAGS
    0x00, 0x05, //             SEQ | CONNTRACK (big-endian)
    0x00, 0x00, //             padding
  ]);
});

test('config builders reject what the kernel would refuse or silently ignore, and write nothing', () => {
  const b = new MessageBuilder();
  assert.throws(() => putLogBind(b, 1, 65536), /NFLOG group must be an integer from 0 to 65535, got 65536/);
  assert.throws(() => putLogBind(b, 1, -1), RangeError);
  assert.throws(() => putLogMode(b, 1, 7, 3, 0), /copy mode must be 0 \(none\), 1 \(meta\) or 2 \(packet\)/);
  assert.throws(() => putLogMode(b, 1, 7, NFULNL_COPY.NFULNL_COPY_PACKET, 65532), /copy range must be an integer from 0 to 65531/);
  assert.throws(() => putLogQthresh(b, 1, 7, 0), /queue threshold must be an integer from 1/);
  assert.throws(() => putLogTimeout(b, 1, 7, 0.5), RangeError);
  assert.throws(() => putLogNlbufsiz(b, 1, 7, 1024), /buffer size must be an integer from 3776 to 131072/);
  assert.throws(() => putLogNlbufsiz(b, 1, 7, 131073), RangeError);
  assert.throws(() => putLogFlags(b, 1, 7, 8), /NFULNL_CFG_F_SEQ \(1\), _SEQ_GLOBAL \(2\) and _CONNTRACK \(4\), got 8/);
  assert.equal(b.length, 0);
  putLogBind(b, 1, 65535); // still usable: no message was left open
  assert.equal(b.length, 28);
});
