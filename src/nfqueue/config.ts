/**
 * NFQNL_MSG_CONFIG request builders. Each appends one message to a {@link MessageBuilder} with
 * NLM_F_REQUEST | NLM_F_ACK, so the kernel answers with an ACK or an NLMSG_ERROR.
 *
 * ```
 * nlmsghdr   type = NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG (0x0302), flags REQUEST|ACK
 * nfgenmsg   family AF_UNSPEC, version 0, res_id = queue (be16)
 * nlattr     NFQA_CFG_CMD     { u8 cmd; u8 pad; be16 pf }            bind / unbind
 *            NFQA_CFG_PARAMS  { be32 copy_range; u8 copy_mode } + 3 pad
 *            NFQA_CFG_QUEUE_MAXLEN be32
 *            NFQA_CFG_FLAGS be32, NFQA_CFG_MASK be32                 (the mask is mandatory)
 * ```
 * @module
 */
import { putU16be, putU32be } from '../netlink/bytes.js';
import { NlmFlags, Nfnetlink } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { checkQueue, checkU32 } from './_check.js';
import { NFNL_SUBSYS_QUEUE, NFQA_CFG, NFQNL_CFG_CMD, NFQNL_MAX_COPY_RANGE, NFQNL_MSG } from './constants.js';

const CONFIG_TYPE = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.NFQNL_MSG_CONFIG;
const CONFIG_FLAGS = NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK;

function beginConfig(b: MessageBuilder, seq: number, queue: number): void {
  checkQueue(queue);
  b.begin(CONFIG_TYPE, CONFIG_FLAGS, seq);
  // libnetfilter_queue sends AF_UNSPEC here and the family in the command's pf.
  b.putNfgenmsg(AddressFamily.AF_UNSPEC, Nfnetlink.NFNETLINK_V0, queue);
}

function putCommand(b: MessageBuilder, seq: number, queue: number, cmd: number, family: number): MessageBuilder {
  beginConfig(b, seq, queue);
  const off = b.reserveAttr(NFQA_CFG.NFQA_CFG_CMD, 4);
  b.buffer[off] = cmd;
  putU16be(b.buffer, off + 2, family);
  b.end();
  return b;
}

/**
 * Appends NFQNL_CFG_CMD_BIND for `queue`. The kernel answers EBUSY when this socket already
 * bound it and EPERM when another socket did.
 * @param family the command's `pf` (ignored by kernels since 3.8).
 * @throws {RangeError} when `queue` is not 0..65535.
 * @example putBind(b, 1, 7); socket.send(b.bytes());
 */
export function putBind(b: MessageBuilder, seq: number, queue: number, family: number = AddressFamily.AF_UNSPEC): MessageBuilder {
  return putCommand(b, seq, queue, NFQNL_CFG_CMD.NFQNL_CFG_CMD_BIND, family);
}

/**
 * Appends the obsolete NFQNL_CFG_CMD_PF_UNBIND: a no-op since Linux 3.8, answered before any queue
 * is looked up, so only nfnetlink's own check (CAP_NET_ADMIN in the namespace) can refuse it.
 * @example putPfUnbind(b, 9);
 */
export function putPfUnbind(b: MessageBuilder, seq: number): MessageBuilder {
  return putCommand(b, seq, 0, NFQNL_CFG_CMD.NFQNL_CFG_CMD_PF_UNBIND, AddressFamily.AF_INET);
}

/**
 * Appends NFQNL_CFG_CMD_UNBIND for `queue` (ENODEV when it is not bound).
 * @throws {RangeError} when `queue` is not 0..65535.
 * @example putUnbind(b, 9, 7);
 */
export function putUnbind(b: MessageBuilder, seq: number, queue: number, family: number = AddressFamily.AF_UNSPEC): MessageBuilder {
  return putCommand(b, seq, queue, NFQNL_CFG_CMD.NFQNL_CFG_CMD_UNBIND, family);
}

/**
 * Appends NFQA_CFG_PARAMS: copy mode (NFQNL_COPY_META / NFQNL_COPY_PACKET) and how many bytes of
 * each packet to copy (0 means the maximum, {@link NFQNL_MAX_COPY_RANGE}).
 * @throws {RangeError} when `queue`, `copyMode` (0..255) or `copyRange` (0..65531) is out of range.
 * @example putParams(b, 2, 7, NFQNL_COPY.NFQNL_COPY_PACKET, 0xffff - 4);
 */
export function putParams(b: MessageBuilder, seq: number, queue: number, copyMode: number, copyRange: number): MessageBuilder {
  if (!(copyMode >= 0 && copyMode <= 0xff && (copyMode | 0) === copyMode)) {
    throw new RangeError(`Copy mode must be an integer from 0 to 255, got ${String(copyMode)}`);
  }
  if (!(copyRange >= 0 && copyRange <= NFQNL_MAX_COPY_RANGE && (copyRange | 0) === copyRange)) {
    throw new RangeError(`Copy range must be an integer from 0 to ${NFQNL_MAX_COPY_RANGE}, got ${String(copyRange)}`);
  }
  beginConfig(b, seq, queue);
  const off = b.reserveAttr(NFQA_CFG.NFQA_CFG_PARAMS, 5);
  putU32be(b.buffer, off, copyRange);
  b.buffer[off + 4] = copyMode;
  b.end();
  return b;
}

/**
 * Appends NFQA_CFG_QUEUE_MAXLEN: packets the kernel holds for us before dropping (or accepting,
 * with NFQA_CFG_F_FAIL_OPEN).
 * @throws {RangeError} when `queue` or `maxLen` is out of range.
 * @example putQueueMaxLen(b, 3, 7, 4096);
 */
export function putQueueMaxLen(b: MessageBuilder, seq: number, queue: number, maxLen: number): MessageBuilder {
  checkU32('Queue length', maxLen);
  beginConfig(b, seq, queue);
  b.putAttrU32be(NFQA_CFG.NFQA_CFG_QUEUE_MAXLEN, maxLen);
  b.end();
  return b;
}

/**
 * Appends NFQA_CFG_FLAGS + NFQA_CFG_MASK: sets the flags in `mask` to their value in `flags`.
 * Unknown flags make the kernel answer EOPNOTSUPP.
 * @throws {RangeError} when `queue`, `flags` or `mask` is out of range.
 * @example putFlags(b, 4, 7, NFQA_CFG_F.NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F.NFQA_CFG_F_FAIL_OPEN);
 */
export function putFlags(b: MessageBuilder, seq: number, queue: number, flags: number, mask: number): MessageBuilder {
  checkU32('Flags', flags);
  checkU32('Mask', mask);
  beginConfig(b, seq, queue);
  b.putAttrU32be(NFQA_CFG.NFQA_CFG_FLAGS, flags);
  b.putAttrU32be(NFQA_CFG.NFQA_CFG_MASK, mask);
  b.end();
  return b;
}
