/**
 * The bytes of divert's own ping: ICMP echo requests (RFC 792) and ICMPv6 echo requests (RFC
 * 4443 §4.1) to send, and what comes back on the receiving sockets, read into events. Pure: the
 * sockets live in ./ping.ts.
 *
 * ```
 *  echo request / reply                          ICMP error (v4: RFC 792; v6: RFC 4443 §3)
 *  | Type 8/128 (0/129) | Code 0 | Checksum |    | Type | Code | Checksum |
 *  |     Identifier     |  Sequence Number  |    | unused / next-hop MTU (v4 3/4) / MTU (v6 2) |
 *  | token (8 bytes) | pattern bytes …      |    | the offending packet: IP header + ≥ 8 bytes |
 * ```
 * Replies are ours when Identifier, the random token at the start of the data, and (where the
 * socket shows it) the source address match; the Sequence Number then says which request.
 * Reads never trust a length field: a datagram may be cut short (MSG_TRUNC) or quoted in part.
 * @module
 */
import { ICMP_TYPE, ICMPV6_TYPE, IcmpPacket, formatIpv4, formatIpv6, newIpv6Chain, walkIpv6Chain } from '../../packet/mod.js';

/** Bytes of random token each request carries first in its data (fewer when the data is shorter). */
export const ECHO_TOKEN_LEN = 8;

/** What one received datagram says about one of our requests (by its sequence number). */
export type EchoEvent =
  | { kind: 'reply'; seq: number; from: string | undefined; ttl: number | undefined }
  | { kind: 'error'; seq: number; type: number; code: number; mtu: number | undefined; from: string | undefined };

/** The request data: the token (cut to `size`), then bytes counting up from 0x10 as iputils does. */
export function echoData(token: Uint8Array, size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (0x10 + i) & 0xff;
  data.set(token.subarray(0, Math.min(size, token.length)));
  return data;
}

/**
 * An echo request message for a raw socket: ICMP with its checksum filled, or ICMPv6 with the
 * checksum left 0 (the kernel fills it for IPPROTO_ICMPV6 raw sockets, RFC 3542 §3.1).
 */
export function encodeEchoRequest(v6: boolean, ident: number, seq: number, data: Uint8Array): Uint8Array {
  const msg = new Uint8Array(8 + data.length);
  const icmp = new IcmpPacket(msg);
  icmp.type = v6 ? ICMPV6_TYPE.ECHO_REQUEST : ICMP_TYPE.ECHO_REQUEST;
  icmp.id = ident;
  icmp.seq = seq;
  msg.set(data, 8);
  if (!v6) icmp.fillChecksum();
  return msg;
}

/** Whether `b` holds an echo header with `ident` at `at` and the token (as far as it fits) after it. */
function ours(b: Uint8Array, at: number, ident: number, token: Uint8Array, size: number): boolean {
  const n = Math.min(size, token.length);
  if (b.length < at + 8 + n) return false;
  const v = new IcmpPacket(b, at);
  if (v.id !== ident) return false;
  for (let i = 0; i < n; i++) if (b[at + 8 + i] !== token[i]) return false;
  return true;
}

/** Who we ping and how each request looks: what a received datagram must match. */
export interface EchoMatch {
  ident: number;
  token: Uint8Array;
  /** Request data size (the token is cut to it). */
  size: number;
  /** The pinged address as text (RFC 5952 for IPv6). */
  target: string;
}

/** The first 8 quoted bytes of an IPv4 datagram inside an ICMP error, when it is our request. */
function quotedIpv4(b: Uint8Array, at: number, m: EchoMatch): number | undefined {
  if (b.length < at + 20 || b[at]! >> 4 !== 4 || b[at + 9] !== 1) return undefined;
  const ihl = (b[at]! & 0x0f) * 4;
  const icmp = at + ihl;
  // Only the first 8 bytes of the request are sure to be quoted (RFC 792): no token check here.
  if (ihl < 20 || b.length < icmp + 8 || formatIpv4(b, at + 16) !== m.target) return undefined;
  if (b[icmp] !== ICMP_TYPE.ECHO_REQUEST || !ours(b, icmp, m.ident, m.token, 0)) return undefined;
  return new IcmpPacket(b, icmp).seq;
}

/**
 * One datagram of a raw IPv4 ICMP socket (the kernel includes the IP header): our echo reply, an
 * ICMP error quoting one of our requests, or `undefined`.
 */
export function readIcmpDatagram(b: Uint8Array, m: EchoMatch): EchoEvent | undefined {
  if (b.length < 20 || b[0]! >> 4 !== 4 || b[9] !== 1) return undefined;
  const ihl = (b[0]! & 0x0f) * 4;
  if (ihl < 20 || b.length < ihl + 8 || (((b[6]! << 8) | b[7]!) & 0x3fff) !== 0) return undefined;
  const from = formatIpv4(b, 12);
  const icmp = new IcmpPacket(b, ihl);
  if (icmp.type === ICMP_TYPE.ECHO_REPLY) {
    if (icmp.code !== 0 || from !== m.target || !ours(b, ihl, m.ident, m.token, m.size)) return undefined;
    return { kind: 'reply', seq: icmp.seq, from, ttl: b[8] };
  }
  if (icmp.type !== ICMP_TYPE.DEST_UNREACHABLE && icmp.type !== ICMP_TYPE.TIME_EXCEEDED && icmp.type !== ICMP_TYPE.PARAMETER_PROBLEM) return undefined;
  const seq = quotedIpv4(b, ihl + 8, m);
  if (seq === undefined) return undefined;
  // RFC 1191 §4: "fragmentation needed" carries the next hop's MTU in the low half of the unused word.
  const mtu = icmp.type === ICMP_TYPE.DEST_UNREACHABLE && icmp.code === 4 ? icmp.restOfHeader & 0xffff : undefined;
  return { kind: 'error', seq, type: icmp.type, code: icmp.code, mtu, from };
}

const chain = newIpv6Chain();

/** Offset of the ICMPv6 header in the IPv6 packet at `at`, when its addresses are the ones given. */
function icmpv6In(b: Uint8Array, at: number, addr: { src?: string; dst?: string }): number | undefined {
  if (b.length < at + 40 || b[at]! >> 4 !== 6) return undefined;
  if (addr.src !== undefined && formatIpv6(b, at + 8) !== addr.src) return undefined;
  if (addr.dst !== undefined && formatIpv6(b, at + 24) !== addr.dst) return undefined;
  const end = Math.min(b.length, at + 40 + ((b[at + 4]! << 8) | b[at + 5]!));
  walkIpv6Chain(b, at, end, chain);
  if (chain.fault !== undefined || chain.protocol !== 58 || chain.offset + 8 > end) return undefined;
  // A later fragment has data, not an ICMPv6 header, where the walk stopped.
  if (chain.fragmentOffset >= 0 && (((b[chain.fragmentOffset + 2]! << 8) | b[chain.fragmentOffset + 3]!) & 0xfff8) !== 0) return undefined;
  return chain.offset;
}

/**
 * One message of a raw ICMPv6 socket (no IP header, so no source and no hop limit): our echo
 * reply, an ICMPv6 error quoting one of our requests, or `undefined`.
 */
export function readIcmpv6Message(b: Uint8Array, m: EchoMatch): EchoEvent | undefined {
  if (b.length < 8) return undefined;
  const icmp = new IcmpPacket(b);
  if (icmp.type === ICMPV6_TYPE.ECHO_REPLY) {
    if (icmp.code !== 0 || !ours(b, 0, m.ident, m.token, m.size)) return undefined;
    return { kind: 'reply', seq: icmp.seq, from: undefined, ttl: undefined };
  }
  if (icmp.type < ICMPV6_TYPE.DEST_UNREACHABLE || icmp.type > ICMPV6_TYPE.PARAMETER_PROBLEM) return undefined;
  const at = icmpv6In(b, 8, { dst: m.target });
  if (at === undefined || b[at] !== ICMPV6_TYPE.ECHO_REQUEST || !ours(b, at, m.ident, m.token, 0)) return undefined;
  const mtu = icmp.type === ICMPV6_TYPE.PACKET_TOO_BIG ? icmp.restOfHeader : undefined;
  return { kind: 'error', seq: new IcmpPacket(b, at).seq, type: icmp.type, code: icmp.code, mtu, from: undefined };
}

/**
 * One IPv6 packet as an AF_PACKET (SOCK_DGRAM, ETH_P_IPV6) socket sees it, header included: the
 * sequence number and hop limit of our echo reply, or `undefined`. Only a first fragment carries
 * the ICMPv6 header; its hop limit is the datagram's.
 */
export function readIpv6HopLimit(b: Uint8Array, m: EchoMatch): { seq: number; hopLimit: number } | undefined {
  const at = icmpv6In(b, 0, { src: m.target });
  if (at === undefined || b[at] !== ICMPV6_TYPE.ECHO_REPLY || !ours(b, at, m.ident, m.token, m.size)) return undefined;
  return { seq: new IcmpPacket(b, at).seq, hopLimit: b[7]! };
}
