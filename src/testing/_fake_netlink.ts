/**
 * Netlink replies as the kernel writes them (net/netlink/af_netlink.c): NLMSG_ERROR for ACKs
 * and NACKs (`netlink_ack`), NLMSG_DONE at the end of a dump (`netlink_dump_done`).
 *
 * ```
 * NLMSG_ERROR  nlmsghdr (pid = requester, seq = request's) | s32 -errno | request nlmsghdr
 *              | request payload (errors only, unless NETLINK_CAP_ACK: then NLM_F_CAPPED)
 *              | NLMSGERR_ATTR_* TLVs (errors only, with NETLINK_EXT_ACK: NLM_F_ACK_TLVS)
 * NLMSG_DONE   nlmsghdr (NLM_F_MULTI) | s32 0
 * ```
 * @module
 */
import { NLMSG_HDRLEN } from '../netlink/align.js';
import { putU32ne } from '../netlink/bytes.js';
import { NlmFlags, NlmsgType, NlmsgerrAttr } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';

/** A refusal the fake answers with: positive errno plus optional extended-ACK details. */
export interface FakeNack {
  /** Positive errno the NLMSG_ERROR carries (EINVAL, EPERM…). */
  errno: number;
  /** NLMSGERR_ATTR_MSG (sent only to sockets with NETLINK_EXT_ACK). */
  message?: string | undefined;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  offset?: number | undefined;
}

/** How the receiving socket asked for ACKs (its NETLINK_CAP_ACK / NETLINK_EXT_ACK options). */
export interface AckOptions {
  capAck: boolean;
  extAck: boolean;
}

/**
 * Appends the NLMSG_ERROR answering the request `it` is positioned on: an ACK when `nack` is
 * undefined, else a NACK.
 */
export function putAck(b: MessageBuilder, it: MessageIter, portId: number, opts: AckOptions, nack?: FakeNack): void {
  const errno = nack?.errno ?? 0;
  // Success is always capped; errors echo the whole request unless NETLINK_CAP_ACK.
  const capped = errno === 0 || opts.capAck;
  const tlvs = errno !== 0 && opts.extAck && (nack?.message !== undefined || nack?.offset !== undefined);
  let flags = capped ? NlmFlags.NLM_F_CAPPED : 0;
  if (tlvs) flags |= NlmFlags.NLM_F_ACK_TLVS;
  b.begin(NlmsgType.NLMSG_ERROR, flags, it.seq, portId);
  const echoLen = capped ? NLMSG_HDRLEN : it.length;
  const off = b.reserve(4 + echoLen);
  putU32ne(b.buffer, off, -errno);
  b.buffer.set(it.buffer.subarray(it.start, it.start + echoLen), off + 4);
  if (tlvs) {
    if (nack?.message !== undefined) b.putAttrString(NlmsgerrAttr.NLMSGERR_ATTR_MSG, nack.message);
    if (nack?.offset !== undefined) b.putAttrU32ne(NlmsgerrAttr.NLMSGERR_ATTR_OFFS, nack.offset);
  }
  b.end();
}

/** Appends the NLMSG_DONE that ends the dump requested with `seq`. */
function putDone(b: MessageBuilder, seq: number, portId: number): void {
  b.begin(NlmsgType.NLMSG_DONE, NlmFlags.NLM_F_MULTI, seq, portId);
  b.reserve(4); // int error = 0
  b.end();
}

/** A copy of what `b` holds (the builder's buffer is reused). */
export function take(b: MessageBuilder): Uint8Array {
  const out = b.bytes().slice();
  b.reset();
  return out;
}

/** Emits the dump requested with `seq`: each put writes one message, `perDatagram` to a datagram, NLMSG_DONE in the last. */
export function emitDump(perDatagram: number, puts: ReadonlyArray<(b: MessageBuilder) => void>, seq: number, portId: number, emit: (d: Uint8Array) => void): void {
  const b = new MessageBuilder(1024);
  puts.forEach((put, i) => {
    put(b);
    if ((i + 1) % perDatagram === 0 && i + 1 < puts.length) emit(take(b));
  });
  putDone(b, seq, portId);
  emit(take(b));
}
