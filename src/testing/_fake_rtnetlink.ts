/**
 * The fake kernel's NETLINK_ROUTE: RTM_GETLINK and RTM_GETADDR dumps of a scripted link list,
 * multi-part (NLM_F_MULTI, a few messages per datagram) and ended by NLMSG_DONE, as
 * net/core/rtnetlink.c and net/ipv4/devinet.c, net/ipv6/addrconf.c answer them.
 *
 * Addresses are dumped IPv4 first, then IPv6, each family by link index, in the order the
 * script gives them (a real kernel lists global IPv6 addresses before link-local ones).
 * @module
 */
import { putU16ne, putU32ne } from '../netlink/bytes.js';
import { NlmFlags } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import { tryParseIpv4, tryParseIpv6 } from '../netlink/ip_address.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { IFADDRMSG_LEN, IFINFOMSG_LEN, IfaAttr, IfaFlags, IffFlags, IflaAttr, RtScope, RtmType } from '../netlink/rtnetlink_constants.js';
import { Errno } from '../_native/errno.js';
import { putDone, take, type FakeNack } from './_fake_netlink.js';

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

/** A link as tests script it. Addresses may carry a prefix length ("192.0.2.1/24"). */
export interface FakeLink {
  index: number;
  name: string;
  mtu?: number | undefined;
  /** "aa:bb:cc:dd:ee:ff"; omit for links without one. */
  mac?: string | undefined;
  /** IFF_* (default UP | RUNNING | LOWER_UP, plus LOOPBACK for "lo"). */
  flags?: number | undefined;
  ipv4?: readonly string[] | undefined;
  ipv6?: readonly string[] | undefined;
}

interface Addr {
  family: number;
  bytes: Uint8Array;
  prefixLen: number;
  scope: number;
  link: FakeLink;
}

export class FakeRtnetlink {
  /** Messages per datagram in a dump (the last datagram also carries NLMSG_DONE). */
  perDatagram = 2;
  /** Dump requests answered so far. */
  dumps = 0;
  #links: FakeLink[] = [];
  #addrs: Addr[] = [];

  /**
   * Replaces the link list.
   * @throws {TypeError} on an address that does not parse.
   */
  setLinks(links: readonly FakeLink[]): void {
    this.#links = [...links].sort((x, y) => x.index - y.index);
    const v4: Addr[] = [];
    const v6: Addr[] = [];
    for (const link of this.#links) {
      for (const a of link.ipv4 ?? []) v4.push(parseAddr(a, link, 4));
      for (const a of link.ipv6 ?? []) v6.push(parseAddr(a, link, 6));
    }
    this.#addrs = [...v4, ...v6];
  }

  /** Answers one request from `portId`; dump datagrams go to `emit`. */
  handle(it: MessageIter, portId: number, emit: (datagram: Uint8Array) => void): FakeNack | undefined {
    if ((it.flags & NlmFlags.NLM_F_DUMP) !== NlmFlags.NLM_F_DUMP) return { errno: Errno.EOPNOTSUPP };
    const b = new MessageBuilder(1024);
    let puts: Array<() => void>;
    if (it.type === RtmType.RTM_GETLINK) {
      puts = this.#links.map((l) => () => putLink(b, it.seq, portId, l));
    } else if (it.type === RtmType.RTM_GETADDR) {
      const family = it.end - it.payloadOffset >= 1 ? it.buffer[it.payloadOffset]! : AddressFamily.AF_UNSPEC;
      const wanted = this.#addrs.filter((a) => family === AddressFamily.AF_UNSPEC || a.family === family);
      puts = wanted.map((a) => () => putAddr(b, it.seq, portId, a));
    } else {
      return { errno: Errno.EOPNOTSUPP };
    }
    this.dumps++;
    for (let i = 0; i < puts.length; i++) {
      puts[i]!();
      if ((i + 1) % this.perDatagram === 0 && i + 1 < puts.length) emit(take(b));
    }
    putDone(b, it.seq, portId);
    emit(take(b));
    return undefined;
  }
}

function parseAddr(text: string, link: FakeLink, version: 4 | 6): Addr {
  const [ip = '', prefix] = text.split('/');
  const bytes = version === 4 ? tryParseIpv4(ip) : tryParseIpv6(ip);
  if (!bytes) throw new TypeError(`FakeKernel: invalid IPv${version} address ${JSON.stringify(text)} on ${link.name}`);
  let scope: number = RtScope.RT_SCOPE_UNIVERSE;
  if (version === 4 && bytes[0] === 127) scope = RtScope.RT_SCOPE_HOST;
  if (version === 6 && bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) scope = RtScope.RT_SCOPE_LINK;
  if (version === 6 && bytes.every((v, i) => v === (i === 15 ? 1 : 0))) scope = RtScope.RT_SCOPE_HOST;
  const prefixLen = prefix !== undefined ? Number(prefix) : version === 4 ? 24 : 64;
  return { family: version === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6, bytes, prefixLen, scope, link };
}

function putLink(b: MessageBuilder, seq: number, portId: number, l: FakeLink): void {
  b.begin(RtmType.RTM_NEWLINK, NlmFlags.NLM_F_MULTI, seq, portId);
  const lo = l.name === 'lo';
  const off = b.reserve(IFINFOMSG_LEN);
  putU16ne(b.buffer, off + 2, lo ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
  putU32ne(b.buffer, off + 4, l.index);
  putU32ne(b.buffer, off + 8, l.flags ?? (IffFlags.IFF_UP | IffFlags.IFF_RUNNING | IffFlags.IFF_LOWER_UP | (lo ? IffFlags.IFF_LOOPBACK : 0)));
  b.putAttrString(IflaAttr.IFLA_IFNAME, l.name);
  b.putAttrU32ne(IflaAttr.IFLA_MTU, l.mtu ?? (lo ? 65536 : 1500));
  if (l.mac !== undefined) b.putAttr(IflaAttr.IFLA_ADDRESS, Uint8Array.from(l.mac.split(':').map((h) => parseInt(h, 16))));
  b.end();
}

function putAddr(b: MessageBuilder, seq: number, portId: number, a: Addr): void {
  b.begin(RtmType.RTM_NEWADDR, NlmFlags.NLM_F_MULTI, seq, portId);
  const off = b.reserve(IFADDRMSG_LEN);
  b.buffer[off] = a.family;
  b.buffer[off + 1] = a.prefixLen;
  b.buffer[off + 2] = IfaFlags.IFA_F_PERMANENT;
  b.buffer[off + 3] = a.scope;
  putU32ne(b.buffer, off + 4, a.link.index);
  b.putAttr(IfaAttr.IFA_ADDRESS, a.bytes);
  if (a.family === AddressFamily.AF_INET) {
    b.putAttr(IfaAttr.IFA_LOCAL, a.bytes);
    b.putAttrString(IfaAttr.IFA_LABEL, a.link.name);
  }
  b.putAttrU32ne(IfaAttr.IFA_FLAGS, IfaFlags.IFA_F_PERMANENT);
  b.end();
}
