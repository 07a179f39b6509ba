/**
 * `divert/packet`: zero-copy views over raw IP packets, checksums, fragmentation and reassembly.
 * Pure code: no I/O and no `node:*` imports in this folder, so it runs in any JS runtime.
 *
 * The contract (after smoltcp's `wire` module):
 * - `new XPacket(bytes, offset?)` wraps bytes without a check. It is for emitting into a buffer
 *   you sized yourself; it must not be used on untrusted input.
 * - `XPacket.checked(bytes, offset?)` checks lengths first and throws `PacketError` (with
 *   `layer` and `reason`); `XPacket.checkLen(bytes, offset?)` answers the same question as a
 *   boolean. Once a view is checked, no accessor throws and none reads outside the buffer.
 * - Setters documented as invalidating (lengths, header lengths, next-header fields) void that
 *   promise until you check again.
 * - Views never cache: every getter reads the bytes, every setter writes them. Setters take
 *   in-range integers only (`RangeError` otherwise) and addresses as text or bytes.
 * - `parsePacket(bytes)` checks every layer and returns a `ParsedPacket`; `tryParsePacket`
 *   returns `undefined` instead of throwing.
 *
 * @example
 * ```ts
 * import { parsePacket, fillChecksums, formatPacket } from 'divert/packet';
 * const p = parsePacket(bytes);
 * if (p.tcp) p.tcp.dstPort = 8080;
 * fillChecksums(bytes);
 * console.log(formatPacket(p));
 * ```
 * @module
 */
export { PacketError } from '../errors.js';
export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../ip/address.js';
export {
  foldChecksum, internetChecksum, pseudoHeaderSumIpv4, pseudoHeaderSumIpv6, sumBytes,
  updateChecksum16, updateChecksum32, updateChecksumBytes, fillChecksums, verifyChecksums,
  type ChecksumReport, type FillChecksumsOptions,
} from './checksum.js';
export { formatPacket, formatTcpFlags } from './format.js';
export {
  copiedIpv4Options, fragmentPacket, FragmentationNeededError, type FragmentOptions,
} from './fragment.js';
export { IcmpPacket } from './icmp.js';
export { Icmpv6Packet } from './icmpv6.js';
export { ICMP_HEADER_LEN, type IcmpHeaderView } from './_icmp_common.js';
export {
  ICMP_TYPE, ICMPV6_TYPE, IP_PROTOCOL, icmpTypeName, icmpTypeNumber, protocolName, protocolNumber,
} from '../ip/protocols.js';
export { IPV4_FLAGS, IPV4_HEADER_LEN, Ipv4Packet } from './ipv4.js';
export { IPV6_HEADER_LEN, Ipv6Packet } from './ipv6.js';
export {
  IPV6_EXT_HEADER, finalDestinationOffset, walkIpv6Chain, newIpv6Chain,
  type Ipv6Chain, type Ipv6FragmentInfo,
} from './ipv6_ext.js';
export { ParsedPacket, parsePacket, tryParsePacket, type FragmentInfo, type ParsedIpPacket, type ParsedIpv4Packet, type ParsedIpv6Packet } from './parse.js';
export { Reassembler, type ReassemblerOptions, type ReassemblerStats } from './reassembler.js';
export {
  TCP_FLAGS, TCP_HEADER_LEN, TCP_OPTION, TcpPacket, encodeTcpOptions, parseTcpOptions, type TcpOption,
} from './tcp.js';
export { UDP_HEADER_LEN, UdpPacket } from './udp.js';
export { buildUdpPacket, type UdpPacketInit } from './build.js';
export { withTcpPayload } from './tcp_payload.js';
