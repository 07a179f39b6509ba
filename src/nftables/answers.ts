/**
 * Collects the kernel's answers to one batch and turns them into results or a FirewallError.
 *
 * What the kernel sends for `BATCH_BEGIN, m1…mN, BATCH_END` then the barrier `GETGEN` (net/
 * netfilter/nfnetlink.c, nf_tables_api.c, measured on 6.18):
 * ```
 * committed:  [echoes, seq of each NLM_F_ECHO message, in batch order, one datagram]
 *             [NEWGEN with m1's seq, only when m1 asked for an echo]
 *             [NLMSG_ERROR 0] for every message, a datagram each | NEWGEN + ACK of the barrier
 * refused:    NLMSG_ERROR for every message: -errno for the refused ones, 0 for the others
 *             (an ACK inside a refused batch does NOT mean applied) | barrier answers
 * commit failed after validation: NLMSG_ERROR -errno with BATCH_BEGIN's seq, then the ACKs
 * genid mismatch (ERESTART), malformed batch: one error on BATCH_BEGIN, or nothing at all
 * ```
 * The kernel handles netlink requests in order, so once the barrier's ACK is in, every answer
 * to the batch is too: a message that asked for an ACK and got none was not processed.
 * @module
 */
import { NlmsgType } from '../netlink/constants.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { parseNlmsgerr, type Extack } from '../netlink/netlink_error.js';
import { errnoName, errnoText, FirewallError } from '../errors.js';
import { Errno } from '../_native/errno.js';
import type { BatchMessage, NftBatch } from './batch.js';
import type { Generation } from './gen.js';
import { decodeObject, type NftObject } from './objects.js';

/** An added or changed object, with what the kernel echoed (its handle…) when it echoed. */
export interface CommitResult {
  /** The batch message this result is for. */
  message: BatchMessage;
  /** The echo (NLM_F_ECHO), decoded; undefined for deletes and when no echo was asked for. */
  object?: NftObject;
}

/** How the kernel judged one message of a dry run. */
export interface DryRunResult {
  /** The batch message this result is for. */
  message: BatchMessage;
  /** Whether the kernel answered it (an ACK or a NACK). */
  processed: boolean;
  /** The refusal, when it was refused. */
  error?: FirewallError;
}

interface Answer {
  errno: number;
  extack: Extack;
}

/**
 * The answers to one batch exchange: feed it every message of the reply (`onMessage`), then read the results
 * or the refusal. Used by {@link NftConnection}.
 */
export class BatchAnswers {
  /** Every seq whose messages belong to this exchange (pass to `NetlinkSocket.exchange`). */
  readonly seqs: readonly number[];
  /** The generation the barrier reported (after the commit). */
  generation: Generation | undefined;
  #batch: NftBatch;
  #barrierSeq: number;
  #answers = new Map<number, Answer>();
  #objects = new Map<number, NftObject>();
  #batchError: Answer | undefined;

  /**
   * For `batch`, sent with the barrier GETGEN numbered `barrierSeq`; `dryRun` when BATCH_END was left out
   * (nothing is applied).
   */
  constructor(batch: NftBatch, barrierSeq: number, dryRun: boolean) {
    this.#batch = batch;
    this.#barrierSeq = barrierSeq;
    const seqs = [batch.beginSeq, ...batch.messages.map((m) => m.seq), barrierSeq];
    if (!dryRun) seqs.push(batch.endSeq);
    this.seqs = seqs;
  }

  /** The exchange handler: records each answer; true once the barrier's ACK arrived. */
  readonly onMessage = (it: MessageIter): boolean => {
    if (it.type === NlmsgType.NLMSG_ERROR) {
      const e = parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags);
      if (it.seq === this.#barrierSeq) return true;
      const answer = { errno: e.errno, extack: e.extack };
      if (this.#batch.find(it.seq)) this.#answers.set(it.seq, answer);
      else if (e.errno !== 0) this.#batchError ??= answer;
      return false;
    }
    if (it.type === NlmsgType.NLMSG_DONE) return false;
    const obj = decodeObject(it);
    if (obj?.kind === 'generation') {
      if (it.seq === this.#barrierSeq) this.generation = obj.generation;
    } else if (obj) {
      this.#keep(it.seq, obj);
    }
    return false;
  };

  /**
   * The results of a commit, in batch order.
   * @throws {FirewallError} naming the first refused message (and attribute), a refused
   *   commit, or messages the kernel never processed.
   */
  commitResults(): CommitResult[] {
    const refused = this.#batch.messages.find((m) => (this.#answers.get(m.seq)?.errno ?? 0) !== 0);
    if (refused) throw this.#refusal(refused, this.#answers.get(refused.seq)!);
    if (this.#batchError) throw batchRefusal(this.#batchError, this.#batch.messages.length);
    const missing = this.#batch.messages.filter((m) => !this.#answers.has(m.seq));
    if (missing.length > 0) {
      throw new FirewallError(
        `nf_tables did not process the batch: ${missing.length} of ${this.#batch.messages.length} messages got no answer (first: ${missing[0]!.op} for ${missing[0]!.about})`,
        { messageType: missing[0]!.op, object: missing[0]!.about },
      );
    }
    return this.#batch.messages.map((message) => {
      const object = this.#objects.get(message.seq);
      return object ? { message, object } : { message };
    });
  }

  /**
   * The verdict on each message of a dry run (a refused message is a result, not a throw).
   * @throws {FirewallError} when the batch was refused as a whole (EPERM without CAP_NET_ADMIN):
   *   no message was tried, so there is no verdict to give.
   */
  dryRunResults(): DryRunResult[] {
    if (this.#batchError && !this.#batch.messages.some((m) => this.#answers.has(m.seq))) throw batchRefusal(this.#batchError, this.#batch.messages.length);
    return this.#batch.messages.map((message) => {
      const a = this.#answers.get(message.seq);
      if (!a) return { message, processed: false };
      return a.errno === 0 ? { message, processed: true } : { message, processed: true, error: this.#refusal(message, a) };
    });
  }

  #keep(seq: number, obj: NftObject): void {
    const prev = this.#objects.get(seq);
    // Elements may come back in several messages: gather them.
    if (prev?.kind === 'elements' && obj.kind === 'elements') prev.elements.elements.push(...obj.elements.elements);
    else if (!prev) this.#objects.set(seq, obj);
  }

  #refusal(m: BatchMessage, a: Answer): FirewallError {
    const attribute = a.extack.offset !== undefined ? this.#batch.attributeAt(m, a.extack.offset) : undefined;
    const code = errnoName(a.errno);
    const where = attribute ? ` at ${attribute}` : '';
    const why = a.extack.message ? `: ${a.extack.message}` : '';
    const hint = a.errno === 2 && attribute !== undefined && /elem \d+ \([^)]*\)$/.test(attribute)
      ? ' (the kernel has no such expression type, or an object it names does not exist)' : '';
    return new FirewallError(
      `nf_tables refused ${m.op} for ${m.about}${where}: ${code} (${errnoText(a.errno)})${why}${hint}`,
      { messageType: m.op, object: m.about, attribute, errno: a.errno, extackMessage: a.extack.message },
      code,
    );
  }
}

function batchRefusal(a: Answer, count: number): FirewallError {
  const code = errnoName(a.errno);
  const why = a.extack.message ? `: ${a.extack.message}` : '';
  const what = a.errno === Errno.ERESTART ? ' (the ruleset generation changed: rebuild and retry)'
    : a.errno === Errno.EPERM ? ' (changing nf_tables needs CAP_NET_ADMIN in this network namespace: run as root, or inside "unshare --user --map-root-user --net")'
    : '';
  return new FirewallError(
    `nf_tables refused the batch of ${count} messages as a whole: ${code} (${errnoText(a.errno)})${why}${what}`,
    { messageType: 'NFNL_MSG_BATCH_BEGIN', object: 'the batch', errno: a.errno, extackMessage: a.extack.message },
    code,
  );
}
