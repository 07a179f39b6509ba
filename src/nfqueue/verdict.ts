/**
 * Verdict builders: one verdict per packet id, or one for every id up to a maximum (batch).
 * Many verdicts can be appended to one {@link MessageBuilder} and leave in a single send.
 *
 * ```
 * nlmsghdr   type 0x0301 (VERDICT) or 0x0303 (VERDICT_BATCH), flags REQUEST [|ACK]
 * nfgenmsg   AF_UNSPEC, version 0, res_id = queue (be16)
 * nlattr     NFQA_VERDICT_HDR { be32 verdict; be32 id }       always
 *            NFQA_MARK be32                                   set skb->mark
 *            NFQA_PRIORITY be32                               set skb->priority
 *            NFQA_CT { CTA_MARK be32 }                        set the connection's mark
 *            NFQA_PAYLOAD bytes                               replace the packet (not in batch)
 * ```
 * NB: a replaced payload keeps no checksum offload: its L3/L4 checksums must be right. If the
 * length changes and NFQA_CT is present, the kernel also fixes TCP seq/ack for the flow.
 * @module
 */
import { NLA_MAX_PAYLOAD } from '../netlink/align.js';
import { putU32be } from '../netlink/bytes.js';
import { NlmFlags, Nfnetlink } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { checkQueue, checkU32 } from './_check.js';
import { CTA_MARK, NFNL_SUBSYS_QUEUE, NFQA, NFQNL_MSG } from './constants.js';

const VERDICT_TYPE = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.NFQNL_MSG_VERDICT;
const BATCH_TYPE = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.NFQNL_MSG_VERDICT_BATCH;

/** What a verdict may change besides accepting or dropping. */
export interface VerdictOptions {
  /** New skb->mark (NFQA_MARK). */
  mark?: number | undefined;
  /** Replacement packet bytes, from the IP header on (NFQA_PAYLOAD, at most 65531 bytes). */
  payload?: Uint8Array | undefined;
  /** New conntrack mark (NFQA_CT / CTA_MARK); needs conntrack on the packet. */
  connmark?: number | undefined;
  /** New skb->priority (NFQA_PRIORITY; Linux 5.18+). */
  priority?: number | undefined;
  /** Ask the kernel for an ACK (NLM_F_ACK). Off by default: errors still come back as NACKs. */
  ack?: boolean | undefined;
}

/** Options of {@link putVerdictBatch}: a batch cannot carry payloads or connmarks. */
export interface VerdictBatchOptions {
  priority?: number | undefined;
  ack?: boolean | undefined;
}

/** Writes the header, nfgenmsg and NFQA_VERDICT_HDR. */
function beginVerdict(
  b: MessageBuilder,
  type: number,
  seq: number,
  queue: number,
  id: number,
  verdict: number,
  ack: boolean | undefined,
): void {
  b.begin(type, ack ? NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK : NlmFlags.NLM_F_REQUEST, seq);
  b.putNfgenmsg(AddressFamily.AF_UNSPEC, Nfnetlink.NFNETLINK_V0, queue);
  const off = b.reserveAttr(NFQA.NFQA_VERDICT_HDR, 8);
  putU32be(b.buffer, off, verdict);
  putU32be(b.buffer, off + 4, id);
}

/**
 * Appends an NFQNL_MSG_VERDICT for packet `id`.
 * @param verdict NF_ACCEPT, NF_DROP, NF_REPEAT, NF_STOP, or `NF_QUEUE_NR(n)` (optionally
 *   `| NF_VERDICT_FLAG_QUEUE_BYPASS`).
 * @throws {RangeError} when a number is out of range or the payload exceeds 65531 bytes.
 * @example
 * ```ts
 * putVerdict(b, 0, 7, meta.id, NF_VERDICT.NF_ACCEPT, { mark: 0x10 });
 * putVerdict(b, 0, 7, other.id, NF_VERDICT.NF_DROP);
 * socket.send(b.bytes()); // both verdicts, one datagram
 * ```
 */
export function putVerdict(
  b: MessageBuilder,
  seq: number,
  queue: number,
  id: number,
  verdict: number,
  options?: VerdictOptions,
): MessageBuilder {
  checkHeader(queue, id, verdict);
  if (options !== undefined) checkOptions(options);
  beginVerdict(b, VERDICT_TYPE, seq, queue, id, verdict, options?.ack);
  if (options !== undefined) {
    if (options.mark !== undefined) b.putAttrU32be(NFQA.NFQA_MARK, options.mark);
    if (options.priority !== undefined) b.putAttrU32be(NFQA.NFQA_PRIORITY, options.priority);
    if (options.connmark !== undefined) {
      const nest = b.nestStart(NFQA.NFQA_CT);
      b.putAttrU32be(CTA_MARK, options.connmark);
      b.nestEnd(nest);
    }
    if (options.payload !== undefined) b.putAttr(NFQA.NFQA_PAYLOAD, options.payload);
  }
  b.end();
  return b;
}

/**
 * Appends an NFQNL_MSG_VERDICT_BATCH: `verdict` (and `mark`) for every queued packet whose id is
 * at most `maxId` (ids compared with wraparound). The kernel answers ENOENT when none matched.
 * @throws {RangeError} when a number is out of range.
 * @example putVerdictBatch(b, 0, 7, lastId, NF_VERDICT.NF_ACCEPT);
 */
export function putVerdictBatch(
  b: MessageBuilder,
  seq: number,
  queue: number,
  maxId: number,
  verdict: number,
  mark?: number,
  options?: VerdictBatchOptions,
): MessageBuilder {
  checkHeader(queue, maxId, verdict);
  if (mark !== undefined) checkU32('Mark', mark);
  if (options?.priority !== undefined) checkU32('Priority', options.priority);
  beginVerdict(b, BATCH_TYPE, seq, queue, maxId, verdict, options?.ack);
  if (mark !== undefined) b.putAttrU32be(NFQA.NFQA_MARK, mark);
  if (options?.priority !== undefined) b.putAttrU32be(NFQA.NFQA_PRIORITY, options.priority);
  b.end();
  return b;
}

function checkHeader(queue: number, id: number, verdict: number): void {
  checkQueue(queue);
  checkU32('Packet id', id);
  checkU32('Verdict', verdict);
}

/** Validates before anything is written, so a bad option never leaves a half-built message. */
function checkOptions(o: VerdictOptions): void {
  if (o.mark !== undefined) checkU32('Mark', o.mark);
  if (o.priority !== undefined) checkU32('Priority', o.priority);
  if (o.connmark !== undefined) checkU32('Connmark', o.connmark);
  if (o.payload !== undefined && o.payload.length > NLA_MAX_PAYLOAD) {
    throw new RangeError(`Payload of ${o.payload.length} bytes exceeds ${NLA_MAX_PAYLOAD}`);
  }
}
