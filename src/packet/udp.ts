/**
 * A zero-copy view of a UDP datagram (RFC 768).
 *
 * ```
 *  |          Source Port          |       Destination Port        |   0
 *  |            Length             |           Checksum            |   4
 * ```
 * @module
 */
import { PacketError } from '../errors.js';
import { checkOffset, checkUint, offsetFault, setU16be, u16be } from './_bytes.js';

/** Length of the UDP header. */
export const UDP_HEADER_LEN = 8;

function udpFault(b: Uint8Array, o: number): string | undefined {
  const bad = offsetFault(b, o);
  if (bad !== undefined) return bad;
  const avail = b.length - o;
  if (avail < UDP_HEADER_LEN) return `truncated: ${Math.max(avail, 0)} bytes, header needs 8`;
  const len = u16be(b, o + 4);
  if (len < UDP_HEADER_LEN) return `length ${len} is below 8`;
  if (len > avail) return `truncated: length ${len} exceeds the ${avail} bytes available`;
  return undefined;
}

/**
 * A view over the UDP datagram at `offset` in `bytes`. The payload ends where the Length field
 * says (clipped to the buffer). Setting `length` invalidates `checked()`.
 */
export class UdpPacket {
  /** The underlying buffer (shared, never copied). */
  readonly bytes: Uint8Array;
  /** Where the UDP header starts in `bytes`. */
  readonly offset: number;

  /**
   * Wrap `bytes` without any length check.
   * @throws {RangeError} when `offset` is not an integer in `[0, bytes.length]`
   */
  constructor(bytes: Uint8Array, offset = 0) {
    checkOffset(bytes, offset, 'UdpPacket');
    this.bytes = bytes;
    this.offset = offset;
  }

  /** Whether `bytes` at `offset` hold a header whose Length fits the buffer. */
  static checkLen(bytes: Uint8Array, offset = 0): boolean { return udpFault(bytes, offset) === undefined; }

  /**
   * Wrap `bytes` after checking the header and the Length field.
   * @throws {PacketError} with layer `"UDP"` naming the fault
   */
  static checked(bytes: Uint8Array, offset = 0): UdpPacket {
    const fault = udpFault(bytes, offset);
    if (fault !== undefined) throw new PacketError('UDP', fault);
    return new UdpPacket(bytes, offset);
  }

  /** Source Port. */
  get srcPort(): number { return u16be(this.bytes, this.offset); }
  set srcPort(v: number) { checkUint(v, 16, 'UDP source port'); setU16be(this.bytes, this.offset, v); }

  /** Destination Port. */
  get dstPort(): number { return u16be(this.bytes, this.offset + 2); }
  set dstPort(v: number) { checkUint(v, 16, 'UDP destination port'); setU16be(this.bytes, this.offset + 2, v); }

  /** Length: header plus data, in bytes. */
  get length(): number { return u16be(this.bytes, this.offset + 4); }
  set length(v: number) { checkUint(v, 16, 'UDP length'); setU16be(this.bytes, this.offset + 4, v); }

  /** Checksum field; 0 over IPv4 means "not computed" (RFC 768). */
  get checksum(): number { return u16be(this.bytes, this.offset + 6); }
  set checksum(v: number) { checkUint(v, 16, 'UDP checksum'); setU16be(this.bytes, this.offset + 6, v); }

  /** Data after the header, up to Length, as a live view. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + 8, this.offset + Math.max(this.length, 8));
  }
}
