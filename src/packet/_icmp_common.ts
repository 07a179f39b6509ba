/**
 * The 8-byte header ICMP (RFC 792) and ICMPv6 (RFC 4443 §2.1) share (internal).
 *
 * ```
 *  |     Type      |     Code      |          Checksum             |   0
 *  |  Identifier (echo)            |  Sequence Number (echo)       |   4   "rest of header"
 * ```
 * @module
 */
import { checkOffset, checkUint, offsetFault, setU16be, setU32be, u16be, u32be } from './_bytes.js';

/** Length of the ICMP / ICMPv6 header including the 4-byte rest of header. */
export const ICMP_HEADER_LEN = 8;

/** Why `bytes` at `o` cannot hold an ICMP header, or `undefined`. */
export function icmpFault(b: Uint8Array, o: number): string | undefined {
  const bad = offsetFault(b, o);
  if (bad !== undefined) return bad;
  const avail = b.length - o;
  return avail < ICMP_HEADER_LEN ? `truncated: ${Math.max(avail, 0)} bytes, header needs 8` : undefined;
}

/** Accessors common to `IcmpPacket` and `Icmpv6Packet`; the message runs to the end of `bytes`. */
export class IcmpHeaderView {
  /** The underlying buffer (shared, never copied). */
  readonly bytes: Uint8Array;
  /** Where the ICMP header starts in `bytes`. */
  readonly offset: number;

  /**
   * Wrap `bytes` without any length check.
   * @throws {RangeError} when `offset` is not an integer in `[0, bytes.length]`
   */
  constructor(bytes: Uint8Array, offset = 0) {
    checkOffset(bytes, offset, new.target.name);
    this.bytes = bytes;
    this.offset = offset;
  }

  /** Type. */
  get type(): number { return this.bytes[this.offset]!; }
  set type(v: number) { checkUint(v, 8, 'ICMP type'); this.bytes[this.offset] = v; }

  /** Code. */
  get code(): number { return this.bytes[this.offset + 1]!; }
  set code(v: number) { checkUint(v, 8, 'ICMP code'); this.bytes[this.offset + 1] = v; }

  /** Checksum field. */
  get checksum(): number { return u16be(this.bytes, this.offset + 2); }
  set checksum(v: number) { checkUint(v, 16, 'ICMP checksum'); setU16be(this.bytes, this.offset + 2, v); }

  /** The 32-bit rest of header (its meaning depends on type). */
  get restOfHeader(): number { return u32be(this.bytes, this.offset + 4); }
  set restOfHeader(v: number) { checkUint(v, 32, 'ICMP rest of header'); setU32be(this.bytes, this.offset + 4, v); }

  /** Echo Identifier (the first half of the rest of header). */
  get id(): number { return u16be(this.bytes, this.offset + 4); }
  set id(v: number) { checkUint(v, 16, 'ICMP identifier'); setU16be(this.bytes, this.offset + 4, v); }

  /** Echo Sequence Number (the second half of the rest of header). */
  get seq(): number { return u16be(this.bytes, this.offset + 6); }
  set seq(v: number) { checkUint(v, 16, 'ICMP sequence number'); setU16be(this.bytes, this.offset + 6, v); }

  /** Message body after the 8-byte header, as a live view. */
  get payload(): Uint8Array { return this.bytes.subarray(this.offset + ICMP_HEADER_LEN); }
}
