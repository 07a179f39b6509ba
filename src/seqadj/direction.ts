/**
 * One direction of a TCP flow whose data was rewritten: the sender's sequence numbers (its
 * "original" numbering) and the receiver's (after every rewrite so far).
 *
 * After the kernel's nf_conntrack_seqadj (net/netfilter/nf_conntrack_seqadj.c), which keeps per
 * direction one correction position with an offset before and after it: here every rewrite not
 * yet acknowledged is kept (its position, the length it replaced, the bytes sent instead and the
 * offset before it), so a retransmission of any of them, or of data between them, is numbered
 * and rewritten exactly as the first time. A rewrite goes once the receiver acknowledges all of
 * it; `base` is then the offset of everything from the acknowledged point on (the kernel's
 * offset_before at the correction position).
 *
 * Acknowledgements and SACK edges travel the other way, in the receiver's numbering; one that
 * falls inside rewritten bytes counts only what precedes them (the sender resends the rest, and
 * the rewrite is applied again), so nothing unsent is ever acknowledged.
 * @module
 */
import { seqAdd, seqDiff } from './serial.js';

/** One rewrite: `oldLength` bytes from `seq` (sender's numbering) were sent as `payload`. */
export interface Rewrite {
  readonly seq: number;
  readonly oldLength: number;
  readonly payload: Uint8Array;
  /** How far the receiver's numbering is ahead of the sender's just before `seq`. */
  readonly offsetBefore: number;
  /** Times the rewrite went out (the first time, then once per retransmission). */
  sent: number;
}

/** What to send for a segment: where its data starts in the receiver's numbering, and the data. */
export interface Plan {
  seq: number;
  payload: Uint8Array;
  /** The segment's end was not sent (it ended inside rewritten bytes): no FIN. */
  cut: boolean;
  /** The stored rewrites this segment's bytes were sent as. */
  applied: Rewrite[];
  /** Nothing in it was still unacknowledged: a probe (one below the receiver's next number) that draws an ACK. */
  probe: boolean;
}

const growth = (r: Rewrite): number => r.payload.length - r.oldLength;

export class SeqDirection {
  /** Rewrites not yet acknowledged, in sequence order. */
  readonly rewrites: Rewrite[] = [];
  /** The offset from `acked` on, up to the first kept rewrite. */
  base = 0;
  /** End (sender's numbering) of the furthest data forwarded; undefined before the first segment. */
  sentEnd: number | undefined;
  /** What the receiver has acknowledged (sender's numbering): it holds everything before it. */
  acked: number | undefined;
  /** The MSS the receiver announced in its SYN, if seen. */
  mss: number | undefined;
  /** Sequence number of the sender's FIN (sender's numbering), once seen. */
  fin: number | undefined;

  /** Whether any number of this direction is shifted. */
  get adjusting(): boolean {
    return this.rewrites.length > 0 || this.base !== 0;
  }

  /** The offset past every rewrite. */
  get offsetAfter(): number {
    const last = this.rewrites[this.rewrites.length - 1];
    return last === undefined ? this.base : last.offsetBefore + growth(last);
  }

  /** The receiver's number for the sender's `seq`, which must not be inside rewritten bytes. */
  map(seq: number): number {
    let off = this.base;
    for (const r of this.rewrites) {
      if (seqDiff(seq, r.seq + r.oldLength) < 0) break;
      off = r.offsetBefore + growth(r);
    }
    return seqAdd(seq, off);
  }

  /**
   * The sender's number for the receiver's `n` (an acknowledgement, a SACK right edge): inside
   * rewritten bytes it is where they start (`roundUp`: where they end, for a SACK left edge).
   */
  unmap(n: number, roundUp = false): number {
    let off = this.base;
    for (const r of this.rewrites) {
      const start = seqAdd(r.seq, r.offsetBefore);
      const end = seqAdd(start, r.payload.length);
      if (seqDiff(n, end) >= 0) {
        off = r.offsetBefore + growth(r);
        continue;
      }
      if (seqDiff(n, start) > 0) return roundUp ? seqAdd(r.seq, r.oldLength) : r.seq;
      break;
    }
    return seqAdd(n, -off);
  }

  /** The receiver's number of the acknowledged point (below it, nothing is kept). */
  get ackedMapped(): number | undefined {
    return this.acked === undefined ? undefined : seqAdd(this.acked, this.base);
  }

  /**
   * Takes an acknowledgement in the receiver's numbering; returns it in the sender's and lets go
   * of the rewrites it covers. One below the acknowledged point is old: it is moved by `base`
   * and so stays below it (the sender ignores it as it would the original).
   */
  acknowledge(n: number): number {
    const floor = this.ackedMapped;
    if (floor !== undefined && seqDiff(n, floor) < 0) return seqAdd(n, -this.base);
    const a = this.unmap(n);
    if (this.acked === undefined || seqDiff(a, this.acked) > 0) this.acked = a;
    while (this.rewrites.length > 0) {
      const r = this.rewrites[0]!;
      if (seqDiff(r.seq + r.oldLength, this.acked) > 0) break;
      this.base = r.offsetBefore + growth(r);
      this.rewrites.shift();
    }
    return a;
  }

  /** The kept rewrites that share bytes with `[seq, seq + length)`. */
  overlapping(seq: number, length: number): Rewrite[] {
    const out: Rewrite[] = [];
    for (const r of this.rewrites) {
      if (seqDiff(r.seq, seq + length) >= 0) break;
      if (seqDiff(r.seq + r.oldLength, seq) > 0) out.push(r);
    }
    return out;
  }

  /**
   * Records that the sender's `oldLength` bytes at `seq` go out as `payload`. The caller has
   * checked that none of them was sent before (`seq` at or past `sentEnd`).
   */
  record(seq: number, oldLength: number, payload: Uint8Array): Rewrite {
    const r: Rewrite = { seq, oldLength, payload: payload.slice(), offsetBefore: this.offsetAfter, sent: 0 };
    this.rewrites.push(r);
    return r;
  }

  /**
   * What the receiver gets for the sender's `data` at `seq`: the stored rewrites applied again,
   * the part it acknowledged already left out (`trim`). A segment that
   * starts inside rewritten bytes is sent from their start (the receiver takes the bytes it has
   * again as duplicates); one that ends inside them stops before them. `fin`: the segment
   * carries a FIN (kept when its data is all acknowledged but the FIN is not).
   */
  plan(seq: number, data: Uint8Array, fin: boolean, trim: boolean): Plan {
    let s = seq;
    let bytes = data;
    if (trim && this.acked !== undefined && bytes.length > 0 && seqDiff(this.acked, s) > 0) {
      const k = Math.min(seqDiff(this.acked, s), bytes.length);
      s = seqAdd(s, k);
      bytes = bytes.subarray(k);
      // All data acknowledged: the FIN alone if it is not, else a probe for the receiver's ACK.
      if (bytes.length === 0 && !(fin && s === this.acked)) {
        return { seq: seqAdd(this.map(this.acked), -1), payload: bytes, cut: true, applied: [], probe: true };
      }
    }
    const over = this.overlapping(s, bytes.length);
    if (over.length === 0) return { seq: this.map(s), payload: bytes, cut: false, applied: [], probe: false };
    const first = over[0]!;
    const outSeq = seqDiff(first.seq, s) < 0 ? first.seq : s;
    const end = seqAdd(s, bytes.length);
    const chunks: Uint8Array[] = [];
    let pos = outSeq;
    let cut = false;
    const applied: Rewrite[] = [];
    for (const r of over) {
      if (seqDiff(r.seq, pos) > 0) chunks.push(bytes.subarray(seqDiff(pos, s), seqDiff(r.seq, s)));
      if (seqDiff(r.seq + r.oldLength, end) > 0) {
        cut = true;
        pos = end;
        break;
      }
      chunks.push(r.payload);
      applied.push(r);
      pos = seqAdd(r.seq, r.oldLength);
    }
    if (!cut) chunks.push(bytes.subarray(seqDiff(pos, s)));
    const payload = concat(chunks);
    return { seq: this.map(outSeq), payload, cut, applied, probe: false };
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
