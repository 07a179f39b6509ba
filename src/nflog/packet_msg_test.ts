import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLogMessage, type LogMeta } from './packet_msg.js';
import { NFULA } from './constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { HOST_LITTLE_ENDIAN, putU16be } from '../netlink/bytes.js';
import { NlmsgType } from '../netlink/constants.js';
import { PacketError } from '../errors.js';

// Hand-built NFULNL_MSG_PACKET carrying what __build_packet_message sends for an IPv4 packet at
// prerouting on an Ethernet device (net/netfilter/nfnetlink_log.c, in its order), host-order
// fields little-endian. Addresses: RFC 5737, MACs: RFC 7042 documentation range.
const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

const LOG_MSG = [
  0xac, 0x00, 0x00, 0x00, // nlmsg_len 172
  0x00, 0x04, //             nlmsg_type NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET
  0x00, 0x00, //             nlmsg_flags 0
  0x00, 0x00, 0x00, 0x00, // nlmsg_seq 0
  0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0 (kernel)
  0x02, //                   nfgen_family NFPROTO_IPV4
  0x00, //                   version NFNETLINK_V0
  0x00, 0x07, //             res_id 7: the group (big-endian)
  0x08, 0x00, 0x01, 0x00, // nla_len 8, NFULA_PACKET_HDR
  0x08, 0x00, //               hw_protocol 0x0800 (IPv4)
  0x00, //                     hook NF_INET_PRE_ROUTING
  0x00, //                     _pad
  0x0a, 0x00, 0x0a, 0x00, // nla_len 10, NFULA_PREFIX
  0x73, 0x6e, 0x69, 0x66, //   "snif"
  0x66, 0x00, 0x00, 0x00, //   "f\0" + 2 pad
  0x08, 0x00, 0x04, 0x00, // nla_len 8, NFULA_IFINDEX_INDEV
  0x00, 0x00, 0x00, 0x02, //   2
  0x08, 0x00, 0x02, 0x00, // nla_len 8, NFULA_MARK
  0x40, 0x00, 0x00, 0x00, //   0x40000000
  0x10, 0x00, 0x08, 0x00, // nla_len 16, NFULA_HWADDR
  0x00, 0x06, //               hw_addrlen 6
  0x00, 0x00, //               _pad
  0x02, 0x00, 0x5e, 0x00, //   hw_addr 02:00:5e:00:
  0x53, 0x01, 0x00, 0x00, //   53:01, 2 unused
  0x06, 0x00, 0x0f, 0x00, // nla_len 6, NFULA_HWTYPE
  0x00, 0x01, 0x00, 0x00, //   ARPHRD_ETHER + 2 pad
  0x06, 0x00, 0x11, 0x00, // nla_len 6, NFULA_HWLEN
  0x00, 0x0e, 0x00, 0x00, //   14 + 2 pad
  0x12, 0x00, 0x10, 0x00, // nla_len 18, NFULA_HWHEADER
  0x02, 0x00, 0x5e, 0x00, //   dst MAC
  0x53, 0x02, 0x02, 0x00, //   ... src MAC
  0x5e, 0x00, 0x53, 0x01, //   ...
  0x08, 0x00, 0x00, 0x00, //   ethertype 0x0800 + 2 pad
  0x14, 0x00, 0x03, 0x00, // nla_len 20, NFULA_TIMESTAMP
  0x00, 0x00, 0x00, 0x00, //   sec high
  0x65, 0x53, 0xf1, 0x00, //   sec low: 1700000000
  0x00, 0x00, 0x00, 0x00, //   usec high
  0x00, 0x01, 0xe2, 0x40, //   usec low: 123456
  0x08, 0x00, 0x0b, 0x00, // nla_len 8, NFULA_UID
  0x00, 0x00, 0x03, 0xe8, //   1000
  0x08, 0x00, 0x0e, 0x00, // nla_len 8, NFULA_GID
  0x00, 0x00, 0x03, 0xe9, //   1001
  0x08, 0x00, 0x0c, 0x00, // nla_len 8, NFULA_SEQ
  0x00, 0x00, 0x00, 0x05, //   5
  0x08, 0x00, 0x0d, 0x00, // nla_len 8, NFULA_SEQ_GLOBAL
  0x00, 0x00, 0x01, 0x00, //   256
  0x0c, 0x00, 0x09, 0x00, // nla_len 12, NFULA_PAYLOAD
  0x45, 0x00, 0x00, 0x54, //   IPv4 header start (total length 84)
  0x00, 0x01, 0x40, 0x00, //   id 1, DF
];

const EXPECTED: LogMeta = {
  group: 7,
  family: 2,
  hwProtocol: 0x0800,
  hook: 0,
  prefix: 'sniff',
  mark: 0x40000000,
  indev: 2,
  outdev: 0,
  physindev: 0,
  physoutdev: 0,
  timestamp: 1700000000123.456,
  timestampSec: 1700000000,
  timestampUsec: 123456,
  hwAddr: '02:00:5e:00:53:01',
  hwType: 1,
  hwHeaderOffset: 92,
  hwHeaderLength: 14,
  payloadOffset: 164,
  payloadLength: 8,
  uid: 1000,
  gid: 1001,
  seq: 5,
  seqGlobal: 256,
  ctInfo: undefined,
  ctOffset: 0,
  ctLength: 0,
  vlanTci: undefined,
  vlanProto: undefined,
  l2HdrOffset: 0,
  l2HdrLength: 0,
};

test('decodeLogMessage() decodes every attribute of a packet message', { skip }, () => {
  const buf = Uint8Array.from(LOG_MSG);
  assert.equal(buf.length, 172);
  const it = new MessageIter().reset(buf);
  assert.ok(it.next());
  assert.equal(it.type, 0x0400);
  const meta = decodeLogMessage(it.buffer, it.payloadOffset, it.end);
  assert.deepEqual(meta, EXPECTED);
  assert.deepEqual([...buf.subarray(meta.payloadOffset, meta.payloadOffset + meta.payloadLength)], [0x45, 0x00, 0x00, 0x54, 0x00, 0x01, 0x40, 0x00]);
  assert.deepEqual([...buf.subarray(meta.hwHeaderOffset, meta.hwHeaderOffset + 6)], [0x02, 0x00, 0x5e, 0x00, 0x53, 0x02]);
});

// Captured from Linux 6.18 (this project's VM): `nft add rule inet t c meta l4proto icmp log
// prefix "sniff" group 7` at prerouting, group bound with copy range 28, one ICMP echo request
// from 198.18.9.1 arriving on a veth (ifindex 3) whose peer has MAC 02:00:5e:00:53:02.
const KERNEL_MSG = [
  0x98, 0x00, 0x00, 0x00, // nlmsg_len 152
  0x00, 0x04, 0x00, 0x00, // nlmsg_type 0x0400, flags 0
  0x00, 0x00, 0x00, 0x00, // nlmsg_seq 0
  0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
  0x02, 0x00, 0x00, 0x07, // NFPROTO_IPV4, v0, group 7
  0x08, 0x00, 0x01, 0x00, // NFULA_PACKET_HDR
  0x08, 0x00, 0x00, 0x00, //   0x0800, hook 0 (prerouting), pad
  0x0a, 0x00, 0x0a, 0x00, // NFULA_PREFIX, 6 bytes
  0x73, 0x6e, 0x69, 0x66, //   "snif"
  0x66, 0x00, 0x00, 0x00, //   "f" NUL, padding
  0x08, 0x00, 0x04, 0x00, // NFULA_IFINDEX_INDEV
  0x00, 0x00, 0x00, 0x03, //   3
  0x10, 0x00, 0x08, 0x00, // NFULA_HWADDR
  0x00, 0x06, 0x00, 0x00, //   hw_addrlen 6, pad
  0x02, 0x00, 0x5e, 0x00, //   02:00:5e:00:
  0x53, 0x02, 0x00, 0x00, //   53:02
  0x06, 0x00, 0x0f, 0x00, // NFULA_HWTYPE
  0x00, 0x01, 0x00, 0x00, //   ARPHRD_ETHER
  0x06, 0x00, 0x11, 0x00, // NFULA_HWLEN
  0x00, 0x0e, 0x00, 0x00, //   14
  0x12, 0x00, 0x10, 0x00, // NFULA_HWHEADER, 14 bytes
  0x02, 0x00, 0x5e, 0x00, //   dst 02:00:5e:00:53:01
  0x53, 0x01, 0x02, 0x00, //   src 02:00:5e:00:53:02
  0x5e, 0x00, 0x53, 0x02, //
  0x08, 0x00, 0x00, 0x00, //   ethertype IPv4, padding
  0x14, 0x00, 0x03, 0x00, // NFULA_TIMESTAMP
  0x00, 0x00, 0x00, 0x00, //   sec 0x6b0d3d31
  0x6b, 0x0d, 0x3d, 0x31, //
  0x00, 0x00, 0x00, 0x00, //   usec 160916
  0x00, 0x02, 0x74, 0x94, //
  0x20, 0x00, 0x09, 0x00, // NFULA_PAYLOAD, 28 bytes (the copy range)
  0x45, 0x00, 0x00, 0x54, //   IPv4, total length 84
  0x22, 0x8f, 0x40, 0x00, //
  0x40, 0x01, 0x79, 0xf2, //   TTL 64, ICMP
  0xc6, 0x12, 0x09, 0x01, //   198.18.9.1
  0xc6, 0x12, 0x09, 0x02, //   198.18.9.2
  0x08, 0x00, 0x1f, 0xbd, //   echo request
  0x78, 0x52, 0x00, 0x01, //   id, seq 1
];

test('decodeLogMessage() decodes a message Linux 6.18 sent', { skip }, () => {
  const buf = Uint8Array.from(KERNEL_MSG);
  const it = new MessageIter().reset(buf);
  assert.ok(it.next());
  const m = decodeLogMessage(buf, it.payloadOffset, it.end);
  assert.deepEqual(
    [m.group, m.family, m.hwProtocol, m.hook, m.prefix, m.indev, m.outdev, m.mark, m.hwAddr, m.hwType, m.hwHeaderLength, m.timestampSec, m.timestampUsec, m.uid, m.payloadLength],
    [7, 2, 0x0800, 0, 'sniff', 3, 0, 0, '02:00:5e:00:53:02', 1, 14, 0x6b0d3d31, 160916, undefined, 28],
  );
  assert.deepEqual([...buf.subarray(m.payloadOffset + 12, m.payloadOffset + 16)], [198, 18, 9, 1]);
  assert.ok(!it.next(), 'one message');
});

/** A minimal packet message: header, an empty prefix, maybe a payload. */
function minimal(group: number, hook: number, payload?: number[]): Uint8Array {
  const b = new MessageBuilder();
  b.begin(0x0400, 0, 0).putNfgenmsg(10, 0, group);
  const off = b.reserveAttr(NFULA.NFULA_PACKET_HDR, 4);
  putU16be(b.buffer, off, 0x86dd);
  b.buffer[off + 2] = hook;
  b.putAttrString(NFULA.NFULA_PREFIX, '');
  if (payload) b.putAttr(NFULA.NFULA_PAYLOAD, Uint8Array.from(payload));
  b.end();
  return b.bytes().slice();
}

test('decodeLogMessage() gives defaults for a minimal message (COPY_META, output hook: no stamp)', () => {
  const buf = minimal(65535, 4);
  const it = new MessageIter().reset(buf);
  assert.ok(it.next());
  const m = decodeLogMessage(buf, it.payloadOffset, it.end);
  assert.deepEqual(
    [m.group, m.family, m.hwProtocol, m.hook, m.prefix, m.mark, m.indev, m.timestamp, m.hwAddr, m.uid, m.seq, m.payloadOffset, m.payloadLength],
    [65535, 10, 0x86dd, 4, '', 0, 0, undefined, undefined, undefined, undefined, 0, 0],
  );
});

test('several packets in one datagram, ended by NLMSG_DONE, decode one by one', () => {
  // __nfulnl_send: with qlen > 1 the batch ends with an NLMSG_DONE carrying an nfgenmsg.
  const done = new MessageBuilder();
  done.begin(NlmsgType.NLMSG_DONE, 0, 0).putNfgenmsg(0, 0, 7).end();
  const parts = [minimal(7, 0, [0x60, 1]), minimal(7, 1, [0x60, 2, 3]), done.bytes()];
  const datagram = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (datagram.set(p, at), at + p.length), 0);
  const it = new MessageIter().reset(datagram);
  const seen: number[][] = [];
  while (it.next()) {
    if (it.type !== 0x0400) continue;
    const m = decodeLogMessage(it.buffer, it.payloadOffset, it.end);
    seen.push([m.hook, ...datagram.subarray(m.payloadOffset, m.payloadOffset + m.payloadLength)]);
  }
  assert.deepEqual(seen, [[0, 0x60, 1], [1, 0x60, 2, 3]]);
});

test('decodeLogMessage() refuses a short message, a short header and a missing header with PacketError', () => {
  assert.throws(() => decodeLogMessage(new Uint8Array(18), 16, 18), (e: unknown) => e instanceof PacketError && /has no nfgenmsg/.test(e.message));
  const b = new MessageBuilder();
  b.begin(0x0400, 0, 0).putNfgenmsg(2, 0, 1);
  b.putAttr(NFULA.NFULA_PACKET_HDR, Uint8Array.of(8, 0));
  b.end();
  const shortHdr = b.bytes();
  assert.throws(() => decodeLogMessage(shortHdr, 16, shortHdr.length), /NFULA_PACKET_HDR has 2 bytes, needs 4/);
  const c = new MessageBuilder();
  c.begin(0x0400, 0, 0).putNfgenmsg(2, 0, 1).putAttrU32be(NFULA.NFULA_MARK, 1).end();
  const noHdr = c.bytes();
  assert.throws(() => decodeLogMessage(noHdr, 16, noHdr.length), /without NFULA_PACKET_HDR/);
});
