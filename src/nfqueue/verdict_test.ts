import { test } from 'node:test';
import assert from 'node:assert/strict';
import { putVerdict, putVerdictBatch } from './verdict.js';
import { NF_QUEUE_NR, NF_VERDICT, NF_VERDICT_FLAG_QUEUE_BYPASS } from './constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
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
  return new MessageBuilder(new Uint8Array(128).fill(0xa5));
}

/** nlmsghdr + nfgenmsg + NFQA_VERDICT_HDR for queue 7, packet id 0x01020304. */
function verdictHead(len: number, type: number, flags: number, verdict: number[]): number[] {
  return [
    len, 0x00, 0x00, 0x00, //  nlmsg_len
    type, 0x03, //             nlmsg_type NFNL_SUBSYS_QUEUE << 8 | type
    flags, 0x00, //            nlmsg_flags
    0x09, 0x00, 0x00, 0x00, // nlmsg_seq 9
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x00, //                   nfgen_family AF_UNSPEC
    0x00, //                   version NFNETLINK_V0
    0x00, 0x07, //             res_id 7 (big-endian)
    0x0c, 0x00, //             nla_len 12
    0x02, 0x00, //             nla_type NFQA_VERDICT_HDR
    ...verdict, //             verdict (big-endian)
    0x01, 0x02, 0x03, 0x04, // id 0x01020304 (big-endian)
  ];
}

const ID = 0x01020304;

test('putVerdict() encodes NF_ACCEPT without NLM_F_ACK', { skip }, () => {
  const b = builder();
  putVerdict(b, 9, 7, ID, NF_VERDICT.NF_ACCEPT);
  assertBytes(b.bytes(), verdictHead(32, 0x01, 0x01, [0x00, 0x00, 0x00, 0x01]));
});

test('putVerdict() encodes NF_DROP', { skip }, () => {
  const b = builder();
  putVerdict(b, 9, 7, ID, NF_VERDICT.NF_DROP);
  assertBytes(b.bytes(), verdictHead(32, 0x01, 0x01, [0x00, 0x00, 0x00, 0x00]));
});

test('putVerdict() encodes NF_REPEAT with a mark', { skip }, () => {
  const b = builder();
  putVerdict(b, 9, 7, ID, NF_VERDICT.NF_REPEAT, { mark: 0xcafe0001 });
  assertBytes(b.bytes(), [
    ...verdictHead(40, 0x01, 0x01, [0x00, 0x00, 0x00, 0x04]), // NF_REPEAT
    0x08, 0x00, //             nla_len 8
    0x03, 0x00, //             nla_type NFQA_MARK
    0xca, 0xfe, 0x00, 0x01, // mark (big-endian)
  ]);
});

test('putVerdict() encodes NF_QUEUE_NR with bypass', { skip }, () => {
  const b = builder();
  putVerdict(b, 9, 7, ID, NF_QUEUE_NR(9) | NF_VERDICT_FLAG_QUEUE_BYPASS);
  // 9 << 16 | 0x8000 (bypass) | 3 (NF_QUEUE)
  assertBytes(b.bytes(), verdictHead(32, 0x01, 0x01, [0x00, 0x09, 0x80, 0x03]));
});

test('putVerdict() encodes a replacement payload with padding', { skip }, () => {
  const b = builder();
  putVerdict(b, 9, 7, ID, NF_VERDICT.NF_ACCEPT, { payload: Uint8Array.from([0x45, 0x00, 0x00, 0x05, 0xee]) });
  assertBytes(b.bytes(), [
    ...verdictHead(44, 0x01, 0x01, [0x00, 0x00, 0x00, 0x01]),
    0x09, 0x00, //             nla_len 9
    0x0a, 0x00, //             nla_type NFQA_PAYLOAD
    0x45, 0x00, 0x00, 0x05, // packet bytes
    0xee, 0x00, 0x00, 0x00, // last byte + 3 pad
  ]);
});

test('putVerdict() encodes mark, priority, connmark and payload together, with NLM_F_ACK', { skip }, () => {
  const b = builder();
  putVerdict(b, 9, 7, ID, NF_VERDICT.NF_ACCEPT, {
    mark: 1,
    priority: 6,
    connmark: 0x11,
    payload: Uint8Array.from([0x60, 0x00, 0x00, 0x00]),
    ack: true,
  });
  assertBytes(b.bytes(), [
    ...verdictHead(68, 0x01, 0x05, [0x00, 0x00, 0x00, 0x01]), // flags REQUEST | ACK
    0x08, 0x00, //             nla_len 8
    0x03, 0x00, //             nla_type NFQA_MARK
    0x00, 0x00, 0x00, 0x01, // mark 1
    0x08, 0x00, //             nla_len 8
    0x15, 0x00, //             nla_type NFQA_PRIORITY
    0x00, 0x00, 0x00, 0x06, // priority 6
    0x0c, 0x00, //             nla_len 12
    0x0b, 0x80, //             nla_type NFQA_CT | NLA_F_NESTED
    0x08, 0x00, //               nla_len 8
    0x08, 0x00, //               nla_type CTA_MARK
    0x00, 0x00, 0x00, 0x11, //   connmark 0x11
    0x08, 0x00, //             nla_len 8
    0x0a, 0x00, //             nla_type NFQA_PAYLOAD
    0x60, 0x00, 0x00, 0x00, // packet bytes
  ]);
});

test('putVerdictBatch() encodes NFQNL_MSG_VERDICT_BATCH with a mark', { skip }, () => {
  const b = builder();
  putVerdictBatch(b, 9, 7, ID, NF_VERDICT.NF_ACCEPT, 0x20);
  assertBytes(b.bytes(), [
    ...verdictHead(40, 0x03, 0x01, [0x00, 0x00, 0x00, 0x01]), // type 0x0303, id = max id
    0x08, 0x00, //             nla_len 8
    0x03, 0x00, //             nla_type NFQA_MARK
    0x00, 0x00, 0x00, 0x20, // mark 0x20
  ]);
});

test('putVerdictBatch() without a mark has only the verdict header', { skip }, () => {
  const b = builder();
  putVerdictBatch(b, 9, 7, ID, NF_VERDICT.NF_DROP);
  assertBytes(b.bytes(), verdictHead(32, 0x03, 0x01, [0x00, 0x00, 0x00, 0x00]));
});

test('putVerdict() appends many verdicts to one datagram', () => {
  const b = new MessageBuilder(256);
  for (let id = 1; id <= 1000; id++) putVerdict(b, 0, 7, id, id % 2 ? NF_VERDICT.NF_ACCEPT : NF_VERDICT.NF_DROP);
  assert.equal(b.length, 32 * 1000);
  const it = new MessageIter().reset(b.bytes());
  let n = 0;
  while (it.next()) {
    n++;
    assert.equal(it.type, 0x0301);
    assert.equal(it.length, 32);
  }
  assert.equal(n, 1000);
});

test('putVerdict() rejects bad numbers with RangeError and leaves no message open', () => {
  const b = new MessageBuilder();
  assert.throws(() => putVerdict(b, 0, 70000, 1, 1), RangeError);
  assert.throws(() => putVerdict(b, 0, 7, -1, 1), RangeError);
  assert.throws(() => putVerdict(b, 0, 7, 1, 2 ** 32), RangeError);
  assert.throws(() => putVerdict(b, 0, 7, 1, 1, { mark: -1 }), RangeError);
  assert.throws(() => putVerdict(b, 0, 7, 1, 1, { connmark: 1.5 }), RangeError);
  assert.throws(() => putVerdict(b, 0, 7, 1, 1, { payload: new Uint8Array(65532) }), RangeError);
  assert.throws(() => putVerdictBatch(b, 0, 7, 1, 1, 2 ** 32), RangeError);
  assert.equal(b.length, 0);
  putVerdict(b, 0, 7, 1, 1);
  assert.equal(b.length, 32);
});

test('NF_QUEUE_NR() puts the queue in the high 16 bits', () => {
  assert.equal(NF_QUEUE_NR(0), 3);
  assert.equal(NF_QUEUE_NR(65535), 0xffff0003);
  assert.equal(NF_QUEUE_NR(65536), 3, 'masked like the C macro');
});
