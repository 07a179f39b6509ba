/**
 * Builders for whole packets, for injection and tests: an IP header (v4 or v6, chosen by the
 * address form) plus UDP and a payload, with every length and checksum filled.
 * @module
 */
import { Ipv4Packet, IPV4_HEADER_LEN } from './ipv4.js';
import { Ipv6Packet, IPV6_HEADER_LEN } from './ipv6.js';
import { UdpPacket, UDP_HEADER_LEN } from './udp.js';
import { IP_PROTOCOL } from '../ip/protocols.js';
import { fillChecksums } from './checksum.js';

/** What `buildUdpPacket` builds: addresses (both IPv4 or both IPv6), ports and payload. */
export interface UdpPacketInit {
  /** Source address; its form chooses IPv4 or IPv6. */
  src: string;
  /** Destination address, of the same family. */
  dst: string;
  /** UDP source port, 0-65535. */
  srcPort: number;
  /** UDP destination port, 0-65535. */
  dstPort: number;
  /** The datagram's data; a string is encoded as UTF-8. */
  payload: Uint8Array | string;
  /** TTL / hop limit (default 64). */
  ttl?: number | undefined;
  /** IPv4 identification (default 0) and DF flag (default false). */
  ident?: number | undefined;
  /** See {@link ident}. */
  dontFragment?: boolean | undefined;
}

/**
 * Builds a UDP datagram over IPv4 or IPv6 (by the form of `src`), checksums filled.
 * @throws {RangeError|SyntaxError} for bad ports or addresses; RangeError when it exceeds 65535 bytes.
 * @example
 * ```ts
 * const bytes = buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 4000, dstPort: 53, payload: 'hi' });
 * ```
 */
export function buildUdpPacket(init: UdpPacketInit): Uint8Array {
  const payload = typeof init.payload === 'string' ? new TextEncoder().encode(init.payload) : init.payload;
  const v6 = init.src.includes(':');
  const ipLen = v6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
  const total = ipLen + UDP_HEADER_LEN + payload.length;
  if (total > 65535 + (v6 ? IPV6_HEADER_LEN : 0)) throw new RangeError(`A ${total}-byte UDP packet is too large`);
  const bytes = new Uint8Array(total);
  if (v6) {
    const ip = new Ipv6Packet(bytes);
    ip.version = 6;
    ip.payloadLength = UDP_HEADER_LEN + payload.length;
    ip.nextHeader = IP_PROTOCOL.UDP;
    ip.hopLimit = init.ttl ?? 64;
    ip.src = init.src;
    ip.dst = init.dst;
  } else {
    const ip = new Ipv4Packet(bytes);
    ip.version = 4;
    ip.ihl = 5;
    ip.totalLength = total;
    ip.ident = init.ident ?? 0;
    ip.df = init.dontFragment ?? false;
    ip.ttl = init.ttl ?? 64;
    ip.protocol = IP_PROTOCOL.UDP;
    ip.src = init.src;
    ip.dst = init.dst;
  }
  const udp = new UdpPacket(bytes, ipLen);
  udp.srcPort = init.srcPort;
  udp.dstPort = init.dstPort;
  udp.length = UDP_HEADER_LEN + payload.length;
  bytes.set(payload, ipLen + UDP_HEADER_LEN);
  fillChecksums(bytes);
  return bytes;
}
