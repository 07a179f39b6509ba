import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNlmsgerr, toNetlinkError } from './netlink_error.js';
import { MessageIter } from './message_iter.js';
import { HOST_LITTLE_ENDIAN } from './bytes.js';
import { NetlinkError, PacketError } from '../errors.js';

const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

const ECHOED_BIND_HEADER = [
  0x1c, 0x00, 0x00, 0x00, // echoed nlmsg_len 28
  0x02, 0x03, //             echoed nlmsg_type 0x0302 (queue config)
  0x05, 0x00, //             echoed nlmsg_flags REQUEST|ACK
  0x05, 0x00, 0x00, 0x00, // echoed nlmsg_seq 5
  0xd2, 0x04, 0x00, 0x00, // echoed nlmsg_pid 1234
];

const NACK_CAPPED_WITH_EXTACK = [
  0x3c, 0x00, 0x00, 0x00, // nlmsg_len 60
  0x02, 0x00, //             nlmsg_type NLMSG_ERROR
  0x00, 0x03, //             nlmsg_flags NLM_F_CAPPED | NLM_F_ACK_TLVS
  0x05, 0x00, 0x00, 0x00, // nlmsg_seq 5
  0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
  0xff, 0xff, 0xff, 0xff, // error -1 (EPERM)
  ...ECHOED_BIND_HEADER,
  0x0f, 0x00, 0x01, 0x00, // nla_len 15, NLMSGERR_ATTR_MSG
  0x71, 0x75, 0x65, 0x75, // "queu"
  0x65, 0x20, 0x62, 0x75, // "e bu"
  0x73, 0x79, 0x00, 0x00, // "sy" NUL + 1 pad
  0x08, 0x00, 0x02, 0x00, // nla_len 8, NLMSGERR_ATTR_OFFS
  0x14, 0x00, 0x00, 0x00, // u32 20
];

test('parseNlmsgerr() decodes a capped NACK with extack message and offset', { skip }, () => {
  const it = new MessageIter().reset(Uint8Array.from(NACK_CAPPED_WITH_EXTACK));
  assert.ok(it.next());
  const e = parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags);
  assert.deepEqual(e, { errno: 1, seq: 5, type: 0x0302, pid: 1234, extack: { message: 'queue busy', offset: 20 } });
});

test('parseNlmsgerr() skips the echoed request payload when NLM_F_CAPPED is clear', { skip }, () => {
  const bytes = Uint8Array.from([
    0x40, 0x00, 0x00, 0x00, // nlmsg_len 64
    0x02, 0x00, //             nlmsg_type NLMSG_ERROR
    0x00, 0x02, //             nlmsg_flags NLM_F_ACK_TLVS (not capped)
    0x05, 0x00, 0x00, 0x00, // nlmsg_seq 5
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0xea, 0xff, 0xff, 0xff, // error -22 (EINVAL)
    ...ECHOED_BIND_HEADER,
    0x00, 0x00, 0x00, 0x07, // echoed nfgenmsg: AF_UNSPEC, v0, res_id 7
    0x08, 0x00, 0x01, 0x00, // echoed nlattr len 8, NFQA_CFG_CMD
    0x01, 0x00, 0x00, 0x00, // echoed cmd BIND, pad, pf 0
    0x08, 0x00, 0x05, 0x00, // nla_len 8, NLMSGERR_ATTR_MISS_TYPE
    0x04, 0x00, 0x00, 0x00, // u32 4
    0x08, 0x00, 0x06, 0x00, // nla_len 8, NLMSGERR_ATTR_MISS_NEST
    0x14, 0x00, 0x00, 0x00, // u32 20
  ]);
  const e = parseNlmsgerr(bytes, 16, bytes.length, 0x200);
  assert.equal(e.errno, 22);
  assert.deepEqual(e.extack, { missingType: 4, missingNest: 20 });
});

test('parseNlmsgerr() decodes an ACK as errno 0', { skip }, () => {
  const bytes = Uint8Array.from([
    0x24, 0x00, 0x00, 0x00, // nlmsg_len 36
    0x02, 0x00, //             nlmsg_type NLMSG_ERROR
    0x00, 0x01, //             nlmsg_flags NLM_F_CAPPED
    0x05, 0x00, 0x00, 0x00, // nlmsg_seq 5
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x00, 0x00, 0x00, 0x00, // error 0 (ACK)
    ...ECHOED_BIND_HEADER,
  ]);
  assert.deepEqual(parseNlmsgerr(bytes, 16, 36, 0x100), { errno: 0, seq: 5, type: 0x0302, pid: 1234, extack: {} });
  assert.throws(() => toNetlinkError('bind queue 7', parseNlmsgerr(bytes, 16, 36, 0x100)), RangeError);
});

test('toNetlinkError() carries errno name, seq and extack', { skip }, () => {
  const bytes = Uint8Array.from(NACK_CAPPED_WITH_EXTACK);
  const err = toNetlinkError('Cannot bind queue 7', parseNlmsgerr(bytes, 16, bytes.length, 0x300));
  assert.ok(err instanceof NetlinkError);
  assert.equal(err.code, 'EPERM');
  assert.equal(err.errno, 1);
  assert.equal(err.seq, 5);
  assert.equal(err.op, 'Cannot bind queue 7');
  assert.equal(err.extackMessage, 'queue busy');
  assert.equal(err.extackOffset, 20);
  assert.match(err.message, /queue busy/);
});

test('parseNlmsgerr() throws PacketError on a short payload or a bad echoed length', { skip }, () => {
  const bytes = Uint8Array.from(NACK_CAPPED_WITH_EXTACK);
  assert.throws(() => parseNlmsgerr(bytes, 16, 30, 0x300), PacketError);
  const lying = Uint8Array.from(NACK_CAPPED_WITH_EXTACK);
  lying[20] = 0xff; // echoed nlmsg_len 255, not capped: the TLVs would start past the end
  assert.throws(() => parseNlmsgerr(lying, 16, lying.length, 0x200), PacketError);
  const badTlv = Uint8Array.from(NACK_CAPPED_WITH_EXTACK);
  badTlv[36] = 0x40; // NLMSGERR_ATTR_MSG nla_len 64 runs past the message
  assert.throws(() => parseNlmsgerr(badTlv, 16, badTlv.length, 0x300), PacketError);
});

test('parseNlmsgerr() throws PacketError, not RangeError, when the echoed nlmsg_len is near 2^32 (fuzz finding)', { skip }, () => {
  // NLMSG_ALIGN(0xffffffff) is negative in 32-bit arithmetic: the TLVs seemed to start before
  // the message and AttrDecoder.reset() threw RangeError.
  const bytes = Uint8Array.from(NACK_CAPPED_WITH_EXTACK);
  bytes.set([0xff, 0xff, 0xff, 0xff], 20);
  assert.throws(() => parseNlmsgerr(bytes, 16, bytes.length, 0x200), (e: unknown) => e instanceof PacketError && /overruns/.test(e.message));
  bytes.set([0xfc, 0xff, 0xff, 0x7f], 20);
  assert.throws(() => parseNlmsgerr(bytes, 16, bytes.length, 0x200), PacketError);
});
