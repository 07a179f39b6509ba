/**
 * The events a DivertSocket emits, with their arguments: `sock.on(name, listener)` takes only
 * these names, and each listener's parameters are typed.
 * @module
 */
import type { DivertPacket } from './divert_packet.js';
import type { TcpRewriteWarning } from './tcp_rewrite.js';

/** What an `'overflow'` event carries. */
export interface OverflowInfo {
  /** Times the kernel could not hand this socket its messages (ENOBUFS) so far; see `stats.overruns`. */
  overruns: number;
}

/** Event name → listener arguments, for `DivertSocket`'s EventEmitter methods. */
export type DivertSocketEvents = {
  /** A packet got the socket's `timeoutVerdict` after `verdictTimeoutMs` without one. */
  timeout: [packet: DivertPacket];
  /** The kernel's queue overran (packets were lost in the kernel); the socket goes on. */
  overflow: [info: OverflowInfo];
  /** The socket closed: every held packet has its verdict, its rules are gone. */
  close: [];
  /** A receive error that ended the socket (after it gave every held packet its close verdict). */
  error: [err: Error];
  /** With `tcpRewrite`: a rewritten flow's other direction never reached the socket (else a process warning). */
  tcpRewriteWarning: [warning: TcpRewriteWarning];
};

/** Event name → listener arguments, for `SniffSocket`'s EventEmitter methods. */
export type SniffSocketEvents = {
  /** The kernel could not hand this socket its copies (ENOBUFS): copies were lost; the socket goes on. */
  overflow: [info: OverflowInfo];
  /** The socket closed and its rules are gone. */
  close: [];
  /** A receive error that ended the socket. */
  error: [err: Error];
};

/** Event name → listener arguments, for `DivertWorkers`' EventEmitter methods. */
export type DivertWorkersEvents = {
  /** Every worker has answered what it held and ended; the rules are gone. */
  close: [];
  /** A worker failed (its thread's error). */
  error: [err: Error];
  /** A handler module sent `{ type: 'user', data }` through its parentPort; `port` is its worker's. */
  message: [data: unknown, port: number];
};
