/**
 * The clsact qdisc over rtnetlink: add (RTM_NEWQDISC, exclusive), delete (RTM_DELQDISC) and the
 * qdisc dump (RTM_GETQDISC), byte for byte what `tc qdisc add|del dev X clsact` and
 * `tc qdisc show` send (golden vectors in ./testdata/tc_requests.ts).
 *
 * ```
 * RTM_NEWQDISC  NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
 *   tcmsg { AF_UNSPEC, ifindex, handle ffff:0000, parent ffff:fff1 (TC_H_CLSACT), info 0 }
 *   TCA_KIND "clsact"
 * ```
 * clsact has no options; its two hooks (ffff:fff2 ingress, ffff:fff3 egress) are filter parents.
 * Deleting it deletes every filter on both hooks.
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { NlmFlags } from '../netlink/constants.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { RtmTcType, TC_H_MAKE, TCMSG_LEN, TcaAttr, TcHandle } from './tc_constants.js';
import { parseTcmsg, putTcmsg } from './tc_msg.js';

/** `tcm_handle` of the clsact qdisc: ffff:0000. */
export const CLSACT_HANDLE = TC_H_MAKE(TcHandle.TC_H_CLSACT, 0);

/** One qdisc from a dump (or a notification). */
export interface TcQdisc {
  /** `tcm_ifindex`: the interface. */
  ifindex: number;
  /** `tcm_handle` (ffff:0000 for clsact). */
  handle: number;
  /** `tcm_parent` (TC_H_CLSACT for clsact, TC_H_ROOT for a root qdisc). */
  parent: number;
  /** TCA_KIND ("clsact", "noqueue", "fq_codel", …); empty if the kernel sent none. */
  kind: string;
  /** `tcm_info`: the qdisc's reference count. */
  refcnt: number;
}

/**
 * Appends RTM_NEWQDISC for a clsact qdisc on `ifindex`, exclusive: EEXIST when one is there.
 * @example putClsactAdd(b, sock.nextSeq(), 3);
 */
export function putClsactAdd(b: MessageBuilder, seq: number, ifindex: number): MessageBuilder {
  const f = NlmFlags;
  return putClsact(b, RtmTcType.RTM_NEWQDISC, f.NLM_F_REQUEST | f.NLM_F_ACK | f.NLM_F_EXCL | f.NLM_F_CREATE, seq, ifindex);
}

/**
 * Appends RTM_DELQDISC for the clsact qdisc on `ifindex` (the kernel answers EINVAL "Invalid
 * handle" when there is none).
 */
export function putClsactDelete(b: MessageBuilder, seq: number, ifindex: number): MessageBuilder {
  return putClsact(b, RtmTcType.RTM_DELQDISC, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK, seq, ifindex);
}

/**
 * Appends an RTM_GETQDISC dump request. NB: without NETLINK_GET_STRICT_CHK the kernel ignores
 * `ifindex` and dumps the qdiscs of every interface (tc filters them itself); so must callers.
 */
export function putQdiscDump(b: MessageBuilder, seq: number, ifindex = 0): MessageBuilder {
  b.begin(RtmTcType.RTM_GETQDISC, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_DUMP, seq);
  putTcmsg(b, { family: 0, ifindex, handle: 0, parent: 0, info: 0 });
  b.end();
  return b;
}

/**
 * Decodes an RTM_NEWQDISC / RTM_DELQDISC payload (arguments as `parseLinkMessage`).
 * @throws {PacketError} on a short header or malformed attributes.
 */
export function parseQdiscMessage(buf: Uint8Array, payloadOffset: number, end: number): TcQdisc {
  const m = parseTcmsg(buf, payloadOffset, end);
  const q: TcQdisc = { ifindex: m.ifindex, handle: m.handle, parent: m.parent, kind: '', refcnt: m.info };
  const ad = new AttrDecoder(buf, payloadOffset + TCMSG_LEN, end);
  while (ad.next()) if (ad.type === TcaAttr.TCA_KIND) q.kind = ad.string();
  if (ad.err) throw ad.err;
  return q;
}

/** Whether `q` is a clsact qdisc. */
export function isClsact(q: TcQdisc): boolean {
  return q.kind === 'clsact' && q.parent === TcHandle.TC_H_CLSACT;
}

function putClsact(b: MessageBuilder, type: number, flags: number, seq: number, ifindex: number): MessageBuilder {
  b.begin(type, flags, seq);
  putTcmsg(b, { family: 0, ifindex, handle: CLSACT_HANDLE, parent: TcHandle.TC_H_CLSACT, info: 0 });
  b.putAttrString(TcaAttr.TCA_KIND, 'clsact');
  b.end();
  return b;
}
