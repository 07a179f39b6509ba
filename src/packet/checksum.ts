/**
 * The Internet checksum: RFC 1071 sums, IPv4/IPv6 pseudo-headers, RFC 1624 incremental updates,
 * and `fillChecksums` / `verifyChecksums` over a whole IP packet (WinDivert's
 * `HelperCalcChecksums`).
 *
 * Sums are "unfolded": plain JS numbers holding the sum of big-endian 16-bit words, exact up to
 * 2^53, so they can be added together freely and folded once at the end (RFC 1071 §2 (B), (C)).
 * @module
 */
import { PacketError } from '../errors.js';
import { u16be, setU16be } from './_bytes.js';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { finalDestinationOffset, newIpv6Chain, walkIpv6Chain } from './ipv6_ext.js';

/**
 * Unfolded sum of the big-endian 16-bit words of `bytes[start, end)`, plus `initial`. An odd
 * trailing byte is padded with a zero byte (RFC 1071 §4.1).
 *
 * High and low bytes are summed apart and recombined once (RFC 1071 §2 (B)). NB: for short
 * ranges a Uint32Array word loop was measured and dropped (on Node 20 reading `bytes.buffer` of a
 * small typed array, kept on V8's heap, to build a word view costs more than summing it byte by
 * byte); long ones, whose stores are off-heap anyway, take it (see sumLong).
 */
export function sumBytes(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  if (end - start >= WORDS_MIN && HOST_LITTLE_ENDIAN) return initial + sumLong(bytes, start, end);
  return initial + sumByByte(bytes, start, end);
}

/** From this length on, {@link sumLong} (32-bit reads) beats the byte loop. */
const WORDS_MIN = 128;

/**
 * sumBytes() of a long range, four bytes a read: the aligned middle as little-endian 32-bit
 * words, each split into its even-position bytes (b0, b2: the words' high bytes) and odd ones
 * (b1, b3), summed in two lanes 16 bits apart and recombined per 128 words, before a lane could
 * carry into the next. The same exact sum as the byte loop. A range whose 4-aligned part starts
 * an odd distance from `start` (a read would straddle words) takes the byte loop.
 */
function sumLong(bytes: Uint8Array, start: number, end: number): number {
  const a = start + ((4 - ((bytes.byteOffset + start) & 3)) & 3);
  if (((a - start) & 1) !== 0) return sumByByte(bytes, start, end);
  const n = (end - a) >>> 2;
  const b = a + n * 4;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + a, n);
  let high = 0; // Σ (b0 + b2) over the words: the 16-bit words' high bytes
  let low = 0; // Σ (b1 + b3)
  for (let i = 0; i < n; ) {
    const stop = Math.min(n, i + 128); // a lane holds at most 128 × 255 < 2^16: no carry between lanes
    let even = 0;
    let odd = 0;
    for (; i < stop; i++) {
      const w = words[i]!;
      even += w & 0x00ff00ff;
      odd += (w >>> 8) & 0x00ff00ff;
    }
    high += (even & 0xffff) + (even >>> 16);
    low += (odd & 0xffff) + (odd >>> 16);
  }
  // Head and tail start an even distance from `start`: their words are the range's own.
  return sumByByte(bytes, start, a) + high * 256 + low + sumByByte(bytes, b, end);
}

/** The byte loop of sumBytes(): `bytes[start, end)` as big-endian 16-bit words. */
function sumByByte(bytes: Uint8Array, start: number, end: number): number {
  let hi = 0;
  let lo = 0;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) {
    hi += bytes[i]!;
    lo += bytes[i + 1]!;
  }
  if (i < end) hi += bytes[i]!;
  return hi * 256 + lo;
}

/** Fold an unfolded sum to 16 bits with end-around carry (not complemented). */
export function foldChecksum(sum: number): number {
  // NB: bit operators are exact only below 2^32; larger sums (huge buffers) take the slow path.
  while (sum > 0xffff) {
    sum = sum > 0xffffffff ? (sum % 0x10000) + Math.floor(sum / 0x10000) : (sum & 0xffff) + (sum >>> 16);
  }
  return sum;
}

/** The checksum field value for `bytes[start, end)`: the complement of the folded sum. */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return ~foldChecksum(sumBytes(bytes, start, end, initial)) & 0xffff;
}

/** Unfolded sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768): addresses, protocol, length. */
export function pseudoHeaderSumIpv4(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return sumBytes(src, 0, 4) + sumBytes(dst, 0, 4) + protocol + length;
}

/**
 * Unfolded sum of the IPv6 pseudo-header (RFC 8200 §8.1): 32-bit upper-layer length and next
 * header. `dst` must be the final destination when a routing header is present.
 */
export function pseudoHeaderSumIpv6(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  return sumBytes(src, 0, 16) + sumBytes(dst, 0, 16) + nextHeader + (length >>> 16) + (length & 0xffff);
}

/**
 * RFC 1624 eqn. 3 incremental update, HC' = ~(~HC + ~m + m'), when one 16-bit word of the
 * covered data changes from `oldWord` to `newWord`. Unlike eqn. 2 it cannot produce the -0
 * (0xffff) a full recompute never gives.
 */
export function updateChecksum16(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldChecksum(sum) & 0xffff;
}

/** RFC 1624 update for a 32-bit field (a TCP sequence number, an IPv4 address) that changed. */
export function updateChecksum32(oldChecksum: number, oldValue: number, newValue: number): number {
  const sum =
    (~oldChecksum & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff);
  return ~foldChecksum(sum) & 0xffff;
}

/**
 * RFC 1624 update for an even-length field given as bytes (an IPv6 address), replacing
 * `oldBytes` with `newBytes`. Throws a `RangeError` when the lengths differ or are odd.
 */
export function updateChecksumBytes(oldChecksum: number, oldBytes: Uint8Array, newBytes: Uint8Array): number {
  if (oldBytes.length !== newBytes.length || oldBytes.length % 2 !== 0) {
    throw new RangeError('Cannot update checksum: fields must have the same even length');
  }
  // ~m summed word by word equals (0xffff * words - sum(m)); subtracting keeps the sum positive.
  const words = oldBytes.length / 2;
  const sum = (~oldChecksum & 0xffff) + 0xffff * words - sumBytes(oldBytes) + sumBytes(newBytes);
  return ~foldChecksum(sum) & 0xffff;
}

/** Which checksums `fillChecksums` writes; each defaults to `true` (WinDivert `NO_*_CHECKSUM`). */
export interface FillChecksumsOptions {
  /** Write the IPv4 header checksum. */
  ip?: boolean;
  /** Write the TCP checksum. */
  tcp?: boolean;
  /** Write the UDP checksum. */
  udp?: boolean;
  /** Write the ICMP checksum. */
  icmp?: boolean;
  /** Write the ICMPv6 checksum. */
  icmpv6?: boolean;
}

/**
 * Per-layer verdicts from `verifyChecksums`; a layer that is absent (or a fragment's L4) is
 * omitted. An IPv6 atomic fragment's L4 is judged (RFC 6946).
 */
export interface ChecksumReport {
  /** Whether the IPv4 header checksum is right. */
  ip?: boolean;
  /** Whether the TCP checksum is right. */
  tcp?: boolean;
  /** Whether the UDP checksum is right. */
  udp?: boolean;
  /** Whether the ICMP checksum is right. */
  icmp?: boolean;
  /** Whether the ICMPv6 checksum is right. */
  icmpv6?: boolean;
}

/** Where one packet's upper layer sits and what its pseudo-header adds (scratch, reused). */
interface L4Span {
  protocol: number;
  start: number;
  end: number;
  pseudo: number;
  ipv6: boolean;
  fragment: boolean;
}

const span: L4Span = { protocol: 0, start: 0, end: 0, pseudo: 0, ipv6: false, fragment: false };
const chain = newIpv6Chain();

/**
 * End of the UDP datagram at `start`: RFC 768 checksums (and pseudo-header length) cover the UDP
 * Length, which is shorter than the IP payload when padding follows. An invalid Length (below 8
 * or beyond `end`) falls back to `end`. TCP has no length field: its span is the IP payload.
 */
function udpEnd(b: Uint8Array, start: number, end: number): number {
  if (end - start < 8) return end;
  const len = u16be(b, start + 4);
  return len >= 8 && len <= end - start ? start + len : end;
}

/**
 * Locate the IP header and upper layer of `b`, or throw a `PacketError` for malformed bytes.
 * `fragment` is false for an IPv6 atomic fragment, whose upper layer is whole (RFC 6946).
 */
function locate(b: Uint8Array): L4Span {
  const version = b.length > 0 ? b[0]! >> 4 : -1;
  if (version === 4) {
    if (b.length < 20) throw new PacketError('IPv4', `truncated: ${b.length} bytes, header needs 20`);
    const hl = (b[0]! & 0x0f) * 4;
    const total = u16be(b, 2);
    if (hl < 20) throw new PacketError('IPv4', `IHL ${hl / 4} is below 5`);
    if (total < hl || total > b.length) throw new PacketError('IPv4', `total length ${total} does not fit`);
    const fragment = (u16be(b, 6) & 0x3fff) !== 0;
    const protocol = b[9]!;
    const l4End = protocol === 17 && !fragment ? udpEnd(b, hl, total) : total;
    span.protocol = protocol;
    span.start = hl;
    span.end = l4End;
    span.pseudo = sumBytes(b, 12, 20) + protocol + (l4End - hl);
    span.ipv6 = false;
    span.fragment = fragment;
    return span;
  }
  if (version === 6) {
    if (b.length < 40) throw new PacketError('IPv6', `truncated: ${b.length} bytes, header needs 40`);
    const end = 40 + u16be(b, 4);
    if (end > b.length) throw new PacketError('IPv6', `payload length ${end - 40} exceeds the buffer`);
    walkIpv6Chain(b, 0, end, chain);
    if (chain.fault !== undefined) throw new PacketError('IPv6', chain.fault);
    const dst = finalDestinationOffset(b, 0, chain.routingOffset);
    // An atomic fragment (offset 0, M = 0) holds the whole datagram (RFC 6946 §4).
    const fragment = chain.fragmentOffset >= 0 && (u16be(b, chain.fragmentOffset + 2) & 0xfff9) !== 0;
    const l4End = chain.protocol === 17 && !fragment ? udpEnd(b, chain.offset, end) : end;
    span.protocol = chain.protocol;
    span.start = chain.offset;
    span.end = l4End;
    span.pseudo = sumBytes(b, 8, 24) + sumBytes(b, dst, dst + 16) + chain.protocol + (l4End - chain.offset);
    span.ipv6 = true;
    span.fragment = fragment;
    return span;
  }
  throw new PacketError('IP', b.length === 0 ? 'empty buffer' : `unknown IP version ${version}`);
}

/** Checksum field offset within the L4 header and minimum header length, or -1 when unhandled. */
function l4Field(s: L4Span, o: FillChecksumsOptions | undefined): number {
  switch (s.protocol) {
    case 6:
      return o?.tcp === false ? -1 : 16;
    case 17:
      return o?.udp === false ? -1 : 6;
    case 1:
      return s.ipv6 || o?.icmp === false ? -1 : 2;
    case 58:
      return !s.ipv6 || o?.icmpv6 === false ? -1 : 2;
    default:
      return -1;
  }
}

/** Minimum upper-layer header length: TCP 20 (RFC 9293 §3.1), UDP/ICMP/ICMPv6 8. */
function minL4(protocol: number): number {
  return protocol === 6 ? 20 : 8;
}

function layerName(s: L4Span): string {
  return s.protocol === 6 ? 'TCP' : s.protocol === 17 ? 'UDP' : s.ipv6 ? 'ICMPv6' : 'ICMP';
}

/**
 * Recompute and write every checksum of the IP packet in `bytes` (IPv4 header, TCP, UDP, ICMP,
 * ICMPv6), unless switched off in `options`. Fragments' upper-layer checksums are left alone: a
 * fragment does not hold the whole datagram the checksum covers; an IPv6 atomic fragment (offset
 * 0, M = 0) does, and is filled (RFC 6946). UDP covers its Length field's bytes when that is
 * valid (RFC 768), else the IP payload. A UDP checksum computing to 0 is written as 0xffff (RFC
 * 768; RFC 8200 §8.1).
 * @throws {PacketError} when the IP header, or the header of a layer to fill, is malformed
 */
export function fillChecksums(bytes: Uint8Array, options?: FillChecksumsOptions): void {
  const s = locate(bytes);
  if (!s.ipv6 && options?.ip !== false) {
    const hl = s.start;
    setU16be(bytes, 10, 0);
    setU16be(bytes, 10, internetChecksum(bytes, 0, hl));
  }
  if (s.fragment) return;
  const field = l4Field(s, options);
  if (field < 0) return;
  if (s.end - s.start < minL4(s.protocol)) throw new PacketError(layerName(s), 'truncated header');
  const at = s.start + field;
  setU16be(bytes, at, 0);
  const initial = s.protocol === 1 ? 0 : s.pseudo;
  let c = internetChecksum(bytes, s.start, s.end, initial);
  if (c === 0 && s.protocol === 17) c = 0xffff;
  setU16be(bytes, at, c);
}

/**
 * Check every checksum of the IP packet in `bytes`. An IPv4 UDP checksum of 0 means "not
 * computed" and passes (RFC 768); over IPv6 it fails (RFC 8200 §8.1).
 * @throws {PacketError} when the IP header is malformed
 */
export function verifyChecksums(bytes: Uint8Array): ChecksumReport {
  const s = locate(bytes);
  const report: ChecksumReport = {};
  if (!s.ipv6) report.ip = foldChecksum(sumBytes(bytes, 0, s.start)) === 0xffff;
  const field = l4Field(s, undefined);
  if (s.fragment || field < 0 || s.end - s.start < minL4(s.protocol)) return report;
  const initial = s.protocol === 1 ? 0 : s.pseudo;
  let ok = foldChecksum(sumBytes(bytes, s.start, s.end, initial)) === 0xffff;
  if (s.protocol === 17 && !s.ipv6 && u16be(bytes, s.start + 6) === 0) ok = true;
  const key = s.protocol === 6 ? 'tcp' : s.protocol === 17 ? 'udp' : s.ipv6 ? 'icmpv6' : 'icmp';
  report[key] = ok;
  return report;
}
