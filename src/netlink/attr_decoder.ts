/**
 * A sticky-error iterator over netlink attributes (TLVs), after mdlayher's `AttributeDecoder`.
 *
 * ```
 * | nla_len (u16 ne) | nla_type (u16 ne) | payload (nla_len - 4) | pad to 4 | next nlattr …
 *                                         ^ offset                 ^ offset - 4 + NLA_ALIGN(nla_len)
 * ```
 * Readers name their byte order. A reader called on a payload that is too short records the
 * first error in `err` and returns 0 (or an empty value); `next()` then returns `false`, so a
 * decode loop needs a single `err` check at the end. Lengths are checked as the kernel's policies
 * do: a payload must be at least as long as the value read.
 * @module
 */
import { NLA_ALIGN, NLA_HDRLEN } from './align.js';
import { u16be, u16ne, u32be, u32ne, u64beBig, u64beNumber } from './bytes.js';
import { NlaFlags } from './constants.js';
import { PacketError } from '../errors.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });
const EMPTY = new Uint8Array(0);

/**
 * Reusable TLV cursor over `buffer[start, end)`.
 *
 * @example
 * ```ts
 * const ad = new AttrDecoder().reset(buf, payloadOffset + 4, msgEnd);
 * while (ad.next()) {
 *   if (ad.type === NFQA_MARK) mark = ad.u32be();
 * }
 * if (ad.err) throw ad.err;
 * ```
 */
export class AttrDecoder {
  /** Attribute type with `NLA_F_NESTED` / `NLA_F_NET_BYTEORDER` masked off. */
  type = 0;
  /** Whether the sender set `NLA_F_NESTED`. */
  nested = false;
  /** Payload length in bytes (`nla_len - 4`). */
  length = 0;
  /** Offset of the payload in {@link buffer}. */
  offset = 0;
  /** First decoding error; sticky until `reset`. */
  err: PacketError | undefined = undefined;

  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;

  /** A cursor over `buf[start, end)` (see `reset`); without `buf`, an empty one to `reset` later. */
  constructor(buf?: Uint8Array, start = 0, end = buf?.length ?? 0) {
    if (buf !== undefined) this.reset(buf, start, end);
  }

  /** The buffer being decoded. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /**
   * Points the decoder at the attributes in `buf[start, end)`.
   * @throws {RangeError} when the range lies outside `buf`.
   */
  reset(buf: Uint8Array, start: number, end: number): this {
    if (start < 0 || end < start || end > buf.length) {
      throw new RangeError(`Attribute range ${start}..${end} is outside a ${buf.length}-byte buffer`);
    }
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
    this.err = undefined;
    this.type = this.length = 0;
    this.offset = start;
    this.nested = false;
    return this;
  }

  /** Advances to the next attribute; `false` at the end or after an error. */
  next(): boolean {
    if (this.err !== undefined) return false;
    const pos = this.#pos;
    const left = this.#end - pos;
    if (left <= 0) return false;
    if (left < NLA_HDRLEN) return this.#fail(`${left} trailing bytes, too short for an attribute`);
    const b = this.#buf;
    const len = u16ne(b, pos);
    if (len < NLA_HDRLEN) return this.#fail(`nla_len ${len} below the header size`);
    if (len > left) return this.#fail(`nla_len ${len} exceeds the ${left} bytes left`);
    const rawType = u16ne(b, pos + 2);
    this.type = rawType & NlaFlags.NLA_TYPE_MASK;
    this.nested = (rawType & NlaFlags.NLA_F_NESTED) !== 0;
    this.length = len - NLA_HDRLEN;
    this.offset = pos + NLA_HDRLEN;
    this.#pos = pos + NLA_ALIGN(len);
    return true;
  }

  /** Reads a u8 payload. */
  u8(): number {
    return this.#need(1) ? this.#buf[this.offset]! : 0;
  }

  /** Reads a big-endian u16 payload. */
  u16be(): number {
    return this.#need(2) ? u16be(this.#buf, this.offset) : 0;
  }

  /** Reads a host-order u16 payload. */
  u16ne(): number {
    return this.#need(2) ? u16ne(this.#buf, this.offset) : 0;
  }

  /** Reads a big-endian u32 payload (NFQA_MARK, NFQA_IFINDEX_*, …). */
  u32be(): number {
    return this.#need(4) ? u32be(this.#buf, this.offset) : 0;
  }

  /** Reads a host-order u32 payload (rtnetlink, extack). */
  u32ne(): number {
    return this.#need(4) ? u32ne(this.#buf, this.offset) : 0;
  }

  /** Reads a big-endian u64 payload as a `bigint`. */
  u64be(): bigint {
    return this.#need(8) ? u64beBig(this.#buf, this.offset) : 0n;
  }

  /** Reads a big-endian u64 payload as a `number` (exact below 2^53; no allocation). */
  u64beNumber(): number {
    return this.#need(8) ? u64beNumber(this.#buf, this.offset) : 0;
  }

  /** The payload as a zero-copy view of the buffer. */
  bytes(): Uint8Array {
    return this.#buf.subarray(this.offset, this.offset + this.length);
  }

  /** The payload as UTF-8 text, cut at the first NUL. */
  string(): string {
    const b = this.#buf;
    let end = this.offset;
    const stop = this.offset + this.length;
    while (end < stop && b[end] !== 0) end++;
    return textDecoder.decode(b.subarray(this.offset, end));
  }

  /** A new decoder over this attribute's payload (allocates; see {@link nestedInto}). */
  nestedDecoder(): AttrDecoder {
    return new AttrDecoder(this.#buf, this.offset, this.offset + this.length);
  }

  /** Points `into` at this attribute's payload, reusing it (no allocation). */
  nestedInto(into: AttrDecoder): AttrDecoder {
    return into.reset(this.#buf, this.offset, this.offset + this.length);
  }

  #need(n: number): boolean {
    if (this.length >= n) return true;
    if (this.err === undefined) {
      this.err = new PacketError('netlink', `attribute ${this.type} has ${this.length} bytes, needs ${n}`);
    }
    return false;
  }

  #fail(reason: string): false {
    this.err = new PacketError('netlink', `${reason} at offset ${this.#pos}`);
    return false;
  }
}
