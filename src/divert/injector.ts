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
 *   delivery or forwarding. Cost: one tc filter per interface used, added on first use and removed
 *   on close (plus the clsact qdisc when divert added it). Nothing is sent on the wire.
 *
 * Every injected packet carries DIVERT_MARK, so DIVERT rules never divert it again (no loops).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { loadNative, type NativeBinding } from '../_native/binding.js';
import { check, Errno } from '../_native/errno.js';
import { AF_INET, AF_INET6, AF_PACKET, SOCK_DGRAM, SOCK_RAW, sockaddrIn, sockaddrIn6, sockaddrLl } from '../_native/sockaddr.js';
import { fillChecksums } from '../packet/checksum.js';
import { DIVERT_MARK } from '../firewall/mark.js';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { INJECT_MARK, injectFilterArgs, injectFilterDeleteArgs } from '../firewall/inject_filters.js';
import { DivertError, SystemCallError } from '../errors.js';
import type { LinkTable, Link } from './link_table.js';

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

const SOL_SOCKET = 1;
const SO_MARK = 36;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IPPROTO_RAW = 255;
const IP_MULTICAST_IF = 32;
const IPV6_MULTICAST_IF = 17;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;

/** Inbound redirects of this process, shared by its sockets: key netns|ifindex. */
const REDIRECTS = new Map<string, { refs: number; name: string; addedQdisc: boolean }>();

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
  /** Redirect keys (netns|ifindex) this injector holds a share of. */
  #redirects = new Set<string>();

  constructor(netnsPath: string | undefined, links: () => LinkTable) {
    this.#native = loadNative();
    this.#netnsPath = netnsPath;
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
        check('setsockopt(IP_MULTICAST_IF)', native.setsockopt(this.#raw4, IPPROTO_IP, IP_MULTICAST_IF, mreqn));
        this.#mcastIf4 = ifindex;
      }
      return sendResult('inject outbound', native.sendto(this.#raw4, bytes, sockaddrIn(dst), 0), bytes.length);
    }
    if (this.#raw6 < 0) this.#raw6 = this.#openRaw(AF_INET6);
    const dst = bytes.subarray(24, 40);
    const ifindex = via?.index ?? 0;
    if (dst[0] === 0xff && ifindex !== this.#mcastIf6) {
      check('setsockopt(IPV6_MULTICAST_IF)', native.setsockopt(this.#raw6, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex));
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
    const key = `${this.#netnsPath ?? ''}|${link.index}`;
    if (this.#redirects.has(key)) return;
    const shared = REDIRECTS.get(key);
    if (shared) {
      shared.refs++;
      this.#redirects.add(key);
      return;
    }
    const qdisc = this.#tc(['qdisc', 'add', 'dev', link.name, 'clsact']);
    const addedQdisc = qdisc.ok;
    if (!qdisc.ok && !/File exists|Exclusivity flag on/.test(qdisc.stderr)) {
      throw new DivertError(`Cannot inject inbound on ${link.name}: tc qdisc add clsact failed: ${qdisc.stderr.trim()}`, 'ERR_DIVERT_INJECT_SETUP');
    }
    const filter = this.#tc(injectFilterArgs(link.name, process.pid));
    if (!filter.ok) {
      if (addedQdisc) this.#tc(['qdisc', 'del', 'dev', link.name, 'clsact']);
      throw new DivertError(`Cannot inject inbound on ${link.name}: tc filter failed: ${filter.stderr.trim()}`, 'ERR_DIVERT_INJECT_SETUP');
    }
    REDIRECTS.set(key, { refs: 1, name: link.name, addedQdisc });
    this.#redirects.add(key);
  }

  /** Drops this injector's share of a redirect; the last one out removes the filter. */
  #releaseRedirect(key: string): void {
    const r = REDIRECTS.get(key);
    if (!r || --r.refs > 0) return;
    REDIRECTS.delete(key);
    this.#tc(injectFilterDeleteArgs(r.name, process.pid));
    // The qdisc goes only if divert added it and nothing else hangs on it (other programs' filters).
    if (r.addedQdisc && this.#tc(['filter', 'show', 'dev', r.name, 'egress']).stdout === '' && this.#tc(['filter', 'show', 'dev', r.name, 'ingress']).stdout === '') {
      this.#tc(['qdisc', 'del', 'dev', r.name, 'clsact']);
    }
  }

  /** Runs tc (inside the socket's namespace); never throws: callers decide what a failure means. */
  #tc(args: string[]): { ok: boolean; stdout: string; stderr: string } {
    const argv = this.#netnsPath ? ['nsenter', `--net=${this.#netnsPath}`, 'tc', ...args] : ['tc', ...args];
    try {
      const stdout = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
      return { ok: true, stdout: stdout.trim(), stderr: '' };
    } catch (err) {
      return { ok: false, stdout: '', stderr: String((err as { stderr?: string }).stderr ?? (err as Error).message) };
    }
  }

  /** Closes the sockets and removes the tc filters (and qdiscs) this injector added. */
  close(): void {
    for (const fd of [this.#raw4, this.#raw6, this.#packet]) if (fd >= 0) this.#native.close(fd);
    this.#raw4 = this.#raw6 = this.#packet = -1;
    this.#mcastIf4 = this.#mcastIf6 = 0;
    for (const key of this.#redirects) this.#releaseRedirect(key);
    this.#redirects.clear();
  }
}

/** Validates the IP header enough to send the bytes safely; returns the IP version. */
function checkIpPacket(p: Uint8Array): 4 | 6 {
  if (p.length < 1) throw new DivertError('Cannot inject an empty packet', 'ERR_DIVERT_BAD_PACKET');
  const version = p[0]! >> 4;
  if (version === 4) {
    const ihl = (p[0]! & 0x0f) * 4;
    if (p.length < 20 || ihl < 20 || ihl > p.length) throw new DivertError(`Cannot inject: truncated IPv4 header (${p.length} bytes, IHL ${ihl})`, 'ERR_DIVERT_BAD_PACKET');
    const total = (p[2]! << 8) | p[3]!;
    if (total !== p.length) {
      throw new DivertError(`Cannot inject: IPv4 total length ${total} does not match the ${p.length} bytes given`, 'ERR_DIVERT_BAD_PACKET');
    }
    return 4;
  }
  if (version === 6) {
    if (p.length < 40) throw new DivertError(`Cannot inject: truncated IPv6 header (${p.length} bytes)`, 'ERR_DIVERT_BAD_PACKET');
    const payload = (p[4]! << 8) | p[5]!;
    if (payload + 40 !== p.length) {
      throw new DivertError(`Cannot inject: IPv6 payload length ${payload} does not match the ${p.length - 40} bytes given`, 'ERR_DIVERT_BAD_PACKET');
    }
    return 6;
  }
  throw new DivertError(`Cannot inject: IP version ${version} (the first byte must start with 4 or 6)`, 'ERR_DIVERT_BAD_PACKET');
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
