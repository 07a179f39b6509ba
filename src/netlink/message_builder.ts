/**
 * Builds one or many netlink messages back to back in one reusable buffer, so a batch of
 * requests (for example many NFQUEUE verdicts) leaves in a single `sendto`.
 *
 * ```
 * bytes(): | nlmsghdr | extra hdr | nlattr | … |  nlmsghdr | … |
 *          ^ begin()   putNfgenmsg  putAttr*  end() patches nlmsg_len, then begin() again
 * ```
 * Order of calls follows libmnl: `begin` → extra header → attributes (and nests) → `end`.
 * Every put keeps the write position 4-byte aligned and zeroes the padding, because the buffer
 * is reused and may hold bytes from an earlier batch.
 *
 * Sequence numbers and port ids are the caller's business (the socket layer owns them).
 * @module
 */
import { NLA_ALIGN, NLA_HDRLEN, NLA_MAX_PAYLOAD, NLMSG_HDRLEN } from './align.js';
import { NFGENMSG_LEN, NlaFlags } from './constants.js';
import { putU16be, putU16ne, putU32be, putU32ne, putU64be } from './bytes.js';

const textEncoder = new TextEncoder();

/**
 * A growable netlink message writer. All `put*` return `this` for chaining, except the ones
 * returning an offset (`reserve`, `reserveAttr`, `nestStart`).
 *
 * @example
 * ```ts
 * const b = new MessageBuilder();
 * b.begin(0x0302, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK, 1);
 * b.putNfgenmsg(AddressFamily.AF_UNSPEC, Nfnetlink.NFNETLINK_V0, 7);
 * b.putAttrU32be(3, 0x10);
 * b.end();
 * socket.send(b.bytes());
 * b.reset();
 * ```
 */
export class MessageBuilder {
  #buf: Uint8Array;
  #len = 0;
  /** Offset of the open message's header, or -1 when no message is open. */
  #msgStart = -1;

  /**
   * @param initial capacity in bytes (default 4096), or a buffer to write into (tests pass a
   *   `0xa5`-filled one to prove padding is zeroed). The builder replaces it when it grows.
   */
  constructor(initial: number | Uint8Array = 4096) {
    this.#buf = typeof initial === 'number' ? new Uint8Array(Math.max(initial, 64)) : initial;
  }

  /** Bytes written so far (all messages). */
  get length(): number {
    return this.#len;
  }

  /** The backing buffer. NB: replaced when the builder grows; do not keep it across puts. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Number of bytes of the open message so far, or 0 when none is open. */
  get messageLength(): number {
    return this.#msgStart < 0 ? 0 : this.#len - this.#msgStart;
  }

  /** A view of everything built (zero copy; valid until the next put or `reset`). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Forgets every message; keeps the buffer for reuse. */
  reset(): this {
    this.#len = 0;
    this.#msgStart = -1;
    return this;
  }

  /**
   * Starts a message: writes an `nlmsghdr` whose length `end()` patches.
   * @throws {TypeError} when a message is already open (a missing `end()` is a caller bug).
   */
  begin(type: number, flags: number, seq: number, portId = 0): this {
    if (this.#msgStart >= 0) throw new TypeError('MessageBuilder.begin() called before end()');
    const off = this.#grow(NLMSG_HDRLEN);
    const b = this.#buf;
    this.#msgStart = off;
    putU32ne(b, off, NLMSG_HDRLEN);
    putU16ne(b, off + 4, type);
    putU16ne(b, off + 6, flags);
    putU32ne(b, off + 8, seq);
    putU32ne(b, off + 12, portId);
    return this;
  }

  /** Closes the open message: patches `nlmsg_len`. Returns the message's start offset. */
  end(): number {
    const start = this.#msgStart;
    if (start < 0) throw new TypeError('MessageBuilder.end() called without begin()');
    putU32ne(this.#buf, start, this.#len - start);
    this.#msgStart = -1;
    return start;
  }

  /** Writes `struct nfgenmsg` (family, version, res_id BIG-endian). */
  putNfgenmsg(family: number, version: number, resId: number): this {
    const off = this.#grow(NFGENMSG_LEN);
    const b = this.#buf;
    b[off] = family;
    b[off + 1] = version;
    putU16be(b, off + 2, resId);
    return this;
  }

  /**
   * Reserves `len` zeroed bytes (padded to 4) for an extra header such as `ifinfomsg`.
   * @returns the offset in {@link buffer} where the caller writes the header.
   */
  reserve(len: number): number {
    return this.#grow(NLA_ALIGN(len));
  }

  /**
   * Writes an attribute header and reserves a zeroed payload of `len` bytes (padded to 4).
   * @returns the payload offset in {@link buffer}.
   * @throws {RangeError} when `len` exceeds what the 16-bit `nla_len` can describe.
   */
  reserveAttr(type: number, len: number): number {
    if (len > NLA_MAX_PAYLOAD || len < 0) {
      throw new RangeError(`Attribute payload of ${len} bytes exceeds ${NLA_MAX_PAYLOAD}`);
    }
    const off = this.#grow(NLA_HDRLEN + NLA_ALIGN(len));
    putU16ne(this.#buf, off, NLA_HDRLEN + len);
    putU16ne(this.#buf, off + 2, type);
    return off + NLA_HDRLEN;
  }

  /** Appends an attribute holding a copy of `bytes`. */
  putAttr(type: number, bytes: Uint8Array): this {
    const len = bytes.length;
    if (len > NLA_MAX_PAYLOAD) {
      throw new RangeError(`Attribute payload of ${len} bytes exceeds ${NLA_MAX_PAYLOAD}`);
    }
    // Large payloads (a mangled packet) are copied once: no zero-fill before the copy.
    const off = this.#grow(NLA_HDRLEN + NLA_ALIGN(len), false);
    const b = this.#buf;
    putU16ne(b, off, NLA_HDRLEN + len);
    putU16ne(b, off + 2, type);
    b.set(bytes, off + NLA_HDRLEN);
    for (let i = off + NLA_HDRLEN + len; i < this.#len; i++) b[i] = 0;
    return this;
  }

  /** Appends an attribute with no payload (a flag). */
  putAttrEmpty(type: number): this {
    this.reserveAttr(type, 0);
    return this;
  }

  /** Appends a u8 attribute. */
  putAttrU8(type: number, v: number): this {
    const off = this.reserveAttr(type, 1);
    this.#buf[off] = v;
    return this;
  }

  /** Appends a big-endian u16 attribute. */
  putAttrU16be(type: number, v: number): this {
    // Reserve first: it may replace the buffer, which must not be read before.
    const off = this.reserveAttr(type, 2);
    putU16be(this.#buf, off, v);
    return this;
  }

  /** Appends a big-endian u32 attribute (NFQA_MARK and friends). */
  putAttrU32be(type: number, v: number): this {
    // Reserve first: it may replace the buffer, which must not be read before.
    const off = this.reserveAttr(type, 4);
    putU32be(this.#buf, off, v);
    return this;
  }

  /** Appends a host-order u32 attribute (rtnetlink, NLMSGERR_ATTR_OFFS). */
  putAttrU32ne(type: number, v: number): this {
    // Reserve first: it may replace the buffer, which must not be read before.
    const off = this.reserveAttr(type, 4);
    putU32ne(this.#buf, off, v);
    return this;
  }

  /** Appends a big-endian u64 attribute. */
  putAttrU64be(type: number, v: bigint): this {
    // Reserve first: it may replace the buffer, which must not be read before.
    const off = this.reserveAttr(type, 8);
    putU64be(this.#buf, off, v);
    return this;
  }

  /** Appends a NUL-terminated UTF-8 string attribute (as `mnl_attr_put_strz`). */
  putAttrString(type: number, s: string): this {
    const encoded = textEncoder.encode(s);
    const off = this.reserveAttr(type, encoded.length + 1);
    this.#buf.set(encoded, off); // the NUL is already there: reserveAttr zeroes
    return this;
  }

  /**
   * Opens a nested attribute (sets `NLA_F_NESTED`, as libmnl does).
   * @returns a handle for {@link nestEnd}.
   */
  nestStart(type: number): number {
    return this.reserveAttr(type | NlaFlags.NLA_F_NESTED, 0) - NLA_HDRLEN;
  }

  /** Closes a nest: patches its `nla_len` to cover everything put since `nestStart`. */
  nestEnd(handle: number): this {
    const len = this.#len - handle;
    if (len > 0xffff) throw new RangeError(`Nested attribute of ${len} bytes exceeds 65535`);
    putU16ne(this.#buf, handle, len);
    return this;
  }

  /** Makes room for `n` more bytes (a multiple of 4), zeroes them unless told not to, returns their offset. */
  #grow(n: number, zero = true): number {
    const off = this.#len;
    const need = off + n;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
      next.set(this.#buf.subarray(0, off));
      this.#buf = next;
    }
    if (zero) this.#buf.fill(0, off, need);
    this.#len = need;
    return off;
  }
}
