/**
 * How the fake nf_tables reads requests and writes replies: a batch split into messages,
 * top-level attributes by type, and object messages (NEW*) built with the codec's own encoders,
 * in the attribute order the kernel's `nf_tables_fill_*_info` uses.
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { NFGENMSG_LEN, NlmFlags, Nfnetlink } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { attributePaths } from '../nftables/attr_path.js';
import { putChain } from '../nftables/chain.js';
import { NFNL_SUBSYS_NFTABLES, NFTA_CHAIN, NFTA_GEN, NFTA_RULE, NFTA_SET_ELEM_LIST, NFTA_TABLE, NFT_MSG } from '../nftables/constants.js';
import { putRule } from '../nftables/rule.js';
import { decodeElementList, putSet, putSetElements, type SetElement } from '../nftables/set.js';
import type { Table } from '../nftables/table.js';
import type { FakeChain } from './_fake_nftables_state.js';
import type { Rule } from '../nftables/rule.js';
import type { NftSet } from '../nftables/set.js';

/** One message of a request: its header fields and a copy of its bytes (from the nlmsghdr). */
export interface ParsedMessage {
  type: number;
  /** NFT_MSG_* (low byte of the type). */
  msg: number;
  flags: number;
  seq: number;
  family: number;
  bytes: Uint8Array;
}

/** Splits a datagram into messages (copies). */
export function splitMessages(datagram: Uint8Array): ParsedMessage[] {
  const it = new MessageIter().reset(datagram);
  const out: ParsedMessage[] = [];
  while (it.next()) {
    const bytes = it.buffer.slice(it.start, it.end);
    out.push({ type: it.type, msg: it.type & 0xff, flags: it.flags, seq: it.seq, family: it.length >= 20 ? bytes[16]! : 0, bytes });
  }
  return out;
}

/** The top-level attributes of a message, read by type. */
export function scanAttrs(bytes: Uint8Array) {
  const start = 16 + NFGENMSG_LEN;
  const find = (type: number): AttrDecoder | undefined => {
    const ad = new AttrDecoder(bytes, Math.min(start, bytes.length), bytes.length);
    while (ad.next()) if (ad.type === type) return ad;
    return undefined;
  };
  return {
    has: (type: number): boolean => find(type) !== undefined,
    string: (type: number): string | undefined => find(type)?.string(),
    u32: (type: number): number | undefined => find(type)?.u32be(),
    u64: (type: number): number | undefined => find(type)?.u64beNumber(),
    elements: (): SetElement[] => {
      const ad = find(NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_ELEMENTS);
      return ad ? decodeElementList(ad) : [];
    },
  };
}

/** Offset (from the nlmsghdr) of the attribute at `path`, for NLMSGERR_ATTR_OFFS. */
export function offsetOfPath(bytes: Uint8Array, path: string | undefined): number | undefined {
  if (path === undefined) return undefined;
  return attributePaths(bytes).find((a) => a.path === path)?.offset;
}

/** Starts an nf_tables message of `msg` (nfgenmsg res_id as given, big-endian). */
function begin(b: MessageBuilder, msg: number, flags: number, seq: number, portId: number, family: number, resId = 0): void {
  b.begin((NFNL_SUBSYS_NFTABLES << 8) | msg, flags, seq, portId);
  b.putNfgenmsg(family, Nfnetlink.NFNETLINK_V0, resId);
}

/** NEWTABLE as nf_tables_fill_table_info writes it. */
export function putTableMsg(b: MessageBuilder, seq: number, portId: number, flags: number, t: Table): void {
  begin(b, NFT_MSG.NFT_MSG_NEWTABLE, flags, seq, portId, t.family);
  b.putAttrString(NFTA_TABLE.NFTA_TABLE_NAME, t.name);
  b.putAttrU32be(NFTA_TABLE.NFTA_TABLE_FLAGS, t.flags ?? 0);
  b.putAttrU32be(NFTA_TABLE.NFTA_TABLE_USE, t.use ?? 0);
  b.putAttrU64be(NFTA_TABLE.NFTA_TABLE_HANDLE, BigInt(t.handle ?? 0));
  if (t.userdata) b.putAttr(NFTA_TABLE.NFTA_TABLE_USERDATA, t.userdata);
  if (t.owner !== undefined) b.putAttrU32be(NFTA_TABLE.NFTA_TABLE_OWNER, t.owner);
  b.end();
}

/** NEWCHAIN as nf_tables_fill_chain_info writes it (use counts rules and jumps to the chain). */
export function putChainMsg(b: MessageBuilder, seq: number, portId: number, flags: number, c: FakeChain, use: number): void {
  begin(b, NFT_MSG.NFT_MSG_NEWCHAIN, flags, seq, portId, c.chain.family);
  const { hook, policy, type, flags: chainFlags, userdata, ...named } = c.chain;
  putChain(b, { ...named, ...(hook ? { hook } : {}) });
  if (policy !== undefined) b.putAttrU32be(NFTA_CHAIN.NFTA_CHAIN_POLICY, policy);
  if (type !== undefined) b.putAttrString(NFTA_CHAIN.NFTA_CHAIN_TYPE, type);
  if (chainFlags) b.putAttrU32be(NFTA_CHAIN.NFTA_CHAIN_FLAGS, chainFlags);
  b.putAttrU32be(NFTA_CHAIN.NFTA_CHAIN_USE, use);
  if (userdata) b.putAttr(NFTA_CHAIN.NFTA_CHAIN_USERDATA, userdata);
  b.end();
}

/** NEWRULE as nf_tables_fill_rule_info writes it (position: the previous rule, dumps only). */
export function putRuleMsg(b: MessageBuilder, seq: number, portId: number, flags: number, r: Rule): void {
  begin(b, NFT_MSG.NFT_MSG_NEWRULE, flags, seq, portId, r.family);
  const { position, userdata, ...rest } = r;
  putRule(b, rest);
  if (position !== undefined) b.putAttrU64be(NFTA_RULE.NFTA_RULE_POSITION, BigInt(position));
  if (userdata) b.putAttr(NFTA_RULE.NFTA_RULE_USERDATA, userdata);
  b.end();
}

/** NEWSET as nf_tables_fill_set writes the fields the fake keeps. */
export function putSetMsg(b: MessageBuilder, seq: number, portId: number, flags: number, s: NftSet): void {
  begin(b, NFT_MSG.NFT_MSG_NEWSET, flags, seq, portId, s.family);
  putSet(b, s);
  b.end();
}

/** NEWSETELEM with the given elements. */
export function putElementsMsg(b: MessageBuilder, seq: number, portId: number, flags: number, s: NftSet, elements: readonly SetElement[]): void {
  begin(b, NFT_MSG.NFT_MSG_NEWSETELEM, flags, seq, portId, s.family);
  putSetElements(b, { family: s.family, table: s.table, name: s.name }, elements);
  b.end();
}

/** NEWGEN: res_id carries the low 16 bits of the generation, as nf_tables_fill_gen_info does. */
export function putGenMsg(b: MessageBuilder, seq: number, portId: number, gen: number, pid: number, name: string): void {
  begin(b, NFT_MSG.NFT_MSG_NEWGEN, 0, seq, portId, 0, gen & 0xffff);
  b.putAttrU32be(NFTA_GEN.NFTA_GEN_ID, gen);
  if (pid) {
    b.putAttrU32be(NFTA_GEN.NFTA_GEN_PROC_PID, pid);
    b.putAttrString(NFTA_GEN.NFTA_GEN_PROC_NAME, name);
  }
  b.end();
}

/** Flags of an echo: what the kernel keeps of the request's (NLM_F_CREATE, EXCL, APPEND, REPLACE). */
export function echoFlags(requestFlags: number): number {
  return requestFlags & (NlmFlags.NLM_F_CREATE | NlmFlags.NLM_F_EXCL | NlmFlags.NLM_F_APPEND | NlmFlags.NLM_F_REPLACE);
}

