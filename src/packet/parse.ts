/**
 * `parsePacket`: one call from raw IP bytes to checked views of every layer (pydivert's
 * `Packet`, WinDivert's `HelperParsePacket`).
 * @module
 */
import { PacketError } from '../errors.js';
import { u16be } from './_bytes.js';
import { IcmpPacket } from './icmp.js';
import { Icmpv6Packet } from './icmpv6.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { readIpv6Fragment } from './ipv6_ext.js';
import { TcpPacket } from './tcp.js';
import { UdpPacket } from './udp.js';

/** Fragment fields of either IP version; `offset` is in bytes. */
export interface FragmentInfo {
  /** Identification (16 bits for IPv4, 32 for IPv6). */
  ident: number;
  /** Offset of this fragment's data in the original payload, in bytes. */
  offset: number;
  /** More Fragments flag. */
  more: boolean;
}

/** The layers an upper-layer header may be. */
interface Layers {
  tcp?: TcpPacket;
  udp?: UdpPacket;
  icmp?: IcmpPacket;
  icmpv6?: Icmpv6Packet;
}

/**
 * One parsed packet. The layer structure (which views exist, where they start) is fixed at
 * parse time; every field value is read through the views on access, so edits show at once.
 * After changing a length, protocol or extension header, parse again.
 */
export class ParsedPacket {
  /** 4 or 6. */
  readonly ipVersion: 4 | 6;
  /** The IP layer view. */
  readonly ip: Ipv4Packet | Ipv6Packet;
  /** Set when `ipVersion` is 4. */
  readonly ipv4: Ipv4Packet | undefined;
  /** Set when `ipVersion` is 6. */
  readonly ipv6: Ipv6Packet | undefined;
  /** Upper-layer protocol number (after IPv6 extension headers). */
  readonly protocol: number;
  /** TCP view, unless a non-first fragment (or a first fragment too short for the header). */
  readonly tcp: TcpPacket | undefined;
  /** UDP view, under the same conditions as `tcp`. */
  readonly udp: UdpPacket | undefined;
  /** ICMP view (IPv4 only). */
  readonly icmp: IcmpPacket | undefined;
  /** ICMPv6 view (IPv6 only). */
  readonly icmpv6: Icmpv6Packet | undefined;
  /** Upper-layer data: after the L4 header when there is a view, else after the IP headers. */
  readonly payload: Uint8Array;
  readonly #fragmentAt: number;

  /** Use `parsePacket`; this constructor trusts its arguments. */
  constructor(ip: Ipv4Packet | Ipv6Packet, protocol: number, l4: Layers, payload: Uint8Array, fragmentAt: number) {
    this.ip = ip;
    this.ipVersion = ip instanceof Ipv4Packet ? 4 : 6;
    this.ipv4 = ip instanceof Ipv4Packet ? ip : undefined;
    this.ipv6 = ip instanceof Ipv6Packet ? ip : undefined;
    this.protocol = protocol;
    this.tcp = l4.tcp;
    this.udp = l4.udp;
    this.icmp = l4.icmp;
    this.icmpv6 = l4.icmpv6;
    this.payload = payload;
    this.#fragmentAt = fragmentAt;
  }

  /** Source address text. */
  get srcAddr(): string { return this.ip.src; }
  /** Destination address text. */
  get dstAddr(): string { return this.ip.dst; }
  /** TCP or UDP source port, else `undefined`. */
  get srcPort(): number | undefined { return (this.tcp ?? this.udp)?.srcPort; }
  /** TCP or UDP destination port, else `undefined`. */
  get dstPort(): number | undefined { return (this.tcp ?? this.udp)?.dstPort; }

  /** Whether there is fragment information: true for IPv6 atomic fragments too (RFC 6946). */
  get isFragment(): boolean { return this.fragment !== undefined; }

  /** Fragment fields, or `undefined` when the packet is not a fragment. */
  get fragment(): FragmentInfo | undefined {
    const ip = this.ip;
    if (ip instanceof Ipv4Packet) {
      return ip.isFragment ? { ident: ip.ident, offset: ip.fragOffsetBytes, more: ip.mf } : undefined;
    }
    if (this.#fragmentAt < 0) return undefined;
    const f = readIpv6Fragment(ip.bytes, this.#fragmentAt);
    return { ident: f.ident, offset: f.offset, more: f.more };
  }
}

/** A parsed IPv4 packet: `ipVersion` 4 narrows to this, with `ipv4` (and `ip`) set and no IPv6 views. */
export interface ParsedIpv4Packet extends ParsedPacket {
  /** 4. */
  readonly ipVersion: 4;
  /** The IPv4 header view (the same as `ipv4`). */
  readonly ip: Ipv4Packet;
  /** The IPv4 header view. */
  readonly ipv4: Ipv4Packet;
  /** None in an IPv4 packet. */
  readonly ipv6: undefined;
  /** None in an IPv4 packet (ICMP is `icmp`). */
  readonly icmpv6: undefined;
}

/** A parsed IPv6 packet: `ipVersion` 6 narrows to this, with `ipv6` (and `ip`) set and no IPv4 views. */
export interface ParsedIpv6Packet extends ParsedPacket {
  /** 6. */
  readonly ipVersion: 6;
  /** The IPv6 header view (the same as `ipv6`). */
  readonly ip: Ipv6Packet;
  /** None in an IPv6 packet. */
  readonly ipv4: undefined;
  /** The IPv6 header view. */
  readonly ipv6: Ipv6Packet;
  /** None in an IPv6 packet (ICMPv6 is `icmpv6`). */
  readonly icmp: undefined;
}

/**
 * What `parsePacket` returns: test `ipVersion` (or `ipv4`/`ipv6`) and the type narrows,
 * e.g. `if (p.ipVersion === 4) p.ipv4.ttl`.
 */
export type ParsedIpPacket = ParsedIpv4Packet | ParsedIpv6Packet;

/** Build the upper-layer view for `protocol` at `at` in `b`; `whole` means "not a fragment". */
function upperLayer(b: Uint8Array, at: number, protocol: number, v6: boolean, whole: boolean): Layers {
  const avail = b.length - at;
  switch (protocol) {
    case 6:
      if (whole) return { tcp: TcpPacket.checked(b, at) };
      return TcpPacket.checkLen(b, at) ? { tcp: new TcpPacket(b, at) } : {};
    case 17:
      if (whole) return { udp: UdpPacket.checked(b, at) };
      return avail >= 8 ? { udp: new UdpPacket(b, at) } : {};
    case 1:
      if (v6) return {};
      return whole ? { icmp: IcmpPacket.checked(b, at) } : avail >= 8 ? { icmp: new IcmpPacket(b, at) } : {};
    case 58:
      if (!v6) return {};
      return whole ? { icmpv6: Icmpv6Packet.checked(b, at) } : avail >= 8 ? { icmpv6: new Icmpv6Packet(b, at) } : {};
    default:
      return {};
  }
}

function l4Payload(l: Layers, b: Uint8Array, at: number): Uint8Array {
  if (l.tcp) return l.tcp.payload;
  if (l.udp) return l.udp.payload;
  if (l.icmp) return l.icmp.payload;
  if (l.icmpv6) return l.icmpv6.payload;
  return b.subarray(at);
}

/**
 * Parse raw IP bytes (IPv4 or IPv6, starting at byte 0) into checked views. Bytes past the IP
 * total length (link padding) are ignored. A first fragment gets an L4 view when its header fits
 * (the UDP Length is then not checked); later fragments get none. An IPv6 atomic fragment (offset
 * 0, M = 0, RFC 6946) holds a whole datagram: its L4 is checked as for an unfragmented packet,
 * while `isFragment` stays true and `fragment` reads `{ offset: 0, more: false }`.
 * @throws {PacketError} naming the layer and the fault when the bytes are malformed
 */
export function parsePacket(bytes: Uint8Array): ParsedIpPacket {
  const version = bytes.length > 0 ? bytes[0]! >> 4 : -1;
  if (version === 4) {
    const ip = Ipv4Packet.checked(bytes);
    const total = u16be(bytes, 2);
    const b = total < bytes.length ? bytes.subarray(0, total) : bytes;
    const frag = u16be(bytes, 6);
    const at = ip.hdrLen;
    const layers = (frag & 0x1fff) === 0 ? upperLayer(b, at, ip.protocol, false, (frag & 0x2000) === 0) : {};
    return new ParsedPacket(ip, ip.protocol, layers, l4Payload(layers, b, at), -1) as ParsedIpv4Packet;
  }
  if (version === 6) {
    const ip = Ipv6Packet.checked(bytes);
    const end = 40 + ip.payloadLength;
    const b = end < bytes.length ? bytes.subarray(0, end) : bytes;
    const chain = ip.chain();
    let layers: Layers = {};
    if (chain.fragmentOffset < 0) {
      layers = upperLayer(b, chain.offset, chain.protocol, true, true);
    } else {
      const w = u16be(b, chain.fragmentOffset + 2);
      if ((w & 0xfff8) === 0) layers = upperLayer(b, chain.offset, chain.protocol, true, (w & 1) === 0);
    }
    return new ParsedPacket(ip, chain.protocol, layers, l4Payload(layers, b, chain.offset), chain.fragmentOffset) as ParsedIpv6Packet;
  }
  throw new PacketError('IP', bytes.length === 0 ? 'empty buffer' : `unknown IP version ${version}`);
}

/** Like `parsePacket`, but `undefined` instead of a `PacketError` (other errors still throw). */
export function tryParsePacket(bytes: Uint8Array): ParsedIpPacket | undefined {
  try {
    return parsePacket(bytes);
  } catch (err) {
    if (err instanceof PacketError) return undefined;
    throw err;
  }
}
