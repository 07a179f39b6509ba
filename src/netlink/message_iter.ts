/**
 * Walks the netlink messages of one received datagram without allocating per message.
 *
 * ```
 * datagram: | nlmsghdr (16) | payload … | pad | nlmsghdr | payload … | (end)
 *           ^ start          ^ payloadOffset   ^ start + NLMSG_ALIGN(length)
 * ```
 * Every header is bounds-checked before it is read: a truncated or garbage message ends the
 * iteration with {@link MessageIter.err} set, and nothing outside `[offset, offset + length)` is
 * ever read. The iterator does not interpret types (NLMSG_ERROR, DONE…): the socket layer does.
 * @module
 */
import { NLMSG_ALIGN, NLMSG_HDRLEN } from './align.js';
import { u16ne, u32ne } from './bytes.js';
import { PacketError } from '../errors.js';

/**
 * A reusable cursor over the messages of one datagram. Fields describe the current message and
 * are valid after `next()` returned `true`.
 *
 * @example
 * ```ts
 * const it = new MessageIter();
 * it.reset(arena, slotOffset, slotLength);
 * while (it.next()) {
 *   if (it.type === NlmsgType.NLMSG_ERROR) handleError(arena, it.payloadOffset, it.end, it.flags);
 * }
 * if (it.err) throw it.err;
 * ```
 */
export class MessageIter {
  /** `nlmsg_type` of the current message. */
  type = 0;
  /** `nlmsg_flags` of the current message. */
  flags = 0;
  /** `nlmsg_seq` of the current message. */
  seq = 0;
  /** `nlmsg_pid` (sender port id) of the current message. */
  pid = 0;
  /** Offset of the current message's header in {@link buffer}. */
  start = 0;
  /** `nlmsg_len`: header plus payload, without trailing padding. */
  length = 0;
  /** Offset of the current message's payload (`start + NLMSG_HDRLEN`). */
  payloadOffset = 0;
  /** Set when the datagram held a malformed message; sticky until `reset`. */
  err: PacketError | undefined = undefined;

  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #limit = 0;

  /** The datagram's buffer as given to `reset`. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** End offset (exclusive) of the current message's payload. */
  get end(): number {
    return this.start + this.length;
  }

  /**
   * Points the cursor at a datagram.
   * @param buf buffer holding the datagram (for example the receive arena).
   * @param offset where the datagram starts (default 0).
   * @param length datagram length (default: to the end of `buf`).
   * @throws {RangeError} when the range lies outside `buf`.
   */
  reset(buf: Uint8Array, offset = 0, length = buf.length - offset): this {
    if (offset < 0 || length < 0 || offset + length > buf.length) {
      throw new RangeError(`Datagram range ${offset}+${length} is outside a ${buf.length}-byte buffer`);
    }
    this.#buf = buf;
    this.#pos = offset;
    this.#limit = offset + length;
    this.err = undefined;
    this.type = this.flags = this.seq = this.pid = this.length = 0;
    this.start = this.payloadOffset = offset;
    return this;
  }

  /** Advances to the next message. `false` at the end of the datagram or on error (see `err`). */
  next(): boolean {
    if (this.err !== undefined) return false;
    const pos = this.#pos;
    const left = this.#limit - pos;
    if (left <= 0) return false;
    if (left < NLMSG_HDRLEN) return this.#fail(`${left} trailing bytes, too short for a header`);
    const b = this.#buf;
    const len = u32ne(b, pos);
    if (len < NLMSG_HDRLEN) return this.#fail(`nlmsg_len ${len} below the header size`);
    if (len > left) return this.#fail(`nlmsg_len ${len} exceeds the ${left} bytes left`);
    this.start = pos;
    this.length = len;
    this.payloadOffset = pos + NLMSG_HDRLEN;
    this.type = u16ne(b, pos + 4);
    this.flags = u16ne(b, pos + 6);
    this.seq = u32ne(b, pos + 8);
    this.pid = u32ne(b, pos + 12);
    // The last message may be unpadded: stepping past the limit simply ends the walk.
    this.#pos = pos + NLMSG_ALIGN(len);
    return true;
  }

  #fail(reason: string): false {
    this.err = new PacketError('netlink', `${reason} at offset ${this.#pos}`);
    return false;
  }
}
