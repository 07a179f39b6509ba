/**
 * The fake kernel's NETLINK_ROUTE: RTM_GETLINK and RTM_GETADDR dumps of a scripted link list,
 * multi-part (NLM_F_MULTI, a few messages per datagram) and ended by NLMSG_DONE, as
 * net/core/rtnetlink.c and net/ipv4/devinet.c, net/ipv6/addrconf.c answer them; multicast groups
 * (NETLINK_ADD_MEMBERSHIP) and the notifications a change sends to them; and tc (clsact qdiscs,
 * bpf filters: ./_fake_rtnetlink_tc.ts).
 *
 * Addresses are dumped IPv4 first, then IPv6, each family by link index, in the order the
 * script gives them (a real kernel lists global IPv6 addresses before link-local ones).
 *
 * ```ts
 * kernel.setLinks(HOST_LINKS);                          // silent: the initial state
 * kernel.rtnetlink.addAddress(2, '192.0.2.7/24');       // RTM_NEWADDR to RTNLGRP_IPV4_IFADDR members
 * kernel.rtnetlink.addLink({ index: 9, name: 'veth9' }); // RTM_NEWLINK to RTNLGRP_LINK members
 * kernel.rtnetlink.removeLink(9);                       // RTM_DELADDR for each address, then RTM_DELLINK
 * kernel.rtnetlink.addAddress(2, '192.0.2.8', { notify: false }); // a change whose notification was lost
 * ```
 * A member whose receive buffer is full loses the notification and reads ENOBUFS next, as on Linux.
 * @module
 */
import { putU16ne, putU32ne } from '../netlink/bytes.js';
import { NetlinkSockopt, NlmFlags } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import { tryParseIpv4, tryParseIpv6 } from '../ip/address.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { IFADDRMSG_LEN, IFINFOMSG_LEN, IfaAttr, IfaFlags, IffFlags, IflaAttr, RtnlGroup, RtScope, RtmType } from '../rtnetlink/constants.js';
import { Errno } from '../_native/errno.js';
import { emitDump, take, type FakeNack } from './_fake_netlink.js';
import { FakeTc } from './_fake_rtnetlink_tc.js';
import type { FakeSocket } from './_fake_socket.js';

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

/** A link as tests script it. Addresses may carry a prefix length ("192.0.2.1/24"). */
export interface FakeLink {
  /** Interface index (`ifi_index`); 1 is `lo` in every namespace. */
  index: number;
  /** Interface name (IFLA_IFNAME). */
  name: string;
  /** MTU in bytes (default 65536 for "lo", else 1500). */
  mtu?: number | undefined;
  /** "aa:bb:cc:dd:ee:ff"; omit for links without one. */
  mac?: string | undefined;
  /** IFF_* (default UP | RUNNING | LOWER_UP, plus LOOPBACK for "lo"). */
  flags?: number | undefined;
  /** IPv4 addresses, optionally with a prefix length (default /24). */
  ipv4?: readonly string[] | undefined;
  /** IPv6 addresses, optionally with a prefix length (default /64). */
  ipv6?: readonly string[] | undefined;
}

/** How a scripted change is announced. */
export interface ChangeOptions {
  /** Send the notifications (default true); false models notifications the socket lost. */
  notify?: boolean | undefined;
  /** nlmsg_seq / nlmsg_pid of the notifications: those of the request that caused the change (`ip` …), default 0. */
  seq?: number | undefined;
  pid?: number | undefined;
}

interface Addr {
  family: number;
  bytes: Uint8Array;
  prefixLen: number;
  scope: number;
  flags: number;
  index: number;
}

/** The fake kernel's NETLINK_ROUTE (see the module comment); reach it as {@link FakeKernel.rtnetlink}. */
export class FakeRtnetlink {
  /** Messages per datagram in a dump (the last datagram also carries NLMSG_DONE). */
  perDatagram = 2;
  /** Dump requests answered so far (links, addresses, qdiscs and filters alike). */
  dumps = 0;
  /** Notifications sent (one per message per member socket). */
  notificationsSent = 0;
  /** The tc side: clsact qdiscs and bpf filters per interface. */
  readonly tc: FakeTc;
  #links = new Map<number, FakeLink>();
  #addrs: Addr[] = [];
  #members = new Map<FakeSocket, Set<number>>();
  #deliver: (s: FakeSocket, datagram: Uint8Array) => boolean;

  /** @param deliver queues a datagram on a socket (false when its receive buffer is full). */
  constructor(deliver: (s: FakeSocket, datagram: Uint8Array) => boolean = () => false) {
    this.#deliver = deliver;
    this.tc = new FakeTc((index) => this.#links.has(index), (puts, seq, portId, emit) => emitDump(this.perDatagram, puts, seq, portId, emit));
  }

  /**
   * Replaces the link list without notifications (the state before the test).
   * @throws {TypeError} on an address that does not parse.
   */
  setLinks(links: readonly FakeLink[]): void {
    this.#links = new Map([...links].sort((x, y) => x.index - y.index).map((l) => [l.index, l]));
    this.#addrs = [];
    for (const l of this.#links.values()) {
      for (const a of [...(l.ipv4 ?? []), ...(l.ipv6 ?? [])]) this.#push(parseAddr(a, l));
    }
  }

  /** Adds a link (and its addresses): RTM_NEWLINK, then RTM_NEWADDR for each address. */
  addLink(link: FakeLink, options: ChangeOptions = {}): void {
    if (this.#links.has(link.index)) throw new RangeError(`FakeKernel: link ${link.index} exists`);
    this.#links = new Map([...this.#links.values(), link].sort((x, y) => x.index - y.index).map((l) => [l.index, l]));
    this.#notify(RtnlGroup.RTNLGRP_LINK, options, (b, seq, pid) => putLink(b, RtmType.RTM_NEWLINK, 0, seq, pid, link));
    for (const a of [...(link.ipv4 ?? []), ...(link.ipv6 ?? [])]) this.addAddress(link.index, a, options);
  }

  /** Changes a link's name, MTU, MAC or flags: RTM_NEWLINK. */
  updateLink(index: number, patch: Omit<Partial<FakeLink>, 'index' | 'ipv4' | 'ipv6'>, options: ChangeOptions = {}): void {
    const link = { ...this.#mustLink(index), ...patch };
    this.#links.set(index, link);
    this.#notify(RtnlGroup.RTNLGRP_LINK, options, (b, seq, pid) => putLink(b, RtmType.RTM_NEWLINK, 0, seq, pid, link));
  }

  /** Deletes a link: RTM_DELADDR for each of its addresses, then RTM_DELLINK (as unregister_netdevice does); its tc objects go too. */
  removeLink(index: number, options: ChangeOptions = {}): void {
    const link = this.#mustLink(index);
    for (const a of this.#addrs.filter((x) => x.index === index)) this.#removeAddr(a, options);
    this.#links.delete(index);
    this.tc.dropLink(index);
    this.#notify(RtnlGroup.RTNLGRP_LINK, options, (b, seq, pid) => putLink(b, RtmType.RTM_DELLINK, 0, seq, pid, link));
  }

  /** Adds an address ("192.0.2.7/24", "2001:db8::7"): RTM_NEWADDR to the family's group. */
  addAddress(index: number, text: string, options: ChangeOptions = {}): void {
    const a = this.#push(parseAddr(text, this.#mustLink(index)));
    this.#notify(groupOf(a), options, (b, seq, pid) => putAddr(b, RtmType.RTM_NEWADDR, 0, seq, pid, a, this.#mustLink(index).name));
  }

  /** Removes an address: RTM_DELADDR. */
  removeAddress(index: number, text: string, options: ChangeOptions = {}): void {
    const want = parseAddr(text, this.#mustLink(index));
    const a = this.#addrs.find((x) => x.index === index && x.family === want.family && x.bytes.every((v, i) => v === want.bytes[i]));
    if (!a) throw new RangeError(`FakeKernel: link ${index} has no address ${text}`);
    this.#removeAddr(a, options);
  }

  /** NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP on a NETLINK_ROUTE socket. */
  setMembership(s: FakeSocket, optname: number, group: number): void {
    const groups = this.#members.get(s) ?? new Set<number>();
    if (optname === NetlinkSockopt.NETLINK_ADD_MEMBERSHIP) groups.add(group);
    else if (optname === NetlinkSockopt.NETLINK_DROP_MEMBERSHIP) groups.delete(group);
    this.#members.set(s, groups);
  }

  /** The groups `s` has joined. */
  groupsOf(s: FakeSocket): number[] {
    return [...(this.#members.get(s) ?? [])].sort((a, b) => a - b);
  }

  /** Answers one request from `portId`; dump datagrams go to `emit`. */
  handle(it: MessageIter, portId: number, emit: (datagram: Uint8Array) => void): FakeNack | undefined {
    const tc = this.tc.handle(it, portId, emit);
    if (tc !== 'unhandled') {
      if ((it.flags & NlmFlags.NLM_F_DUMP) === NlmFlags.NLM_F_DUMP) this.dumps++;
      return tc;
    }
    if ((it.flags & NlmFlags.NLM_F_DUMP) !== NlmFlags.NLM_F_DUMP) return { errno: Errno.EOPNOTSUPP };
    let puts: Array<(b: MessageBuilder) => void>;
    if (it.type === RtmType.RTM_GETLINK) {
      puts = [...this.#links.values()].map((l) => (b) => putLink(b, RtmType.RTM_NEWLINK, NlmFlags.NLM_F_MULTI, it.seq, portId, l));
    } else if (it.type === RtmType.RTM_GETADDR) {
      const family = it.end - it.payloadOffset >= 1 ? it.buffer[it.payloadOffset]! : AddressFamily.AF_UNSPEC;
      const wanted = [AddressFamily.AF_INET, AddressFamily.AF_INET6]
        .filter((f) => family === AddressFamily.AF_UNSPEC || f === family)
        .flatMap((f) => this.#addrs.filter((a) => a.family === f).sort((x, y) => x.index - y.index));
      puts = wanted.map((a) => (b) => putAddr(b, RtmType.RTM_NEWADDR, NlmFlags.NLM_F_MULTI, it.seq, portId, a, this.#links.get(a.index)?.name ?? ''));
    } else {
      return { errno: Errno.EOPNOTSUPP };
    }
    this.dumps++;
    emitDump(this.perDatagram, puts, it.seq, portId, emit);
    return undefined;
  }

  #push(a: Addr): Addr {
    // A second IPv4 address in a subnet already on the link is a secondary one.
    if (a.family === AddressFamily.AF_INET && this.#addrs.some((x) => x.index === a.index && x.family === a.family && samePrefix(x, a))) {
      a.flags |= IfaFlags.IFA_F_SECONDARY;
    }
    this.#addrs.push(a);
    return a;
  }

  #removeAddr(a: Addr, options: ChangeOptions): void {
    this.#addrs = this.#addrs.filter((x) => x !== a);
    const name = this.#links.get(a.index)?.name ?? '';
    this.#notify(groupOf(a), options, (b, seq, pid) => putAddr(b, RtmType.RTM_DELADDR, 0, seq, pid, a, name));
  }

  /** Sends one notification to every open member of `group` (a copy each). */
  #notify(group: number, options: ChangeOptions, put: (b: MessageBuilder, seq: number, pid: number) => void): void {
    if (options.notify === false) return;
    const b = new MessageBuilder(512);
    put(b, options.seq ?? 0, options.pid ?? 0);
    const datagram = take(b);
    for (const [s, groups] of this.#members) {
      if (s.closed || !groups.has(group)) continue;
      this.notificationsSent++;
      this.#deliver(s, datagram.slice());
    }
  }

  #mustLink(index: number): FakeLink {
    const l = this.#links.get(index);
    if (!l) throw new RangeError(`FakeKernel: no link ${index}`);
    return l;
  }
}

function groupOf(a: Addr): number {
  return a.family === AddressFamily.AF_INET ? RtnlGroup.RTNLGRP_IPV4_IFADDR : RtnlGroup.RTNLGRP_IPV6_IFADDR;
}

function samePrefix(x: Addr, y: Addr): boolean {
  if (x.prefixLen !== y.prefixLen) return false;
  for (let bit = 0; bit < x.prefixLen; bit++) {
    const m = 0x80 >> bit % 8;
    if ((x.bytes[bit >> 3]! & m) !== (y.bytes[bit >> 3]! & m)) return false;
  }
  return true;
}

function parseAddr(text: string, link: FakeLink): Addr {
  const [ip = '', prefix] = text.split('/');
  const version = ip.includes(':') ? 6 : 4;
  const bytes = version === 4 ? tryParseIpv4(ip) : tryParseIpv6(ip);
  if (!bytes) throw new TypeError(`FakeKernel: invalid IPv${version} address ${JSON.stringify(text)} on ${link.name}`);
  let scope: number = RtScope.RT_SCOPE_UNIVERSE;
  if (version === 4 && bytes[0] === 127) scope = RtScope.RT_SCOPE_HOST;
  if (version === 6 && bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) scope = RtScope.RT_SCOPE_LINK;
  if (version === 6 && bytes.every((v, i) => v === (i === 15 ? 1 : 0))) scope = RtScope.RT_SCOPE_HOST;
  const prefixLen = prefix !== undefined ? Number(prefix) : version === 4 ? 24 : 64;
  const family = version === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
  return { family, bytes, prefixLen, scope, flags: IfaFlags.IFA_F_PERMANENT, index: link.index };
}

function putLink(b: MessageBuilder, type: number, flags: number, seq: number, portId: number, l: FakeLink): void {
  b.begin(type, flags, seq, portId);
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

function putAddr(b: MessageBuilder, type: number, flags: number, seq: number, portId: number, a: Addr, linkName: string): void {
  b.begin(type, flags, seq, portId);
  const off = b.reserve(IFADDRMSG_LEN);
  b.buffer[off] = a.family;
  b.buffer[off + 1] = a.prefixLen;
  b.buffer[off + 2] = a.flags & 0xff;
  b.buffer[off + 3] = a.scope;
  putU32ne(b.buffer, off + 4, a.index);
  b.putAttr(IfaAttr.IFA_ADDRESS, a.bytes);
  if (a.family === AddressFamily.AF_INET) {
    b.putAttr(IfaAttr.IFA_LOCAL, a.bytes);
    b.putAttrString(IfaAttr.IFA_LABEL, linkName);
  }
  b.putAttrU32ne(IfaAttr.IFA_FLAGS, a.flags);
  b.end();
}
