/**
 * What every nf_tables object message shares: `struct nfgenmsg` then NFTA_* attributes.
 *
 * ```
 * | nlmsghdr (16) | nfgen_family u8 | version u8 | res_id be16 | NFTA_* attributes … |
 *                 ^ payloadOffset                              ^ payloadOffset + 4
 * ```
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { NFGENMSG_LEN } from '../netlink/constants.js';
import { PacketError } from '../errors.js';

/** The family of an object message and a decoder over its attributes. */
export interface ObjectMessage {
  /** `nfgen_family`: NFPROTO_*. */
  family: number;
  attrs: AttrDecoder;
}

/**
 * Reads `struct nfgenmsg` at `payloadOffset` and returns a decoder over the attributes up to `end`.
 * @throws {PacketError} when the payload is shorter than `struct nfgenmsg`.
 */
export function openObjectMessage(buf: Uint8Array, payloadOffset: number, end: number): ObjectMessage {
  if (end - payloadOffset < NFGENMSG_LEN) throw new PacketError('nf_tables', `message payload of ${end - payloadOffset} bytes, needs ${NFGENMSG_LEN}`);
  return { family: buf[payloadOffset]!, attrs: new AttrDecoder(buf, payloadOffset + NFGENMSG_LEN, end) };
}

/** Throws the decoder's sticky error, if any. */
export function checkAttrs(ad: AttrDecoder): void {
  if (ad.err) throw ad.err;
}

/** Throws when a decoded object lacks an attribute every valid message has. */
export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new PacketError('nf_tables', `message without ${what}`);
  return v;
}
