/**
 * Expression decoder: NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA } back into the typed
 * values of `expr_types.ts`, driven by the tables of `expr_schema.ts`. Only attributes present
 * become fields (so a round trip keeps "absent" apart from 0); byte order comes from the table.
 * Expressions this module does not model decode as `{ type: 'unknown', name, data }`.
 * @module
 */
import type { AttrDecoder } from '../netlink/attr_decoder.js';
import { PacketError } from '../errors.js';
import { NFTA_LIST } from './constants.js';
import { decodeData, decodeValue } from './data.js';
import { NFTA_EXPR } from './expr_constants.js';
import { EXPR_SCHEMAS, type ExprSchema, type FieldKind } from './expr_schema.js';
import type { Expr } from './expr_types.js';

/**
 * Decodes the expression whose NFTA_LIST_ELEM `ad` is positioned on (byte arrays are copied).
 * @throws {PacketError} on malformed attributes or a modelled expression missing a field the
 *   kernel always sends.
 */
export function decodeExpr(ad: AttrDecoder): Expr {
  const inner = ad.nestedDecoder();
  let name: string | undefined;
  let data: Uint8Array | undefined;
  let fields: AttrDecoder | undefined;
  while (inner.next()) {
    if (inner.type === NFTA_EXPR.NFTA_EXPR_NAME) name = inner.string();
    else if (inner.type === NFTA_EXPR.NFTA_EXPR_DATA) [data, fields] = [inner.bytes(), inner.nestedDecoder()];
  }
  if (inner.err) throw inner.err;
  if (name === undefined) throw new PacketError('nf_tables', 'expression without NFTA_EXPR_NAME');
  const s = EXPR_SCHEMAS.get(name);
  if (!s) return { type: 'unknown', name, data: data?.slice() ?? new Uint8Array(0) };
  const values = fields ? readFields(fields, s) : {};
  for (const f of s.required) {
    if (!(f in values)) throw new PacketError('nf_tables', `${name} expression without its ${f}`);
  }
  return { type: name, ...values } as Expr;
}

/**
 * Decodes a whole NFTA_RULE_EXPRESSIONS nest (`ad` positioned on it).
 * @throws {PacketError} as {@link decodeExpr}, or on an element that is not NFTA_LIST_ELEM.
 */
export function decodeExprList(ad: AttrDecoder): Expr[] {
  const list = ad.nestedDecoder();
  const out: Expr[] = [];
  while (list.next()) {
    if (list.type !== NFTA_LIST.NFTA_LIST_ELEM) throw new PacketError('nf_tables', `expression list holds attribute ${list.type}`);
    out.push(decodeExpr(list));
  }
  if (list.err) throw list.err;
  return out;
}

function readFields(ad: AttrDecoder, s: ExprSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (ad.next()) {
    const f = s.fields.get(ad.type);
    if (f) out[f[0]] = readField(ad, f[1]);
  }
  if (ad.err) throw ad.err;
  return out;
}

function readField(ad: AttrDecoder, kind: FieldKind): unknown {
  switch (kind) {
    case 'u8':
      return ad.u8();
    case 'u16be':
      return ad.u16be();
    case 'u32be':
      return ad.u32be();
    case 'u64be':
      return ad.u64beNumber();
    case 'string':
      return ad.string();
    case 'bytes':
      return ad.bytes().slice();
    case 'value':
      return decodeValue(ad);
    case 'data':
      return decodeData(ad);
  }
}

