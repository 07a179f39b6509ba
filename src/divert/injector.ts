/**
 * Injector: sends packets nobody intercepted (seed §7.2), outbound or inbound.
 *
 * Plain NFQUEUE cannot inject, so divert brings its own mechanism, chosen to work on stock kernels:
 * - **Outbound** (no address, `0.0.0.0`/`::`): a raw `IPPROTO_RAW` socket (header included) sends
 *   the packet through the routing table as it is. Multicast leaves by the interface named with
 *   `interface` (IP_MULTICAST_IF / IPV6_MULTICAST_IF semantics).
 * - **Inbound** (a local interface's address, name or index): an `AF_PACKET` socket transmits the
 *   packet on that interface with a private firewall mark, and a tc `clsact` egress filter on the
 *   interface (classic BPF: "mark == INJECT_MARK") redirects it to the same interface's *ingress*
 *   with `mirred`. The packet then enters the stack as if received there: input hooks, local
 *   delivery or forwarding. Cost: one tc filter per interface used, added over rtnetlink on first
 *   use and removed on close (plus the clsact qdisc when divert added it and nothing else is left
 *   on it). Nothing is sent on the wire.
 *
 * The first inbound injection on an interface sets the redirect up inside sendto(): the kernel
 * answers those rtnetlink requests within the sending call, so the answer is read at once and
 * nothing waits (NetlinkSocket.exchangeNow).
 *
 * Every injected packet carries DIVERT_MARK, so DIVERT rules never divert it again (no loops).
 * @module
 */
import { loadNative, type NativeBinding } from '../_native/binding.js';
import { check, Errno } from '../_native/errno.js';
import { sockaddrIn, sockaddrIn6, sockaddrLl } from '../_native/sockaddr.js';
import {
  AF_INET, AF_INET6, AF_PACKET, ETH_P_IP, ETH_P_IPV6, IPPROTO_RAW, IPV6_MULTICAST_IF, IP_MULTICAST_IF, SOCK_DGRAM, SOCK_RAW,
  SOL_IP, SOL_IPV6, SOL_SOCKET, SO_MARK,
} from '../ip/socket_constants.js';
import { fillChecksums } from '../packet/checksum.js';
import { checkIpPacket } from '../packet/ip_length.js';
import { DIVERT_MARK, INJECT_MARK, INJECT_REDIRECT } from '../firewall/mark.js';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { installRedirectNow, removeRedirect, removeRedirectSync, type RedirectSpec } from '../rtnetlink/tc_redirect.js';
import type { LinkTable, Link } from '../rtnetlink/link_table.js';
import { DivertError, NetlinkError, SystemCallError } from '../errors.js';
import { Netns } from '../_native/netns.js';

/** Where to inject: omit for outbound; `address`/`interface` of a local interface for inbound. */
export interface InjectAddress {
  /** `0.0.0.0`/`::` (outbound), or the address of a local interface (inbound there). */
  address?: string | undefined;
  /** Interface name or index: inbound as if received there, or for outbound multicast, the interface to leave by. */
  interface?: string | number | undefined;
  /** Force outbound even when `interface` is given (multicast: choose the outgoing interface). */
  outbound?: boolean | undefined;
}

export { INJECT_MARK };


/** Inbound redirects of this process, shared by its sockets: key netns|ifindex. */
const REDIRECTS = new Map<string, { refs: number; spec: RedirectSpec; addedQdisc: boolean }>();

export class Injector {
  #native: NativeBinding;
  #netnsPath: string | undefined;
  #links: () => LinkTable;
  #raw4 = -1;
  #raw6 = -1;
  /** The multicast interface currently set on each raw socket (0: routing table). */
  #mcastIf4 = 0;
  #mcastIf6 = 0;
  #packet = -1;
  /** NETLINK_ROUTE socket for the tc redirects, opened on first inbound use. */
  #route: NetlinkSocket | undefined;
  /** Redirect keys (namespace identity|ifindex) this injector holds a share of. */
  #redirects = new Set<string>();
  /** The namespace's identity, read once: however it was named, one namespace shares one redirect. */
  #nsKey: string;

  constructor(netnsPath: string | undefined, links: () => LinkTable) {
    this.#native = loadNative();
    this.#netnsPath = netnsPath;
    this.#nsKey = Netns.identity(netnsPath);
    this.#links = links;
  }

  /** Sends `packet`; returns the bytes sent. Checksums are filled unless `fill` is false. */
  send(packet: Uint8Array, to: InjectAddress | undefined, fill: boolean): number {
    const family = checkIpPacket(packet);
    const bytes = fill ? fillCopy(packet) : packet;
    const inbound = resolveInbound(to, this.#links);
    if (inbound && !to?.outbound) return this.#sendInbound(bytes, family, inbound);
    return this.#sendOutbound(bytes, family, to?.interface !== undefined ? this.#links().get(ifindexOf(to.interface, this.#links)) : undefined);
  }

  #sendOutbound(bytes: Uint8Array, family: 4 | 6, via: Link | undefined): number {
    const native = this.#native;
    if (family === 4) {
      if (this.#raw4 < 0) this.#raw4 = this.#openRaw(AF_INET);
      const dst = bytes.subarray(16, 20);
      // The interface is set for every multicast send (0 = the routing table's choice), so one
      // send's choice never sticks to the next.
      const ifindex = via?.index ?? 0;
      if (dst[0]! >= 224 && dst[0]! <= 239 && ifindex !== this.#mcastIf4) {
        const mreqn = new Uint8Array(12);
        new DataView(mreqn.buffer).setInt32(8, ifindex, HOST_LITTLE_ENDIAN); // struct ip_mreqn: imr_ifindex, host order
        check('setsockopt(IP_MULTICAST_IF)', native.setsockopt(this.#raw4, SOL_IP, IP_MULTICAST_IF, mreqn));
        this.#mcastIf4 = ifindex;
      }
      return sendResult('inject outbound', native.sendto(this.#raw4, bytes, sockaddrIn(dst), 0), bytes.length);
    }
    if (this.#raw6 < 0) this.#raw6 = this.#openRaw(AF_INET6);
    const dst = bytes.subarray(24, 40);
    const ifindex = via?.index ?? 0;
    if (dst[0] === 0xff && ifindex !== this.#mcastIf6) {
      check('setsockopt(IPV6_MULTICAST_IF)', native.setsockopt(this.#raw6, SOL_IPV6, IPV6_MULTICAST_IF, ifindex));
      this.#mcastIf6 = ifindex;
    }
    // The port of a raw IPv6 sockaddr must be 0 (it would be read as the protocol).
    return sendResult('inject outbound', native.sendto(this.#raw6, bytes, sockaddrIn6(dst, 0, via?.index ?? 0), 0), bytes.length);
  }

  #sendInbound(bytes: Uint8Array, family: 4 | 6, link: Link): number {
    this.#ensureRedirect(link);
    if (this.#packet < 0) {
      this.#packet = check('socket(AF_PACKET)', this.#native.socket(AF_PACKET, SOCK_DGRAM, 0, this.#netnsPath ?? null));
      check('setsockopt(SO_MARK)', this.#native.setsockopt(this.#packet, SOL_SOCKET, SO_MARK, INJECT_MARK | 0));
    }
    const mac = link.hwAddr ? Uint8Array.from(link.hwAddr.split(':').map((h) => parseInt(h, 16))) : new Uint8Array(0);
    const to = sockaddrLl(link.index, family === 4 ? ETH_P_IP : ETH_P_IPV6, mac);
    return sendResult(`inject inbound on ${link.name}`, this.#native.sendto(this.#packet, bytes, to, 0), bytes.length);
  }

  #openRaw(domain: number): number {
    const fd = this.#native.socket(domain, SOCK_RAW, IPPROTO_RAW, this.#netnsPath ?? null);
    if (fd < 0) {
      if (-fd === Errno.EPERM || -fd === Errno.EACCES) {
        throw new DivertError('Cannot inject packets: raw sockets need CAP_NET_RAW (run as root)', 'EPERM');
      }
      throw new SystemCallError('socket', -fd);
    }
    check('setsockopt(SO_MARK)', this.#native.setsockopt(fd, SOL_SOCKET, SO_MARK, DIVERT_MARK | 0));
    return fd;
  }

  /**
   * Installs the clsact egress → ingress redirect for marked packets on `link`, once per process
   * and interface (sockets of one process share it, counted). Each process has its own filter
   * (handle = its pid), so one process closing never removes another's.
   */
  #ensureRedirect(link: Link): void {
    const key = `${this.#nsKey}|${link.index}`;
    if (this.#redirects.has(key)) return;
    const shared = REDIRECTS.get(key);
    if (shared) {
      shared.refs++;
      this.#redirects.add(key);
      return;
    }
    const spec: RedirectSpec = { ...INJECT_REDIRECT, ifindex: link.index, pid: process.pid };
    let addedQdisc: boolean;
    try {
      ({ addedQdisc } = installRedirectNow(this.#routeSocket(), spec));
    } catch (err) {
      const why = err instanceof NetlinkError && err.code === 'ENOENT' ? ' (the kernel lacks clsact, cls_bpf or act_mirred: see "divert doctor")' : '';
      throw new DivertError(`Cannot inject inbound on ${link.name}: setting up the tc redirect failed: ${(err as Error).message}${why}`, 'ERR_DIVERT_INJECT_SETUP', { cause: err });
    }
    REDIRECTS.set(key, { refs: 1, spec, addedQdisc });
    this.#redirects.add(key);
  }

  #routeSocket(): NetlinkSocket {
    this.#route ??= NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE, { netnsPath: this.#netnsPath, slotSize: 32768, batch: 4 });
    return this.#route;
  }

  /** This injector's shares of redirects, released: the redirects whose last share this was. */
  #release(): Array<{ spec: RedirectSpec; addedQdisc: boolean }> {
    const last: Array<{ spec: RedirectSpec; addedQdisc: boolean }> = [];
    for (const key of this.#redirects) {
      const r = REDIRECTS.get(key);
      if (!r || --r.refs > 0) continue;
      REDIRECTS.delete(key);
      last.push(r);
    }
    this.#redirects.clear();
    return last;
  }

  #closeSockets(): void {
    for (const fd of [this.#raw4, this.#raw6, this.#packet]) if (fd >= 0) this.#native.close(fd);
    this.#raw4 = this.#raw6 = this.#packet = -1;
    this.#mcastIf4 = this.#mcastIf6 = 0;
  }

  /** Closes the sockets and removes the tc filters (and qdiscs) this injector was the last to use. */
  async close(): Promise<void> {
    this.#closeSockets();
    const last = this.#release();
    try {
      for (const r of last) await removeRedirect(this.#routeSocket(), r.spec, r.addedQdisc).catch(() => undefined);
    } finally {
      this.#route?.close();
      this.#route = undefined;
    }
  }

  /** {@link close}, blocking: exit-time cleanup only. */
  closeSync(): void {
    this.#closeSockets();
    const last = this.#release();
    try {
      for (const r of last) {
        try {
          removeRedirectSync(this.#routeSocket(), r.spec, r.addedQdisc);
        } catch {
          // Exiting: `divert rules sweep` removes what is left.
        }
      }
    } finally {
      this.#route?.close();
      this.#route = undefined;
    }
  }
}

function fillCopy(packet: Uint8Array): Uint8Array {
  const copy = packet.slice();
  fillChecksums(copy);
  return copy;
}

function ifindexOf(iface: string | number, links: () => LinkTable): number {
  if (typeof iface === 'number') return iface;
  const link = links().byName(iface);
  if (!link) throw new DivertError(`No interface named ${JSON.stringify(iface)} in this network namespace`, 'ERR_DIVERT_NO_SUCH_INTERFACE');
  return link.index;
}

/** The interface to inject inbound on, or undefined for outbound. */
function resolveInbound(to: InjectAddress | undefined, links: () => LinkTable): Link | undefined {
  if (!to) return undefined;
  if (to.address !== undefined && to.address !== '0.0.0.0' && to.address !== '::') {
    const link = links().byAddress(to.address);
    if (!link) {
      throw new DivertError(
        `Cannot inject inbound: ${to.address} is not the address of a local interface (use 0.0.0.0 for outbound)`,
        'EADDRNOTAVAIL',
      );
    }
    return link;
  }
  if (to.interface !== undefined && !to.outbound) {
    const index = ifindexOf(to.interface, links);
    const link = links().get(index);
    if (!link) throw new DivertError(`No interface with index ${index} in this network namespace`, 'ERR_DIVERT_NO_SUCH_INTERFACE');
    return link;
  }
  return undefined;
}

function sendResult(op: string, n: number, expected: number): number {
  if (n >= 0) return n;
  if (-n === Errno.EMSGSIZE) {
    throw new DivertError(`Cannot ${op}: the ${expected}-byte packet is larger than the path MTU (fragment it or clear DF)`, 'EMSGSIZE');
  }
  if (-n === Errno.EPERM) {
    throw new DivertError(`Cannot ${op}: the kernel refused it (EPERM: a firewall rule, or missing CAP_NET_RAW)`, 'EPERM');
  }
  throw new SystemCallError('sendto', -n, `Cannot ${op}: ${new SystemCallError('sendto', -n).code}`);
}
