import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddrMessage, parseLinkMessage, putGetAddrDump, putGetLinkDump } from './link_addr.js';
import { IfaAttr, IffFlags, IflaAttr, RtmType } from './constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { HOST_LITTLE_ENDIAN, putU32ne } from '../netlink/bytes.js';
import { diffHex } from '../netlink/hexdump.js';
import { parseIpv6 } from '../ip/address.js';
import { PacketError } from '../errors.js';

const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

function assertBytes(actual: Uint8Array, expected: number[]): void {
  const d = diffHex(actual, Uint8Array.from(expected));
  if (d !== undefined) assert.fail(`bytes differ\n${d}`);
}

test('putGetLinkDump() encodes RTM_GETLINK with NLM_F_DUMP and an ifinfomsg', { skip }, () => {
  const b = new MessageBuilder(new Uint8Array(64).fill(0xa5));
  putGetLinkDump(b, 3);
  assertBytes(b.bytes(), [
    0x20, 0x00, 0x00, 0x00, // nlmsg_len 32
    0x12, 0x00, //             nlmsg_type RTM_GETLINK (18)
    0x01, 0x03, //             nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP (0x301)
    0x03, 0x00, 0x00, 0x00, // nlmsg_seq 3
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x00, //                   ifi_family AF_UNSPEC
    0x00, //                   __ifi_pad
    0x00, 0x00, //             ifi_type
    0x00, 0x00, 0x00, 0x00, // ifi_index
    0x00, 0x00, 0x00, 0x00, // ifi_flags
    0x00, 0x00, 0x00, 0x00, // ifi_change
  ]);
});

test('putGetAddrDump() encodes RTM_GETADDR with NLM_F_DUMP and an ifaddrmsg', { skip }, () => {
  const b = new MessageBuilder(new Uint8Array(64).fill(0xa5));
  putGetAddrDump(b, 4, 10);
  assertBytes(b.bytes(), [
    0x18, 0x00, 0x00, 0x00, // nlmsg_len 24
    0x16, 0x00, //             nlmsg_type RTM_GETADDR (22)
    0x01, 0x03, //             nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP
    0x04, 0x00, 0x00, 0x00, // nlmsg_seq 4
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x0a, //                   ifa_family AF_INET6
    0x00, //                   ifa_prefixlen
    0x00, //                   ifa_flags
    0x00, //                   ifa_scope
    0x00, 0x00, 0x00, 0x00, // ifa_index
  ]);
});

test('parseLinkMessage() decodes index, name, flags, mtu and hardware address', { skip }, () => {
  const bytes = Uint8Array.from([
    0x40, 0x00, 0x00, 0x00, // nlmsg_len 64
    0x10, 0x00, //             nlmsg_type RTM_NEWLINK
    0x02, 0x00, //             nlmsg_flags NLM_F_MULTI
    0x03, 0x00, 0x00, 0x00, // nlmsg_seq 3
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x00, //                   ifi_family
    0x00, //                   __ifi_pad
    0x01, 0x00, //             ifi_type ARPHRD_ETHER
    0x02, 0x00, 0x00, 0x00, // ifi_index 2
    0x43, 0x10, 0x01, 0x00, // ifi_flags UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
    0x00, 0x00, 0x00, 0x00, // ifi_change
    0x0a, 0x00, 0x03, 0x00, // nla_len 10, IFLA_IFNAME
    0x76, 0x65, 0x74, 0x68, // "veth"
    0x30, 0x00, 0x00, 0x00, // "0" NUL + 2 pad
    0x08, 0x00, 0x04, 0x00, // nla_len 8, IFLA_MTU
    0xdc, 0x05, 0x00, 0x00, // u32 1500 (host order)
    0x0a, 0x00, 0x01, 0x00, // nla_len 10, IFLA_ADDRESS
    0x02, 0x00, 0x5e, 0x00, // 02:00:5e:00:
    0x53, 0x01, 0x00, 0x00, // 53:01 + 2 pad
  ]);
  const it = new MessageIter().reset(bytes);
  assert.ok(it.next());
  assert.equal(it.type, RtmType.RTM_NEWLINK);
  const link = parseLinkMessage(bytes, it.payloadOffset, it.end);
  assert.deepEqual(link, { index: 2, name: 'veth0', type: 1, flags: 0x11043, mtu: 1500, address: '02:00:5e:00:53:01' });
  assert.ok(link.flags & IffFlags.IFF_UP && link.flags & IffFlags.IFF_LOWER_UP);
});

test('parseAddrMessage() decodes IPv4 local/address/label and IFA_FLAGS', () => {
  const b = new MessageBuilder();
  b.begin(RtmType.RTM_NEWADDR, 2, 1);
  const off = b.reserve(8);
  b.buffer.set([2, 24, 0x80, 0], off); // AF_INET, /24, IFA_F_PERMANENT, RT_SCOPE_UNIVERSE
  putU32ne(b.buffer, off + 4, 3); //      ifa_index 3
  b.putAttr(IfaAttr.IFA_ADDRESS, Uint8Array.from([198, 18, 0, 1]));
  b.putAttr(IfaAttr.IFA_LOCAL, Uint8Array.from([198, 18, 0, 1]));
  b.putAttrString(IfaAttr.IFA_LABEL, 'veth0');
  b.putAttrU32ne(IfaAttr.IFA_FLAGS, 0x280);
  b.end();
  const a = parseAddrMessage(b.buffer, 16, b.length);
  assert.deepEqual(a, {
    family: 2,
    prefixLen: 24,
    flags: 0x280,
    scope: 0,
    index: 3,
    address: '198.18.0.1',
    local: '198.18.0.1',
    label: 'veth0',
  });
});

test('parseAddrMessage() formats IPv6 addresses with RFC 5952 compression', () => {
  const b = new MessageBuilder();
  b.begin(RtmType.RTM_NEWADDR, 2, 1);
  const off = b.reserve(8);
  b.buffer.set([10, 64, 0, 253], off); // AF_INET6, /64, RT_SCOPE_LINK
  putU32ne(b.buffer, off + 4, 1);
  b.putAttr(IfaAttr.IFA_ADDRESS, parseIpv6('2001:db8:0:0:0:0:0:1'));
  b.end();
  const a = parseAddrMessage(b.buffer, 16, b.length);
  assert.equal(a.address, '2001:db8::1');
  assert.equal(a.local, undefined);
  assert.equal(a.scope, 253);
});

test('parseLinkMessage() leaves address undefined when the link has none', () => {
  const b = new MessageBuilder();
  b.begin(RtmType.RTM_NEWLINK, 2, 1);
  b.reserve(16);
  b.putAttrString(IflaAttr.IFLA_IFNAME, 'tun0');
  b.end();
  const link = parseLinkMessage(b.buffer, 16, b.length);
  assert.equal(link.name, 'tun0');
  assert.equal(link.address, undefined);
  assert.equal(link.mtu, 0);
});

test('parseLinkMessage() and parseAddrMessage() throw PacketError on short input', () => {
  const b = new Uint8Array(40);
  assert.throws(() => parseLinkMessage(b, 16, 30), PacketError);
  assert.throws(() => parseAddrMessage(b, 16, 20), PacketError);
  b[24] = 0xff; // IFA attr nla_len 255 past the end
  assert.throws(() => parseAddrMessage(b, 16, 40), PacketError);
});
