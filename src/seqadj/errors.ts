/**
 * The errors of TCP rewriting: a rewrite divert cannot keep consistent is refused before the
 * packet gets its verdict, with what was wrong and how to do it instead.
 * @module
 */
import { DivertError } from '../errors.js';

/**
 * - `ERR_DIVERT_TCP_REWRITE_CONFLICT`: the bytes were already sent, unchanged or rewritten
 *   otherwise (a retransmission must carry the same rewrite; reinjecting it unchanged does that).
 * - `ERR_DIVERT_TCP_REWRITE_UNSUPPORTED`: a segment that cannot take a payload change (SYN, no
 *   data, other addresses or ports, a flow table that is full).
 */
export type TcpRewriteErrorCode = 'ERR_DIVERT_TCP_REWRITE_CONFLICT' | 'ERR_DIVERT_TCP_REWRITE_UNSUPPORTED';

/** A TCP rewrite divert cannot keep consistent; the packet stays held (see `code`). */
export class TcpRewriteError extends DivertError {
  /** Which kind of refusal. */
  declare readonly code: TcpRewriteErrorCode;
  /** A refusal with its code. */
  constructor(message: string, code: TcpRewriteErrorCode) {
    super(message, code);
    this.name = 'TcpRewriteError';
  }
}
