import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacketMessage, type PacketMeta } from './packet_msg.js';
import { CTA_MARK, NFQA, NFQA_SKB, NFQA_VLAN } from './constants.js';
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { HOST_LITTLE_ENDIAN, putU16be, putU32be, putU64be } from '../netlink/bytes.js';
import { PacketError } from '../errors.js';

// Hand-built NFQNL_MSG_PACKET carrying every attribute nfqnl_build_packet_message can send
// (net/netfilter/nfnetlink_queue.c), host-order fields little-endian. Addresses: RFC 5737.
const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

const PACKET_MSG = [
  0xf0, 0x00, 0x00, 0x00, // nlmsg_len 240
  0x00, 0x03, //             nlmsg_type NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET
  0x00, 0x00, //             nlmsg_flags 0
  0x00, 0x00, 0x00, 0x00, // nlmsg_seq 0
  0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0 (kernel)
  0x02, //                   nfgen_family AF_INET
  0x00, //                   version NFNETLINK_V0
  0x00, 0x07, //             res_id 7 (big-endian)
  0x0b, 0x00, 0x01, 0x00, // nla_len 11, NFQA_PACKET_HDR
  0x00, 0x00, 0x00, 0x42, //   packet_id 66
  0x08, 0x00, //               hw_protocol 0x0800 (IPv4)
  0x03, //                     hook NF_INET_LOCAL_OUT
  0x00, //                     padding
  0x08, 0x00, 0x03, 0x00, // nla_len 8, NFQA_MARK
  0x00, 0x00, 0xbe, 0xef, //   mark 0xbeef
  0x14, 0x00, 0x04, 0x00, // nla_len 20, NFQA_TIMESTAMP
  0x00, 0x00, 0x00, 0x00, //   sec high
  0x65, 0x53, 0xf1, 0x00, //   sec low: 1700000000
  0x00, 0x00, 0x00, 0x00, //   usec high
  0x00, 0x01, 0xe2, 0x40, //   usec low: 123456
  0x08, 0x00, 0x05, 0x00, // nla_len 8, NFQA_IFINDEX_INDEV
  0x00, 0x00, 0x00, 0x02, //   2
  0x08, 0x00, 0x06, 0x00, // nla_len 8, NFQA_IFINDEX_OUTDEV
  0x00, 0x00, 0x00, 0x03, //   3
  0x08, 0x00, 0x07, 0x00, // nla_len 8, NFQA_IFINDEX_PHYSINDEV
  0x00, 0x00, 0x00, 0x04, //   4
  0x08, 0x00, 0x08, 0x00, // nla_len 8, NFQA_IFINDEX_PHYSOUTDEV
  0x00, 0x00, 0x00, 0x05, //   5
  0x10, 0x00, 0x09, 0x00, // nla_len 16, NFQA_HWADDR
  0x00, 0x06, //               hw_addrlen 6
  0x00, 0x00, //               _pad
  0x02, 0x00, 0x5e, 0x00, //   hw_addr 02:00:5e:00:
  0x53, 0x01, 0x00, 0x00, //   53:01, 2 unused
  0x08, 0x00, 0x0c, 0x00, // nla_len 8, NFQA_CT_INFO
  0x00, 0x00, 0x00, 0x02, //   IP_CT_RELATED
  0x08, 0x00, 0x0d, 0x00, // nla_len 8, NFQA_CAP_LEN
  0x00, 0x00, 0x05, 0xdc, //   1500
  0x08, 0x00, 0x0e, 0x00, // nla_len 8, NFQA_SKB_INFO
  0x00, 0x00, 0x00, 0x01, //   NFQA_SKB_CSUMNOTREADY
  0x08, 0x00, 0x10, 0x00, // nla_len 8, NFQA_UID
  0x00, 0x00, 0x03, 0xe8, //   1000
  0x08, 0x00, 0x11, 0x00, // nla_len 8, NFQA_GID
  0x00, 0x00, 0x03, 0xe9, //   1001
  0x0c, 0x00, 0x12, 0x00, // nla_len 12, NFQA_SECCTX
  0x73, 0x79, 0x73, 0x74, //   "syst"
  0x65, 0x6d, 0x5f, 0x75, //   "em_u" (no NUL)
  0x08, 0x00, 0x15, 0x00, // nla_len 8, NFQA_PRIORITY
  0x00, 0x00, 0x00, 0x06, //   6
  0x08, 0x00, 0x16, 0x00, // nla_len 8, NFQA_CGROUP_CLASSID
  0x00, 0x10, 0x00, 0x01, //   0x00100001 (10:1)
  0x0c, 0x00, 0x0b, 0x80, // nla_len 12, NFQA_CT | NLA_F_NESTED
  0x08, 0x00, 0x08, 0x00, //   nla_len 8, CTA_MARK
  0x00, 0x00, 0x00, 0x11, //     0x11
  0x14, 0x00, 0x13, 0x80, // nla_len 20, NFQA_VLAN | NLA_F_NESTED
  0x06, 0x00, 0x01, 0x00, //   nla_len 6, NFQA_VLAN_PROTO
  0x81, 0x00, 0x00, 0x00, //     0x8100 + 2 pad
  0x06, 0x00, 0x02, 0x00, //   nla_len 6, NFQA_VLAN_TCI
  0x00, 0x64, 0x00, 0x00, //     VLAN 100 + 2 pad
  0x12, 0x00, 0x14, 0x00, // nla_len 18, NFQA_L2HDR
  0x02, 0x00, 0x5e, 0x00, //   dst MAC
  0x53, 0x02, 0x02, 0x00, //   ... src MAC
  0x5e, 0x00, 0x53, 0x01, //   ...
  0x08, 0x00, 0x00, 0x00, //   ethertype 0x0800 + 2 pad
  0x0c, 0x00, 0x0a, 0x00, // nla_len 12, NFQA_PAYLOAD
  0x45, 0x00, 0x05, 0xdc, //   IPv4 header start (total length 1500)
  0x00, 0x01, 0x40, 0x00, //   id 1, DF
];

const EXPECTED: PacketMeta = {
  queue: 7,
  family: 2,
  id: 66,
  hwProtocol: 0x0800,
  hook: 3,
  mark: 0xbeef,
  indev: 2,
  outdev: 3,
  physindev: 4,
  physoutdev: 5,
  timestamp: 1700000000123.456,
  timestampSec: 1700000000,
  timestampUsec: 123456,
  hwAddr: '02:00:5e:00:53:01',
  payloadOffset: 232,
  payloadLength: 8,
  capLen: 1500,
  truncated: true,
  skbInfo: NFQA_SKB.NFQA_SKB_CSUMNOTREADY,
  uid: 1000,
  gid: 1001,
  priority: 6,
  cgroupClassid: 0x00100001,
  ctInfo: 2,
  ctOffset: 180,
  ctLength: 8,
  secctx: 'system_u',
  vlanTci: 100,
  vlanProto: 0x8100,
  l2HdrOffset: 212,
  l2HdrLength: 14,
};

test('decodePacketMessage() decodes every attribute of a packet message', { skip }, () => {
  const buf = Uint8Array.from(PACKET_MSG);
  assert.equal(buf.length, 240);
  const it = new MessageIter().reset(buf);
  assert.ok(it.next());
  assert.equal(it.type, 0x0300);
  const meta = decodePacketMessage(it.buffer, it.payloadOffset, it.end);
  assert.deepEqual(meta, EXPECTED);
  assert.deepEqual([...buf.subarray(meta.payloadOffset, meta.payloadOffset + meta.payloadLength)], [0x45, 0x00, 0x05, 0xdc, 0x00, 0x01, 0x40, 0x00]);
  const ct = new AttrDecoder(buf, meta.ctOffset, meta.ctOffset + meta.ctLength);
  assert.ok(ct.next());
  assert.deepEqual([ct.type, ct.u32be()], [CTA_MARK, 0x11]);
});

test('decodePacketMessage() gives defaults for a minimal message (COPY_META, nothing optional)', () => {
  const b = new MessageBuilder();
  b.begin(0x0300, 0, 0);
  b.putNfgenmsg(10, 0, 65535);
  const off = b.reserveAttr(NFQA.NFQA_PACKET_HDR, 7);
  putU32be(b.buffer, off, 0xffffffff);
  putU16be(b.buffer, off + 4, 0x86dd);
  b.buffer[off + 6] = 0;
  b.end();
  const meta = decodePacketMessage(b.buffer, 16, b.length);
  assert.deepEqual(meta, {
    ...EXPECTED,
    queue: 65535,
    family: 10,
    id: 0xffffffff,
    hwProtocol: 0x86dd,
    hook: 0,
    mark: 0,
    indev: 0,
    outdev: 0,
    physindev: 0,
    physoutdev: 0,
    timestamp: undefined,
    timestampSec: undefined,
    timestampUsec: undefined,
    hwAddr: undefined,
    payloadOffset: 0,
    payloadLength: 0,
    capLen: undefined,
    truncated: false,
    skbInfo: 0,
    uid: undefined,
    gid: undefined,
    priority: 0,
    cgroupClassid: 0,
    ctInfo: undefined,
    ctOffset: 0,
    ctLength: 0,
    secctx: undefined,
    vlanTci: undefined,
    vlanProto: undefined,
    l2HdrOffset: 0,
    l2HdrLength: 0,
  });
});

test('decodePacketMessage() round-trips a message built like the kernel builds it', () => {
  const b = new MessageBuilder();
  // Another message first, so offsets inside the datagram are not zero-based.
  b.begin(2, 0x100, 1);
  b.reserve(20);
  b.end();
  b.begin(0x0300, 0, 0);
  b.putNfgenmsg(2, 0, 3);
  const hdr = b.reserveAttr(NFQA.NFQA_PACKET_HDR, 7);
  putU32be(b.buffer, hdr, 1234);
  putU16be(b.buffer, hdr + 4, 0x0800);
  b.buffer[hdr + 6] = 1;
  b.putAttrU32be(NFQA.NFQA_MARK, 7);
  const ts = b.reserveAttr(NFQA.NFQA_TIMESTAMP, 16);
  putU64be(b.buffer, ts, 1n);
  putU64be(b.buffer, ts + 8, 500000n);
  b.putAttrU32be(NFQA.NFQA_IFINDEX_INDEV, 9);
  b.putAttrU32be(NFQA.NFQA_SKB_INFO, NFQA_SKB.NFQA_SKB_GSO);
  const vlan = b.nestStart(NFQA.NFQA_VLAN);
  b.putAttrU16be(NFQA_VLAN.NFQA_VLAN_TCI, 5);
  b.nestEnd(vlan);
  const packet = new Uint8Array(1500).fill(0x5a);
  b.putAttr(NFQA.NFQA_PAYLOAD, packet);
  b.end();
  const it = new MessageIter().reset(b.bytes());
  assert.ok(it.next());
  assert.ok(it.next());
  const meta = decodePacketMessage(it.buffer, it.payloadOffset, it.end);
  assert.equal(meta.id, 1234);
  assert.equal(meta.queue, 3);
  assert.equal(meta.hook, 1);
  assert.equal(meta.mark, 7);
  assert.equal(meta.timestamp, 1500);
  assert.equal(meta.indev, 9);
  assert.equal(meta.skbInfo, NFQA_SKB.NFQA_SKB_GSO);
  assert.equal(meta.vlanTci, 5);
  assert.equal(meta.truncated, false);
  assert.deepEqual(it.buffer.subarray(meta.payloadOffset, meta.payloadOffset + meta.payloadLength), packet);
  assert.equal(it.next(), false);
  assert.equal(it.err, undefined);
});

test('decodePacketMessage() throws PacketError on truncated or malformed input', { skip }, () => {
  const buf = Uint8Array.from(PACKET_MSG);
  assert.throws(() => decodePacketMessage(buf, 16, 18), PacketError, 'no nfgenmsg');
  assert.throws(() => decodePacketMessage(buf, 16, 100), PacketError, 'attribute cut in the middle');
  assert.throws(() => decodePacketMessage(buf, 16, 20), /without NFQA_PACKET_HDR/);
  const shortHdr = Uint8Array.from(PACKET_MSG);
  shortHdr[20] = 0x08; // NFQA_PACKET_HDR nla_len 8: a 4-byte header
  assert.throws(() => decodePacketMessage(shortHdr, 16, 240), /NFQA_PACKET_HDR has 4 bytes/);
  const shortMark = Uint8Array.from(PACKET_MSG);
  shortMark[32] = 0x06; // NFQA_MARK nla_len 6
  assert.throws(() => decodePacketMessage(shortMark, 16, 240), PacketError);
  const past = Uint8Array.from(PACKET_MSG);
  past[228] = 0xff; // NFQA_PAYLOAD nla_len 255 runs past the message
  assert.throws(() => decodePacketMessage(past, 16, 240), /exceeds/);
});

test('decodePacketMessage() clamps hw_addrlen to the attribute', { skip }, () => {
  const buf = Uint8Array.from(PACKET_MSG);
  buf[97] = 0x40; // hw_addrlen 64 (lies): only the 8 bytes present are read
  assert.equal(decodePacketMessage(buf, 16, 240).hwAddr, '02:00:5e:00:53:01:00:00');
});

test('decodePacketMessage() gives each message its own hardware address, however they alternate (the last one\'s text is reused)', { skip }, () => {
  const with_ = (last: number, len = 6): Uint8Array => {
    const buf = Uint8Array.from(PACKET_MSG);
    buf[97] = len; // hw_addrlen
    buf[105] = last; // the address's sixth byte
    return buf;
  };
  const seen = [1, 1, 2, 1, 0xff, 0xff, 1].map((b) => decodePacketMessage(with_(b), 16, 240).hwAddr);
  assert.deepEqual(seen, ['02:00:5e:00:53:01', '02:00:5e:00:53:01', '02:00:5e:00:53:02', '02:00:5e:00:53:01', '02:00:5e:00:53:ff', '02:00:5e:00:53:ff', '02:00:5e:00:53:01']);
  // Same leading bytes, another length: another address.
  assert.equal(decodePacketMessage(with_(1, 4), 16, 240).hwAddr, '02:00:5e:00');
  assert.equal(decodePacketMessage(with_(1, 6), 16, 240).hwAddr, '02:00:5e:00:53:01');
});

test('decodePacketMessage() throws only PacketError on random attribute bytes', () => {
  let seed = 42;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  const buf = Uint8Array.from(PACKET_MSG);
  for (let round = 0; round < 3000; round++) {
    const copy = Uint8Array.from(buf);
    for (let k = 0; k < 3; k++) copy[20 + (rand() % 220)] = rand();
    try {
      const meta = decodePacketMessage(copy, 16, 240);
      assert.ok(meta.payloadOffset + meta.payloadLength <= 240);
    } catch (err) {
      assert.ok(err instanceof PacketError, String(err));
    }
  }
});
