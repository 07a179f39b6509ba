/**
 * Fuzz target for nf_tables expressions: every modelled expression type with every optional
 * field present or absent and field values across their ranges, through putExpr() and back
 * through decodeExpr() (in a rule's NFTA_RULE_EXPRESSIONS list); then the encoded list mutated,
 * which decodeExprList() may refuse only with a PacketError.
 * @module
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketError } from '../../src/errors.js';
import { AttrDecoder } from '../../src/netlink/attr_decoder.js';
import { MessageBuilder } from '../../src/netlink/message_builder.js';
import { decodeExprList } from '../../src/nftables/expr_decode.js';
import { putExpr } from '../../src/nftables/expr_encode.js';
import type { Expr, NftData } from '../../src/nftables/expr_types.js';
import { mutated, onlyThrows } from './_mutate.js';
import { counter, type FuzzTarget } from './_target.js';

const u32 = fc.nat({ max: 0xffffffff });
const u8 = fc.nat({ max: 255 });
const u16 = fc.nat({ max: 0xffff });
const value = fc.uint8Array({ minLength: 1, maxLength: 64 });
const name = fc.stringMatching(/^[a-zA-Z0-9_-]{1,28}$/);

/** `rec` with each key of `opt` present or absent (never `undefined`-valued: decode omits them). */
function withOptional<T extends object>(rec: fc.Arbitrary<T>, opt: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<T> {
  const keys = Object.keys(opt);
  return fc.tuple(rec, fc.tuple(...keys.map((k) => fc.option(opt[k]!, { nil: undefined })))).map(([r, vals]) => {
    const out = { ...r } as Record<string, unknown>;
    keys.forEach((k, i) => { if (vals[i] !== undefined) out[k] = vals[i]; });
    return out as T;
  });
}

const verdict: fc.Arbitrary<NftData> = fc.oneof(
  value.map((v) => ({ value: v })),
  fc.integer({ min: -5, max: 1 }).map((code) => ({ verdict: { code } })),
  fc.tuple(fc.constantFrom(-3, -4), name).map(([code, chain]) => ({ verdict: { code, chain } })),
);

const expr: fc.Arbitrary<Expr> = fc.oneof(
  fc.tuple(u32, fc.boolean(), u32).map(([key, load, reg]) => (load ? { type: 'meta' as const, key, dreg: reg } : { type: 'meta' as const, key, sreg: reg })),
  withOptional(fc.record({ type: fc.constant('payload' as const), base: u32, offset: u32, len: u32, dreg: u32 }), {}),
  withOptional(fc.record({ type: fc.constant('payload' as const), base: u32, offset: u32, len: u32, sreg: u32 }), { csumType: u32, csumOffset: u32, csumFlags: u32 }),
  withOptional(fc.record({ type: fc.constant('exthdr' as const), exthdrType: u8, offset: u32, len: u32, dreg: u32 }), { op: u32, flags: u32 }),
  fc.record({ type: fc.constant('cmp' as const), op: u32, sreg: u32, data: value }),
  withOptional(fc.record({ type: fc.constant('bitwise' as const), sreg: u32, dreg: u32, len: u32, mask: value, xor: value }), { op: fc.constant(0) }),
  fc.record({ type: fc.constant('range' as const), op: u32, sreg: u32, from: value, to: value }),
  withOptional(fc.record({ type: fc.constant('lookup' as const), set: name, sreg: u32 }), { dreg: u32, flags: u32 }),
  withOptional(fc.record({ type: fc.constant('lookup' as const), setId: u32, sreg: u32 }), { dreg: u32, flags: u32 }),
  fc.record({ type: fc.constant('counter' as const), packets: fc.nat({ max: 2 ** 53 - 1 }), bytes: fc.nat({ max: 2 ** 53 - 1 }) }),
  fc.record({ type: fc.constant('immediate' as const), dreg: u32, data: verdict }),
  withOptional(fc.record({ type: fc.constant('ct' as const), key: u32, dreg: u32 }), { direction: u8 }),
  withOptional(fc.record({ type: fc.constant('numgen' as const), dreg: u32, modulus: u32, ngType: u32 }), { offset: u32 }),
  withOptional(fc.record({ type: fc.constant('log' as const) }), { prefix: fc.stringMatching(/^[a-z: ]{1,30}$/), group: u16, snaplen: u32, qthreshold: u16, level: u32, flags: u32 }),
  withOptional(fc.record({ type: fc.constant('queue' as const), num: u16 }), { total: u16, flags: u16 }),
  fc.record({ type: fc.constant('queue' as const), sregQnum: u32, flags: u16 }),
  fc.record({ type: fc.constantFrom('target' as const, 'match' as const), name: name, rev: u32, info: fc.uint8Array({ maxLength: 64 }) }),
);

function encodeList(exprs: readonly Expr[]): Uint8Array {
  const b = new MessageBuilder(256);
  const h = b.nestStart(4);
  for (const e of exprs) putExpr(b, e);
  b.nestEnd(h);
  return b.bytes().slice();
}

function decodeList(bytes: Uint8Array): Expr[] {
  const ad = new AttrDecoder(bytes, 0, bytes.length);
  if (!ad.next()) throw new PacketError('nf_tables', 'no list');
  return decodeExprList(ad);
}

const plain = (e: unknown): unknown => JSON.parse(JSON.stringify(e, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));

const exprRoundTrip: FuzzTarget = {
  name: 'nftables: putExpr() → decodeExpr() round trip of every expression type and optional field',
  property: fc.property(fc.array(expr, { minLength: 1, maxLength: 5 }), (exprs) => {
    assert.deepEqual(plain(decodeList(encodeList(exprs))), plain(exprs));
  }),
};

const listsDecoded = counter();
const exprMutation: FuzzTarget = {
  name: 'nftables: decodeExprList() on mutated expression lists throws only PacketError',
  deep: listsDecoded,
  property: fc.property(mutated(fc.array(expr, { minLength: 1, maxLength: 4 }).map(encodeList)), (bytes) => {
    if (!onlyThrows([PacketError], () => void decodeList(bytes))) listsDecoded.count++;
  }),
};

export const EXPR_TARGETS: readonly FuzzTarget[] = [exprRoundTrip, exprMutation];
