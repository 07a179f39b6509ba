/**
 * `Reassembler`: rebuild IP datagrams from fragments (RFC 791 §3.2, RFC 8200 §4.5) with bounded
 * memory and work, and an explicit clock (no timers: pass `nowMs` in).
 *
 * Each datagram keeps its pieces sorted by offset and disjoint, which is the complement of the
 * RFC 815 hole list: a binary search finds what a fragment overlaps (O(log n)), and the datagram
 * is complete when its held bytes equal its length, once the last fragment is known.
 *
 * Memory: every piece (and the kept header) is charged its bytes plus `PIECE_OVERHEAD` for the
 * JS objects around it, each datagram `DATAGRAM_OVERHEAD` for its record and key (the idea of the
 * kernel's skb truesize), and a datagram may hold `maxFragments` pieces. Tombstones are not
 * charged: `maxDatagrams` bounds them (a few hundred bytes each).
 *
 * Overlap policy (decided here, tested in `reassembler_test.ts`):
 * - An exact duplicate (same offset, length and bytes) is dropped and the datagram kept, for both
 *   versions (RFC 8200 §4.5 allows this; networks do duplicate packets).
 * - IPv6: any other overlap abandons the whole datagram (RFC 5722 §4), and later fragments of it
 *   are discarded until its timeout.
 * - IPv4: an overlap whose overlapping bytes are identical is accepted (only the bytes not yet
 *   held are stored); one with different bytes abandons the datagram the same way. That keeps
 *   benign retransmissions working and refuses the "overlapping fragment" evasion where two
 *   copies of one byte range differ.
 * - IPv6 atomic fragments (offset 0, M = 0) are whole packets, handled apart from any pending
 *   datagram with the same Identification (RFC 6946 §4).
 * @module
 */
import { PacketError } from '../errors.js';
import { setU16be, u16be } from './_bytes.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { readIpv6Fragment } from './ipv6_ext.js';

/**
 * Bytes charged per stored piece beyond its data: a small `Uint8Array` and its record cost about
 * 250 bytes of V8 heap (Node 20), measured in `reassembler_test.ts`; Linux likewise charges a
 * fragment's skb truesize, not its payload.
 */
export const PIECE_OVERHEAD = 256;
/** Bytes charged per datagram holding data: its record, key string, map entry and piece array. */
export const DATAGRAM_OVERHEAD = 512;

/** Limits for a `Reassembler`; every field has a default. */
export interface ReassemblerOptions {
  /** A datagram not completed this long after its first fragment is dropped (default 30000, Linux ipfrag_time). */
  timeoutMs?: number;
  /** Bytes charged to one datagram, header and overheads included (default 131072). */
  maxDatagramBytes?: number;
  /** Bytes charged to all pending datagrams; the oldest are evicted past it (default 4 MiB). */
  maxTotalBytes?: number;
  /** Pending datagrams (and tombstones) at most; the oldest are evicted past it (default 1024). */
  maxDatagrams?: number;
  /**
   * Pieces one datagram may hold; past it the datagram is dropped and counted (default 128: a
   * 65535-byte datagram over a 576-byte IPv4 MTU takes 119). An IPv4 fragment that overlaps held
   * bytes stores one piece per gap it fills.
   */
  maxFragments?: number;
}

/** Counters since construction, plus the current load. */
export interface ReassemblerStats {
  /** Datagrams returned whole. */
  completed: number;
  /** Datagrams dropped by `expire()` (or found stale by `push()`). */
  expired: number;
  /** Datagrams abandoned for an overlap (see the module doc). */
  overlaps: number;
  /** Exact duplicate fragments ignored. */
  duplicates: number;
  /** Datagrams dropped or evicted to respect a memory or count limit. */
  droppedMemory: number;
  /** Datagrams abandoned because fragments disagree on the end or exceed 65535 bytes. */
  inconsistent: number;
  /** Datagrams dropped for holding more than `maxFragments` pieces. */
  tooManyFragments: number;
  /** IPv6 atomic fragments returned on their own (RFC 6946). */
  atomic: number;
  /** Datagrams pending now (tombstones included). */
  pending: number;
  /** Bytes charged now: data and headers plus `PIECE_OVERHEAD` each, `DATAGRAM_OVERHEAD` per datagram. */
  bytes: number;
}

/** Data bytes `[start, end)` of the datagram's payload. */
interface Piece { start: number; end: number; data: Uint8Array }
interface Datagram {
  created: number;
  pieces: Piece[]; // sorted by start, disjoint: the complement of the RFC 815 hole list
  held: number; // data bytes in `pieces`
  bytes: number; // charged to the total
  end: number; // -1 until the last fragment arrives
  header: Uint8Array | undefined; // from the offset-0 fragment: IPv4 header / IPv6 unfragmentable part
  prevNext: number; // IPv6: offset in `header` of the Next Header byte naming the fragment header
  nextHeader: number; // IPv6: Next Header from the offset-0 fragment's fragment header
  v6: boolean;
  dead: boolean; // a tombstone: later fragments are discarded until the timeout
}

/** One fragment, described by `describe()`. */
interface Fragment { key: string; offset: number; more: boolean; data: Uint8Array; header: Uint8Array; prevNext: number; nextHeader: number; v6: boolean }

function limit(v: number | undefined, fallback: number, name: string, integer = false): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`Cannot create Reassembler: ${name} must be a positive${integer ? ' integer' : ''}, got ${v}`);
  }
  return v;
}

function describe(bytes: Uint8Array): Fragment | undefined {
  const version = bytes.length > 0 ? bytes[0]! >> 4 : -1;
  if (version === 4) {
    const ip = Ipv4Packet.checked(bytes);
    if (!ip.isFragment) return undefined;
    const key = `4 ${ip.src} ${ip.dst} ${ip.protocol} ${ip.ident}`; // RFC 791 §3.2
    const header = bytes.subarray(0, ip.hdrLen);
    return { key, offset: ip.fragOffsetBytes, more: ip.mf, data: ip.payload, header, prevNext: -1, nextHeader: -1, v6: false };
  }
  if (version === 6) {
    const ip = Ipv6Packet.checked(bytes);
    const c = ip.chain();
    if (c.fragmentOffset < 0) return undefined;
    const f = readIpv6Fragment(bytes, c.fragmentOffset);
    const key = `6 ${ip.src} ${ip.dst} ${f.ident}`; // RFC 8200 §4.5
    const data = bytes.subarray(c.fragmentOffset + 8, ip.end);
    const header = bytes.subarray(0, c.fragmentOffset);
    return { key, offset: f.offset, more: f.more, data, header, prevNext: c.fragmentPrevNext, nextHeader: f.nextHeader, v6: true };
  }
  throw new PacketError('IP', bytes.length === 0 ? 'empty buffer' : `unknown IP version ${version}`);
}

function sameBytes(a: Uint8Array, aFrom: number, b: Uint8Array, bFrom: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aFrom + i] !== b[bFrom + i]) return false;
  return true;
}

/** Index of the first piece ending after `at` (pieces are disjoint, so ends ascend too). */
function firstEndingAfter(pieces: Piece[], at: number): number {
  let lo = 0;
  let hi = pieces.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pieces[mid]!.end <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A new IPv6 packet: `header` (up to the fragment header), then `data`, the fragment header unlinked. */
function unlinkFragmentHeader(header: Uint8Array, prevNext: number, nextHeader: number, dataLen: number): Uint8Array {
  const out = new Uint8Array(header.length + dataLen);
  out.set(header);
  out[prevNext] = nextHeader;
  setU16be(out, 4, out.length - 40);
  return out;
}

/**
 * Rebuilds fragmented IPv4 and IPv6 datagrams. Feed every packet to `push`; call `expire`
 * periodically. Memory is bounded by `maxTotalBytes` however many fragments arrive, and a push
 * costs O(log n) in the pieces held (plus a copy of the fragment and an array insert).
 */
export class Reassembler {
  readonly #timeoutMs: number;
  readonly #maxDatagramBytes: number;
  readonly #maxTotalBytes: number;
  readonly #maxDatagrams: number;
  readonly #maxFragments: number;
  readonly #pending = new Map<string, Datagram>(); // insertion order = creation order
  #bytes = 0;
  #stats = {
    completed: 0, expired: 0, overlaps: 0, duplicates: 0, droppedMemory: 0, inconsistent: 0, tooManyFragments: 0, atomic: 0,
  };

  /** Create a reassembler; limits must be positive (`RangeError` otherwise). */
  constructor(options: ReassemblerOptions = {}) {
    this.#timeoutMs = limit(options.timeoutMs, 30_000, 'timeoutMs');
    this.#maxDatagramBytes = limit(options.maxDatagramBytes, 131_072, 'maxDatagramBytes');
    this.#maxTotalBytes = limit(options.maxTotalBytes, 4 * 1024 * 1024, 'maxTotalBytes');
    this.#maxDatagrams = limit(options.maxDatagrams, 1024, 'maxDatagrams');
    this.#maxFragments = limit(options.maxFragments, 128, 'maxFragments', true);
  }

  /** A snapshot of the counters and current load. */
  get stats(): ReassemblerStats {
    return { ...this.#stats, pending: this.#pending.size, bytes: this.#bytes };
  }

  /**
   * Offer one packet at time `nowMs`. Returns the whole datagram (a new buffer, with total or
   * payload length fixed, fragment fields cleared and the IPv4 header checksum refilled) when
   * this fragment completes it; `undefined` while incomplete or when the fragment was discarded.
   * A packet that is not a fragment is returned as is (trimmed to its IP length, not copied).
   * An IPv6 atomic fragment is returned at once as a new buffer without its fragment header,
   * and pending state is not touched (RFC 6946 §4).
   * @throws {PacketError} when the bytes are malformed or the fragment breaks a length rule
   */
  push(bytes: Uint8Array, nowMs: number): Uint8Array | undefined {
    const f = describe(bytes);
    if (f === undefined) return bytes.subarray(0, bytes[0]! >> 4 === 4 ? u16be(bytes, 2) : 40 + u16be(bytes, 4));
    const layer = f.v6 ? 'IPv6' : 'IPv4';
    const len = f.data.length;
    if (f.v6 && f.offset === 0 && !f.more) {
      this.#stats.atomic++;
      const out = unlinkFragmentHeader(f.header, f.prevNext, f.nextHeader, len);
      out.set(f.data, f.header.length);
      return out;
    }
    if (f.more && len % 8 !== 0) throw new PacketError(layer, `fragment length ${len} is not a multiple of 8 but more fragments follow`);
    if (f.offset + len + (f.v6 ? 0 : 20) > 65535) throw new PacketError(layer, 'fragment ends beyond 65535 bytes');
    let d = this.#pending.get(f.key);
    if (d !== undefined && nowMs - d.created >= this.#timeoutMs) {
      this.#remove(f.key, d);
      if (!d.dead) this.#stats.expired++;
      d = undefined;
    }
    if (d === undefined) d = this.#create(f.key, f.v6, nowMs);
    if (d.dead || (len === 0 && f.more)) return undefined;
    const to = f.offset + len;
    const fresh = this.#newRanges(d, f.offset, to, f.data);
    if (fresh === 'duplicate') {
      this.#stats.duplicates++;
      return undefined;
    }
    if (fresh === 'overlap') return this.#kill(f.key, d, 'overlaps');
    const pieces = d.pieces;
    if (!f.more) {
      const heldEnd = pieces.length > 0 ? pieces[pieces.length - 1]!.end : 0;
      if ((d.end >= 0 && d.end !== to) || heldEnd > to) return this.#kill(f.key, d, 'inconsistent');
      d.end = to;
    } else if (d.end >= 0 && to > d.end) {
      return this.#kill(f.key, d, 'inconsistent');
    }
    if (pieces.length + fresh.length / 2 > this.#maxFragments) return this.#kill(f.key, d, 'tooManyFragments');
    const newHeader = f.offset === 0 && d.header === undefined;
    let cost = (d.bytes === 0 ? DATAGRAM_OVERHEAD : 0) + (newHeader ? f.header.length + PIECE_OVERHEAD : 0);
    for (let i = 0; i < fresh.length; i += 2) cost += fresh[i + 1]! - fresh[i]! + PIECE_OVERHEAD;
    if (d.bytes + cost > this.#maxDatagramBytes) return this.#kill(f.key, d, 'droppedMemory');
    this.#evictFor(cost, f.key);
    if (this.#bytes + cost > this.#maxTotalBytes) return this.#kill(f.key, d, 'droppedMemory');
    for (let i = 0; i < fresh.length; i += 2) {
      const start = fresh[i]!;
      const end = fresh[i + 1]!;
      const piece = { start, end, data: f.data.slice(start - f.offset, end - f.offset) };
      const at = firstEndingAfter(pieces, start);
      if (at === pieces.length) pieces.push(piece); // in-order arrival: no array move
      else pieces.splice(at, 0, piece);
      d.held += end - start;
    }
    if (newHeader) {
      d.header = f.header.slice();
      d.prevNext = f.prevNext;
      d.nextHeader = f.nextHeader;
    }
    d.bytes += cost;
    this.#bytes += cost;
    if (d.end < 0 || d.held !== d.end || d.header === undefined) return undefined;
    return this.#assemble(f.key, d);
  }

  /** Drop datagrams whose first fragment is `timeoutMs` or more older than `nowMs`; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [key, d] of this.#pending) {
      if (nowMs - d.created < this.#timeoutMs) break; // creation order: the rest are younger
      this.#remove(key, d);
      if (!d.dead) this.#stats.expired++;
      n++;
    }
    return n;
  }

  #create(key: string, v6: boolean, nowMs: number): Datagram {
    while (this.#pending.size >= this.#maxDatagrams) this.#evictOldest();
    const d: Datagram = {
      created: nowMs, pieces: [], held: 0, bytes: 0, end: -1,
      header: undefined, prevNext: -1, nextHeader: -1, v6, dead: false,
    };
    this.#pending.set(key, d);
    return d;
  }

  /**
   * The byte ranges of `[from, to)` not held yet, as flat `[start, end, …]` pairs in order, or
   * why the fragment is refused. Visits only the pieces it overlaps (binary search to the first).
   */
  #newRanges(d: Datagram, from: number, to: number, data: Uint8Array): number[] | 'duplicate' | 'overlap' {
    const pieces = d.pieces;
    const out: number[] = [];
    let pos = from;
    for (let i = firstEndingAfter(pieces, from); i < pieces.length; i++) {
      const p = pieces[i]!;
      if (p.start >= to) break;
      if (p.start === from && p.end === to && sameBytes(p.data, 0, data, 0, to - from)) return 'duplicate';
      if (d.v6) return 'overlap';
      const lo = Math.max(from, p.start);
      const hi = Math.min(to, p.end);
      if (!sameBytes(p.data, lo - p.start, data, lo - from, hi - lo)) return 'overlap';
      if (p.start > pos) out.push(pos, p.start);
      pos = hi;
    }
    if (pos < to) out.push(pos, to);
    return out;
  }

  #assemble(key: string, d: Datagram): Uint8Array | undefined {
    const header = d.header!;
    if (!d.v6 && header.length + d.end > 65535) return this.#kill(key, d, 'inconsistent');
    if (d.v6 && header.length - 40 + d.end > 65535) return this.#kill(key, d, 'inconsistent');
    let out: Uint8Array;
    if (d.v6) {
      out = unlinkFragmentHeader(header, d.prevNext, d.nextHeader, d.end);
    } else {
      out = new Uint8Array(header.length + d.end);
      out.set(header);
      const ip = new Ipv4Packet(out);
      ip.totalLength = out.length;
      setU16be(out, 6, 0); // flags and fragment offset cleared
      ip.fillChecksum();
    }
    for (const p of d.pieces) out.set(p.data, header.length + p.start);
    this.#remove(key, d);
    this.#stats.completed++;
    return out;
  }

  /** Abandon a datagram, count why, and keep a tombstone so its later fragments are discarded. */
  #kill(key: string, d: Datagram, why: 'overlaps' | 'inconsistent' | 'droppedMemory' | 'tooManyFragments'): undefined {
    this.#stats[why]++;
    this.#bytes -= d.bytes;
    d.bytes = 0;
    d.pieces = [];
    d.held = 0;
    d.header = undefined;
    d.dead = true;
    this.#pending.set(key, d);
    return undefined;
  }

  #remove(key: string, d: Datagram): void {
    this.#bytes -= d.bytes;
    this.#pending.delete(key);
  }

  #evictOldest(except?: string): boolean {
    for (const [key, d] of this.#pending) {
      if (key === except) continue;
      this.#remove(key, d);
      if (!d.dead) this.#stats.droppedMemory++;
      return true;
    }
    return false;
  }

  #evictFor(cost: number, keep: string): void {
    while (this.#bytes + cost > this.#maxTotalBytes && this.#evictOldest(keep)) { /* evict */ }
  }
}
