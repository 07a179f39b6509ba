/**
 * LinkTable: interface names, MACs and addresses of one network namespace, read over rtnetlink
 * and cached. `recvfrom()` needs the receiving interface's address for every inbound packet, so
 * lookups hit a Map; an unknown ifindex refreshes the table (at most once per second), and the
 * per-packet lookup re-reads a table older than five seconds, so changed addresses show up.
 * @module
 */
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import { putGetLinkDump, putGetAddrDump, parseLinkMessage, parseAddrMessage, type LinkInfo } from '../rtnetlink/link_addr.js';

const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RT_SCOPE_UNIVERSE = 0;
const REFRESH_MIN_MS = 1000;
/** Oldest the table may get while packets keep asking for it (a dump costs ~0.1 ms). */
const MAX_AGE_MS = 5000;

export interface Link {
  index: number;
  name: string;
  mtu: number;
  /** MAC address, when the link has one. */
  hwAddr: string | undefined;
  flags: number;
  /** IPv4 addresses, primary first. */
  ipv4: string[];
  /** IPv6 addresses, global scope first. */
  ipv6: string[];
}

export class LinkTable {
  #socket: NetlinkSocket;
  #byIndex = new Map<number, Link>();
  #lastRefresh = -Infinity;

  constructor(netnsPath?: string) {
    this.#socket = NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE, { netnsPath, slotSize: 32768, batch: 4 });
    this.refresh();
  }

  /** Re-reads links and addresses now. */
  refresh(): void {
    this.#lastRefresh = performance.now();
    const links = new Map<number, Link>();
    const b = new MessageBuilder(128);
    let seq = this.#socket.nextSeq();
    putGetLinkDump(b, seq);
    this.#socket.dumpSync(b.bytes(), seq, 'list interfaces', (it) => {
      if (it.type !== RTM_NEWLINK) return;
      const l: LinkInfo = parseLinkMessage(it.buffer, it.payloadOffset, it.end);
      links.set(l.index, { index: l.index, name: l.name, mtu: l.mtu, hwAddr: l.address, flags: l.flags, ipv4: [], ipv6: [] });
    });
    b.reset();
    seq = this.#socket.nextSeq();
    putGetAddrDump(b, seq, AddressFamily.AF_UNSPEC);
    const v6Scoped: Array<[Link, string, number]> = [];
    this.#socket.dumpSync(b.bytes(), seq, 'list interface addresses', (it) => {
      if (it.type !== RTM_NEWADDR) return;
      const a = parseAddrMessage(it.buffer, it.payloadOffset, it.end);
      const link = links.get(a.index);
      if (!link) return;
      if (a.family === AddressFamily.AF_INET) {
        const addr = a.local ?? a.address;
        if (addr) link.ipv4.push(addr);
      } else if (a.family === AddressFamily.AF_INET6 && a.address) {
        v6Scoped.push([link, a.address, a.scope]);
      }
    });
    // Global addresses before link-local ones, so the "receiving interface address" is routable.
    v6Scoped.sort((x, y) => (x[2] === RT_SCOPE_UNIVERSE ? 0 : 1) - (y[2] === RT_SCOPE_UNIVERSE ? 0 : 1));
    for (const [link, addr] of v6Scoped) link.ipv6.push(addr);
    this.#byIndex = links;
  }

  /** The link with `index`, refreshing once if it is not known yet. */
  get(index: number): Link | undefined {
    if (index === 0) return undefined;
    // Addresses change under known interfaces too (DHCP, ip addr add): re-read a stale table.
    if (performance.now() - this.#lastRefresh > MAX_AGE_MS) this.refresh();
    return this.#byIndex.get(index) ?? this.#findOrRefresh((l) => l.index === index, true);
  }

  /** The link named `name`, refreshing once if it is not known yet. */
  byName(name: string): Link | undefined {
    return this.#findOrRefresh((l) => l.name === name, false);
  }

  /** The link holding the local address `address`. */
  byAddress(address: string): Link | undefined {
    return this.#findOrRefresh((l) => l.ipv4.includes(address) || l.ipv6.includes(address), false);
  }

  /**
   * The first link matching `match`, re-reading the table once on a miss. `rateLimited` (the
   * per-packet path) re-reads at most once a second; lookups for injection always do, so an
   * interface made a moment ago is found.
   */
  #findOrRefresh(match: (l: Link) => boolean, rateLimited: boolean): Link | undefined {
    const find = (): Link | undefined => [...this.#byIndex.values()].find(match);
    const link = find();
    if (link || (rateLimited && performance.now() - this.#lastRefresh <= REFRESH_MIN_MS)) return link;
    this.refresh();
    return find();
  }

  all(): Link[] {
    return [...this.#byIndex.values()];
  }

  close(): void {
    this.#socket.close();
  }
}
