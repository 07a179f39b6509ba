/**
 * Sets and maps: NFT_MSG_NEWSET / DELSET and NEWSETELEM / DELSETELEM attributes, and their
 * decoders. A map is a set with NFT_SET_MAP and a data type; a verdict map's data type is
 * NFT_DATA_VERDICT.
 *
 * ```
 * NEWSET      nfgenmsg | NFTA_SET_TABLE | NFTA_SET_NAME | [NFTA_SET_FLAGS be32] | [KEY_TYPE be32]
 *             | NFTA_SET_KEY_LEN be32 | [DATA_TYPE be32 | DATA_LEN be32] | [NFTA_SET_ID be32]
 *             | [NFTA_SET_POLICY be32] | [NFTA_SET_DESC { NFTA_SET_DESC_SIZE be32 }]
 *             | [NFTA_SET_TIMEOUT be64 ms] | [NFTA_SET_GC_INTERVAL be32 ms] | [NFTA_SET_USERDATA]
 * NEWSETELEM  nfgenmsg | NFTA_SET_ELEM_LIST_TABLE | NFTA_SET_ELEM_LIST_SET (or _SET_ID be32)
 *             | NFTA_SET_ELEM_LIST_ELEMENTS { NFTA_LIST_ELEM { [FLAGS be32] [TIMEOUT be64]
 *             |   NFTA_SET_ELEM_KEY { NFTA_DATA_VALUE } [KEY_END {…}] [DATA {…}] [USERDATA] } … }
 * ```
 * @module
 */
import type { AttrDecoder } from '../netlink/attr_decoder.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { checkAttrs, need, openObjectMessage } from './_message.js';
import { NFTA_SET, NFTA_SET_DESC, NFTA_SET_ELEM, NFTA_SET_ELEM_LIST } from './constants.js';
import { decodeData, decodeValue, putData, putValue } from './data.js';
import type { NftData } from './expr_types.js';

/** A set or map, as added or as dumped. */
export interface NftSet {
  /** NFPROTO_* of its table. */
  family: number;
  /** NFTA_SET_TABLE: name of its table. */
  table: string;
  /** NFTA_SET_NAME: unique in its table. */
  name: string;
  /** Kernel-assigned (dumps, echoes). */
  handle?: number;
  /** NFT_SET_*: dumps carry it. */
  flags?: number;
  /** Informational key type (nft's datatype number: 7 ipv4_addr, 13 inet_service…). */
  keyType?: number;
  /** Key length in bytes (mandatory for NEWSET). */
  keyLen?: number;
  /** Maps: data type (NFT_DATA_VERDICT for verdict maps). */
  dataType?: number;
  /** Maps: data length in bytes. */
  dataLen?: number;
  /** NFT_OBJECT_* of an object map. */
  objType?: number;
  /** Transaction id: lookups and elements of the same batch may name the set by it. */
  id?: number;
  /** NFT_SET_POL_* */
  policy?: number;
  /** NFTA_SET_DESC_SIZE: expected number of elements. */
  size?: number;
  /** Default element timeout, ms (NFT_SET_TIMEOUT). */
  timeout?: number;
  /** Garbage collection interval, ms. */
  gcInterval?: number;
  /** NFTA_SET_USERDATA: opaque bytes, libnftnl TLVs by convention (see `udata.ts`). */
  userdata?: Uint8Array;
}

/** Names a set: by name (or handle for DELSET), or by transaction id within a batch. */
export interface SetRef {
  /** NFPROTO_* of its table. */
  family: number;
  /** Name of its table. */
  table: string;
  /** The set's name. */
  name?: string;
  /** Transaction id of a set added in the same batch. */
  id?: number;
  /** The set's kernel-assigned handle (DELSET only). */
  handle?: number;
}

/** One element; `data` for maps. */
export interface SetElement {
  /** NFTA_SET_ELEM_KEY: `keyLen` bytes as a register holds them; the opening key of an interval. */
  key: Uint8Array;
  /** Closing key of an interval (NFT_SET_CONCAT | NFT_SET_INTERVAL sets). */
  keyEnd?: Uint8Array;
  /** NFTA_SET_ELEM_DATA: what the key maps to (maps only). */
  data?: NftData;
  /** NFT_SET_ELEM_* */
  flags?: number;
  /** ms */
  timeout?: number;
  /** ms left (dumps) */
  expiration?: number;
  /** NFTA_SET_ELEM_USERDATA: opaque bytes, libnftnl TLVs by convention. */
  userdata?: Uint8Array;
}

/** Elements as a dump (or echo) gives them, with the set they belong to. */
export interface SetElements {
  /** NFPROTO_* of the set's table. */
  family: number;
  /** Name of the set's table. */
  table: string;
  /** Name of the set. */
  set: string;
  /** The elements, in the order the kernel sent them. */
  elements: SetElement[];
}

/** Writes the attributes of NEWSET, in libnftnl's order. */
export function putSet(b: MessageBuilder, s: NftSet): void {
  b.putAttrString(NFTA_SET.NFTA_SET_TABLE, s.table);
  b.putAttrString(NFTA_SET.NFTA_SET_NAME, s.name);
  if (s.handle !== undefined) b.putAttrU64be(NFTA_SET.NFTA_SET_HANDLE, BigInt(s.handle));
  optU32be(b, NFTA_SET.NFTA_SET_FLAGS, s.flags);
  optU32be(b, NFTA_SET.NFTA_SET_KEY_TYPE, s.keyType);
  optU32be(b, NFTA_SET.NFTA_SET_KEY_LEN, s.keyLen);
  optU32be(b, NFTA_SET.NFTA_SET_DATA_TYPE, s.dataType);
  optU32be(b, NFTA_SET.NFTA_SET_DATA_LEN, s.dataLen);
  optU32be(b, NFTA_SET.NFTA_SET_OBJ_TYPE, s.objType);
  optU32be(b, NFTA_SET.NFTA_SET_ID, s.id);
  optU32be(b, NFTA_SET.NFTA_SET_POLICY, s.policy);
  if (s.size !== undefined) {
    const desc = b.nestStart(NFTA_SET.NFTA_SET_DESC);
    b.putAttrU32be(NFTA_SET_DESC.NFTA_SET_DESC_SIZE, s.size);
    b.nestEnd(desc);
  }
  if (s.timeout !== undefined) b.putAttrU64be(NFTA_SET.NFTA_SET_TIMEOUT, BigInt(s.timeout));
  optU32be(b, NFTA_SET.NFTA_SET_GC_INTERVAL, s.gcInterval);
  if (s.userdata !== undefined) b.putAttr(NFTA_SET.NFTA_SET_USERDATA, s.userdata);
}

/** Writes the attributes naming a set (DELSET, GETSET). */
export function putSetRef(b: MessageBuilder, s: SetRef): void {
  b.putAttrString(NFTA_SET.NFTA_SET_TABLE, s.table);
  if (s.name !== undefined) b.putAttrString(NFTA_SET.NFTA_SET_NAME, s.name);
  if (s.handle !== undefined) b.putAttrU64be(NFTA_SET.NFTA_SET_HANDLE, BigInt(s.handle));
  optU32be(b, NFTA_SET.NFTA_SET_ID, s.id);
}

/**
 * Writes the attributes of NEWSETELEM / DELSETELEM (an empty list when `elements` is empty, as
 * a GETSETELEM dump request needs none).
 * @throws {TypeError} when the set has neither name nor id.
 */
export function putSetElements(b: MessageBuilder, set: SetRef, elements: readonly SetElement[]): void {
  if (set.name === undefined && set.id === undefined) throw new TypeError('A set reference needs a name or an id');
  b.putAttrString(NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_TABLE, set.table);
  if (set.name !== undefined) b.putAttrString(NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_SET, set.name);
  optU32be(b, NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_SET_ID, set.id);
  if (elements.length === 0) return;
  const list = b.nestStart(NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_ELEMENTS);
  // libnftnl numbers the list's nests 1, 2, 3… where the kernel writes NFTA_LIST_ELEM (1) for
  // each; the kernel reads any type. Numbering them keeps the bytes equal to nft's.
  elements.forEach((e, i) => putElement(b, e, i + 1));
  b.nestEnd(list);
}

function putElement(b: MessageBuilder, e: SetElement, type: number): void {
  const nest = b.nestStart(type);
  optU32be(b, NFTA_SET_ELEM.NFTA_SET_ELEM_FLAGS, e.flags);
  if (e.timeout !== undefined) b.putAttrU64be(NFTA_SET_ELEM.NFTA_SET_ELEM_TIMEOUT, BigInt(e.timeout));
  if (e.expiration !== undefined) b.putAttrU64be(NFTA_SET_ELEM.NFTA_SET_ELEM_EXPIRATION, BigInt(e.expiration));
  // A catch-all element (NFT_SET_ELEM_CATCHALL) has no key.
  if (e.key.length > 0) putValue(b, NFTA_SET_ELEM.NFTA_SET_ELEM_KEY, e.key);
  if (e.keyEnd !== undefined) putValue(b, NFTA_SET_ELEM.NFTA_SET_ELEM_KEY_END, e.keyEnd);
  if (e.data !== undefined) putData(b, NFTA_SET_ELEM.NFTA_SET_ELEM_DATA, e.data);
  if (e.userdata !== undefined) b.putAttr(NFTA_SET_ELEM.NFTA_SET_ELEM_USERDATA, e.userdata);
  b.nestEnd(nest);
}

/**
 * Decodes a NEWSET message (dump or echo).
 * @throws {PacketError} on malformed attributes, or a missing table or name.
 */
export function decodeSet(buf: Uint8Array, payloadOffset: number, end: number): NftSet {
  const { family, attrs: ad } = openObjectMessage(buf, payloadOffset, end);
  let table: string | undefined;
  let name: string | undefined;
  const s: Omit<NftSet, 'family' | 'table' | 'name'> = {};
  while (ad.next()) {
    switch (ad.type) {
      case NFTA_SET.NFTA_SET_TABLE: table = ad.string(); break;
      case NFTA_SET.NFTA_SET_NAME: name = ad.string(); break;
      case NFTA_SET.NFTA_SET_HANDLE: s.handle = ad.u64beNumber(); break;
      case NFTA_SET.NFTA_SET_FLAGS: s.flags = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_KEY_TYPE: s.keyType = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_KEY_LEN: s.keyLen = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_DATA_TYPE: s.dataType = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_DATA_LEN: s.dataLen = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_OBJ_TYPE: s.objType = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_ID: s.id = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_POLICY: s.policy = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_DESC: decodeDesc(ad, s); break;
      case NFTA_SET.NFTA_SET_TIMEOUT: s.timeout = ad.u64beNumber(); break;
      case NFTA_SET.NFTA_SET_GC_INTERVAL: s.gcInterval = ad.u32be(); break;
      case NFTA_SET.NFTA_SET_USERDATA: s.userdata = ad.bytes().slice(); break;
    }
  }
  checkAttrs(ad);
  return { family, table: need(table, 'NFTA_SET_TABLE'), name: need(name, 'NFTA_SET_NAME'), ...s };
}

function decodeDesc(ad: AttrDecoder, s: { size?: number }): void {
  const inner = ad.nestedDecoder();
  while (inner.next()) if (inner.type === NFTA_SET_DESC.NFTA_SET_DESC_SIZE) s.size = inner.u32be();
  checkAttrs(inner);
}

/**
 * Decodes a NEWSETELEM message (dump or echo).
 * @throws {PacketError} on malformed attributes, or a missing table or set name.
 */
export function decodeSetElements(buf: Uint8Array, payloadOffset: number, end: number): SetElements {
  const { family, attrs: ad } = openObjectMessage(buf, payloadOffset, end);
  let table: string | undefined;
  let set: string | undefined;
  const elements: SetElement[] = [];
  while (ad.next()) {
    if (ad.type === NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_TABLE) table = ad.string();
    else if (ad.type === NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_SET) set = ad.string();
    else if (ad.type === NFTA_SET_ELEM_LIST.NFTA_SET_ELEM_LIST_ELEMENTS) elements.push(...decodeElementList(ad));
  }
  checkAttrs(ad);
  return { family, table: need(table, 'NFTA_SET_ELEM_LIST_TABLE'), set: need(set, 'NFTA_SET_ELEM_LIST_SET'), elements };
}

/**
 * Decodes the NFTA_SET_ELEM_LIST_ELEMENTS nest `ad` is positioned on.
 * @throws {PacketError} on malformed attributes.
 */
export function decodeElementList(ad: AttrDecoder): SetElement[] {
  const list = ad.nestedDecoder();
  const out: SetElement[] = [];
  // Any nest type: libnftnl numbers them 1, 2, 3…, the kernel sends NFTA_LIST_ELEM.
  while (list.next()) out.push(decodeElement(list));
  checkAttrs(list);
  return out;
}

function decodeElement(ad: AttrDecoder): SetElement {
  const inner = ad.nestedDecoder();
  let key: Uint8Array | undefined;
  const e: Omit<SetElement, 'key'> = {};
  while (inner.next()) {
    switch (inner.type) {
      case NFTA_SET_ELEM.NFTA_SET_ELEM_KEY: key = decodeValue(inner); break;
      case NFTA_SET_ELEM.NFTA_SET_ELEM_KEY_END: e.keyEnd = decodeValue(inner); break;
      case NFTA_SET_ELEM.NFTA_SET_ELEM_DATA: e.data = decodeData(inner); break;
      case NFTA_SET_ELEM.NFTA_SET_ELEM_FLAGS: e.flags = inner.u32be(); break;
      case NFTA_SET_ELEM.NFTA_SET_ELEM_TIMEOUT: e.timeout = inner.u64beNumber(); break;
      case NFTA_SET_ELEM.NFTA_SET_ELEM_EXPIRATION: e.expiration = inner.u64beNumber(); break;
      case NFTA_SET_ELEM.NFTA_SET_ELEM_USERDATA: e.userdata = inner.bytes().slice(); break;
    }
  }
  checkAttrs(inner);
  // A catch-all element (NFT_SET_ELEM_CATCHALL) has no key.
  return { key: key ?? new Uint8Array(0), ...e };
}

function optU32be(b: MessageBuilder, type: number, v: number | undefined): void {
  if (v !== undefined) b.putAttrU32be(type, v >>> 0);
}
