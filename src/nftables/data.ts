/**
 * NFTA_DATA_* nests (values and verdicts) and helpers that build register bytes.
 *
 * ```
 * value:   NFTA_CMP_DATA { NFTA_DATA_VALUE <raw bytes, up to 64> }
 * verdict: NFTA_IMMEDIATE_DATA { NFTA_DATA_VERDICT { NFTA_VERDICT_CODE be32 (signed)
 *                                                    [NFTA_VERDICT_CHAIN "name\0"]
 *                                                    [NFTA_VERDICT_CHAIN_ID be32] } }
 * ```
 * A register holds bytes, not numbers: a packet field keeps network order (`be16(443)` for a
 * port), a `meta mark` is a host-order u32 (`ne32(0x2a)`). The helpers below name the order.
 * @module
 */
import type { AttrDecoder } from '../netlink/attr_decoder.js';
import { putU16be, putU32be, putU32ne } from '../netlink/bytes.js';
import { parseIpv4, parseIpv6 } from '../ip/address.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { PacketError } from '../errors.js';
import { NFTA_DATA, NFTA_VERDICT, NFT_DATA_VALUE_MAXLEN } from './constants.js';
import type { NftData, Verdict } from './expr_types.js';

/**
 * Writes `attr { NFTA_DATA_VALUE | NFTA_DATA_VERDICT }`.
 * @throws {RangeError} when a value is empty or longer than NFT_DATA_VALUE_MAXLEN (64).
 */
export function putData(b: MessageBuilder, attr: number, d: NftData): void {
  const nest = b.nestStart(attr);
  if ('value' in d) {
    const n = d.value.length;
    if (n === 0 || n > NFT_DATA_VALUE_MAXLEN) throw new RangeError(`nf_tables data of ${n} bytes (must be 1..${NFT_DATA_VALUE_MAXLEN})`);
    b.putAttr(NFTA_DATA.NFTA_DATA_VALUE, d.value);
  } else {
    putVerdict(b, d.verdict);
  }
  b.nestEnd(nest);
}

/** Writes `attr { NFTA_DATA_VALUE bytes }`. */
export function putValue(b: MessageBuilder, attr: number, bytes: Uint8Array): void {
  putData(b, attr, { value: bytes });
}

function putVerdict(b: MessageBuilder, v: Verdict): void {
  const nest = b.nestStart(NFTA_DATA.NFTA_DATA_VERDICT);
  b.putAttrU32be(NFTA_VERDICT.NFTA_VERDICT_CODE, v.code >>> 0);
  if (v.chain !== undefined) b.putAttrString(NFTA_VERDICT.NFTA_VERDICT_CHAIN, v.chain);
  if (v.chainId !== undefined) b.putAttrU32be(NFTA_VERDICT.NFTA_VERDICT_CHAIN_ID, v.chainId);
  b.nestEnd(nest);
}

/**
 * Decodes the NFTA_DATA nest `ad` is positioned on (values are copied out of the buffer).
 * @throws {PacketError} when it holds neither a value nor a verdict.
 */
export function decodeData(ad: AttrDecoder): NftData {
  const inner = ad.nestedDecoder();
  let out: NftData | undefined;
  while (inner.next()) {
    if (inner.type === NFTA_DATA.NFTA_DATA_VALUE) out = { value: inner.bytes().slice() };
    else if (inner.type === NFTA_DATA.NFTA_DATA_VERDICT) out = { verdict: decodeVerdict(inner) };
  }
  if (inner.err) throw inner.err;
  if (!out) throw new PacketError('nf_tables', `data attribute ${ad.type} holds neither a value nor a verdict`);
  return out;
}

/** Decodes the bytes of an NFTA_DATA nest that must hold a value. */
export function decodeValue(ad: AttrDecoder): Uint8Array {
  const d = decodeData(ad);
  if (!('value' in d)) throw new PacketError('nf_tables', `attribute ${ad.type} holds a verdict where a value belongs`);
  return d.value;
}

function decodeVerdict(ad: AttrDecoder): Verdict {
  const inner = ad.nestedDecoder();
  const v: Verdict = { code: 0 };
  while (inner.next()) {
    switch (inner.type) {
      case NFTA_VERDICT.NFTA_VERDICT_CODE:
        v.code = inner.u32be() | 0;
        break;
      case NFTA_VERDICT.NFTA_VERDICT_CHAIN:
        v.chain = inner.string();
        break;
      case NFTA_VERDICT.NFTA_VERDICT_CHAIN_ID:
        v.chainId = inner.u32be();
        break;
    }
  }
  if (inner.err) throw inner.err;
  return v;
}

// ── register bytes ───────────────────────────────────────────────────────────────────────────

/** A big-endian u16 (a port, an ethertype) as a 2-byte register value. */
export function be16(v: number): Uint8Array {
  const b = new Uint8Array(2);
  putU16be(b, 0, v);
  return b;
}

/** A big-endian u32 as a 4-byte register value. */
export function be32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32be(b, 0, v);
  return b;
}

/** A host-order u32 (meta mark, ct mark, meta l4proto…) as a 4-byte register value. */
export function ne32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32ne(b, 0, v);
  return b;
}

/** A u8 (an IP protocol number) as a 1-byte register value. */
export function u8(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff);
}

/** An IPv4 address ("192.0.2.1") as 4 register bytes. @throws {TypeError} on bad text. */
export function ipv4(text: string): Uint8Array {
  return parseIpv4(text);
}

/** An IPv6 address ("2001:db8::1") as 16 register bytes. @throws {TypeError} on bad text. */
export function ipv6(text: string): Uint8Array {
  return parseIpv6(text);
}

