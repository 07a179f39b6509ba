/**
 * Tables: NFT_MSG_NEWTABLE / DELTABLE attributes and the decoder for NEWTABLE messages (dumps
 * and echoes). One type serves both directions; the kernel-only fields are marked.
 *
 * ```
 * NEWTABLE  nfgenmsg{family} | NFTA_TABLE_NAME "t\0" | NFTA_TABLE_FLAGS be32 | [NFTA_TABLE_USERDATA]
 * dump adds                  | NFTA_TABLE_USE be32 | NFTA_TABLE_HANDLE be64 | [NFTA_TABLE_OWNER be32]
 * ```
 * An owner table (NFT_TABLE_F_OWNER) belongs to the netlink socket that created it: the kernel
 * deletes it when that socket closes, and refuses changes from any other socket (EPERM).
 * @module
 */
import type { MessageBuilder } from '../netlink/message_builder.js';
import { checkAttrs, need, openObjectMessage } from './_message.js';
import { NFTA_TABLE } from './constants.js';

/** A table, as added or as dumped. */
export interface Table {
  /** NFPROTO_* (nfgenmsg). */
  family: number;
  /** NFTA_TABLE_NAME: unique per family. */
  name: string;
  /** NFT_TABLE_F_*: written when given; dumps always carry it. */
  flags?: number;
  /** Kernel-assigned (dumps, echoes); deletes may name the table by it. */
  handle?: number;
  /** Chains in the table (dumps only). */
  use?: number;
  /** Netlink port id of the owning socket (dumps of owner tables only). */
  owner?: number;
  /** Opaque bytes, libnftnl TLVs by convention (see `userdata.ts`). */
  userdata?: Uint8Array;
}

/** Identifies a table for DELTABLE: by name or by handle. */
export interface TableRef {
  /** NFPROTO_* (nfgenmsg). */
  family: number;
  /** The table's name (give it or `handle`). */
  name?: string;
  /** The table's kernel-assigned handle (give it or `name`). */
  handle?: number;
}

/** Writes the attributes of NEWTABLE, in nft 1.0.6's order. */
export function putTable(b: MessageBuilder, t: Table): void {
  b.putAttrString(NFTA_TABLE.NFTA_TABLE_NAME, t.name);
  if (t.flags !== undefined) b.putAttrU32be(NFTA_TABLE.NFTA_TABLE_FLAGS, t.flags);
  if (t.userdata !== undefined) b.putAttr(NFTA_TABLE.NFTA_TABLE_USERDATA, t.userdata);
}

/**
 * Writes the attributes naming a table (DELTABLE, GETTABLE).
 * @throws {TypeError} when neither name nor handle is given.
 */
export function putTableRef(b: MessageBuilder, t: TableRef): void {
  if (t.name === undefined && t.handle === undefined) throw new TypeError('A table reference needs a name or a handle');
  if (t.name !== undefined) b.putAttrString(NFTA_TABLE.NFTA_TABLE_NAME, t.name);
  if (t.handle !== undefined) b.putAttrU64be(NFTA_TABLE.NFTA_TABLE_HANDLE, BigInt(t.handle));
}

/**
 * Decodes a NEWTABLE message (from a dump or an echo).
 * @throws {PacketError} on malformed attributes or a missing name.
 */
export function decodeTable(buf: Uint8Array, payloadOffset: number, end: number): Table {
  const { family, attrs: ad } = openObjectMessage(buf, payloadOffset, end);
  let name: string | undefined;
  const t: Omit<Table, 'family' | 'name'> = {};
  while (ad.next()) {
    switch (ad.type) {
      case NFTA_TABLE.NFTA_TABLE_NAME:
        name = ad.string();
        break;
      case NFTA_TABLE.NFTA_TABLE_FLAGS:
        t.flags = ad.u32be();
        break;
      case NFTA_TABLE.NFTA_TABLE_USE:
        t.use = ad.u32be();
        break;
      case NFTA_TABLE.NFTA_TABLE_HANDLE:
        t.handle = ad.u64beNumber();
        break;
      case NFTA_TABLE.NFTA_TABLE_USERDATA:
        t.userdata = ad.bytes().slice();
        break;
      case NFTA_TABLE.NFTA_TABLE_OWNER:
        t.owner = ad.u32be();
        break;
    }
  }
  checkAttrs(ad);
  return { family, name: need(name, 'NFTA_TABLE_NAME'), ...t };
}
