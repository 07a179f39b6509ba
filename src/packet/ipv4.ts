/**
 * A zero-copy view of an IPv4 header and payload (RFC 791 §3.1).
 *
 * ```
 *   0                   1                   2                   3
 *  |Version|  IHL  |  DSCP   |ECN|          Total Length         |   0
 *  |         Identification        |Flags|   Fragment Offset     |   4
 *  |  Time to Live |    Protocol   |        Header Checksum        |   8
 *  |                       Source Address                          |  12
 *  |                    Destination Address                        |  16
 *  |                    Options (IHL > 5)                          |  20
 * ```
 * @module
 */
import { PacketError } from '../errors.js';
import { checkOffset, checkUint, offsetFault, setPadded, setRaw, setU16be, u16be } from './_bytes.js';
import { formatIpv4, parseIpv4 } from '../ip/address.js';
import { foldChecksum, internetChecksum, sumBytes } from './checksum.js';

/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = 20;

/** IPv4 flag bits as they sit in the Flags field (RFC 791 §3.1). */
export const IPV4_FLAGS = { RESERVED: 4, DF: 2, MF: 1 } as const;

/** Why the bytes at `o` are not a well-formed IPv4 packet, or `undefined`. */
function ipv4Fault(b: Uint8Array, o: number): string | undefined {
  const bad = offsetFault(b, o);
  if (bad !== undefined) return bad;
  const avail = b.length - o;
  if (avail < IPV4_HEADER_LEN) return `truncated: ${Math.max(avail, 0)} bytes, header needs 20`;
  const version = b[o]! >> 4;
  if (version !== 4) return `version is ${version}, expected 4`;
  const ihl = b[o]! & 0x0f;
  if (ihl < 5) return `IHL ${ihl} is below 5`;
  const total = u16be(b, o + 2);
  if (total < ihl * 4) return `total length ${total} is shorter than the ${ihl * 4}-byte header`;
  if (total > avail) return `truncated: total length ${total} exceeds the ${avail} bytes available`;
  return undefined;
}

/**
 * A view over the IPv4 packet at `offset` in `bytes`. Every accessor reads or writes the bytes
 * directly. Setting `ihl`, `hdrLen` or `totalLength` invalidates what `checked()` proved.
 */
export class Ipv4Packet {
  /** The underlying buffer (shared, never copied). */
  readonly bytes: Uint8Array;
  /** Where the IPv4 header starts in `bytes`. */
  readonly offset: number;

  /**
   * Wrap `bytes` without any length check: cheap, for emitting into a buffer you sized yourself.
   * @throws {RangeError} when `offset` is not an integer in `[0, bytes.length]`
   */
  constructor(bytes: Uint8Array, offset = 0) {
    checkOffset(bytes, offset, 'Ipv4Packet');
    this.bytes = bytes;
    this.offset = offset;
  }

  /** Whether `bytes` at `offset` hold a whole, well-formed IPv4 header and total length. */
  static checkLen(bytes: Uint8Array, offset = 0): boolean {
    return ipv4Fault(bytes, offset) === undefined;
  }

  /**
   * Wrap `bytes` after checking version, IHL and total length against the buffer.
   * @throws {PacketError} with layer `"IPv4"` naming the fault
   */
  static checked(bytes: Uint8Array, offset = 0): Ipv4Packet {
    const fault = ipv4Fault(bytes, offset);
    if (fault !== undefined) throw new PacketError('IPv4', fault);
    return new Ipv4Packet(bytes, offset);
  }

  /** Version (4 bits). */
  get version(): number { return this.bytes[this.offset]! >> 4; }
  set version(v: number) {
    checkUint(v, 4, 'IPv4 version');
    this.bytes[this.offset] = (v << 4) | (this.bytes[this.offset]! & 0x0f);
  }

  /** Internet Header Length in 32-bit words. */
  get ihl(): number { return this.bytes[this.offset]! & 0x0f; }
  set ihl(v: number) {
    checkUint(v, 4, 'IPv4 IHL');
    this.bytes[this.offset] = (this.bytes[this.offset]! & 0xf0) | v;
  }

  /** Header length in bytes (`ihl * 4`); the setter takes a multiple of 4 up to 60. */
  get hdrLen(): number { return this.ihl * 4; }
  set hdrLen(v: number) {
    if (v % 4 !== 0) throw new RangeError(`Cannot set IPv4 header length: ${v} is not a multiple of 4`);
    this.ihl = v / 4;
  }

  /** The whole second byte (DSCP and ECN; "type of service" in RFC 791). */
  get tos(): number { return this.bytes[this.offset + 1]!; }
  set tos(v: number) { checkUint(v, 8, 'IPv4 TOS'); this.bytes[this.offset + 1] = v; }

  /** Differentiated Services Code Point (RFC 2474), the top 6 bits of `tos`. */
  get dscp(): number { return this.tos >> 2; }
  set dscp(v: number) { checkUint(v, 6, 'IPv4 DSCP'); this.tos = (v << 2) | (this.tos & 3); }

  /** Explicit Congestion Notification (RFC 3168), the low 2 bits of `tos`. */
  get ecn(): number { return this.tos & 3; }
  set ecn(v: number) { checkUint(v, 2, 'IPv4 ECN'); this.tos = (this.tos & 0xfc) | v; }

  /** Total Length: header plus payload, in bytes. */
  get totalLength(): number { return u16be(this.bytes, this.offset + 2); }
  set totalLength(v: number) { checkUint(v, 16, 'IPv4 total length'); setU16be(this.bytes, this.offset + 2, v); }

  /** Identification. */
  get ident(): number { return u16be(this.bytes, this.offset + 4); }
  set ident(v: number) { checkUint(v, 16, 'IPv4 identification'); setU16be(this.bytes, this.offset + 4, v); }

  /** The 3 flag bits (reserved, DF, MF); see `IPV4_FLAGS`. */
  get flags(): number { return this.bytes[this.offset + 6]! >> 5; }
  set flags(v: number) {
    checkUint(v, 3, 'IPv4 flags');
    this.bytes[this.offset + 6] = (v << 5) | (this.bytes[this.offset + 6]! & 0x1f);
  }

  /** Don't Fragment. */
  get df(): boolean { return (this.flags & IPV4_FLAGS.DF) !== 0; }
  set df(v: boolean) { this.flags = v ? this.flags | IPV4_FLAGS.DF : this.flags & ~IPV4_FLAGS.DF; }

  /** More Fragments. */
  get mf(): boolean { return (this.flags & IPV4_FLAGS.MF) !== 0; }
  set mf(v: boolean) { this.flags = v ? this.flags | IPV4_FLAGS.MF : this.flags & ~IPV4_FLAGS.MF; }

  /** Fragment Offset field, in 8-byte units (as on the wire, and as pydivert has it). */
  get fragOffset(): number { return u16be(this.bytes, this.offset + 6) & 0x1fff; }
  set fragOffset(v: number) {
    checkUint(v, 13, 'IPv4 fragment offset');
    setU16be(this.bytes, this.offset + 6, (u16be(this.bytes, this.offset + 6) & 0xe000) | v);
  }

  /** Fragment offset in bytes (`fragOffset * 8`); the setter takes a multiple of 8. */
  get fragOffsetBytes(): number { return this.fragOffset * 8; }
  set fragOffsetBytes(v: number) {
    if (v % 8 !== 0) throw new RangeError(`Cannot set IPv4 fragment offset: ${v} is not a multiple of 8`);
    this.fragOffset = v / 8;
  }

  /** Whether this is a fragment: MF set or a non-zero offset. */
  get isFragment(): boolean { return (u16be(this.bytes, this.offset + 6) & 0x3fff) !== 0; }

  /** Time to Live. */
  get ttl(): number { return this.bytes[this.offset + 8]!; }
  set ttl(v: number) { checkUint(v, 8, 'IPv4 TTL'); this.bytes[this.offset + 8] = v; }

  /** Protocol of the payload (see `IP_PROTOCOL`). */
  get protocol(): number { return this.bytes[this.offset + 9]!; }
  set protocol(v: number) { checkUint(v, 8, 'IPv4 protocol'); this.bytes[this.offset + 9] = v; }

  /** Header Checksum field. */
  get checksum(): number { return u16be(this.bytes, this.offset + 10); }
  set checksum(v: number) { checkUint(v, 16, 'IPv4 checksum'); setU16be(this.bytes, this.offset + 10, v); }

  /** Source address as a dotted quad; the setter parses one (`SyntaxError` when invalid). */
  get src(): string { return formatIpv4(this.bytes, this.offset + 12); }
  set src(v: string) { this.bytes.set(parseIpv4(v), this.offset + 12); }

  /** Destination address as a dotted quad; the setter parses one. */
  get dst(): string { return formatIpv4(this.bytes, this.offset + 16); }
  set dst(v: string) { this.bytes.set(parseIpv4(v), this.offset + 16); }

  /** Source address bytes: a live 4-byte view; the setter copies exactly 4 bytes. */
  get srcBytes(): Uint8Array { return this.bytes.subarray(this.offset + 12, this.offset + 16); }
  set srcBytes(v: Uint8Array) { setRaw(this.bytes, this.offset + 12, v, 4, 'IPv4 source'); }

  /** Destination address bytes: a live 4-byte view; the setter copies exactly 4 bytes. */
  get dstBytes(): Uint8Array { return this.bytes.subarray(this.offset + 16, this.offset + 20); }
  set dstBytes(v: Uint8Array) { setRaw(this.bytes, this.offset + 16, v, 4, 'IPv4 destination'); }

  /** Options bytes (live view of `[20, hdrLen)`); the setter fills that space, zero-padded. */
  get options(): Uint8Array { return this.bytes.subarray(this.offset + 20, this.offset + this.hdrLen); }
  set options(v: Uint8Array) {
    setPadded(this.bytes, this.offset + 20, Math.max(this.hdrLen - 20, 0), v, 'IPv4 options');
  }

  /** Payload: a live view of `[hdrLen, totalLength)`, clipped to the buffer. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + this.hdrLen, this.offset + Math.max(this.totalLength, this.hdrLen));
  }

  /** Whether the header checksum is correct (RFC 791 §3.1, RFC 1071). */
  verifyChecksum(): boolean {
    return foldChecksum(sumBytes(this.bytes, this.offset, this.offset + this.hdrLen)) === 0xffff;
  }

  /** Compute and write the header checksum. */
  fillChecksum(): void {
    setU16be(this.bytes, this.offset + 10, 0);
    setU16be(this.bytes, this.offset + 10, internetChecksum(this.bytes, this.offset, this.offset + this.hdrLen));
  }
}
