/**
 * TcpRewriteTracker: keeps TCP flows consistent when a program changes the length of segments'
 * data. Pure: it sees the bytes as they came and as the program would send them, and answers
 * with the bytes to send. No I/O, no timers (`now` is passed in).
 *
 * For each segment of a flow it is shown (both directions must be):
 * - new data whose payload the program replaced is recorded as a rewrite (see SeqDirection);
 * - the sequence number is moved into the receiver's numbering, and stored rewrites are applied
 *   again to a retransmission of their bytes (so it carries the same bytes and the same delta,
 *   whatever the program did with it: unchanged, or rewritten the same way);
 * - the acknowledgement number and SACK blocks are moved back into the other side's numbering;
 * - data longer than the receiver's MSS is sent as several segments (see `translate`);
 * - timestamps, window, urgent pointer and every other field are left as they are;
 * - the IP length and every checksum are set.
 * A flow's state is freed on RST, a while (`lingerMs`) after both FINs are acknowledged, or after
 * it was idle for `idleMs`.
 * @module
 */
import { fillChecksums } from '../packet/checksum.js';
import { parsePacket, type ParsedPacket } from '../packet/parse.js';
import { TCP_FLAGS, TCP_OPTION, TcpPacket } from '../packet/tcp.js';
import { SeqDirection, type Rewrite } from './direction.js';
import { TcpRewriteError } from './errors.js';
import { seqAdd, seqDiff, seqMax } from './serial.js';

/** RFC 9293 §3.7.1 and RFC 8200 §5: the MSS to assume when the receiver's SYN was not seen. */
const DEFAULT_MSS = { 4: 536, 6: 1220 } as const;

/** Said once per flow when the flow cannot be kept consistent from what this tracker sees. */
export interface TcpRewriteWarning {
  /** The other direction is missing; or (from the divert socket) a split segment could not be injected. */
  code: 'ERR_DIVERT_TCP_ONE_DIRECTION' | 'ERR_DIVERT_TCP_INJECT';
  /** `src:port > dst:port` of the rewritten direction (empty when not about one flow). */
  flow: string;
  /** What happened and what to do, in words. */
  message: string;
}

export interface TcpRewriteTrackerOptions {
  /** Forget a flow with rewrites after this long without a segment (ms; default 2 hours). */
  idleMs?: number;
  /** Forget a flow without rewrites after this long without a segment (ms; default 60 s). */
  plainIdleMs?: number;
  /** Keep a closed flow (both FINs acknowledged) this long for late retransmissions (ms; default 10 s). */
  lingerMs?: number;
  /** The most flows tracked at once (default 65536); past it, new flows pass untracked. */
  maxFlows?: number;
  onWarning?: (warning: TcpRewriteWarning) => void;
}

class Flow {
  /** Index 0: from the endpoint whose `addr|port` sorts first. */
  readonly dirs = [new SeqDirection(), new SeqDirection()] as const;
  /** Segments seen per direction. */
  readonly seen = [0, 0];
  lastAt: number;
  closedAt: number | undefined;
  warned = false;
  constructor(now: number) {
    this.lastAt = now;
  }
  get adjusting(): boolean {
    return this.dirs[0].adjusting || this.dirs[1].adjusting;
  }
}

/** One segment as the tracker reads it. */
interface Segment {
  /** The flow: both endpoints, the one that sorts first first. */
  key: string;
  dir: 0 | 1;
  parsed: ParsedPacket;
  tcp: TcpPacket;
}

/** An endpoint as a key part: an IPv4 address as its 32-bit number (cheaper than its text). */
function endpoint(p: ParsedPacket, at: number, port: number): string {
  if (p.ipVersion === 6) return `${at === 8 ? p.srcAddr : p.dstAddr}|${port}`;
  const b = p.ip.bytes;
  return `${((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0}|${port}`;
}

function segment(bytes: Uint8Array): Segment | undefined {
  let parsed: ParsedPacket;
  try {
    parsed = parsePacket(bytes);
  } catch {
    return undefined;
  }
  const tcp = parsed.tcp;
  if (tcp === undefined || (parsed.fragment !== undefined && (parsed.fragment.offset !== 0 || parsed.fragment.more))) return undefined;
  const v4 = parsed.ipVersion === 4;
  const a = endpoint(parsed, v4 ? 12 : 8, tcp.srcPort);
  const b = endpoint(parsed, v4 ? 16 : 24, tcp.dstPort);
  return a < b ? { key: `${a} ${b}`, dir: 0, parsed, tcp } : { key: `${b} ${a}`, dir: 1, parsed, tcp };
}

/**
 * `seg`'s headers followed by `payload`, the IP length set (checksums are the caller's: it
 * changes more fields first). `withTcpPayload` without its parse and checksums.
 */
function assemble(seg: Segment, payload: Uint8Array): Uint8Array {
  const headers = seg.tcp.offset + seg.tcp.hdrLen;
  const out = new Uint8Array(headers + payload.length);
  out.set(seg.tcp.bytes.subarray(0, headers));
  out.set(payload, headers);
  const v6 = seg.parsed.ipVersion === 6;
  const length = v6 ? out.length - 40 : out.length;
  out[v6 ? 4 : 2] = length >>> 8;
  out[v6 ? 5 : 3] = length & 0xff;
  return out;
}

/** `src:port > dst:port`, for messages. */
function nameOf(seg: Segment): string {
  const { parsed: p, tcp } = seg;
  return p.ipVersion === 6 ? `[${p.srcAddr}]:${tcp.srcPort} > [${p.dstAddr}]:${tcp.dstPort}` : `${p.srcAddr}:${tcp.srcPort} > ${p.dstAddr}:${tcp.dstPort}`;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Where the option `kind` starts in the TCP header at `t`, or -1. */
function findOption(t: TcpPacket, kind: number): number {
  const b = t.bytes;
  const end = t.offset + t.hdrLen;
  for (let i = t.offset + 20; i < end; ) {
    const k = b[i]!;
    if (k === TCP_OPTION.EOL) return -1;
    if (k === TCP_OPTION.NOP) { i++; continue; }
    if (k === kind) return i;
    i += Math.max(b[i + 1] ?? 2, 2);
  }
  return -1;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

export class TcpRewriteTracker {
  readonly #flows = new Map<string, Flow>();
  readonly #idleMs: number;
  readonly #plainIdleMs: number;
  readonly #lingerMs: number;
  readonly #maxFlows: number;
  readonly #onWarning: ((w: TcpRewriteWarning) => void) | undefined;
  #sweptAt = -Infinity;

  constructor(options: TcpRewriteTrackerOptions = {}) {
    this.#idleMs = options.idleMs ?? 2 * 3600_000;
    this.#plainIdleMs = options.plainIdleMs ?? 60_000;
    this.#lingerMs = options.lingerMs ?? 10_000;
    this.#maxFlows = options.maxFlows ?? 65536;
    this.#onWarning = options.onWarning;
  }

  /** Flows tracked now. */
  get flowCount(): number {
    return this.#flows.size;
  }

  /** The two directions of `bytes`' flow (sender's first), for tests and diagnostics. */
  directions(bytes: Uint8Array): readonly [SeqDirection, SeqDirection] | undefined {
    const s = segment(bytes);
    const f = s && this.#flows.get(s.key);
    return f && s ? [f.dirs[s.dir], f.dirs[s.dir ^ 1]!] : undefined;
  }

  /**
   * The segments to send for a TCP segment that arrived as `received` and that the program would
   * send as `out` (the same array when unchanged): `[out]` when nothing needs adjusting, else new
   * bytes. More than one when the data to send exceeds what the receiver takes in one segment
   * (its MSS, less the TCP options, but never less than the sender's own segment): the first
   * takes the segment's place, the others must be sent after it (the FIN, if any, is on the
   * last). Should one of them be lost, the receiver's acknowledgement stops before the rewritten
   * bytes and the sender's retransmission brings them all again. Anything but an unfragmented
   * TCP segment is `[out]`.
   * @throws {TcpRewriteError} when `out` changes the data in a way that cannot be kept
   *   consistent; nothing is recorded then.
   */
  translate(received: Uint8Array, out: Uint8Array, now: number): Uint8Array[] {
    if (now - this.#sweptAt >= 1000) this.sweep(now);
    const seg = segment(received);
    if (seg === undefined) return [out];
    const { tcp } = seg;
    const oldData = tcp.payload;
    let outSeg = seg;
    if (out !== received) {
      const o = segment(out);
      if (o === undefined || o.key !== seg.key || o.dir !== seg.dir) {
        if (o === undefined || bytesEqual(o.tcp.payload, oldData)) return [out];
        throw new TcpRewriteError(`The new bytes of ${nameOf(seg)} are ${nameOf(o)}: on a tcpRewrite socket a segment whose data changes must keep its addresses and ports`, 'ERR_DIVERT_TCP_REWRITE_UNSUPPORTED');
      }
      outSeg = o;
    }
    const newData = outSeg === seg ? oldData : outSeg.tcp.payload;
    const rewriting = outSeg !== seg && !bytesEqual(newData, oldData);
    let flow = this.#flows.get(seg.key);
    if (flow === undefined) {
      if (this.#flows.size >= this.#maxFlows) this.sweep(now);
      if (this.#flows.size >= this.#maxFlows) {
        if (rewriting) throw new TcpRewriteError(`Cannot rewrite ${nameOf(seg)}: ${this.#maxFlows} flows are tracked already (maxFlows)`, 'ERR_DIVERT_TCP_REWRITE_UNSUPPORTED');
        return [out];
      }
      flow = new Flow(now);
      this.#flows.set(seg.key, flow);
    }
    const d = seg.dir;
    const me = flow.dirs[d];
    const peer = flow.dirs[d ^ 1]!;
    const seq = tcp.seqNum;
    const flags = tcp.flags;
    const fin = (flags & TCP_FLAGS.FIN) !== 0;
    const optionBytes = outSeg.tcp.hdrLen - 20;
    const mssLimit = (me.mss ?? DEFAULT_MSS[seg.parsed.ipVersion]) - optionBytes;
    if (rewriting) this.#checkRewrite(seg, me, seq, oldData, newData, fin);

    // From here on nothing throws: record, then translate.
    flow.lastAt = now;
    flow.seen[d]!++;
    if ((flags & TCP_FLAGS.SYN) !== 0) {
      const at = findOption(tcp, TCP_OPTION.MSS);
      if (at >= 0 && tcp.bytes[at + 1] === 4) peer.mss = (tcp.bytes[at + 2]! << 8) | tcp.bytes[at + 3]!;
      me.sentEnd = seqAdd(seq, 1);
    }
    if (rewriting && me.overlapping(seq, oldData.length).length === 0) {
      me.record(seq, oldData.length, newData);
    }
    const ackOn = (flags & TCP_FLAGS.ACK) !== 0;
    const outAck = outSeg.tcp.ackNum;
    const ack = ackOn ? peer.acknowledge(outAck) : outAck;
    if (fin) me.fin = seqAdd(seq, oldData.length);
    const end = seqAdd(seq, oldData.length);
    me.sentEnd = me.sentEnd === undefined ? end : seqMax(me.sentEnd, end);
    if (me.fin !== undefined && peer.fin !== undefined && me.acked !== undefined && peer.acked !== undefined &&
      seqDiff(me.acked, me.fin) > 0 && seqDiff(peer.acked, peer.fin) > 0) flow.closedAt ??= now;
    if ((flags & TCP_FLAGS.RST) !== 0) this.#flows.delete(seg.key);
    if (!me.adjusting && !peer.adjusting) return [out];

    const plan = me.plan(seq, oldData, fin, true);
    this.#noticeRetransmission(flow, seg, plan.applied);
    for (const r of plan.applied) r.sent++;
    const sackAt = peer.adjusting && ackOn ? findOption(outSeg.tcp, TCP_OPTION.SACK) : -1;
    // Split only what rewritten bytes made longer than the receiver takes, at the MSS.
    const limit = Math.max(1, oldData.length, mssLimit);
    const pieces = plan.payload.length > limit && plan.applied.length > 0 ? Math.ceil(plan.payload.length / limit) : 1;
    if (pieces === 1 && plan.seq === outSeg.tcp.seqNum && ack === outAck && !plan.cut && sackAt < 0 && bytesEqual(plan.payload, newData)) return [out];
    const results: Uint8Array[] = [];
    for (let i = 0; i < pieces; i++) {
      const last = i === pieces - 1;
      const result = assemble(outSeg, pieces === 1 ? plan.payload : plan.payload.subarray(i * limit, (i + 1) * limit));
      const t = new TcpPacket(result, outSeg.tcp.offset);
      t.seqNum = seqAdd(plan.seq, i * limit);
      t.ackNum = ack;
      if (plan.cut || !last) t.fin = false;
      if (sackAt >= 0) this.#translateSack(t, sackAt - outSeg.tcp.offset, peer);
      fillChecksums(result);
      results.push(result);
    }
    return results;
  }

  /** Refuses a payload change that cannot be kept consistent (see TcpRewriteError). */
  #checkRewrite(seg: Segment, me: SeqDirection, seq: number, oldData: Uint8Array, newData: Uint8Array, fin: boolean): void {
    const where = `${nameOf(seg)} seq ${seq}`;
    if (seg.tcp.syn) throw new TcpRewriteError(`Cannot change the data of a SYN (${where}): rewrite data after the handshake`, 'ERR_DIVERT_TCP_REWRITE_UNSUPPORTED');
    if (oldData.length === 0) {
      throw new TcpRewriteError(`Cannot give data to ${where}, which carries none: the sender would never retransmit it. Change a segment that has data`, 'ERR_DIVERT_TCP_REWRITE_UNSUPPORTED');
    }
    const over = me.overlapping(seq, oldData.length);
    const resent = over.length > 0 || (me.sentEnd !== undefined && seqDiff(seq, me.sentEnd) < 0);
    if (resent) {
      // A retransmission: fine when it carries what divert sends for it anyway.
      if (bytesEqual(me.plan(seq, oldData, fin, false).payload, newData)) return;
      const how = over.length > 0
        ? `its bytes were rewritten to other bytes when first sent (${over.length} rewrite${over.length > 1 ? 's' : ''})`
        : 'its bytes, or later ones of the flow, were sent before without this change (reinject a flow\'s segments in the order they came)';
      throw new TcpRewriteError(
        `Cannot rewrite ${where} (${oldData.length} bytes) to ${newData.length} bytes: ${how}. ` +
          'A retransmission must carry the same rewrite: reinject it unchanged and divert applies the stored one',
        'ERR_DIVERT_TCP_REWRITE_CONFLICT',
      );
    }
  }

  /**
   * A rewritten segment sent again while nothing of the other direction was ever seen: its ACKs
   * go by another way, unadjusted. Said once per flow. (Not "nothing seen since the rewrite": a
   * lost request is retransmitted before the server says anything.)
   */
  #noticeRetransmission(flow: Flow, seg: Segment, applied: readonly Rewrite[]): void {
    if (flow.warned || flow.seen[seg.dir ^ 1]! > 0 || !applied.some((r) => r.sent > 0)) return;
    flow.warned = true;
    this.#onWarning?.({
      code: 'ERR_DIVERT_TCP_ONE_DIRECTION',
      flow: nameOf(seg),
      message: `TCP rewrite: ${nameOf(seg)} is retransmitting rewritten data and no segment of the other direction has been seen. ` +
        'Both directions of a rewritten flow must reach the same socket (divert rules or filter for both, e.g. input and output, or forward both ways), ' +
        'else acknowledgements go unadjusted and the connection stalls',
    });
  }

  /** SACK blocks (in this side's view of the other's data) back into the other side's numbering; blocks that vanish become NOPs. */
  #translateSack(t: TcpPacket, at: number, other: SeqDirection): void {
    const b = t.bytes;
    const o = t.offset + at;
    const len = b[o + 1]!;
    if (len < 10 || (len - 2) % 8 !== 0 || at + len > t.hdrLen) return;
    const floor = other.ackedMapped;
    const blocks: number[] = [];
    for (let i = o + 2; i < o + len; i += 8) {
      const left = readU32(b, i);
      const right = readU32(b, i + 4);
      if (floor !== undefined && seqDiff(right, floor) <= 0) continue; // below what is kept: left out
      const l = other.unmap(left, true);
      const r = other.unmap(right, false);
      if (seqDiff(r, l) > 0) blocks.push(l, r);
    }
    b.fill(TCP_OPTION.NOP, o, o + len);
    if (blocks.length === 0) return;
    b[o] = TCP_OPTION.SACK;
    b[o + 1] = 2 + blocks.length * 4;
    for (let i = 0; i < blocks.length; i++) writeU32(b, o + 2 + i * 4, blocks[i]!);
  }

  /** Frees closed flows past their linger time and idle ones. Runs by itself about once a second. */
  sweep(now: number): void {
    this.#sweptAt = now;
    for (const [key, f] of this.#flows) {
      const idle = now - f.lastAt;
      if ((f.closedAt !== undefined && now - f.closedAt >= this.#lingerMs) || idle >= (f.adjusting ? this.#idleMs : this.#plainIdleMs)) {
        this.#flows.delete(key);
      }
    }
  }
}
