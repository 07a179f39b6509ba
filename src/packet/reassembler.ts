/**
 * `Reassembler`: rebuild IP datagrams from fragments (RFC 791 §3.2, RFC 8200 §4.5) with the
 * RFC 815 hole list, bounded memory, and an explicit clock (no timers: pass `nowMs` in).
 *
 * Overlap policy (decided here, tested in `reassembler_test.ts`):
 * - An exact duplicate (same offset, length and bytes) is dropped and the datagram kept, for both
 *   versions (RFC 8200 §4.5 allows this; networks do duplicate packets).
 * - IPv6: any other overlap abandons the whole datagram (RFC 5722 §4), and later fragments of it
 *   are discarded until its timeout.
 * - IPv4: an overlap whose overlapping bytes are identical is accepted; one with different bytes
 *   abandons the datagram the same way. That keeps benign retransmissions working and refuses the
 *   "overlapping fragment" evasion where two copies of one byte range differ.
 * @module
 */
import { PacketError } from '../errors.js';
import { setU16be, u16be } from './_bytes.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { readIpv6Fragment } from './ipv6_ext.js';

/** Limits for a `Reassembler`; every field has a default. */
export interface ReassemblerOptions {
  /** A datagram not completed this long after its first fragment is dropped (default 30000, Linux ipfrag_time). */
  timeoutMs?: number;
  /** Bytes one datagram may hold, header included (default 131072). */
  maxDatagramBytes?: number;
  /** Bytes all pending datagrams may hold; the oldest are evicted past it (default 4 MiB). */
  maxTotalBytes?: number;
  /** Pending datagrams (and tombstones) at most; the oldest are evicted past it (default 1024). */
  maxDatagrams?: number;
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
  /** Datagrams pending now (tombstones included). */
  pending: number;
  /** Bytes held now. */
  bytes: number;
}

/** A hole: missing byte range `[first, last]`, inclusive (RFC 815 §3). */
interface Hole { first: number; last: number }
interface Piece { offset: number; data: Uint8Array }
interface Datagram {
  created: number;
  holes: Hole[];
  pieces: Piece[];
  bytes: number;
  end: number; // -1 until the last fragment arrives
  header: Uint8Array | undefined; // from the offset-0 fragment: IPv4 header / IPv6 unfragmentable part
  prevNext: number; // IPv6: offset in `header` of the Next Header byte naming the fragment header
  nextHeader: number; // IPv6: Next Header from the offset-0 fragment's fragment header
  v6: boolean;
  dead: boolean; // a tombstone: later fragments are discarded until the timeout
}

/** One fragment, described by `describe()`. */
interface Fragment { key: string; offset: number; more: boolean; data: Uint8Array; header: Uint8Array; prevNext: number; nextHeader: number; v6: boolean }

function limit(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`Cannot create Reassembler: ${name} must be positive, got ${v}`);
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

/**
 * Rebuilds fragmented IPv4 and IPv6 datagrams. Feed every packet to `push`; call `expire`
 * periodically. Memory is bounded by `maxTotalBytes` however many fragments arrive.
 */
export class Reassembler {
  readonly #timeoutMs: number;
  readonly #maxDatagramBytes: number;
  readonly #maxTotalBytes: number;
  readonly #maxDatagrams: number;
  readonly #pending = new Map<string, Datagram>(); // insertion order = creation order
  #bytes = 0;
  #stats = { completed: 0, expired: 0, overlaps: 0, duplicates: 0, droppedMemory: 0, inconsistent: 0 };

  /** Create a reassembler; limits must be positive (`RangeError` otherwise). */
  constructor(options: ReassemblerOptions = {}) {
    this.#timeoutMs = limit(options.timeoutMs, 30_000, 'timeoutMs');
    this.#maxDatagramBytes = limit(options.maxDatagramBytes, 131_072, 'maxDatagramBytes');
    this.#maxTotalBytes = limit(options.maxTotalBytes, 4 * 1024 * 1024, 'maxTotalBytes');
    this.#maxDatagrams = limit(options.maxDatagrams, 1024, 'maxDatagrams');
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
   * @throws {PacketError} when the bytes are malformed or the fragment breaks a length rule
   */
  push(bytes: Uint8Array, nowMs: number): Uint8Array | undefined {
    const f = describe(bytes);
    if (f === undefined) return bytes.subarray(0, bytes[0]! >> 4 === 4 ? u16be(bytes, 2) : 40 + u16be(bytes, 4));
    const layer = f.v6 ? 'IPv6' : 'IPv4';
    const len = f.data.length;
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
    const verdict = this.#checkOverlap(d, f);
    if (verdict === 'duplicate') {
      this.#stats.duplicates++;
      return undefined;
    }
    if (verdict === 'overlap') return this.#kill(f.key, d, 'overlaps');
    const last = f.offset + len - 1;
    if (!f.more) {
      if ((d.end >= 0 && d.end !== last + 1) || d.pieces.some((p) => p.offset + p.data.length > last + 1)) {
        return this.#kill(f.key, d, 'inconsistent');
      }
      d.end = last + 1;
    } else if (d.end >= 0 && last >= d.end) {
      return this.#kill(f.key, d, 'inconsistent');
    }
    const cost = len + (f.offset === 0 ? f.header.length : 0);
    if (d.bytes + cost > this.#maxDatagramBytes) return this.#kill(f.key, d, 'droppedMemory');
    this.#evictFor(cost, f.key);
    if (this.#bytes + cost > this.#maxTotalBytes) return this.#kill(f.key, d, 'droppedMemory');
    d.pieces.push({ offset: f.offset, data: f.data.slice() });
    if (f.offset === 0) {
      d.header = f.header.slice();
      d.prevNext = f.prevNext;
      d.nextHeader = f.nextHeader;
    }
    d.bytes += cost;
    this.#bytes += cost;
    this.#fillHoles(d, f.offset, last, f.more);
    if (d.holes.length > 0 || d.end < 0 || d.header === undefined) return undefined;
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
      created: nowMs, holes: [{ first: 0, last: Infinity }], pieces: [], bytes: 0, end: -1,
      header: undefined, prevNext: -1, nextHeader: -1, v6, dead: false,
    };
    this.#pending.set(key, d);
    return d;
  }

  #checkOverlap(d: Datagram, f: Fragment): 'ok' | 'duplicate' | 'overlap' {
    const from = f.offset;
    const to = f.offset + f.data.length; // exclusive
    for (const p of d.pieces) {
      const pTo = p.offset + p.data.length;
      if (pTo <= from || p.offset >= to) continue;
      if (p.offset === from && pTo === to && sameBytes(p.data, 0, f.data, 0, f.data.length)) return 'duplicate';
      if (d.v6) return 'overlap';
      const lo = Math.max(from, p.offset);
      const hi = Math.min(to, pTo);
      if (!sameBytes(p.data, lo - p.offset, f.data, lo - from, hi - lo)) return 'overlap';
    }
    return 'ok';
  }

  /** RFC 815 §3 steps 1–7: replace every hole the fragment touches by what it leaves open. */
  #fillHoles(d: Datagram, first: number, last: number, more: boolean): void {
    const next: Hole[] = [];
    for (const h of d.holes) {
      if (first > h.last || last < h.first) {
        next.push(h);
        continue;
      }
      if (first > h.first) next.push({ first: h.first, last: first - 1 });
      if (last < h.last && more) next.push({ first: last + 1, last: h.last });
    }
    d.holes = d.end >= 0 ? next.filter((h) => h.first < d.end).map((h) => ({ first: h.first, last: Math.min(h.last, d.end - 1) })) : next;
  }

  #assemble(key: string, d: Datagram): Uint8Array | undefined {
    const header = d.header!;
    if (!d.v6 && header.length + d.end > 65535) return this.#kill(key, d, 'inconsistent');
    if (d.v6 && header.length - 40 + d.end > 65535) return this.#kill(key, d, 'inconsistent');
    const out = new Uint8Array(header.length + d.end);
    out.set(header);
    for (const p of d.pieces) out.set(p.data, header.length + p.offset);
    if (d.v6) {
      out[d.prevNext] = d.nextHeader; // unlink the fragment header
      setU16be(out, 4, out.length - 40);
    } else {
      const ip = new Ipv4Packet(out);
      ip.totalLength = out.length;
      setU16be(out, 6, 0); // flags and fragment offset cleared
      ip.fillChecksum();
    }
    this.#remove(key, d);
    this.#stats.completed++;
    return out;
  }

  /** Abandon a datagram, count why, and keep a tombstone so its later fragments are discarded. */
  #kill(key: string, d: Datagram, why: 'overlaps' | 'inconsistent' | 'droppedMemory'): undefined {
    this.#stats[why]++;
    this.#bytes -= d.bytes;
    d.bytes = 0;
    d.pieces = [];
    d.holes = [];
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
