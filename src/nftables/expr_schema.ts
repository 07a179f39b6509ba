/**
 * One table per expression: which NFTA_* attribute holds which field of the typed value, in
 * which byte order. The decoder reads dumps with it and the batch's attribute-path finder
 * names attributes with it, so the two cannot disagree. (Encoders are hand-written: they must
 * keep libnftnl's attribute order, which a table keyed by number would lose.)
 * @module
 */
import {
  NFTA_BITWISE, NFTA_CMP, NFTA_COUNTER, NFTA_CT, NFTA_EXTHDR, NFTA_IMMEDIATE, NFTA_LOG, NFTA_LOOKUP, NFTA_MATCH,
  NFTA_META, NFTA_NG, NFTA_PAYLOAD, NFTA_QUEUE, NFTA_RANGE, NFTA_TARGET,
} from './expr_constants.js';

/**
 * How an attribute's payload reads: integers name their byte order; `value` is an NFTA_DATA
 * nest that must hold NFTA_DATA_VALUE, `data` one that may hold a verdict.
 */
export type FieldKind = 'u8' | 'u16be' | 'u32be' | 'u64be' | 'string' | 'bytes' | 'value' | 'data';

/** How an expression's attributes map to the fields of its typed value: what the decoder and `attr_path.ts` read. */
export interface ExprSchema {
  /** The uapi attribute enum (for names in error paths). */
  readonly attrs: Readonly<Record<string, number>>;
  /** attribute number → [field of the typed value, how to read it] */
  readonly fields: ReadonlyMap<number, readonly [string, FieldKind]>;
  /** Fields a valid dump always has. */
  readonly required: readonly string[];
}

function schema(attrs: Record<string, number>, fields: Array<[number, string, FieldKind]>, required: string[]): ExprSchema {
  return { attrs, fields: new Map(fields.map(([a, f, k]) => [a, [f, k] as const])), required };
}

const compat = (a: typeof NFTA_TARGET | typeof NFTA_MATCH): ExprSchema =>
  schema(a, [[1, 'name', 'string'], [2, 'rev', 'u32be'], [3, 'info', 'bytes']], ['name', 'rev', 'info']);

/** Schemas by NFTA_EXPR_NAME. */
export const EXPR_SCHEMAS: ReadonlyMap<string, ExprSchema> = new Map([
  ['meta', schema(NFTA_META, [
    [NFTA_META.NFTA_META_DREG, 'dreg', 'u32be'],
    [NFTA_META.NFTA_META_KEY, 'key', 'u32be'],
    [NFTA_META.NFTA_META_SREG, 'sreg', 'u32be'],
  ], ['key'])],
  ['payload', schema(NFTA_PAYLOAD, [
    [NFTA_PAYLOAD.NFTA_PAYLOAD_DREG, 'dreg', 'u32be'],
    [NFTA_PAYLOAD.NFTA_PAYLOAD_BASE, 'base', 'u32be'],
    [NFTA_PAYLOAD.NFTA_PAYLOAD_OFFSET, 'offset', 'u32be'],
    [NFTA_PAYLOAD.NFTA_PAYLOAD_LEN, 'len', 'u32be'],
    [NFTA_PAYLOAD.NFTA_PAYLOAD_SREG, 'sreg', 'u32be'],
    [NFTA_PAYLOAD.NFTA_PAYLOAD_CSUM_TYPE, 'csumType', 'u32be'],
    [NFTA_PAYLOAD.NFTA_PAYLOAD_CSUM_OFFSET, 'csumOffset', 'u32be'],
    [NFTA_PAYLOAD.NFTA_PAYLOAD_CSUM_FLAGS, 'csumFlags', 'u32be'],
  ], ['base', 'offset', 'len'])],
  ['exthdr', schema(NFTA_EXTHDR, [
    [NFTA_EXTHDR.NFTA_EXTHDR_DREG, 'dreg', 'u32be'],
    [NFTA_EXTHDR.NFTA_EXTHDR_TYPE, 'exthdrType', 'u8'],
    [NFTA_EXTHDR.NFTA_EXTHDR_OFFSET, 'offset', 'u32be'],
    [NFTA_EXTHDR.NFTA_EXTHDR_LEN, 'len', 'u32be'],
    [NFTA_EXTHDR.NFTA_EXTHDR_FLAGS, 'flags', 'u32be'],
    [NFTA_EXTHDR.NFTA_EXTHDR_OP, 'op', 'u32be'],
    [NFTA_EXTHDR.NFTA_EXTHDR_SREG, 'sreg', 'u32be'],
  ], ['exthdrType', 'offset', 'len'])],
  ['cmp', schema(NFTA_CMP, [
    [NFTA_CMP.NFTA_CMP_SREG, 'sreg', 'u32be'],
    [NFTA_CMP.NFTA_CMP_OP, 'op', 'u32be'],
    [NFTA_CMP.NFTA_CMP_DATA, 'data', 'value'],
  ], ['sreg', 'op', 'data'])],
  ['bitwise', schema(NFTA_BITWISE, [
    [NFTA_BITWISE.NFTA_BITWISE_SREG, 'sreg', 'u32be'],
    [NFTA_BITWISE.NFTA_BITWISE_DREG, 'dreg', 'u32be'],
    [NFTA_BITWISE.NFTA_BITWISE_LEN, 'len', 'u32be'],
    [NFTA_BITWISE.NFTA_BITWISE_MASK, 'mask', 'value'],
    [NFTA_BITWISE.NFTA_BITWISE_XOR, 'xor', 'value'],
    [NFTA_BITWISE.NFTA_BITWISE_OP, 'op', 'u32be'],
    [NFTA_BITWISE.NFTA_BITWISE_DATA, 'data', 'value'],
  ], ['sreg', 'dreg', 'len'])],
  ['range', schema(NFTA_RANGE, [
    [NFTA_RANGE.NFTA_RANGE_SREG, 'sreg', 'u32be'],
    [NFTA_RANGE.NFTA_RANGE_OP, 'op', 'u32be'],
    [NFTA_RANGE.NFTA_RANGE_FROM_DATA, 'from', 'value'],
    [NFTA_RANGE.NFTA_RANGE_TO_DATA, 'to', 'value'],
  ], ['sreg', 'op', 'from', 'to'])],
  ['lookup', schema(NFTA_LOOKUP, [
    [NFTA_LOOKUP.NFTA_LOOKUP_SET, 'set', 'string'],
    [NFTA_LOOKUP.NFTA_LOOKUP_SREG, 'sreg', 'u32be'],
    [NFTA_LOOKUP.NFTA_LOOKUP_DREG, 'dreg', 'u32be'],
    [NFTA_LOOKUP.NFTA_LOOKUP_SET_ID, 'setId', 'u32be'],
    [NFTA_LOOKUP.NFTA_LOOKUP_FLAGS, 'flags', 'u32be'],
  ], ['sreg'])],
  ['counter', schema(NFTA_COUNTER, [
    [NFTA_COUNTER.NFTA_COUNTER_BYTES, 'bytes', 'u64be'],
    [NFTA_COUNTER.NFTA_COUNTER_PACKETS, 'packets', 'u64be'],
  ], [])],
  ['immediate', schema(NFTA_IMMEDIATE, [
    [NFTA_IMMEDIATE.NFTA_IMMEDIATE_DREG, 'dreg', 'u32be'],
    [NFTA_IMMEDIATE.NFTA_IMMEDIATE_DATA, 'data', 'data'],
  ], ['dreg', 'data'])],
  ['ct', schema(NFTA_CT, [
    [NFTA_CT.NFTA_CT_DREG, 'dreg', 'u32be'],
    [NFTA_CT.NFTA_CT_KEY, 'key', 'u32be'],
    [NFTA_CT.NFTA_CT_DIRECTION, 'direction', 'u8'],
    [NFTA_CT.NFTA_CT_SREG, 'sreg', 'u32be'],
  ], ['key'])],
  ['numgen', schema(NFTA_NG, [
    [NFTA_NG.NFTA_NG_DREG, 'dreg', 'u32be'],
    [NFTA_NG.NFTA_NG_MODULUS, 'modulus', 'u32be'],
    [NFTA_NG.NFTA_NG_TYPE, 'ngType', 'u32be'],
    [NFTA_NG.NFTA_NG_OFFSET, 'offset', 'u32be'],
  ], ['dreg', 'modulus', 'ngType'])],
  ['log', schema(NFTA_LOG, [
    [NFTA_LOG.NFTA_LOG_GROUP, 'group', 'u16be'],
    [NFTA_LOG.NFTA_LOG_PREFIX, 'prefix', 'string'],
    [NFTA_LOG.NFTA_LOG_SNAPLEN, 'snaplen', 'u32be'],
    [NFTA_LOG.NFTA_LOG_QTHRESHOLD, 'qthreshold', 'u16be'],
    [NFTA_LOG.NFTA_LOG_LEVEL, 'level', 'u32be'],
    [NFTA_LOG.NFTA_LOG_FLAGS, 'flags', 'u32be'],
  ], [])],
  ['queue', schema(NFTA_QUEUE, [
    [NFTA_QUEUE.NFTA_QUEUE_NUM, 'num', 'u16be'],
    [NFTA_QUEUE.NFTA_QUEUE_TOTAL, 'total', 'u16be'],
    [NFTA_QUEUE.NFTA_QUEUE_FLAGS, 'flags', 'u16be'],
    [NFTA_QUEUE.NFTA_QUEUE_SREG_QNUM, 'sregQnum', 'u32be'],
  ], [])],
  ['target', compat(NFTA_TARGET)],
  ['match', compat(NFTA_MATCH)],
]);

/** uapi name of attribute `type` in `attrs` ("NFTA_CMP_DATA"), or "attribute <n>". */
export function attrName(attrs: Readonly<Record<string, number>>, type: number): string {
  for (const [k, v] of Object.entries(attrs)) if (v === type && !k.endsWith('_UNSPEC')) return k;
  return `attribute ${type}`;
}
