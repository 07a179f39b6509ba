/**
 * Names every attribute of an nf_tables message by its path, so an extended ACK's
 * NLMSGERR_ATTR_OFFS (a byte offset from the start of the offending message's nlmsghdr) can be
 * told in words: `NFTA_RULE_EXPRESSIONS > elem 3 (cmp) > NFTA_CMP_DATA`.
 *
 * ```
 * offset 0                16       20
 * | nlmsghdr             | nfgenmsg | nlattr NFTA_RULE_TABLE | … | nlattr NFTA_RULE_EXPRESSIONS |
 *                                                                  | nlattr NFTA_LIST_ELEM  ← "elem 0 (meta)"
 * ```
 * List elements are counted from 0 (the index in `Rule.exprs`); an expression's own attributes
 * are named without the NFTA_EXPR_DATA around them (`elem 3 (cmp) > NFTA_CMP_SREG`). The walk reads the bytes as sent, so it names attributes
 * whatever built them.
 * @module
 */
import { NLA_ALIGN, NLA_HDRLEN, NLMSG_HDRLEN } from '../netlink/align.js';
import { u16ne, u32ne } from '../netlink/bytes.js';
import { NFGENMSG_LEN, NlaFlags } from '../netlink/constants.js';
import {
  NFTA_CHAIN, NFTA_DATA, NFTA_GEN, NFTA_HOOK, NFTA_RULE, NFTA_RULE_COMPAT, NFTA_SET, NFTA_SET_DESC, NFTA_SET_ELEM,
  NFTA_SET_ELEM_LIST, NFTA_TABLE, NFTA_VERDICT, NFT_MSG,
} from './constants.js';
import { NFTA_COUNTER, NFTA_EXPR } from './expr_constants.js';
import { EXPR_SCHEMAS, attrName } from './expr_schema.js';

/** An attribute and where it starts (its nlattr header), counted from the message's nlmsghdr. */
export interface AttrLocation {
  /** Byte offset of the nlattr header from the start of the message's nlmsghdr. */
  offset: number;
  /** Header plus payload, without padding. */
  length: number;
  /** The attribute's name with its nests: `NFTA_RULE_EXPRESSIONS > elem 3 (cmp) > NFTA_CMP_DATA`. */
  path: string;
}

/** How to name the attributes of one nest, and what the nested ones hold. */
interface Node {
  names: Readonly<Record<string, number>>;
  children?: ReadonlyMap<number, Child>;
}
type Child = Node | 'exprs' | 'elements';

const DATA: Node = { names: NFTA_DATA, children: new Map([[NFTA_DATA.NFTA_DATA_VERDICT, { names: NFTA_VERDICT }]]) };

const TABLE: Node = { names: NFTA_TABLE };
const CHAIN: Node = {
  names: NFTA_CHAIN,
  children: new Map<number, Child>([
    [NFTA_CHAIN.NFTA_CHAIN_HOOK, { names: NFTA_HOOK }],
    [NFTA_CHAIN.NFTA_CHAIN_COUNTERS, { names: NFTA_COUNTER }],
  ]),
};
const RULE: Node = {
  names: NFTA_RULE,
  children: new Map<number, Child>([
    [NFTA_RULE.NFTA_RULE_EXPRESSIONS, 'exprs'],
    [NFTA_RULE.NFTA_RULE_COMPAT, { names: NFTA_RULE_COMPAT }],
  ]),
};
const SET: Node = { names: NFTA_SET, children: new Map([[NFTA_SET.NFTA_SET_DESC, { names: NFTA_SET_DESC }]]) };
const ELEMENT: Node = {
  names: NFTA_SET_ELEM,
  children: new Map([
    [NFTA_SET_ELEM.NFTA_SET_ELEM_KEY, DATA],
    [NFTA_SET_ELEM.NFTA_SET_ELEM_KEY_END, DATA],
    [NFTA_SET_ELEM.NFTA_SET_ELEM_DATA, DATA],
  ]),
};
const SETELEM: Node = { names: NFTA_SET_ELEM_LIST, children: new Map([[NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_ELEMENTS, 'elements']]) };
const GEN: Node = { names: NFTA_GEN };

/** The top-level node of an NFT_MSG_* (low byte of nlmsg_type), or undefined for others. */
function topNode(msg: number): Node | undefined {
  switch (msg) {
    case NFT_MSG.NFT_MSG_NEWTABLE: case NFT_MSG.NFT_MSG_GETTABLE: case NFT_MSG.NFT_MSG_DELTABLE: case NFT_MSG.NFT_MSG_DESTROYTABLE:
      return TABLE;
    case NFT_MSG.NFT_MSG_NEWCHAIN: case NFT_MSG.NFT_MSG_GETCHAIN: case NFT_MSG.NFT_MSG_DELCHAIN: case NFT_MSG.NFT_MSG_DESTROYCHAIN:
      return CHAIN;
    case NFT_MSG.NFT_MSG_NEWRULE: case NFT_MSG.NFT_MSG_GETRULE: case NFT_MSG.NFT_MSG_DELRULE: case NFT_MSG.NFT_MSG_DESTROYRULE:
      return RULE;
    case NFT_MSG.NFT_MSG_NEWSET: case NFT_MSG.NFT_MSG_GETSET: case NFT_MSG.NFT_MSG_DELSET: case NFT_MSG.NFT_MSG_DESTROYSET:
      return SET;
    case NFT_MSG.NFT_MSG_NEWSETELEM: case NFT_MSG.NFT_MSG_GETSETELEM: case NFT_MSG.NFT_MSG_DELSETELEM: case NFT_MSG.NFT_MSG_DESTROYSETELEM:
      return SETELEM;
    case NFT_MSG.NFT_MSG_NEWGEN: case NFT_MSG.NFT_MSG_GETGEN:
      return GEN;
    default:
      return undefined;
  }
}

/**
 * Lists every attribute of one message (`msg` starts at its nlmsghdr) with its path, in order.
 * Malformed tails are ignored: this names what it can.
 */
export function attributePaths(msg: Uint8Array): AttrLocation[] {
  const out: AttrLocation[] = [];
  if (msg.length < NLMSG_HDRLEN + NFGENMSG_LEN) return out;
  const node = topNode(u16ne(msg, 4) & 0xff);
  if (node) walk(msg, NLMSG_HDRLEN + NFGENMSG_LEN, Math.min(msg.length, u32ne(msg, 0)), node, '', out);
  return out;
}

/**
 * The path of the attribute at `offset` (an extack NLMSGERR_ATTR_OFFS), or of the innermost
 * attribute containing it; undefined when the offset is in no attribute.
 */
export function attributePathAt(msg: Uint8Array, offset: number): string | undefined {
  let best: AttrLocation | undefined;
  for (const a of attributePaths(msg)) {
    if (a.offset === offset) return a.path;
    if (offset > a.offset && offset < a.offset + a.length) best = a;
  }
  return best?.path;
}

function walk(buf: Uint8Array, pos: number, end: number, node: Node, prefix: string, out: AttrLocation[]): void {
  for (const a of attrs(buf, pos, end)) {
    const name = attrName(node.names, a.type);
    const path = prefix + name;
    out.push({ offset: a.offset, length: a.length, path });
    const child = node.children?.get(a.type);
    if (child === 'exprs') walkExprs(buf, a, path + ' > ', out);
    else if (child === 'elements') walkList(buf, a, path + ' > ', out, () => ELEMENT);
    else if (child) walk(buf, a.offset + NLA_HDRLEN, a.offset + a.length, child, path + ' > ', out);
  }
}

function walkExprs(buf: Uint8Array, list: Attr, prefix: string, out: AttrLocation[]): void {
  let i = 0;
  for (const elem of attrs(buf, list.offset + NLA_HDRLEN, list.offset + list.length)) {
    const name = exprNameAt(buf, elem);
    const path = `${prefix}elem ${i++}${name ? ` (${name})` : ''}`;
    out.push({ offset: elem.offset, length: elem.length, path });
    for (const a of attrs(buf, elem.offset + NLA_HDRLEN, elem.offset + elem.length)) {
      if (a.type !== NFTA_EXPR.NFTA_EXPR_DATA) {
        out.push({ offset: a.offset, length: a.length, path: `${path} > ${attrName(NFTA_EXPR, a.type)}` });
        continue;
      }
      const schema = name === undefined ? undefined : EXPR_SCHEMAS.get(name);
      if (!schema) {
        out.push({ offset: a.offset, length: a.length, path: `${path} > NFTA_EXPR_DATA` });
        continue;
      }
      const kinds = new Map<number, Child>();
      for (const [type, [, kind]] of schema.fields) if (kind === 'value' || kind === 'data') kinds.set(type, DATA);
      out.push({ offset: a.offset, length: a.length, path: `${path} > NFTA_EXPR_DATA` });
      walk(buf, a.offset + NLA_HDRLEN, a.offset + a.length, { names: schema.attrs, children: kinds }, `${path} > `, out);
    }
  }
}

function walkList(buf: Uint8Array, list: Attr, prefix: string, out: AttrLocation[], node: () => Node): void {
  let i = 0;
  for (const elem of attrs(buf, list.offset + NLA_HDRLEN, list.offset + list.length)) {
    const path = `${prefix}elem ${i++}`;
    out.push({ offset: elem.offset, length: elem.length, path });
    walk(buf, elem.offset + NLA_HDRLEN, elem.offset + elem.length, node(), `${path} > `, out);
  }
}

interface Attr {
  offset: number;
  length: number;
  type: number;
}

/** The attributes in [pos, end), stopping quietly at anything malformed. */
function* attrs(buf: Uint8Array, pos: number, end: number): Generator<Attr> {
  while (pos + NLA_HDRLEN <= end) {
    const length = u16ne(buf, pos);
    if (length < NLA_HDRLEN || pos + length > end) return;
    yield { offset: pos, length, type: u16ne(buf, pos + 2) & NlaFlags.NLA_TYPE_MASK };
    pos += NLA_ALIGN(length);
  }
}

/** The NFTA_EXPR_NAME inside an NFTA_LIST_ELEM, if readable. */
function exprNameAt(buf: Uint8Array, elem: Attr): string | undefined {
  for (const a of attrs(buf, elem.offset + NLA_HDRLEN, elem.offset + elem.length)) {
    if (a.type !== NFTA_EXPR.NFTA_EXPR_NAME) continue;
    let stop = a.offset + NLA_HDRLEN;
    while (stop < a.offset + a.length && buf[stop] !== 0) stop++;
    return new TextDecoder().decode(buf.subarray(a.offset + NLA_HDRLEN, stop));
  }
  return undefined;
}
