/**
 * Decodes the payload of an NLMSG_ERROR message: an ACK (error 0) or a NACK (-errno), with the
 * echoed request header and optional extended-ACK TLVs. include/uapi/linux/netlink.h
 *
 * ```
 * struct nlmsgerr {
 *   int              error;   (s32 host order: 0 = ACK, else -errno)
 *   struct nlmsghdr  msg;     (16 bytes: the request's header, so seq/type tell which request)
 * };
 * then: the request's payload     unless NLM_F_CAPPED is set in the ERROR message's flags
 * then: extack TLVs (NLMSGERR_ATTR_*) when NLM_F_ACK_TLVS is set
 * ```
 * @module
 */
import { NLMSG_ALIGN, NLMSG_HDRLEN } from './align.js';
import { AttrDecoder } from './attr_decoder.js';
import { i32ne, u16ne, u32ne } from './bytes.js';
import { NlmFlags, NlmsgerrAttr } from './constants.js';
import { NetlinkError, PacketError } from '../errors.js';

/** Bytes of `struct nlmsgerr`: the s32 error and the echoed header. */
export const NLMSGERR_LEN = 4 + NLMSG_HDRLEN;

/** Extended ACK details; each field is present only when the kernel sent it. */
export interface Extack {
  /** NLMSGERR_ATTR_MSG: human readable reason. */
  message?: string | undefined;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute from the start of the request. */
  offset?: number | undefined;
  /** NLMSGERR_ATTR_MISS_TYPE: a required attribute that was missing. */
  missingType?: number | undefined;
  /** NLMSGERR_ATTR_MISS_NEST: offset of the nest missing it. */
  missingNest?: number | undefined;
}

/** A decoded NLMSG_ERROR. */
export interface Nlmsgerr {
  /** Positive errno, or 0 for an ACK. */
  errno: number;
  /** `nlmsg_seq` of the request this answers. */
  seq: number;
  /** `nlmsg_type` of the request this answers. */
  type: number;
  /** `nlmsg_pid` of the request this answers. */
  pid: number;
  /** The extended ACK attributes (message, offset…); empty when the kernel sent none. */
  extack: Extack;
}

/**
 * Parses an NLMSG_ERROR payload.
 * @param buf buffer holding the message.
 * @param payloadOffset offset of the payload (`MessageIter.payloadOffset`).
 * @param end end of the message (`MessageIter.end`).
 * @param flags the ERROR message's `nlmsg_flags` (NLM_F_CAPPED / NLM_F_ACK_TLVS are read).
 * @returns errno 0 for an ACK, positive errno for a NACK.
 * @throws {PacketError} when the payload is shorter than `struct nlmsgerr` or the TLVs are malformed.
 * @example
 * ```ts
 * const e = parseNlmsgerr(buf, it.payloadOffset, it.end, it.flags);
 * if (e.errno !== 0) throw toNetlinkError('bind queue 7', e);
 * ```
 */
export function parseNlmsgerr(buf: Uint8Array, payloadOffset: number, end: number, flags: number): Nlmsgerr {
  if (end - payloadOffset < NLMSGERR_LEN || end > buf.length) {
    throw new PacketError('netlink', `NLMSG_ERROR payload of ${end - payloadOffset} bytes, needs ${NLMSGERR_LEN}`);
  }
  const error = i32ne(buf, payloadOffset);
  const echoed = payloadOffset + 4;
  const result: Nlmsgerr = {
    errno: error === 0 ? 0 : -error,
    seq: u32ne(buf, echoed + 8),
    type: u16ne(buf, echoed + 4),
    pid: u32ne(buf, echoed + 12),
    extack: {},
  };
  if ((flags & NlmFlags.NLM_F_ACK_TLVS) === 0) return result;
  let tlvStart = payloadOffset + NLMSGERR_LEN;
  if ((flags & NlmFlags.NLM_F_CAPPED) === 0) {
    // The whole request was echoed: skip its payload (nlmsg_len counts its header too).
    // NB: checked before NLMSG_ALIGN, whose 32-bit arithmetic turns a length near 2^32 negative.
    const echoedLen = u32ne(buf, echoed);
    if (echoedLen > end - echoed) throw new PacketError('netlink', `NLMSG_ERROR echoed request of ${echoedLen} bytes overruns the message`);
    tlvStart = echoed + NLMSG_ALIGN(Math.max(echoedLen, NLMSG_HDRLEN));
  }
  if (tlvStart > end) throw new PacketError('netlink', 'NLMSG_ERROR echoed request overruns the message');
  decodeExtack(new AttrDecoder(buf, tlvStart, end), result.extack);
  return result;
}

function decodeExtack(ad: AttrDecoder, out: Extack): void {
  while (ad.next()) {
    switch (ad.type) {
      case NlmsgerrAttr.NLMSGERR_ATTR_MSG:
        out.message = ad.string();
        break;
      case NlmsgerrAttr.NLMSGERR_ATTR_OFFS:
        out.offset = ad.u32ne();
        break;
      case NlmsgerrAttr.NLMSGERR_ATTR_MISS_TYPE:
        out.missingType = ad.u32ne();
        break;
      case NlmsgerrAttr.NLMSGERR_ATTR_MISS_NEST:
        out.missingNest = ad.u32ne();
        break;
    }
  }
  if (ad.err) throw ad.err;
}

/**
 * Turns a NACK into the project's {@link NetlinkError}.
 * @param op what the request was for, in words ("bind queue 7"); it starts the message.
 * @param e a decoded NLMSG_ERROR with `errno !== 0`.
 * @throws {RangeError} when `e` is an ACK (errno 0): there is no error to make.
 * @example
 * ```ts
 * throw toNetlinkError('bind queue 7', parseNlmsgerr(buf, it.payloadOffset, it.end, it.flags));
 * ```
 */
export function toNetlinkError(op: string, e: Nlmsgerr): NetlinkError {
  if (e.errno === 0) throw new RangeError('toNetlinkError() called with an ACK (errno 0)');
  return new NetlinkError(op, e.errno, e.seq, { message: e.extack.message, offset: e.extack.offset });
}
