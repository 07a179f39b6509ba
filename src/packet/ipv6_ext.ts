/**
 * The IPv6 extension-header chain walk (RFC 8200 §4): hop-by-hop, routing, fragment and
 * destination-options headers, followed to the upper-layer header.
 *
 * ```
 *  +---------------+--------------+------------------------------+
 *  |  Next Header  | Hdr Ext Len  |  (len + 1) * 8 bytes in all  |   HBH (0), Routing (43), DstOpts (60)
 *  +---------------+--------------+------------------------------+
 *  |  Next Header  |   Reserved   | Fragment Offset |Res|M| + 32-bit Identification |   Fragment (44): 8 bytes
 * ```
 * @module
 */
import { checkOffset, u16be, u32be } from './_bytes.js';

/** Extension header numbers this walk understands (RFC 8200 §4.1). */
export const IPV6_EXT_HEADER = { HOP_BY_HOP: 0, ROUTING: 43, FRAGMENT: 44, DEST_OPTS: 60 } as const;

/**
 * The result of walking one IPv6 packet's header chain. Every offset is absolute (an index into
 * the walked `Uint8Array`), and `-1` means "absent".
 */
export interface Ipv6Chain {
  /** Upper-layer protocol: the Next Header value that ended the walk. */
  protocol: number;
  /** Offset of the upper-layer header (or of fragment data for a non-first fragment). */
  offset: number;
  /** Offset of the (first) fragment header, or -1. */
  fragmentOffset: number;
  /** Offset of the Next Header byte that names the fragment header, or -1. */
  fragmentPrevNext: number;
  /** Offset of the last routing header, or -1. */
  routingOffset: number;
  /** End of the unfragmentable part (RFC 8200 §4.5): after the last hop-by-hop or routing header. */
  unfragmentableEnd: number;
  /** Offset of the Next Header byte that ends the unfragmentable part. */
  unfragmentablePrevNext: number;
  /** Why the chain is malformed, or `undefined` when it is well formed. */
  fault: string | undefined;
}

/** A fresh, empty chain record (reuse one in hot loops to avoid allocation). */
export function newIpv6Chain(): Ipv6Chain {
  return {
    protocol: 0, offset: 0, fragmentOffset: -1, fragmentPrevNext: -1, routingOffset: -1,
    unfragmentableEnd: 0, unfragmentablePrevNext: 0, fault: undefined,
  };
}

/**
 * Walk the chain of the IPv6 packet at `start`, never reading at or past `end`, into `out`.
 * The walk stops after the fragment header of a non-first fragment: what follows is data.
 * @throws {RangeError} unless `start` and `end` are integers with `0 <= start <= end <= b.length`
 */
export function walkIpv6Chain(b: Uint8Array, start: number, end: number, out: Ipv6Chain): Ipv6Chain {
  checkOffset(b, start, 'an IPv6 header chain walk');
  if (!Number.isInteger(end) || end < start || end > b.length) {
    throw new RangeError(`Cannot walk an IPv6 header chain: end ${String(end)} is not an integer in [${start}, ${b.length}]`);
  }
  out.fragmentOffset = -1;
  out.fragmentPrevNext = -1;
  out.routingOffset = -1;
  out.fault = undefined;
  let prevNext = start + 6;
  let nh = b[prevNext]!;
  let cur = start + 40;
  out.unfragmentableEnd = cur;
  out.unfragmentablePrevNext = prevNext;
  for (;;) {
    if (nh !== 0 && nh !== 43 && nh !== 44 && nh !== 60) break;
    if (nh === 0 && cur !== start + 40) {
      out.fault = 'hop-by-hop header is not first (RFC 8200 §4.1)';
      break;
    }
    if (cur + 8 > end) {
      out.fault = `extension header ${nh} at offset ${cur - start} is truncated`;
      break;
    }
    const len = nh === 44 ? 8 : (b[cur + 1]! + 1) * 8;
    if (cur + len > end) {
      out.fault = `extension header ${nh} at offset ${cur - start} is truncated`;
      break;
    }
    if (nh === 44) {
      if (out.fragmentOffset >= 0) {
        out.fault = 'more than one fragment header';
        break;
      }
      out.fragmentOffset = cur;
      out.fragmentPrevNext = prevNext;
    } else if (nh === 0 || nh === 43) {
      if (nh === 43) out.routingOffset = cur;
      out.unfragmentableEnd = cur + len;
      out.unfragmentablePrevNext = cur;
    }
    prevNext = cur;
    const isLaterFragment = nh === 44 && (u16be(b, cur + 2) & 0xfff8) !== 0;
    nh = b[cur]!;
    cur += len;
    if (isLaterFragment) break;
  }
  out.protocol = nh;
  out.offset = cur;
  return out;
}

/** Fragment header fields (RFC 8200 §4.5). `offset` is in bytes (the field times 8). */
export interface Ipv6FragmentInfo {
  /** Absolute offset of the fragment header. */
  headerOffset: number;
  /** Fragment offset in bytes. */
  offset: number;
  /** The M (more fragments) flag. */
  more: boolean;
  /** The 32-bit Identification. */
  ident: number;
  /** Next Header inside the fragment header: the first fragmentable header's type. */
  nextHeader: number;
}

/** Decode the fragment header at `at` (which must hold 8 readable bytes). */
export function readIpv6Fragment(b: Uint8Array, at: number): Ipv6FragmentInfo {
  const w = u16be(b, at + 2);
  return { headerOffset: at, offset: w & 0xfff8, more: (w & 1) !== 0, ident: u32be(b, at + 4), nextHeader: b[at]! };
}

/**
 * Offset of the 16-byte address the upper-layer pseudo-header must use as destination (RFC 8200
 * §8.1): with a routing header whose Segments Left is non-zero, the final destination carried in
 * it (type 0: last address; type 2: its one address; type 4 SRH: Segment List[0], RFC 8754 §2);
 * otherwise the header's Destination Address. RPL (type 3) addresses are compressed: not handled.
 * A routing header whose address would not fit in `b` (an offset not found by the walk) also
 * gives the Destination Address: the result always leaves 16 bytes of `b` to read, or is `start + 24`.
 * @throws {RangeError} when `start` is not a valid offset or `routingOffset` is neither -1 nor
 * an integer in `[start + 40, b.length]`
 */
export function finalDestinationOffset(b: Uint8Array, start: number, routingOffset: number): number {
  checkOffset(b, start, 'an IPv6 final destination lookup');
  const dst = start + 24;
  if (routingOffset === -1) return dst;
  if (!Number.isInteger(routingOffset) || routingOffset < start + 40 || routingOffset > b.length) {
    throw new RangeError(`Cannot find the IPv6 final destination: routing header offset ${String(routingOffset)} is neither -1 nor an integer in [${start + 40}, ${b.length}]`);
  }
  const r = routingOffset;
  const hdrExtLen = b[r + 1]!;
  const type = b[r + 2]!;
  const segmentsLeft = b[r + 3]!;
  if (segmentsLeft === 0 || hdrExtLen < 2) return dst;
  const at = type === 0 ? r + 8 + (Math.floor(hdrExtLen / 2) - 1) * 16 : type === 2 || type === 4 ? r + 8 : dst;
  return at + 16 <= b.length ? at : dst;
}
