/**
 * The options a divert socket takes and the counters it keeps.
 * @module
 */
import type { RuleSpec } from './rule_set.js';

export interface DivertSocketOptions {
  /** Bind this port (NFQUEUE queue number, 0–65535) at once. */
  port?: number | undefined;
  /**
   * DIVERT rules to install for the socket's lifetime, ipchains style without the target
   * (`'-A input -p icmp'`) or as rule objects; divert adds `-j DIVERT <port>`. Removed on close,
   * SIGINT, SIGTERM and uncaught errors.
   */
  rules?: readonly RuleSpec[] | undefined;
  /** Network namespace: a name as in `ip netns` or a path to a namespace file. */
  netns?: string | undefined;
  /** Always-defragment mode (seed 5.2): packets arrive reassembled; see README. */
  defragment?: boolean | undefined;
  /** Rules installed by this socket let packets pass when nobody listens (seed "pass-through"). */
  passThrough?: boolean | undefined;
  /** Milliseconds a packet may wait for its verdict (default 5000; 0 = forever). */
  verdictTimeoutMs?: number | undefined;
  /** Verdict for packets that time out (default 'accept'). */
  timeoutVerdict?: 'accept' | 'drop' | undefined;
  /** Verdict for packets still held at close (default 'accept': they are reinjected). */
  closeVerdict?: 'accept' | 'drop' | undefined;
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
  /** Receive GSO/GRO super-packets whole. */
  gso?: boolean | undefined;
  /** Report the owning socket's uid/gid. */
  uidGid?: boolean | undefined;
  /** Packets held in user space, not yet taken by recvfrom, before reading pauses (default 2048). */
  highWaterMark?: number | undefined;
  /** Close the socket gracefully on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean | undefined;
  /** Aborting closes the socket. */
  signal?: AbortSignal | undefined;
}

export interface DivertStats {
  received: number;
  accepted: number;
  changed: number;
  dropped: number;
  repeated: number;
  requeued: number;
  timedOut: number;
  closedWithVerdict: number;
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
}

/** A namespace name (as in `ip netns`) becomes its /run/netns path; a path stays as it is. */
export function netnsPathOf(netns: string | undefined): string | undefined {
  if (netns === undefined) return undefined;
  if (netns.includes('/')) return netns;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(netns)) throw new TypeError(`Invalid network namespace name ${JSON.stringify(netns)}`);
  return `/run/netns/${netns}`;
}

/** The other way: the firewall tools take a namespace name, so a path must be /run/netns/NAME. */
export function netnsNameOf(netns: string | undefined): string | undefined {
  if (netns === undefined || !netns.includes('/')) return netns;
  const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(netns);
  if (!m) throw new TypeError(`Rules need a named network namespace (/run/netns/NAME), got ${JSON.stringify(netns)}`);
  return m[1];
}
