/**
 * NFULNL_MSG_CONFIG request builders. Each appends one message to a {@link MessageBuilder} with
 * NLM_F_REQUEST | NLM_F_ACK, so the kernel answers with an ACK or an NLMSG_ERROR.
 *
 * ```
 * nlmsghdr   type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG (0x0401), flags REQUEST|ACK
 * nfgenmsg   family AF_UNSPEC, version 0, res_id = group (be16)
 * nlattr     NFULA_CFG_CMD      { u8 command }                          bind / unbind (1 byte)
 *            NFULA_CFG_MODE     { be32 copy_range; u8 copy_mode; u8 pad } (6 bytes)
 *            NFULA_CFG_NLBUFSIZ be32, NFULA_CFG_TIMEOUT be32 (1/100 s), NFULA_CFG_QTHRESH be32
 *            NFULA_CFG_FLAGS    be16                                    (no mask: replaces all)
 * ```
 * nfulnl_recv_config (net/netfilter/nfnetlink_log.c) answers EBUSY when this socket already
 * bound the group, EPERM when another socket did, ENODEV for a setting on an unbound group.
 * It ignores a mode it does not know and a buffer size out of range without an error: check
 * the values here.
 * @module
 */
import { putU32be } from '../netlink/bytes.js';
import { NlmFlags, Nfnetlink } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { NFNL_SUBSYS_ULOG, NFULA_CFG, NFULNL_CFG_CMD, NFULNL_CFG_F, NFULNL_COPY, NFULNL_COPY_RANGE_MAX, NFULNL_MSG } from './constants.js';

const CONFIG_TYPE = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG.NFULNL_MSG_CONFIG;
const CONFIG_FLAGS = NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK;
const ALL_FLAGS = NFULNL_CFG_F.NFULNL_CFG_F_SEQ | NFULNL_CFG_F.NFULNL_CFG_F_SEQ_GLOBAL | NFULNL_CFG_F.NFULNL_CFG_F_CONNTRACK;
/** NLMSG_GOODSIZE with 4 KiB pages: the smallest buffer the kernel takes (it keeps its own otherwise). */
export const NFULNL_NLBUFSIZ_MIN = 3776;

/** Throws unless `group` is an integer 0..65535 (`res_id` is a be16). */
export function checkGroup(group: number): void {
  if (!(group >= 0 && group <= 0xffff && (group | 0) === group)) {
    throw new RangeError(`NFLOG group must be an integer from 0 to 65535, got ${String(group)}`);
  }
}

function checkRange(what: string, v: number, min: number, max: number): void {
  if (!(v >= min && v <= max && Math.floor(v) === v)) {
    throw new RangeError(`${what} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
}

function beginConfig(b: MessageBuilder, seq: number, group: number): void {
  checkGroup(group);
  b.begin(CONFIG_TYPE, CONFIG_FLAGS, seq);
  // libnetfilter_log's nflog_bind_group sends AF_UNSPEC too: the family matters for PF_BIND only.
  b.putNfgenmsg(AddressFamily.AF_UNSPEC, Nfnetlink.NFNETLINK_V0, group);
}

function putCommand(b: MessageBuilder, seq: number, group: number, cmd: number): MessageBuilder {
  beginConfig(b, seq, group);
  const off = b.reserveAttr(NFULA_CFG.NFULA_CFG_CMD, 1);
  b.buffer[off] = cmd;
  b.end();
  return b;
}

/**
 * Appends NFULNL_CFG_CMD_BIND for `group`: this socket receives what rules log to it.
 * @throws {RangeError} when `group` is not 0..65535.
 * @example putLogBind(b, 1, 7); socket.send(b.bytes());
 */
export function putLogBind(b: MessageBuilder, seq: number, group: number): MessageBuilder {
  return putCommand(b, seq, group, NFULNL_CFG_CMD.NFULNL_CFG_CMD_BIND);
}

/**
 * Appends NFULNL_CFG_CMD_UNBIND for `group` (ENODEV when it is not bound).
 * @throws {RangeError} when `group` is not 0..65535.
 * @example putLogUnbind(b, 9, 7);
 */
export function putLogUnbind(b: MessageBuilder, seq: number, group: number): MessageBuilder {
  return putCommand(b, seq, group, NFULNL_CFG_CMD.NFULNL_CFG_CMD_UNBIND);
}

/**
 * Appends NFULA_CFG_MODE: NFULNL_COPY_META or NFULNL_COPY_PACKET, and how many bytes of each
 * packet to copy (0 means the maximum, {@link NFULNL_COPY_RANGE_MAX}; a rule's snaplen may cut
 * it shorter).
 * @throws {RangeError} for a mode other than NONE/META/PACKET or a range past 65531.
 * @example putLogMode(b, 2, 7, NFULNL_COPY.NFULNL_COPY_PACKET, 0);
 */
export function putLogMode(b: MessageBuilder, seq: number, group: number, copyMode: number, copyRange: number): MessageBuilder {
  if (copyMode !== NFULNL_COPY.NFULNL_COPY_NONE && copyMode !== NFULNL_COPY.NFULNL_COPY_META && copyMode !== NFULNL_COPY.NFULNL_COPY_PACKET) {
    throw new RangeError(`NFLOG copy mode must be 0 (none), 1 (meta) or 2 (packet), got ${String(copyMode)}`);
  }
  checkRange('NFLOG copy range', copyRange, 0, NFULNL_COPY_RANGE_MAX);
  beginConfig(b, seq, group);
  const off = b.reserveAttr(NFULA_CFG.NFULA_CFG_MODE, 6);
  putU32be(b.buffer, off, copyRange);
  b.buffer[off + 4] = copyMode;
  b.end();
  return b;
}

/**
 * Appends NFULA_CFG_QTHRESH: the kernel sends a datagram once it holds this many packets (1:
 * one datagram per packet, no wait), else when the timeout or the buffer runs out.
 * @throws {RangeError} outside 1..2^32-1.
 * @example putLogQthresh(b, 3, 7, 1);
 */
export function putLogQthresh(b: MessageBuilder, seq: number, group: number, qthreshold: number): MessageBuilder {
  checkRange('NFLOG queue threshold', qthreshold, 1, 0xffff_ffff);
  return putU32Setting(b, seq, group, NFULA_CFG.NFULA_CFG_QTHRESH, qthreshold);
}

/**
 * Appends NFULA_CFG_TIMEOUT: how long, in 1/100 s, the kernel keeps a batch below the
 * threshold before sending it anyway.
 * @throws {RangeError} outside 0..2^32-1.
 * @example putLogTimeout(b, 4, 7, 1); // 10 ms
 */
export function putLogTimeout(b: MessageBuilder, seq: number, group: number, centiseconds: number): MessageBuilder {
  checkRange('NFLOG flush timeout (1/100 s)', centiseconds, 0, 0xffff_ffff);
  return putU32Setting(b, seq, group, NFULA_CFG.NFULA_CFG_TIMEOUT, centiseconds);
}

/**
 * Appends NFULA_CFG_NLBUFSIZ: the size of the buffer the kernel batches packets in. The kernel
 * silently keeps its own below NLMSG_GOODSIZE or above 131072, so this refuses those.
 * @throws {RangeError} outside {@link NFULNL_NLBUFSIZ_MIN}..131072.
 * @example putLogNlbufsiz(b, 5, 7, 65536);
 */
export function putLogNlbufsiz(b: MessageBuilder, seq: number, group: number, bytes: number): MessageBuilder {
  checkRange('NFLOG buffer size', bytes, NFULNL_NLBUFSIZ_MIN, 131072);
  return putU32Setting(b, seq, group, NFULA_CFG.NFULA_CFG_NLBUFSIZ, bytes);
}

/**
 * Appends NFULA_CFG_FLAGS (a be16 that replaces the instance's flags: there is no mask).
 * @throws {RangeError} for a bit other than NFULNL_CFG_F_SEQ, _SEQ_GLOBAL, _CONNTRACK.
 * @example putLogFlags(b, 6, 7, NFULNL_CFG_F.NFULNL_CFG_F_SEQ);
 */
export function putLogFlags(b: MessageBuilder, seq: number, group: number, flags: number): MessageBuilder {
  if (!(Number.isInteger(flags) && flags >= 0 && (flags & ~ALL_FLAGS) === 0)) {
    throw new RangeError(`NFLOG flags must combine NFULNL_CFG_F_SEQ (1), _SEQ_GLOBAL (2) and _CONNTRACK (4), got ${String(flags)}`);
  }
  beginConfig(b, seq, group);
  b.putAttrU16be(NFULA_CFG.NFULA_CFG_FLAGS, flags);
  b.end();
  return b;
}

function putU32Setting(b: MessageBuilder, seq: number, group: number, type: number, v: number): MessageBuilder {
  beginConfig(b, seq, group);
  b.putAttrU32be(type, v);
  b.end();
  return b;
}
