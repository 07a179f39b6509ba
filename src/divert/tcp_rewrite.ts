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
 *
 * Data longer than the receiver's MSS goes as several segments: the first in the verdict, the
 * others injected where the packet was taken (outbound by the raw socket, else inbound on its
 * interface, as `sendto()` does for a packet already answered), counted in `stats.injected`.
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
  if (o.gso === true) throw new TypeError('Option tcpRewrite needs TCP one segment at a time: leave gso out or false (the kernel then splits GSO/GRO super-packets before queueing)');
  if (o.copyMode === 'meta') throw new TypeError("Option tcpRewrite needs the packets' bytes: leave copyMode 'packet'");
  if (o.copyRange !== undefined && o.copyRange < 65531) throw new TypeError(`Option tcpRewrite needs whole packets: leave copyRange out (got ${o.copyRange})`);
}

/** Sends a further segment of `p`'s flow where `p` was taken (checksums are set already). */
export type InjectAfter = (bytes: Uint8Array, p: DivertPacket) => void;

/** The tracker of one socket and how its verdicts use it. */
export class TcpRewrite {
  readonly #tracker: TcpRewriteTracker;
  readonly #inject: InjectAfter;
  readonly #onWarning: (w: TcpRewriteWarning) => void;
  /** A split segment could not be injected (said once). */
  #injectFailed = false;

  constructor(onWarning: (w: TcpRewriteWarning) => void, inject: InjectAfter) {
    this.#tracker = new TcpRewriteTracker({ onWarning });
    this.#inject = inject;
    this.#onWarning = onWarning;
  }

  /**
   * What a reinjection of `p` sends, given `out` (checked bytes, or undefined for unchanged):
   * `out`, or new bytes with the flow's numbers moved.
   * @throws {TcpRewriteError} when the change cannot be kept consistent (the packet stays held)
   */
  prepare(p: DivertPacket, out: Uint8Array | undefined): Uint8Array | undefined {
    const sent = out ?? p.original;
    const [first, ...more] = this.#tracker.translate(p.original, sent, performance.now());
    this.#send(more, p);
    return first === sent ? out : first;
  }

  /** For an automatic accept (timeout, close, filtered): the moved bytes, or undefined. Never throws. */
  auto(p: DivertPacket): Uint8Array | undefined {
    try {
      const [first, ...more] = this.#tracker.translate(p.original, p.original, performance.now());
      this.#send(more, p);
      return first === p.original ? undefined : first;
    } catch {
      return undefined;
    }
  }

  /**
   * The further segments of a split: recorded already, so a failure here is not the verdict's
   * (the sender's retransmission brings the bytes again); it is said once per socket.
   */
  #send(segments: readonly Uint8Array[], p: DivertPacket): void {
    for (const s of segments) {
      try {
        this.#inject(s, p);
      } catch (err) {
        if (this.#injectFailed) return;
        this.#injectFailed = true;
        this.#onWarning({
          code: 'ERR_DIVERT_TCP_INJECT',
          flow: '',
          message: `TCP rewrite: a segment split at the receiver's MSS could not be injected (${(err as Error).message}); the flow recovers only by the sender's retransmissions`,
        });
        return;
      }
    }
  }
}
