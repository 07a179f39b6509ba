/**
 * The options a divert socket takes, their checks, and the counters it keeps.
 *
 * Every option is checked when the socket is made: a wrong type, an unknown name or a value
 * outside its range is a TypeError/RangeError naming the option and what it accepts, before
 * anything is opened.
 * @module
 */
import type { RuleSpec } from './rule_set.js';
import { Netns } from '../_native/netns.js';
import { parseFilter } from '../filter/check.js';

export type AutoVerdict = 'accept' | 'drop';

/** What `createDivertSocket(options)` takes; every option is optional (README: "API in brief"). */
export interface DivertSocketOptions {
  /** Bind this port (NFQUEUE queue number, 0–65535) at once. */
  port?: number | undefined;
  /**
   * DIVERT rules to install for the socket's lifetime, ipchains style without the target
   * (`'-A input -p icmp'`) or as rule objects; divert adds `-j DIVERT <port>`. Removed on close,
   * SIGINT, SIGTERM and uncaught errors.
   */
  rules?: readonly RuleSpec[] | undefined;
  /**
   * A WinDivert filter (`'outbound and tcp.DstPort == 80'`), compiled into kernel rules so only
   * matching packets are queued; what the kernel cannot decide exactly is decided in user space
   * (non-matching packets go on at once, counted in `stats.filtered`). With `rules` too, a packet
   * must match a rule and the filter. Without `port`, a free divert port is chosen.
   */
  filter?: string | undefined;
  /** Network namespace: a name as in `ip netns` or a path to a namespace file. */
  netns?: string | undefined;
  /** Always-defragment mode (seed 5.2): packets arrive reassembled; see README. */
  defragment?: boolean | undefined;
  /** Rules installed by this socket let packets pass when nobody listens (seed "pass-through"). */
  passThrough?: boolean | undefined;
  /**
   * WinDivert's priority of this socket's rules: higher sees packets first (−30000…30000,
   * default 0). A packet one program reinjects goes on to the next program's rules at the same hook.
   */
  priority?: number | undefined;
  /** Milliseconds a packet may wait for its verdict (default 5000; 0 = forever). */
  verdictTimeoutMs?: number | undefined;
  /** Verdict for packets that time out (default 'accept'). */
  timeoutVerdict?: AutoVerdict | undefined;
  /** Verdict for packets still held at close (default 'accept': they are reinjected). */
  closeVerdict?: AutoVerdict | undefined;
  /** Recompute checksums of changed packets before reinjection (default true). */
  fillChecksums?: boolean | undefined;
  /** Kernel queue length (default 4096). */
  maxQueueLength?: number | undefined;
  /** Bytes of each packet copied to user space (default: all, 65531). */
  copyRange?: number | undefined;
  /** `'packet'` (default) copies the packet; `'meta'` copies none of it (verdicts and metadata only). */
  copyMode?: 'packet' | 'meta' | undefined;
  /** Accept packets the kernel cannot queue (queue full) instead of dropping them. */
  failOpen?: boolean | undefined;
  /**
   * Receive GSO/GRO super-packets whole (default true: a TCP bulk flow costs one verdict per up
   * to 64 KB, not one per segment). Such packets may carry partial checksums
   * (`address.checksumNotReady`); a changed one gets full checksums and the kernel segments it
   * again on its way. `false` asks the kernel to segment before queueing (one packet per MTU),
   * for programs that act per segment (impairment, TCP payload rewriting).
   */
  gso?: boolean | undefined;
  /**
   * Let the program change the length of TCP segments' data (reinject new bytes, see
   * `withTcpPayload`): divert then keeps sequence, acknowledgement and SACK numbers of the flow
   * consistent both ways. Both directions of a rewritten flow must reach this socket.
   */
  tcpRewrite?: boolean | undefined;
  /** Report the owning socket's uid/gid. */
  uidGid?: boolean | undefined;
  /**
   * Read sparse packets in batches: after a read that emptied the queue, the next read happens
   * this many milliseconds later, from a timer, instead of on the next packet's arrival. Each
   * packet may wait up to this long; in return a trickle of packets costs a fraction of the CPU
   * (a wake-up per packet is most of what a sparse packet costs, in C too: see the README's
   * benchmark). Default 0: every packet is read as soon as it arrives.
   */
  coalesceMs?: number | undefined;
  /** Packets held in user space, not yet taken by recvfrom, before reading pauses (default 2048). */
  highWaterMark?: number | undefined;
  /** Close the socket gracefully on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean | undefined;
  /** Aborting closes the socket. */
  signal?: AbortSignal | undefined;
  /**
   * Sniff instead of divert (WinDivert's SNIFF): the socket receives a copy of each packet its
   * rules or filter select while the packet goes on at once (NFLOG: see sniff_socket.ts).
   * `createDivertSocket({ sniff: true })` returns a SniffSocket; the port is an NFLOG group.
   */
  sniff?: boolean | undefined;
}

/**
 * The socket's counters. Every received packet is in exactly one of the verdict buckets or held:
 * `received = accepted + changed + dropped + repeated + requeued + timedOut + closedWithVerdict + filtered + sniffed + held`.
 */
export interface DivertStats {
  /** Packets handed to this socket by the kernel (the sum of the verdict counters and `held`). */
  received: number;
  /** Reinjected unchanged by the program. */
  accepted: number;
  /** Reinjected with changed bytes by the program. */
  changed: number;
  /** Dropped by the program. */
  dropped: number;
  /** Sent through the same hook again by the program (`repeat()`). */
  repeated: number;
  /** Handed to another divert port by the program (`queue(port)`). */
  requeued: number;
  /** Got the timeout verdict (the program gave none in time). */
  timedOut: number;
  /** Got the close verdict (still held, or arriving, while the socket closed). */
  closedWithVerdict: number;
  /** Queued by a kernel rule that over-approximates the filter, but not matching it: accepted at once, never handed out. */
  filtered: number;
  /** New packets sent with sendto() (not counted in received). */
  injected: number;
  /** Packets held right now (received, no verdict yet). */
  held: number;
  /** Times the kernel dropped messages for a full socket buffer (ENOBUFS). */
  overruns: number;
  /** Verdict datagrams sent (each carries many verdicts). */
  verdictSends: number;
  /** Verdicts the kernel refused (the packet was gone, e.g. after a queue flush). */
  verdictErrors: number;
  /** Packet messages from the kernel that could not be decoded (and so not answered). */
  decodeErrors: number;
  /** Copies a sniffing socket received (the originals went on: no verdict). */
  sniffed: number;
}

type Check = (value: unknown, name: string) => void;

const boolean: Check = (v, name) => {
  if (typeof v !== 'boolean') throw new TypeError(`Option ${name} must be true or false, got ${show(v)}`);
};

function oneOf(...allowed: string[]): Check {
  return (v, name) => {
    if (typeof v !== 'string' || !allowed.includes(v)) {
      throw new TypeError(`Option ${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${show(v)}`);
    }
  };
}

function integer(min: number, max: number, hint = ''): Check {
  return (v, name) => {
    if (typeof v !== 'number') throw new TypeError(`Option ${name} must be a number, got ${show(v)}`);
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`Option ${name} must be an integer from ${min} to ${max}${hint}, got ${show(v)}`);
  };
}

const CHECKS: Readonly<Record<keyof DivertSocketOptions, Check>> = {
  port: (v, name) => {
    if (typeof v === 'string' && v.includes(':')) {
      throw new TypeError(`Option ${name} ${show(v)} is a range of divert ports: give the worker option too (a handler module run in one worker thread per port)`);
    }
    integer(0, 65535, ' (the divert port is an NFQUEUE queue number)')(v, name);
  },
  rules: (v, name) => {
    if (!Array.isArray(v)) throw new TypeError(`Option ${name} must be an array of rule texts or rule objects, got ${show(v)}`);
    v.forEach((r, i) => {
      if (typeof r !== 'string' && (typeof r !== 'object' || r === null)) throw new TypeError(`Option ${name}[${i}] must be a rule text ('-A input -p icmp') or a rule object, got ${show(r)}`);
    });
  },
  filter: (v, name) => {
    if (typeof v !== 'string' || v.trim() === '') throw new TypeError(`Option ${name} must be a filter string such as 'outbound and tcp.DstPort == 80', got ${show(v)}`);
    parseFilter(v); // a FilterSyntaxError with a caret, before anything is opened
  },
  netns: (v, name) => {
    if (typeof v !== 'string' || v === '') throw new TypeError(`Option ${name} must be a namespace name (as in "ip netns list") or a path, got ${show(v)}`);
    Netns.from(v);
  },
  defragment: boolean,
  passThrough: boolean,
  priority: integer(-30000, 30000, ' (higher sees packets first)'),
  verdictTimeoutMs: (v, name) => {
    if (typeof v !== 'number') throw new TypeError(`Option ${name} must be a number of milliseconds, got ${show(v)}`);
    if (!Number.isFinite(v) || v < 0 || v > 2 ** 31 - 1) throw new RangeError(`Option ${name} must be from 0 (wait forever) to 2147483647 ms, got ${show(v)}`);
  },
  timeoutVerdict: oneOf('accept', 'drop'),
  closeVerdict: oneOf('accept', 'drop'),
  fillChecksums: boolean,
  maxQueueLength: integer(1, 0xffffffff),
  copyRange: integer(0, 65531),
  copyMode: oneOf('packet', 'meta'),
  failOpen: boolean,
  gso: boolean,
  tcpRewrite: boolean,
  uidGid: boolean,
  coalesceMs: integer(0, 1000, ' (milliseconds a packet may wait so sparse packets are read in batches)'),
  highWaterMark: integer(1, 2 ** 31 - 1, ' (packets waiting for recvfrom before reading pauses)'),
  handleSignals: boolean,
  signal: (v, name) => {
    if (!(v instanceof AbortSignal)) throw new TypeError(`Option ${name} must be an AbortSignal, got ${show(v)}`);
  },
  sniff: boolean,
};

/**
 * Checks every option of a divert socket; undefined means "the default".
 * @throws {TypeError} for an unknown option or a value of the wrong type
 * @throws {RangeError} for a number out of range
 */
export function checkSocketOptions(options: unknown): DivertSocketOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`createDivertSocket() takes an options object, got ${show(options)}`);
  }
  for (const [name, value] of Object.entries(options)) {
    const check = Object.hasOwn(CHECKS, name) ? CHECKS[name as keyof DivertSocketOptions] : undefined;
    if (!check) throw new TypeError(`Unknown option ${JSON.stringify(name)}; the options are: ${Object.keys(CHECKS).join(', ')}`);
    if (value !== undefined) check(value, name);
  }
  return options as DivertSocketOptions;
}

/** A value as an error message shows it. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `a ${v.length}-byte ${v.constructor.name}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return `an object (${v.constructor?.name ?? 'Object'})`;
  return String(v);
}

