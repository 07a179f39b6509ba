/**
 * Expression encoder: one `putExpr` writing an element of NFTA_RULE_EXPRESSIONS.
 *
 * ```
 * NFTA_LIST_ELEM (nested) {
 *   NFTA_EXPR_NAME  "payload\0"
 *   NFTA_EXPR_DATA (nested) { NFTA_PAYLOAD_DREG be32 | NFTA_PAYLOAD_BASE be32 | … }
 * }
 * ```
 * Attributes go out in libnftnl 1.2's order (src/expr/*.c `*_build`), so the bytes equal what
 * `nft --debug=mnl` prints for the same rule; only the fields present in the value are written.
 * Byte order is named at each put: `U32be` for registers/keys/lengths (NLA_BE32), `U16be` for
 * the queue numbers and log group/threshold, `U8` for exthdr type and ct direction.
 * @module
 */
import { NlaFlags } from '../netlink/constants.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { NFTA_LIST } from './constants.js';
import { putData, putValue } from './data.js';
import {
  NFTA_BITWISE, NFTA_CMP, NFTA_COUNTER, NFTA_CT, NFTA_EXPR, NFTA_EXTHDR, NFTA_IMMEDIATE, NFTA_LOG, NFTA_LOOKUP,
  NFTA_MATCH, NFTA_META, NFTA_NG, NFTA_PAYLOAD, NFTA_QUEUE, NFTA_RANGE, NFTA_TARGET,
} from './expr_constants.js';
import { exprName, type CompatExpr, type Expr, type ExthdrExpr, type LogExpr, type PayloadExpr, type QueueExpr } from './expr_types.js';

/**
 * Writes `NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA {…} }` for `e`.
 * @throws {RangeError} when a data value is empty or longer than 64 bytes.
 * @example
 * ```ts
 * const list = b.nestStart(NFTA_RULE.NFTA_RULE_EXPRESSIONS);
 * putExpr(b, { type: 'meta', key: NFT_META.NFT_META_L4PROTO, dreg: NFT_REG.NFT_REG_1 });
 * putExpr(b, { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: NFT_REG.NFT_REG_1, data: u8(6) });
 * b.nestEnd(list);
 * ```
 */
export function putExpr(b: MessageBuilder, e: Expr): void {
  const elem = b.nestStart(NFTA_LIST.NFTA_LIST_ELEM);
  b.putAttrString(NFTA_EXPR.NFTA_EXPR_NAME, exprName(e));
  if (e.type === 'unknown') {
    b.putAttr(NFTA_EXPR.NFTA_EXPR_DATA | NlaFlags.NLA_F_NESTED, e.data);
  } else {
    const data = b.nestStart(NFTA_EXPR.NFTA_EXPR_DATA);
    putExprData(b, e);
    b.nestEnd(data);
  }
  b.nestEnd(elem);
}

/** Writes the attributes inside NFTA_EXPR_DATA. */
function putExprData(b: MessageBuilder, e: Exclude<Expr, { type: 'unknown' }>): void {
  switch (e.type) {
    case 'meta':
      b.putAttrU32be(NFTA_META.NFTA_META_KEY, e.key);
      optU32be(b, NFTA_META.NFTA_META_DREG, e.dreg);
      optU32be(b, NFTA_META.NFTA_META_SREG, e.sreg);
      return;
    case 'payload':
      return putPayload(b, e);
    case 'exthdr':
      return putExthdr(b, e);
    case 'cmp':
      b.putAttrU32be(NFTA_CMP.NFTA_CMP_SREG, e.sreg);
      b.putAttrU32be(NFTA_CMP.NFTA_CMP_OP, e.op);
      putValue(b, NFTA_CMP.NFTA_CMP_DATA, e.data);
      return;
    case 'bitwise':
      b.putAttrU32be(NFTA_BITWISE.NFTA_BITWISE_SREG, e.sreg);
      b.putAttrU32be(NFTA_BITWISE.NFTA_BITWISE_DREG, e.dreg);
      optU32be(b, NFTA_BITWISE.NFTA_BITWISE_OP, e.op);
      b.putAttrU32be(NFTA_BITWISE.NFTA_BITWISE_LEN, e.len);
      if (e.mask) putValue(b, NFTA_BITWISE.NFTA_BITWISE_MASK, e.mask);
      if (e.xor) putValue(b, NFTA_BITWISE.NFTA_BITWISE_XOR, e.xor);
      if (e.data) putValue(b, NFTA_BITWISE.NFTA_BITWISE_DATA, e.data);
      return;
    case 'range':
      b.putAttrU32be(NFTA_RANGE.NFTA_RANGE_SREG, e.sreg);
      b.putAttrU32be(NFTA_RANGE.NFTA_RANGE_OP, e.op);
      putValue(b, NFTA_RANGE.NFTA_RANGE_FROM_DATA, e.from);
      putValue(b, NFTA_RANGE.NFTA_RANGE_TO_DATA, e.to);
      return;
    case 'lookup':
      b.putAttrU32be(NFTA_LOOKUP.NFTA_LOOKUP_SREG, e.sreg);
      optU32be(b, NFTA_LOOKUP.NFTA_LOOKUP_DREG, e.dreg);
      if (e.set !== undefined) b.putAttrString(NFTA_LOOKUP.NFTA_LOOKUP_SET, e.set);
      optU32be(b, NFTA_LOOKUP.NFTA_LOOKUP_SET_ID, e.setId);
      optU32be(b, NFTA_LOOKUP.NFTA_LOOKUP_FLAGS, e.flags);
      return;
    case 'counter':
      if (e.bytes !== undefined) b.putAttrU64be(NFTA_COUNTER.NFTA_COUNTER_BYTES, BigInt(e.bytes));
      if (e.packets !== undefined) b.putAttrU64be(NFTA_COUNTER.NFTA_COUNTER_PACKETS, BigInt(e.packets));
      return;
    case 'immediate':
      b.putAttrU32be(NFTA_IMMEDIATE.NFTA_IMMEDIATE_DREG, e.dreg);
      putData(b, NFTA_IMMEDIATE.NFTA_IMMEDIATE_DATA, e.data);
      return;
    case 'ct':
      b.putAttrU32be(NFTA_CT.NFTA_CT_KEY, e.key);
      optU32be(b, NFTA_CT.NFTA_CT_DREG, e.dreg);
      if (e.direction !== undefined) b.putAttrU8(NFTA_CT.NFTA_CT_DIRECTION, e.direction);
      optU32be(b, NFTA_CT.NFTA_CT_SREG, e.sreg);
      return;
    case 'numgen':
      b.putAttrU32be(NFTA_NG.NFTA_NG_DREG, e.dreg);
      b.putAttrU32be(NFTA_NG.NFTA_NG_MODULUS, e.modulus);
      b.putAttrU32be(NFTA_NG.NFTA_NG_TYPE, e.ngType);
      optU32be(b, NFTA_NG.NFTA_NG_OFFSET, e.offset);
      return;
    case 'log':
      return putLog(b, e);
    case 'queue':
      return putQueue(b, e);
    case 'target':
    case 'match':
      return putCompat(b, e);
  }
}

function putPayload(b: MessageBuilder, e: PayloadExpr): void {
  optU32be(b, NFTA_PAYLOAD.NFTA_PAYLOAD_SREG, e.sreg);
  optU32be(b, NFTA_PAYLOAD.NFTA_PAYLOAD_DREG, e.dreg);
  b.putAttrU32be(NFTA_PAYLOAD.NFTA_PAYLOAD_BASE, e.base);
  b.putAttrU32be(NFTA_PAYLOAD.NFTA_PAYLOAD_OFFSET, e.offset);
  b.putAttrU32be(NFTA_PAYLOAD.NFTA_PAYLOAD_LEN, e.len);
  optU32be(b, NFTA_PAYLOAD.NFTA_PAYLOAD_CSUM_TYPE, e.csumType);
  optU32be(b, NFTA_PAYLOAD.NFTA_PAYLOAD_CSUM_OFFSET, e.csumOffset);
  optU32be(b, NFTA_PAYLOAD.NFTA_PAYLOAD_CSUM_FLAGS, e.csumFlags);
}

function putExthdr(b: MessageBuilder, e: ExthdrExpr): void {
  optU32be(b, NFTA_EXTHDR.NFTA_EXTHDR_DREG, e.dreg);
  optU32be(b, NFTA_EXTHDR.NFTA_EXTHDR_SREG, e.sreg);
  b.putAttrU8(NFTA_EXTHDR.NFTA_EXTHDR_TYPE, e.exthdrType);
  b.putAttrU32be(NFTA_EXTHDR.NFTA_EXTHDR_OFFSET, e.offset);
  b.putAttrU32be(NFTA_EXTHDR.NFTA_EXTHDR_LEN, e.len);
  optU32be(b, NFTA_EXTHDR.NFTA_EXTHDR_OP, e.op);
  optU32be(b, NFTA_EXTHDR.NFTA_EXTHDR_FLAGS, e.flags);
}

function putLog(b: MessageBuilder, e: LogExpr): void {
  if (e.prefix !== undefined) b.putAttrString(NFTA_LOG.NFTA_LOG_PREFIX, e.prefix);
  if (e.group !== undefined) b.putAttrU16be(NFTA_LOG.NFTA_LOG_GROUP, e.group);
  optU32be(b, NFTA_LOG.NFTA_LOG_SNAPLEN, e.snaplen);
  if (e.qthreshold !== undefined) b.putAttrU16be(NFTA_LOG.NFTA_LOG_QTHRESHOLD, e.qthreshold);
  optU32be(b, NFTA_LOG.NFTA_LOG_LEVEL, e.level);
  optU32be(b, NFTA_LOG.NFTA_LOG_FLAGS, e.flags);
}

function putQueue(b: MessageBuilder, e: QueueExpr): void {
  if (e.num !== undefined) b.putAttrU16be(NFTA_QUEUE.NFTA_QUEUE_NUM, e.num);
  if (e.total !== undefined) b.putAttrU16be(NFTA_QUEUE.NFTA_QUEUE_TOTAL, e.total);
  if (e.flags !== undefined) b.putAttrU16be(NFTA_QUEUE.NFTA_QUEUE_FLAGS, e.flags);
  optU32be(b, NFTA_QUEUE.NFTA_QUEUE_SREG_QNUM, e.sregQnum);
}

function putCompat(b: MessageBuilder, e: CompatExpr): void {
  // NFTA_TARGET_* and NFTA_MATCH_* share their numbers.
  b.putAttrString(NFTA_TARGET.NFTA_TARGET_NAME, e.name);
  b.putAttrU32be(NFTA_TARGET.NFTA_TARGET_REV, e.rev);
  b.putAttr(e.type === 'target' ? NFTA_TARGET.NFTA_TARGET_INFO : NFTA_MATCH.NFTA_MATCH_INFO, e.info);
}

function optU32be(b: MessageBuilder, type: number, v: number | undefined): void {
  if (v !== undefined) b.putAttrU32be(type, v >>> 0);
}
