/**
 * The `tcpRewrite` option: a socket whose program may change the length of TCP segments' data.
 *
 * Every TCP segment the socket lets go (reinjected, or given an automatic verdict) passes the
 * socket's TcpRewriteTracker (src/seqadj), which records a payload change as a rewrite and moves
 * sequence, acknowledgement and SACK numbers of the flow's later segments, both ways. A
 * retransmission of rewritten bytes reaches the program as the sender sent it, the original
 * bytes: reinjecting it unchanged sends the stored rewrite again (the same bytes, the same delta);
 * rewriting it the same way is the same; rewriting it otherwise is refused. So a stateless
 * handler ("replace every X by Y") and a stateful one ("only the first request") both work.
 * @module
 */
import { TcpRewriteTracker, type TcpRewriteWarning } from '../seqadj/tracker.js';
import type { DivertSocketOptions } from './options.js';
import type { DivertPacket } from './divert_packet.js';

export type { TcpRewriteWarning } from '../seqadj/tracker.js';

/**
 * Refuses options that keep a tcpRewrite socket from seeing whole segments one by one.
 * @throws {TypeError} naming the option in the way and what to do
 */
export function checkTcpRewriteOptions(o: DivertSocketOptions): void {
  if (o.tcpRewrite !== true) return;
  if (o.gso === true) throw new TypeError('Option tcpRewrite needs TCP one segment at a time: leave gso off (the kernel then splits GSO/GRO super-packets before queueing)');
  if (o.copyMode === 'meta') throw new TypeError("Option tcpRewrite needs the packets' bytes: leave copyMode 'packet'");
  if (o.copyRange !== undefined && o.copyRange < 65531) throw new TypeError(`Option tcpRewrite needs whole packets: leave copyRange out (got ${o.copyRange})`);
}

/** The tracker of one socket and how its verdicts use it. */
export class TcpRewrite {
  readonly #tracker: TcpRewriteTracker;

  constructor(onWarning: (w: TcpRewriteWarning) => void) {
    this.#tracker = new TcpRewriteTracker({ onWarning });
  }

  /** Flows tracked now. */
  get flowCount(): number {
    return this.#tracker.flowCount;
  }

  /**
   * What a reinjection of `p` sends, given `out` (checked bytes, or undefined for unchanged):
   * `out`, or new bytes with the flow's numbers moved.
   * @throws {TcpRewriteError} when the change cannot be kept consistent (the packet stays held)
   */
  prepare(p: DivertPacket, out: Uint8Array | undefined): Uint8Array | undefined {
    const sent = out ?? p.original;
    const result = this.#tracker.translate(p.original, sent, performance.now());
    return result === sent ? out : result;
  }

  /** For an automatic accept (timeout, close, filtered): the moved bytes, or undefined. Never throws. */
  auto(p: DivertPacket): Uint8Array | undefined {
    try {
      const result = this.#tracker.translate(p.original, p.original, performance.now());
      return result === p.original ? undefined : result;
    } catch {
      return undefined;
    }
  }
}
