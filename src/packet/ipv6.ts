/**
 * A zero-copy view of an IPv6 header (RFC 8200 §3) and its extension-header chain (§4).
 *
 * ```
 *  |Version| Traffic Class |              Flow Label               |   0
 *  |        Payload Length         |  Next Header  |   Hop Limit   |   4
 *  |                  Source Address (16 bytes)                    |   8
 *  |               Destination Address (16 bytes)                  |  24
 * ```
 * @module
 */
import { PacketError } from '../errors.js';
import { checkOffset, checkUint, offsetFault, setRaw, setU16be, u16be, u32be, setU32be } from './_bytes.js';
import { formatIpv6, parseIpv6 } from '../ip/address.js';
import {
  finalDestinationOffset, newIpv6Chain, readIpv6Fragment, walkIpv6Chain,
  type Ipv6Chain, type Ipv6FragmentInfo,
} from './ipv6_ext.js';

/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;

const scratch = newIpv6Chain();

function ipv6Fault(b: Uint8Array, o: number): string | undefined {
  const bad = offsetFault(b, o);
  if (bad !== undefined) return bad;
  const avail = b.length - o;
  if (avail < IPV6_HEADER_LEN) return `truncated: ${Math.max(avail, 0)} bytes, header needs 40`;
  const version = b[o]! >> 4;
  if (version !== 6) return `version is ${version}, expected 6`;
  const payloadLength = u16be(b, o + 4);
  if (payloadLength + 40 > avail) {
    return `truncated: payload length ${payloadLength} exceeds the ${avail - 40} bytes available`;
  }
  return walkIpv6Chain(b, o, o + 40 + payloadLength, scratch).fault;
}

/**
 * A view over the IPv6 packet at `offset` in `bytes`. Offsets reported by `chain()`, `fragment`
 * and `upperOffset` are absolute indexes into `bytes`. Setting `payloadLength`, `nextHeader` or
 * any extension-header byte invalidates what `checked()` proved.
 */
export class Ipv6Packet {
  /** The underlying buffer (shared, never copied). */
  readonly bytes: Uint8Array;
  /** Where the IPv6 header starts in `bytes`. */
  readonly offset: number;

  /**
   * Wrap `bytes` without any length check.
   * @throws {RangeError} when `offset` is not an integer in `[0, bytes.length]`
   */
  constructor(bytes: Uint8Array, offset = 0) {
    checkOffset(bytes, offset, 'Ipv6Packet');
    this.bytes = bytes;
    this.offset = offset;
  }

  /** Whether `bytes` at `offset` hold a whole IPv6 packet with a well-formed header chain. */
  static checkLen(bytes: Uint8Array, offset = 0): boolean {
    return ipv6Fault(bytes, offset) === undefined;
  }

  /**
   * Wrap `bytes` after checking version, payload length and the extension-header chain.
   * @throws {PacketError} with layer `"IPv6"` naming the fault
   */
  static checked(bytes: Uint8Array, offset = 0): Ipv6Packet {
    const fault = ipv6Fault(bytes, offset);
    if (fault !== undefined) throw new PacketError('IPv6', fault);
    return new Ipv6Packet(bytes, offset);
  }

  /** Version (4 bits). */
  get version(): number { return this.bytes[this.offset]! >> 4; }
  set version(v: number) {
    checkUint(v, 4, 'IPv6 version');
    this.bytes[this.offset] = (v << 4) | (this.bytes[this.offset]! & 0x0f);
  }

  /** Traffic Class (8 bits, straddling bytes 0 and 1). */
  get trafficClass(): number { return (u16be(this.bytes, this.offset) >> 4) & 0xff; }
  set trafficClass(v: number) {
    checkUint(v, 8, 'IPv6 traffic class');
    const w = u16be(this.bytes, this.offset);
    setU16be(this.bytes, this.offset, (w & 0xf00f) | (v << 4));
  }

  /** DSCP, the top 6 bits of the traffic class (RFC 2474). */
  get dscp(): number { return this.trafficClass >> 2; }
  set dscp(v: number) { checkUint(v, 6, 'IPv6 DSCP'); this.trafficClass = (v << 2) | (this.trafficClass & 3); }

  /** ECN, the low 2 bits of the traffic class (RFC 3168). */
  get ecn(): number { return this.trafficClass & 3; }
  set ecn(v: number) { checkUint(v, 2, 'IPv6 ECN'); this.trafficClass = (this.trafficClass & 0xfc) | v; }

  /** Flow Label (20 bits). */
  get flowLabel(): number { return u32be(this.bytes, this.offset) & 0xfffff; }
  set flowLabel(v: number) {
    checkUint(v, 20, 'IPv6 flow label');
    setU32be(this.bytes, this.offset, ((u32be(this.bytes, this.offset) & 0xfff00000) | v) >>> 0);
  }

  /** Payload Length: bytes after the fixed header, extension headers included. */
  get payloadLength(): number { return u16be(this.bytes, this.offset + 4); }
  set payloadLength(v: number) { checkUint(v, 16, 'IPv6 payload length'); setU16be(this.bytes, this.offset + 4, v); }

  /** Next Header of the fixed header (an extension header or the upper layer). */
  get nextHeader(): number { return this.bytes[this.offset + 6]!; }
  set nextHeader(v: number) { checkUint(v, 8, 'IPv6 next header'); this.bytes[this.offset + 6] = v; }

  /** Hop Limit. */
  get hopLimit(): number { return this.bytes[this.offset + 7]!; }
  set hopLimit(v: number) { checkUint(v, 8, 'IPv6 hop limit'); this.bytes[this.offset + 7] = v; }

  /** Source address as RFC 5952 text; the setter parses RFC 4291 text (`SyntaxError` when invalid). */
  get src(): string { return formatIpv6(this.bytes, this.offset + 8); }
  set src(v: string) { this.bytes.set(parseIpv6(v), this.offset + 8); }

  /** Destination address as RFC 5952 text; the setter parses RFC 4291 text. */
  get dst(): string { return formatIpv6(this.bytes, this.offset + 24); }
  set dst(v: string) { this.bytes.set(parseIpv6(v), this.offset + 24); }

  /** Source address bytes: a live 16-byte view; the setter copies exactly 16 bytes. */
  get srcBytes(): Uint8Array { return this.bytes.subarray(this.offset + 8, this.offset + 24); }
  set srcBytes(v: Uint8Array) { setRaw(this.bytes, this.offset + 8, v, 16, 'IPv6 source'); }

  /** Destination address bytes: a live 16-byte view; the setter copies exactly 16 bytes. */
  get dstBytes(): Uint8Array { return this.bytes.subarray(this.offset + 24, this.offset + 40); }
  set dstBytes(v: Uint8Array) { setRaw(this.bytes, this.offset + 24, v, 16, 'IPv6 destination'); }

  /** End of the packet in `bytes` per Payload Length, clipped to the buffer. */
  get end(): number { return Math.min(this.offset + 40 + this.payloadLength, this.bytes.length); }

  /** Everything after the fixed header (extension headers included), as a live view. */
  get payload(): Uint8Array { return this.bytes.subarray(this.offset + 40, this.end); }

  /** Walk the extension-header chain now (a fresh record; never cached). */
  chain(): Ipv6Chain {
    return walkIpv6Chain(this.bytes, this.offset, this.end, newIpv6Chain());
  }

  /** Upper-layer protocol after the extension headers (for a non-first fragment: the fragment's). */
  get upperProtocol(): number { return walkIpv6Chain(this.bytes, this.offset, this.end, scratch).protocol; }

  /** Absolute offset of the upper-layer header (where the chain walk stopped). */
  get upperOffset(): number { return walkIpv6Chain(this.bytes, this.offset, this.end, scratch).offset; }

  /** The upper-layer bytes after all extension headers, as a live view. */
  get upperPayload(): Uint8Array { return this.bytes.subarray(this.upperOffset, this.end); }

  /** The fragment header's fields, or `undefined` when there is none. */
  get fragment(): Ipv6FragmentInfo | undefined {
    const at = walkIpv6Chain(this.bytes, this.offset, this.end, scratch).fragmentOffset;
    return at < 0 ? undefined : readIpv6Fragment(this.bytes, at);
  }

  /** Absolute offset of the address to use as pseudo-header destination (RFC 8200 §8.1). */
  get finalDestinationOffset(): number {
    const c = walkIpv6Chain(this.bytes, this.offset, this.end, scratch);
    return finalDestinationOffset(this.bytes, this.offset, c.routingOffset);
  }

  /** The final destination as text: the routing header's last hop if any, else `dst`. */
  get finalDestination(): string { return formatIpv6(this.bytes, this.finalDestinationOffset); }
}
