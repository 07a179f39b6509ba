/**
 * Rules: NFT_MSG_NEWRULE / DELRULE attributes and the NEWRULE decoder.
 *
 * ```
 * NEWRULE  nfgenmsg{family} | NFTA_RULE_TABLE | NFTA_RULE_CHAIN (or NFTA_RULE_CHAIN_ID be32)
 *          | [NFTA_RULE_HANDLE be64]            replace (NLM_F_REPLACE)
 *          | NFTA_RULE_EXPRESSIONS { NFTA_LIST_ELEM {…} … }
 *          | [NFTA_RULE_COMPAT { PROTO be32, FLAGS be32 }]   for xtables matches that need it
 *          | [NFTA_RULE_POSITION be64]          after (NLM_F_APPEND) or before this handle
 *          | [NFTA_RULE_USERDATA ≤ 256 bytes]   kept byte-exact by the kernel
 *          | [NFTA_RULE_ID be32] [NFTA_RULE_POSITION_ID be32]
 * ```
 * Handles are per table, handed out by the kernel; ask for NLM_F_ECHO to learn them at once.
 * @module
 */
import type { AttrDecoder } from '../netlink/attr_decoder.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { checkAttrs, need, openObjectMessage } from './_message.js';
import { NFTA_RULE, NFTA_RULE_COMPAT } from './constants.js';
import { decodeExprList } from './expr_decode.js';
import { putExpr } from './expr_encode.js';
import type { Expr } from './expr_types.js';

/** NFTA_RULE_COMPAT: the layer 4 protocol an xtables match may assume (iptables' `-p`). */
export interface RuleCompat {
  /** NFTA_RULE_COMPAT_PROTO: the IP protocol number an xtables match relies on. */
  proto: number;
  /** NFT_RULE_COMPAT_F_* */
  flags: number;
}

/** A rule, as added or as dumped. */
export interface Rule {
  /** NFPROTO_* of its table. */
  family: number;
  /** NFTA_RULE_TABLE: name of its table. */
  table: string;
  /** The chain's name; a rule added to a chain of the same batch may give `chainId` instead. */
  chain?: string;
  /** NFTA_RULE_CHAIN_ID: transaction id of a chain added in the same batch. */
  chainId?: number;
  /** Kernel-assigned, per table (dumps, echoes); replace and delete name the rule by it. */
  handle?: number;
  /** Handle of the rule to add after (append) or before (insert); in dumps, the rule before it. */
  position?: number;
  /** Transaction id of a rule of the same batch to add after / before. */
  positionId?: number;
  /** NFTA_RULE_EXPRESSIONS: what the rule does, in order. */
  exprs: Expr[];
  /** NFTA_RULE_COMPAT: for xtables matches and targets that need it. */
  compat?: RuleCompat;
  /** At most 256 bytes; libnftnl TLVs by convention (nft shows a `comment`). */
  userdata?: Uint8Array;
  /** Transaction id (for positionId of later rules). */
  id?: number;
}

/** Identifies rules for DELRULE: one by handle, or all of a chain (or table) without it. */
export interface RuleRef {
  /** NFPROTO_* of its table. */
  family: number;
  /** Name of its table. */
  table: string;
  /** Name of its chain; without `handle`, every rule of this chain. */
  chain?: string;
  /** The rule's kernel-assigned handle: that one rule. */
  handle?: number;
}

/** Writes the attributes of NEWRULE, in nft 1.0.6's order. */
export function putRule(b: MessageBuilder, r: Rule): void {
  b.putAttrString(NFTA_RULE.NFTA_RULE_TABLE, r.table);
  if (r.chain !== undefined) b.putAttrString(NFTA_RULE.NFTA_RULE_CHAIN, r.chain);
  if (r.chainId !== undefined) b.putAttrU32be(NFTA_RULE.NFTA_RULE_CHAIN_ID, r.chainId);
  if (r.handle !== undefined) b.putAttrU64be(NFTA_RULE.NFTA_RULE_HANDLE, BigInt(r.handle));
  if (r.exprs.length > 0) {
    const list = b.nestStart(NFTA_RULE.NFTA_RULE_EXPRESSIONS);
    for (const e of r.exprs) putExpr(b, e);
    b.nestEnd(list);
  }
  if (r.compat !== undefined) {
    const nest = b.nestStart(NFTA_RULE.NFTA_RULE_COMPAT);
    b.putAttrU32be(NFTA_RULE_COMPAT.NFTA_RULE_COMPAT_PROTO, r.compat.proto);
    b.putAttrU32be(NFTA_RULE_COMPAT.NFTA_RULE_COMPAT_FLAGS, r.compat.flags);
    b.nestEnd(nest);
  }
  if (r.position !== undefined) b.putAttrU64be(NFTA_RULE.NFTA_RULE_POSITION, BigInt(r.position));
  if (r.userdata !== undefined) b.putAttr(NFTA_RULE.NFTA_RULE_USERDATA, r.userdata);
  if (r.id !== undefined) b.putAttrU32be(NFTA_RULE.NFTA_RULE_ID, r.id);
  if (r.positionId !== undefined) b.putAttrU32be(NFTA_RULE.NFTA_RULE_POSITION_ID, r.positionId);
}

/** Writes the attributes naming rules (DELRULE, or a GETRULE dump filter). */
export function putRuleRef(b: MessageBuilder, r: Partial<RuleRef>): void {
  if (r.table !== undefined) b.putAttrString(NFTA_RULE.NFTA_RULE_TABLE, r.table);
  if (r.chain !== undefined) b.putAttrString(NFTA_RULE.NFTA_RULE_CHAIN, r.chain);
  if (r.handle !== undefined) b.putAttrU64be(NFTA_RULE.NFTA_RULE_HANDLE, BigInt(r.handle));
}

/**
 * Decodes a NEWRULE message (dump or echo).
 * @throws {PacketError} on malformed attributes or expressions, or a missing table.
 */
export function decodeRule(buf: Uint8Array, payloadOffset: number, end: number): Rule {
  const { family, attrs: ad } = openObjectMessage(buf, payloadOffset, end);
  let table: string | undefined;
  const r: Omit<Rule, 'family' | 'table'> = { exprs: [] };
  while (ad.next()) {
    switch (ad.type) {
      case NFTA_RULE.NFTA_RULE_TABLE: table = ad.string(); break;
      case NFTA_RULE.NFTA_RULE_CHAIN: r.chain = ad.string(); break;
      case NFTA_RULE.NFTA_RULE_HANDLE: r.handle = ad.u64beNumber(); break;
      case NFTA_RULE.NFTA_RULE_EXPRESSIONS: r.exprs = decodeExprList(ad); break;
      case NFTA_RULE.NFTA_RULE_COMPAT: r.compat = decodeCompat(ad); break;
      case NFTA_RULE.NFTA_RULE_POSITION: r.position = ad.u64beNumber(); break;
      case NFTA_RULE.NFTA_RULE_USERDATA: r.userdata = ad.bytes().slice(); break;
      case NFTA_RULE.NFTA_RULE_ID: r.id = ad.u32be(); break;
      case NFTA_RULE.NFTA_RULE_POSITION_ID: r.positionId = ad.u32be(); break;
      case NFTA_RULE.NFTA_RULE_CHAIN_ID: r.chainId = ad.u32be(); break;
    }
  }
  checkAttrs(ad);
  return { family, table: need(table, 'NFTA_RULE_TABLE'), ...r };
}

function decodeCompat(ad: AttrDecoder): RuleCompat {
  const inner = ad.nestedDecoder();
  const c: RuleCompat = { proto: 0, flags: 0 };
  while (inner.next()) {
    if (inner.type === NFTA_RULE_COMPAT.NFTA_RULE_COMPAT_PROTO) c.proto = inner.u32be();
    else if (inner.type === NFTA_RULE_COMPAT.NFTA_RULE_COMPAT_FLAGS) c.flags = inner.u32be();
  }
  checkAttrs(inner);
  return c;
}
