/**
 * divert's own ping, so the demo and the tests need no `ping` binary: ICMP echo (IPv4) and ICMPv6
 * echo over raw sockets through the native addon, opened directly inside a network namespace
 * (`socket()`'s `netnsPath`: no child process), sent with `sendto` and read with `recvmmsg` when
 * the libuv poller says the socket is readable. Nothing here ever blocks the event loop.
 *
 * Bounded: `count` requests (1–1000), `intervalMs` apart, or with `untilReplies` as many as it
 * takes to get `count` replies (at most 1000, as `ping -c count -w deadline`); each reply counts
 * only within `timeoutMs` of its request, and the whole run ends by `deadlineMs`. Replies are told apart by
 * Identifier, a random data token and Sequence Number (./echo.ts), so pings running side by side,
 * in this process or another, never take each other's replies.
 *
 * TTL and hop limit. A raw IPv4 socket receives the IP header, so each reply's TTL is read there.
 * A raw ICMPv6 socket gets no IPv6 header: the hop limit would come as IPV6_HOPLIMIT ancillary
 * data, which the addon's recvmmsg does not return. So an IPv6 ping opens a second socket in the
 * same namespace, AF_PACKET/SOCK_DGRAM for ETH_P_IPV6, which sees whole IPv6 packets as they
 * arrive on an interface, and reads our replies' hop limit there. The raw ICMPv6 socket alone
 * decides what was received: it gets a reply after the stack's input hooks, so a reply a firewall
 * drops is not counted even though the AF_PACKET socket saw it go by. NB: for the same reason the
 * hop limit is the one the reply arrived with, before this host's own PREROUTING/INPUT hooks.
 * @module
 */
import { loadNative, UV_READABLE, type NativeBinding, type PollHandle } from '../../_native/binding.js';
import { sockaddrIn, sockaddrIn6 } from '../../_native/sockaddr.js';
import {
  AF_INET, AF_INET6, AF_PACKET, ETH_P_IPV6, IPV6_MTU_DISCOVER, IP_MTU_DISCOVER, IP_PMTUDISC_DO, PACKET_IGNORE_OUTGOING,
  SOCK_DGRAM, SOCK_RAW, SOL_IP, SOL_IPV6, SOL_PACKET,
} from '../../ip/socket_constants.js';
import { errnoName, SystemCallError } from '../../errors.js';
import { IP_PROTOCOL, formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../packet/mod.js';
import { htons } from '../../rtnetlink/tc_msg.js';
import {
  ECHO_TOKEN_LEN, echoData, encodeEchoRequest, readIcmpDatagram, readIcmpv6Message, readIpv6HopLimit,
  type EchoEvent, type EchoMatch,
} from './echo.js';

/** Options of {@link ping}; every number is bounded (RangeError outside the range given). */
export interface PingOptions {
  /** Echo requests to send, 1–1000 (default 1); with `untilReplies`, replies to wait for. */
  count?: number | undefined;
  /**
   * Keep sending, `intervalMs` apart, until `count` replies came or the deadline passed (ping's
   * `-c count -w deadline`): a request lost before a firewall rule or a listener was ready is
   * made up for. At most 1000 requests. Default false: exactly `count` requests.
   */
  untilReplies?: boolean | undefined;
  /** Milliseconds between requests, 10–10 000 (default 200). */
  intervalMs?: number | undefined;
  /** How long a reply may take after its request, 1–60 000 ms (default 1000). */
  timeoutMs?: number | undefined;
  /** The whole run ends by then, 1–120 000 ms (default: the last request's send time plus `timeoutMs`). */
  deadlineMs?: number | undefined;
  /** Bytes of data after the 8-byte ICMP header, 0–65 000 (default 56, as ping). */
  size?: number | undefined;
  /** Set DF (IPv4) / refuse to fragment locally (IPv6): too-big requests fail or come back as errors. */
  dontFragment?: boolean | undefined;
  /** Path of the network namespace to ping from (e.g. /run/netns/NAME); default: this process's. */
  netns?: string | undefined;
  /** Ends the run early; the promise then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** Something other than a reply that came of a request. */
export type PingError =
  /** An ICMP(v6) error quoting the request; `mtu` for "fragmentation needed" / "packet too big". */
  | { kind: 'icmp'; seq: number; type: number; code: number; mtu?: number; from?: string }
  /** The request could not be sent: the errno name (EMSGSIZE, EPERM when a firewall drops it …). */
  | { kind: 'send'; seq: number; code: string };

export interface PingResult {
  /** Requests handed to the kernel. */
  sent: number;
  /** Replies within their timeout (duplicates not counted). */
  received: number;
  /** Round-trip time of each reply in ms (µs precision), in arrival order. */
  rtts: number[];
  /** TTL (IPv4) or hop limit (IPv6) of each reply, in the same order; see the module note for IPv6. */
  ttls: number[];
  errors: PingError[];
}

const SLOT = 2048; // enough for every header we read; longer datagrams arrive cut (MSG_TRUNC)
const SLOTS = 16;
const MAX_DRAIN = 64; // recvmmsg calls per readiness callback: a flood cannot starve the loop
const MAX_REQUESTS = 1000;

let nextIdent = Math.floor(Math.random() * 0x10000);

function bounded(v: number | undefined, fallback: number, min: number, max: number, what: string): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`ping: ${what} must be an integer ${min}–${max}, got ${String(v)}`);
  return n;
}

/** One socket, its poller and its receive arena. */
interface Watched {
  fd: number;
  poll: PollHandle | undefined;
  arena: Uint8Array;
  lengths: Uint32Array;
  read: (datagram: Uint8Array) => void;
}

/**
 * Pings `address` (IPv4 or IPv6 text) and resolves with what came back; never rejects for lost
 * replies, only for misuse or when the sockets cannot be opened (CAP_NET_RAW is needed).
 * @throws {SyntaxError} for an address that is not IPv4 or IPv6 text; {RangeError} for options out of range
 * @example
 * ```ts
 * const r = await ping('198.18.2.2', { count: 2, netns: '/run/netns/client' });
 * console.log(`${r.received}/${r.sent}, ttl ${r.ttls.join(', ')}`);
 * ```
 */
export async function ping(address: string, options: PingOptions = {}): Promise<PingResult> {
  const count = bounded(options.count, 1, 1, MAX_REQUESTS, 'count');
  const intervalMs = bounded(options.intervalMs, 200, 10, 10_000, 'intervalMs');
  const timeoutMs = bounded(options.timeoutMs, 1000, 1, 60_000, 'timeoutMs');
  const deadlineMs = bounded(options.deadlineMs, Math.min((count - 1) * intervalMs + timeoutMs, 120_000), 1, 120_000, 'deadlineMs');
  const size = bounded(options.size, 56, 0, 65_000, 'size');
  options.signal?.throwIfAborted();
  const v6 = address.includes(':');
  const dst = v6 ? parseIpv6(address) : parseIpv4(address);
  const token = crypto.getRandomValues(new Uint8Array(ECHO_TOKEN_LEN));
  nextIdent = (nextIdent + 1) & 0xffff;
  const match: EchoMatch = { ident: nextIdent, token, size, target: v6 ? formatIpv6(dst) : formatIpv4(dst) };
  const run = new PingRun(loadNative(), v6, dst, match, options);
  try {
    return await run.run(count, intervalMs, timeoutMs, deadlineMs, echoData(token, size));
  } finally {
    run.close();
  }
}

class PingRun {
  readonly #n: NativeBinding;
  readonly #v6: boolean;
  readonly #dst: Uint8Array;
  readonly #match: EchoMatch;
  readonly #options: PingOptions;
  readonly #socks: Watched[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #sentAt = new Map<number, number>();
  /** Requests settled: answered, refused with an error, not sent, or timed out. */
  readonly #settled = new Set<number>();
  /** TTL / hop limit per sequence number, from whichever socket shows it. */
  readonly #ttl = new Map<number, number>();
  readonly #replies: number[] = [];
  readonly #result: PingResult = { sent: 0, received: 0, rtts: [], ttls: [], errors: [] };
  #attempted = 0;
  #count = 0;
  #finish: ((err?: unknown) => void) | undefined;

  constructor(native: NativeBinding, v6: boolean, dst: Uint8Array, match: EchoMatch, options: PingOptions) {
    this.#n = native;
    this.#v6 = v6;
    this.#dst = dst;
    this.#match = match;
    this.#options = options;
  }

  run(count: number, intervalMs: number, timeoutMs: number, deadlineMs: number, data: Uint8Array): Promise<PingResult> {
    this.#count = count;
    this.#open();
    return new Promise<PingResult>((resolve, reject) => {
      const signal = this.#options.signal;
      const onAbort = (): void => this.#finish?.(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#finish = (err?: unknown) => {
        this.#finish = undefined;
        signal?.removeEventListener('abort', onAbort);
        for (const t of this.#timers) clearTimeout(t);
        this.#timers.clear();
        if (err !== undefined) reject(err);
        else this.#settle(resolve);
      };
      this.#later(deadlineMs, () => this.#finish?.());
      const send = (seq: number): void => {
        this.#send(seq, data, timeoutMs);
        const more = this.#options.untilReplies ? seq < MAX_REQUESTS : seq < count;
        if (more && this.#finish) this.#later(intervalMs, () => send(seq + 1));
      };
      send(1);
    });
  }

  close(): void {
    for (const s of this.#socks.splice(0)) {
      if (s.poll) this.#n.pollStop(s.poll);
      this.#n.close(s.fd);
    }
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #open(): void {
    const netns = this.#options.netns ?? null;
    const raw = this.#v6 ? this.#n.socket(AF_INET6, SOCK_RAW, IP_PROTOCOL.ICMPV6, netns) : this.#n.socket(AF_INET, SOCK_RAW, IP_PROTOCOL.ICMP, netns);
    const kind = this.#v6 ? 'a raw ICMPv6 socket' : 'a raw ICMP socket';
    if (raw < 0) throw new SystemCallError('socket', -raw, `Cannot open ${kind} for ping (needs CAP_NET_RAW in the namespace): ${errnoName(-raw)}`);
    const read = this.#v6 ? (b: Uint8Array) => this.#event(readIcmpv6Message(b, this.#match)) : (b: Uint8Array) => this.#event(readIcmpDatagram(b, this.#match));
    this.#watch(raw, read);
    if (this.#options.dontFragment) {
      const r = this.#n.setsockopt(raw, this.#v6 ? SOL_IPV6 : SOL_IP, this.#v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, IP_PMTUDISC_DO);
      if (r < 0) throw new SystemCallError('setsockopt(MTU_DISCOVER)', -r);
    }
    if (!this.#v6) return;
    const pkt = this.#n.socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IPV6), netns);
    if (pkt < 0) throw new SystemCallError('socket', -pkt, `Cannot open an AF_PACKET socket for the IPv6 hop limit: ${errnoName(-pkt)}`);
    this.#watch(pkt, (b) => {
      const h = readIpv6HopLimit(b, this.#match);
      if (h && !this.#ttl.has(h.seq)) this.#ttl.set(h.seq, h.hopLimit);
    });
    // Our own requests need not be read at all; older kernels without the option just show them.
    this.#n.setsockopt(pkt, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
  }

  #watch(fd: number, read: (datagram: Uint8Array) => void): void {
    const s: Watched = { fd, poll: undefined, arena: new Uint8Array(SLOT * SLOTS), lengths: new Uint32Array(SLOTS), read };
    this.#socks.push(s);
    const h = this.#n.pollStart(fd, UV_READABLE, (status) => {
      if (status < 0) this.#finish?.(new SystemCallError('poll', -status));
      else this.#drain(s);
    });
    if (typeof h === 'number') throw new SystemCallError('pollStart', -h);
    s.poll = h;
  }

  #drain(s: Watched): void {
    for (let round = 0; round < MAX_DRAIN; round++) {
      const n = this.#n.recvmmsg(s.fd, s.arena, SLOT, SLOTS, s.lengths);
      if (n <= 0) return; // 0: nothing left (EAGAIN); an error shows again on the next readiness
      for (let i = 0; i < n; i++) {
        const len = Math.min(s.lengths[i]! & 0x7fffffff, SLOT);
        s.read(s.arena.subarray(i * SLOT, i * SLOT + len));
      }
    }
  }

  #send(seq: number, data: Uint8Array, timeoutMs: number): void {
    this.#attempted = seq;
    const msg = encodeEchoRequest(this.#v6, this.#match.ident, seq, data);
    const to = this.#v6 ? sockaddrIn6(this.#dst) : sockaddrIn(this.#dst);
    const raw = this.#socks[0]!.fd;
    const at = performance.now();
    const n = this.#n.sendto(raw, msg, to, 0);
    if (n < 0) {
      this.#result.errors.push({ kind: 'send', seq, code: errnoName(-n) });
      this.#done(seq);
      return;
    }
    this.#result.sent++;
    this.#sentAt.set(seq, at);
    this.#later(timeoutMs, () => this.#done(seq));
  }

  #event(e: EchoEvent | undefined): void {
    if (!e || !this.#finish || !this.#sentAt.has(e.seq) || this.#settled.has(e.seq)) return;
    if (e.kind === 'reply') {
      const rtt = performance.now() - this.#sentAt.get(e.seq)!;
      this.#result.received++;
      this.#result.rtts.push(Math.round(rtt * 1000) / 1000);
      this.#replies.push(e.seq);
      if (e.ttl !== undefined) this.#ttl.set(e.seq, e.ttl);
    } else {
      const { seq, type, code, mtu, from } = e;
      this.#result.errors.push({ kind: 'icmp', seq, type, code, ...(mtu === undefined ? {} : { mtu }), ...(from === undefined ? {} : { from }) });
    }
    this.#done(e.seq);
  }

  /** Marks `seq` settled; the run ends once every request is (or, with `untilReplies`, once `count` replies came). */
  #done(seq: number): void {
    this.#settled.add(seq);
    const enough = this.#options.untilReplies
      ? this.#result.received >= this.#count
      : this.#attempted === this.#count && this.#settled.size >= this.#count;
    if (enough) this.#finish?.();
  }

  /**
   * Resolves with the result. An IPv6 reply's hop limit may still sit unread in the AF_PACKET
   * socket (its poll callback has not run yet): read it now, and give the kernel one short
   * moment if it is still missing (the tap and the raw socket are fed by the same softirq).
   */
  #settle(resolve: (r: PingResult) => void, retried = false): void {
    for (const s of this.#socks.slice(1)) this.#drain(s);
    if (!retried && this.#replies.some((seq) => !this.#ttl.has(seq))) {
      setTimeout(() => this.#settle(resolve, true), 20);
      return;
    }
    for (const seq of this.#replies) {
      const ttl = this.#ttl.get(seq);
      if (ttl !== undefined) this.#result.ttls.push(ttl);
    }
    resolve(this.#result);
  }
}
