/**
 * Chains: NFT_MSG_NEWCHAIN / DELCHAIN attributes and the NEWCHAIN decoder. A chain with a
 * `hook` is a base chain (packets enter it from netfilter), one without is a regular chain
 * (reached by jump / goto).
 *
 * ```
 * NEWCHAIN  nfgenmsg{family} | NFTA_CHAIN_TABLE | NFTA_CHAIN_NAME | [NFTA_CHAIN_TYPE "filter\0"]
 *           | [NFTA_CHAIN_POLICY be32] | [NFTA_CHAIN_HOOK { NFTA_HOOK_HOOKNUM be32
 *           |                           NFTA_HOOK_PRIORITY be32 (signed) [NFTA_HOOK_DEV] }]
 *           | [NFTA_CHAIN_FLAGS be32] | [NFTA_CHAIN_ID be32] | [NFTA_CHAIN_USERDATA]
 * dump adds   NFTA_CHAIN_HANDLE be64 | NFTA_CHAIN_USE be32 | NFTA_CHAIN_COUNTERS (base chains)
 * ```
 * @module
 */
import type { AttrDecoder } from '../netlink/attr_decoder.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { checkAttrs, need, openObjectMessage } from './_message.js';
import { NFTA_CHAIN, NFTA_HOOK } from './constants.js';
import { NFTA_COUNTER } from './expr_constants.js';

/** The chain types nf_tables knows (`NFTA_CHAIN_TYPE`). */
export type ChainType = 'filter' | 'route' | 'nat';

/** Where a base chain hooks in. */
export interface ChainHook {
  /** NF_INET_* */
  hooknum: number;
  /** Signed priority: lower runs first (NF_IP_PRI_MANGLE = -150). */
  priority: number;
  /** Device of a netdev / ingress chain. */
  device?: string;
}

/** A chain, as added or as dumped. */
export interface Chain {
  /** NFPROTO_* (nfgenmsg) of its table. */
  family: number;
  /** NFTA_CHAIN_TABLE: name of the table it is in. */
  table: string;
  /** NFTA_CHAIN_NAME: unique in its table. */
  name: string;
  /** Kernel-assigned (dumps, echoes). */
  handle?: number;
  /** Base chains only. */
  hook?: ChainHook;
  /** Base chains: NF_ACCEPT (the kernel's default) or NF_DROP. Dumps of base chains carry it. */
  policy?: number;
  /** Base chains: dumps carry it. */
  type?: ChainType;
  /** NFT_CHAIN_*: dumps carry it (NFT_CHAIN_BASE for base chains). */
  flags?: number;
  /** Transaction id, so rules of the same batch can name the chain by NFTA_RULE_CHAIN_ID. */
  id?: number;
  /** References: rules jumping here, or 1 for a base chain's hook (dumps only). */
  use?: number;
  /** Base chain policy counters (dumps only). */
  counters?: { packets: number; bytes: number };
  /** NFTA_CHAIN_USERDATA: opaque bytes, libnftnl TLVs by convention (see `udata.ts`). */
  userdata?: Uint8Array;
}

/** Identifies a chain for DELCHAIN: by name or by handle. */
export interface ChainRef {
  /** NFPROTO_* of its table. */
  family: number;
  /** Name of its table. */
  table: string;
  /** The chain's name (give it or `handle`). */
  name?: string;
  /** The chain's kernel-assigned handle (give it or `name`). */
  handle?: number;
}

/** Writes the attributes of NEWCHAIN, in nft 1.0.6's order. */
export function putChain(b: MessageBuilder, c: Chain): void {
  b.putAttrString(NFTA_CHAIN.NFTA_CHAIN_TABLE, c.table);
  b.putAttrString(NFTA_CHAIN.NFTA_CHAIN_NAME, c.name);
  if (c.handle !== undefined) b.putAttrU64be(NFTA_CHAIN.NFTA_CHAIN_HANDLE, BigInt(c.handle));
  if (c.type !== undefined) b.putAttrString(NFTA_CHAIN.NFTA_CHAIN_TYPE, c.type);
  if (c.policy !== undefined) b.putAttrU32be(NFTA_CHAIN.NFTA_CHAIN_POLICY, c.policy);
  if (c.hook !== undefined) {
    const nest = b.nestStart(NFTA_CHAIN.NFTA_CHAIN_HOOK);
    b.putAttrU32be(NFTA_HOOK.NFTA_HOOK_HOOKNUM, c.hook.hooknum);
    b.putAttrU32be(NFTA_HOOK.NFTA_HOOK_PRIORITY, c.hook.priority >>> 0);
    if (c.hook.device !== undefined) b.putAttrString(NFTA_HOOK.NFTA_HOOK_DEV, c.hook.device);
    b.nestEnd(nest);
  }
  if (c.flags !== undefined) b.putAttrU32be(NFTA_CHAIN.NFTA_CHAIN_FLAGS, c.flags);
  if (c.id !== undefined) b.putAttrU32be(NFTA_CHAIN.NFTA_CHAIN_ID, c.id);
  if (c.userdata !== undefined) b.putAttr(NFTA_CHAIN.NFTA_CHAIN_USERDATA, c.userdata);
}

/**
 * Writes the attributes naming a chain (DELCHAIN).
 * @throws {TypeError} when neither name nor handle is given.
 */
export function putChainRef(b: MessageBuilder, c: ChainRef): void {
  if (c.name === undefined && c.handle === undefined) throw new TypeError('A chain reference needs a name or a handle');
  b.putAttrString(NFTA_CHAIN.NFTA_CHAIN_TABLE, c.table);
  if (c.name !== undefined) b.putAttrString(NFTA_CHAIN.NFTA_CHAIN_NAME, c.name);
  if (c.handle !== undefined) b.putAttrU64be(NFTA_CHAIN.NFTA_CHAIN_HANDLE, BigInt(c.handle));
}

/**
 * Decodes a NEWCHAIN message (dump or echo).
 * @throws {PacketError} on malformed attributes, or a missing table or name.
 */
export function decodeChain(buf: Uint8Array, payloadOffset: number, end: number): Chain {
  const { family, attrs: ad } = openObjectMessage(buf, payloadOffset, end);
  let table: string | undefined;
  let name: string | undefined;
  const c: Omit<Chain, 'family' | 'table' | 'name'> = {};
  while (ad.next()) {
    switch (ad.type) {
      case NFTA_CHAIN.NFTA_CHAIN_TABLE: table = ad.string(); break;
      case NFTA_CHAIN.NFTA_CHAIN_NAME: name = ad.string(); break;
      case NFTA_CHAIN.NFTA_CHAIN_HANDLE: c.handle = ad.u64beNumber(); break;
      case NFTA_CHAIN.NFTA_CHAIN_HOOK: c.hook = decodeHook(ad); break;
      case NFTA_CHAIN.NFTA_CHAIN_POLICY: c.policy = ad.u32be(); break;
      case NFTA_CHAIN.NFTA_CHAIN_USE: c.use = ad.u32be(); break;
      case NFTA_CHAIN.NFTA_CHAIN_TYPE: c.type = ad.string() as ChainType; break;
      case NFTA_CHAIN.NFTA_CHAIN_COUNTERS: c.counters = decodeCounters(ad); break;
      case NFTA_CHAIN.NFTA_CHAIN_FLAGS: c.flags = ad.u32be(); break;
      case NFTA_CHAIN.NFTA_CHAIN_ID: c.id = ad.u32be(); break;
      case NFTA_CHAIN.NFTA_CHAIN_USERDATA: c.userdata = ad.bytes().slice(); break;
    }
  }
  checkAttrs(ad);
  return { family, table: need(table, 'NFTA_CHAIN_TABLE'), name: need(name, 'NFTA_CHAIN_NAME'), ...c };
}

function decodeHook(ad: AttrDecoder): ChainHook {
  const inner = ad.nestedDecoder();
  const h: ChainHook = { hooknum: 0, priority: 0 };
  while (inner.next()) {
    if (inner.type === NFTA_HOOK.NFTA_HOOK_HOOKNUM) h.hooknum = inner.u32be();
    else if (inner.type === NFTA_HOOK.NFTA_HOOK_PRIORITY) h.priority = inner.u32be() | 0;
    else if (inner.type === NFTA_HOOK.NFTA_HOOK_DEV) h.device = inner.string();
  }
  checkAttrs(inner);
  return h;
}

function decodeCounters(ad: AttrDecoder): { packets: number; bytes: number } {
  const inner = ad.nestedDecoder();
  const out = { packets: 0, bytes: 0 };
  while (inner.next()) {
    if (inner.type === NFTA_COUNTER.NFTA_COUNTER_PACKETS) out.packets = inner.u64beNumber();
    else if (inner.type === NFTA_COUNTER.NFTA_COUNTER_BYTES) out.bytes = inner.u64beNumber();
  }
  checkAttrs(inner);
  return out;
}
