/**
 * Links and addresses over NETLINK_ROUTE: dump request builders, and decoders of the messages
 * dumps and notifications carry (RTM_NEWLINK / RTM_DELLINK, RTM_NEWADDR / RTM_DELADDR). Used to
 * resolve interface indexes (NFQA_IFINDEX_*) to names and addresses (./link_table.ts).
 *
 * ```
 * struct ifinfomsg {          (16 bytes, host order)     struct ifaddrmsg {   (8 bytes)
 *   u8  ifi_family;  u8 pad;                               u8  ifa_family;
 *   u16 ifi_type;             ARPHRD_*                     u8  ifa_prefixlen;
 *   s32 ifi_index;                                         u8  ifa_flags;
 *   u32 ifi_flags;            IFF_*                        u8  ifa_scope;       RT_SCOPE_*
 *   u32 ifi_change;                                        u32 ifa_index;
 * };                                                     };
 * ```
 * include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { NLA_ALIGN } from '../netlink/align.js';
import { i32ne, u16ne, u32ne } from '../netlink/bytes.js';
import { NlmFlags } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import { formatHwAddr } from '../netlink/hw_address.js';
import { formatIpv4, formatIpv6 } from '../ip/address.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { IFADDRMSG_LEN, IFINFOMSG_LEN, IfaAttr, IflaAttr, RtmType } from './constants.js';
import { PacketError } from '../errors.js';

const DUMP_FLAGS = NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_DUMP;

/** One network interface from RTM_NEWLINK. */
export interface LinkInfo {
  /** `ifi_index`. */
  index: number;
  /** IFLA_IFNAME; the kernel always sends it (empty string if it did not). */
  name: string;
  /** `ifi_type` (ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772, …). */
  type: number;
  /** `ifi_flags` (IFF_*). */
  flags: number;
  /** IFLA_MTU; the kernel always sends it (0 if it did not). */
  mtu: number;
  /** IFLA_ADDRESS as "aa:bb:cc:dd:ee:ff"; undefined for links without one (tun, ipip…). */
  address: string | undefined;
}

/** One interface address from RTM_NEWADDR. */
export interface AddrInfo {
  /** `ifa_family` (AF_INET or AF_INET6). */
  family: number;
  /** `ifa_prefixlen`: the prefix length of the address (0–32 or 0–128). */
  prefixLen: number;
  /** IFA_FLAGS when present (it supersedes the 8-bit `ifa_flags`), else `ifa_flags`. */
  flags: number;
  /** `ifa_scope` (RT_SCOPE_*). */
  scope: number;
  /** `ifa_index`. */
  index: number;
  /** IFA_ADDRESS as text (the peer on point-to-point links). */
  address: string | undefined;
  /** IFA_LOCAL as text (IPv4 only, usually). */
  local: string | undefined;
  /** IFA_LABEL (IPv4 only). */
  label: string | undefined;
}

/**
 * Appends an RTM_GETLINK dump request (NLM_F_REQUEST | NLM_F_DUMP) with an `ifinfomsg`.
 * @example putGetLinkDump(b, 1); socket.send(b.bytes());
 */
export function putGetLinkDump(b: MessageBuilder, seq: number, family: number = AddressFamily.AF_UNSPEC): MessageBuilder {
  b.begin(RtmType.RTM_GETLINK, DUMP_FLAGS, seq);
  const at = b.reserve(IFINFOMSG_LEN); // reserve first: it may replace b.buffer
  b.buffer[at] = family;
  b.end();
  return b;
}

/**
 * Appends an RTM_GETADDR dump request (NLM_F_REQUEST | NLM_F_DUMP) with an `ifaddrmsg`.
 * @example putGetAddrDump(b, 2, AddressFamily.AF_INET6);
 */
export function putGetAddrDump(b: MessageBuilder, seq: number, family: number = AddressFamily.AF_UNSPEC): MessageBuilder {
  b.begin(RtmType.RTM_GETADDR, DUMP_FLAGS, seq);
  const at = b.reserve(IFADDRMSG_LEN); // reserve first: it may replace b.buffer
  b.buffer[at] = family;
  b.end();
  return b;
}

/**
 * Decodes an RTM_NEWLINK / RTM_DELLINK payload.
 * @param buf buffer holding the message.
 * @param payloadOffset `MessageIter.payloadOffset`.
 * @param end `MessageIter.end`.
 * @throws {PacketError} on a short header or malformed attributes.
 * @example
 * ```ts
 * if (it.type === RtmType.RTM_NEWLINK) links.push(parseLinkMessage(buf, it.payloadOffset, it.end));
 * ```
 */
export function parseLinkMessage(buf: Uint8Array, payloadOffset: number, end: number): LinkInfo {
  need(payloadOffset, end, IFINFOMSG_LEN, 'ifinfomsg');
  const link: LinkInfo = {
    index: i32ne(buf, payloadOffset + 4),
    name: '',
    type: u16ne(buf, payloadOffset + 2),
    flags: u32ne(buf, payloadOffset + 8),
    mtu: 0,
    address: undefined,
  };
  const ad = new AttrDecoder(buf, payloadOffset + IFINFOMSG_LEN, end);
  while (ad.next()) {
    if (ad.type === IflaAttr.IFLA_IFNAME) link.name = ad.string();
    else if (ad.type === IflaAttr.IFLA_MTU) link.mtu = ad.u32ne();
    else if (ad.type === IflaAttr.IFLA_ADDRESS && ad.length > 0) link.address = formatHwAddr(ad.bytes());
  }
  if (ad.err) throw ad.err;
  return link;
}

/**
 * Decodes an RTM_NEWADDR / RTM_DELADDR payload (arguments as {@link parseLinkMessage}).
 * @throws {PacketError} on a short header or malformed attributes.
 */
export function parseAddrMessage(buf: Uint8Array, payloadOffset: number, end: number): AddrInfo {
  need(payloadOffset, end, IFADDRMSG_LEN, 'ifaddrmsg');
  const addr: AddrInfo = {
    family: buf[payloadOffset]!,
    prefixLen: buf[payloadOffset + 1]!,
    flags: buf[payloadOffset + 2]!,
    scope: buf[payloadOffset + 3]!,
    index: u32ne(buf, payloadOffset + 4),
    address: undefined,
    local: undefined,
    label: undefined,
  };
  const ad = new AttrDecoder(buf, payloadOffset + NLA_ALIGN(IFADDRMSG_LEN), end);
  while (ad.next()) {
    if (ad.type === IfaAttr.IFA_ADDRESS) addr.address = formatIpBytes(ad.bytes());
    else if (ad.type === IfaAttr.IFA_LOCAL) addr.local = formatIpBytes(ad.bytes());
    else if (ad.type === IfaAttr.IFA_LABEL) addr.label = ad.string();
    else if (ad.type === IfaAttr.IFA_FLAGS) addr.flags = ad.u32ne();
  }
  if (ad.err) throw ad.err;
  return addr;
}

/** 4 bytes → IPv4 text, 16 → IPv6 text, anything else → hex (never throws on kernel input). */
function formatIpBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(bytes);
  if (bytes.length === 16) return formatIpv6(bytes);
  return formatHwAddr(bytes);
}

function need(payloadOffset: number, end: number, len: number, what: string): void {
  if (end - payloadOffset < len) {
    throw new PacketError('rtnetlink', `${what} needs ${len} bytes, got ${end - payloadOffset}`);
  }
}
