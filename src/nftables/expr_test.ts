import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { diffHex } from '../netlink/hexdump.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { PacketError } from '../errors.js';
import { be16, ne32 } from './data.js';
import { NFT_CT, NFT_EXTHDR_OP, NFT_META, NFT_PAYLOAD, NFT_QUEUE_FLAG, NFT_REG } from './expr_constants.js';
import { decodeExpr, decodeExprList } from './expr_decode.js';
import { putExpr } from './expr_encode.js';
import type { Expr } from './expr_types.js';
import { formatExpr } from './format.js';
import { EXPR_VECTORS } from './testdata/expr_vectors.js';

// The vectors' nlattr headers are little-endian (recorded on x86-64).
const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

function encode(e: Expr): Uint8Array {
  const b = new MessageBuilder(new Uint8Array(512).fill(0xa5));
  putExpr(b, e);
  return b.bytes().slice();
}

function decode(bytes: Uint8Array): Expr {
  const ad = new AttrDecoder(bytes, 0, bytes.length);
  assert.ok(ad.next());
  return decodeExpr(ad);
}

for (const v of EXPR_VECTORS) {
  test(`putExpr() writes what nft writes: ${v.name}`, { skip }, () => {
    const d = diffHex(encode(v.expr), Uint8Array.from(v.bytes));
    if (d !== undefined) assert.fail(`${v.source}: bytes differ\n${d}`);
  });

  test(`decodeExpr() reads nft's bytes back: ${v.name}`, { skip }, () => {
    assert.deepEqual(decode(Uint8Array.from(v.bytes)), v.expr);
  });

  test(`formatExpr() prints what nft --debug=netlink prints: ${v.name}`, { skip }, () => {
    assert.equal(formatExpr(v.expr), v.text);
  });
}

test('the golden vectors cover every expression type', () => {
  const types = new Set(EXPR_VECTORS.map((v) => v.expr.type));
  for (const t of ['meta', 'payload', 'exthdr', 'cmp', 'bitwise', 'range', 'lookup', 'counter', 'immediate', 'ct', 'numgen', 'log', 'queue', 'target', 'match']) {
    assert.ok(types.has(t as Expr['type']), `no vector for ${t}`);
  }
});

/** Values beyond the vectors: every optional field, both directions. */
const ROUND_TRIPS: Expr[] = [
  { type: 'meta', key: NFT_META.NFT_META_IIFNAME, dreg: NFT_REG.NFT_REG32_01 },
  { type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 16, len: 2, sreg: 1, csumType: 1, csumOffset: 16, csumFlags: 1 },
  { type: 'exthdr', op: NFT_EXTHDR_OP.NFT_EXTHDR_OP_TCPOPT, exthdrType: 2, offset: 2, len: 2, sreg: 1, flags: 0 },
  { type: 'bitwise', sreg: 1, dreg: 2, len: 4, op: 0, mask: ne32(0xffff), xor: ne32(0) },
  { type: 'range', op: 0, sreg: 1, from: be16(1000), to: be16(2000) },
  { type: 'lookup', setId: 7, sreg: 1, dreg: 0, flags: 0 },
  { type: 'counter', packets: 2 ** 40, bytes: 2 ** 52 + 1 },
  { type: 'immediate', dreg: 0, data: { verdict: { code: -3, chainId: 9 } } },
  { type: 'ct', key: NFT_CT.NFT_CT_PROTO_DST, dreg: 1, direction: 1 },
  { type: 'numgen', dreg: 1, modulus: 4, ngType: 1, offset: 0 },
  { type: 'log', prefix: 'divert: ', group: 2, snaplen: 64, qthreshold: 1, level: 7, flags: 0 },
  { type: 'queue', num: 65535, total: 1, flags: NFT_QUEUE_FLAG.NFT_QUEUE_FLAG_BYPASS | NFT_QUEUE_FLAG.NFT_QUEUE_FLAG_CPU_FANOUT },
  { type: 'queue', sregQnum: NFT_REG.NFT_REG32_00, flags: 0 },
  { type: 'target', name: 'MARK', rev: 2, info: Uint8Array.of(1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff) },
  { type: 'match', name: 'comment', rev: 0, info: new Uint8Array(256) },
  { type: 'unknown', name: 'reject', data: Uint8Array.of(8, 0, 1, 0, 0, 0, 0, 0) },
];

for (const e of ROUND_TRIPS) {
  test(`decodeExpr(putExpr(e)) is e: ${formatExpr(e)}`, () => {
    assert.deepEqual(decode(encode(e)), e);
  });
}

test('decodeExprList() reads a whole NFTA_RULE_EXPRESSIONS nest in order', () => {
  const b = new MessageBuilder();
  const list = b.nestStart(4);
  for (const e of ROUND_TRIPS) putExpr(b, e);
  b.nestEnd(list);
  const ad = new AttrDecoder(b.bytes(), 0, b.length);
  assert.ok(ad.next());
  assert.deepEqual(decodeExprList(ad), ROUND_TRIPS);
});

test('decodeExpr() refuses a modelled expression without a field the kernel always sends', () => {
  const b = new MessageBuilder();
  putExpr(b, { type: 'unknown', name: 'cmp', data: new Uint8Array(0) });
  assert.throws(() => decode(b.bytes().slice()), (err: unknown) => err instanceof PacketError && /cmp expression without its sreg/.test(err.message));
});

test('putExpr() refuses data longer than NFT_DATA_VALUE_MAXLEN', () => {
  assert.throws(() => encode({ type: 'cmp', op: 0, sreg: 1, data: new Uint8Array(65) }), RangeError);
  assert.throws(() => encode({ type: 'cmp', op: 0, sreg: 1, data: new Uint8Array(0) }), RangeError);
});
