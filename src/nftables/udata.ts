/**
 * libnftnl's user data format (src/udata.c): the TLVs nft stores in NFTA_*_USERDATA. The kernel
 * keeps the bytes opaque (at most NFT_USERDATA_MAXLEN = 256, returned byte-exact in dumps); nft
 * reads them back, e.g. to show a rule's `comment "…"`.
 *
 * ```
 * struct nftnl_udata {     repeated to the end of the attribute, no padding
 *   uint8_t type;          NFTNL_UDATA_*_COMMENT = 0 …
 *   uint8_t len;           bytes of value
 *   char    value[len];    a comment is NUL-terminated: len counts the NUL
 * };
 * ```
 * @module
 */
import { PacketError } from '../errors.js';
import { NFT_USERDATA_MAXLEN } from './constants.js';

/** `enum nftnl_udata_rule_types`. include/libnftnl/udata.h */
export const NFTNL_UDATA_RULE = { NFTNL_UDATA_RULE_COMMENT: 0, NFTNL_UDATA_RULE_EBTABLES_POLICY: 1 } as const;
/** `enum nftnl_udata_table_types`. */
export const NFTNL_UDATA_TABLE = { NFTNL_UDATA_TABLE_COMMENT: 0 } as const;
/** `enum nftnl_udata_chain_types`. */
export const NFTNL_UDATA_CHAIN = { NFTNL_UDATA_CHAIN_COMMENT: 0 } as const;
/** `NFTNL_UDATA_COMMENT_MAXLEN`: longest comment nft accepts, NUL included. */
export const NFTNL_UDATA_COMMENT_MAXLEN = 128;

/** One TLV. */
export interface Udata {
  /** NFTNL_UDATA_* type (u8), e.g. NFTNL_UDATA_RULE_COMMENT. */
  type: number;
  /** The value, at most 255 bytes (a comment includes its NUL). */
  value: Uint8Array;
}

/**
 * Encodes TLVs back to back.
 * @throws {RangeError} when a value exceeds 255 bytes or the whole exceeds NFT_USERDATA_MAXLEN.
 */
export function encodeUdata(items: readonly Udata[]): Uint8Array {
  const size = items.reduce((n, u) => n + 2 + u.value.length, 0);
  if (size > NFT_USERDATA_MAXLEN) throw new RangeError(`User data of ${size} bytes exceeds ${NFT_USERDATA_MAXLEN}`);
  const out = new Uint8Array(size);
  let off = 0;
  for (const u of items) {
    if (u.value.length > 255) throw new RangeError(`User data item of ${u.value.length} bytes exceeds 255`);
    out[off] = u.type;
    out[off + 1] = u.value.length;
    out.set(u.value, off + 2);
    off += 2 + u.value.length;
  }
  return out;
}

/**
 * Decodes TLVs (values are copied).
 * @throws {PacketError} when an item runs past the end (the bytes are not libnftnl's format).
 */
export function decodeUdata(bytes: Uint8Array): Udata[] {
  const out: Udata[] = [];
  for (let off = 0; off < bytes.length; ) {
    if (off + 2 > bytes.length) throw new PacketError('nf_tables', `user data: ${bytes.length - off} trailing byte(s)`);
    const len = bytes[off + 1]!;
    if (off + 2 + len > bytes.length) throw new PacketError('nf_tables', `user data item at ${off} overruns the attribute`);
    out.push({ type: bytes[off]!, value: bytes.slice(off + 2, off + 2 + len) });
    off += 2 + len;
  }
  return out;
}

/**
 * User data holding only a comment, as nft writes `comment "…"` (type 0, NUL-terminated).
 * @throws {RangeError} when the comment is longer than 127 bytes (nft's limit).
 * @example encodeComment('divert 1234') // bytes 00 0c "divert 1234" 00
 */
export function encodeComment(comment: string, type: number = NFTNL_UDATA_RULE.NFTNL_UDATA_RULE_COMMENT): Uint8Array {
  const text = new TextEncoder().encode(comment);
  if (text.length + 1 > NFTNL_UDATA_COMMENT_MAXLEN) throw new RangeError(`Comment of ${text.length} bytes exceeds ${NFTNL_UDATA_COMMENT_MAXLEN - 1}`);
  const value = new Uint8Array(text.length + 1);
  value.set(text);
  return encodeUdata([{ type, value }]);
}

/** The comment in user data (TLV `type`, cut at its NUL), or undefined when there is none or it is not TLVs. */
export function decodeComment(bytes: Uint8Array, type: number = NFTNL_UDATA_RULE.NFTNL_UDATA_RULE_COMMENT): string | undefined {
  let items: Udata[];
  try {
    items = decodeUdata(bytes);
  } catch {
    return undefined;
  }
  const item = items.find((u) => u.type === type);
  if (!item) return undefined;
  const nul = item.value.indexOf(0);
  return new TextDecoder().decode(item.value.subarray(0, nul < 0 ? item.value.length : nul));
}
