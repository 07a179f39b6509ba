/**
 * The divert socket's own counters (the kernel-side ones come from its queue). Each received
 * packet is counted in exactly one verdict bucket when it gets its verdict, so
 * `received = accepted + changed + dropped + repeated + requeued + timedOut + closedWithVerdict + filtered + sniffed + held`
 * holds at every moment.
 * @module
 */
import type { DivertStats } from './options.js';

export class Counters {
  received = 0;
  accepted = 0;
  changed = 0;
  dropped = 0;
  repeated = 0;
  requeued = 0;
  timedOut = 0;
  closedWithVerdict = 0;
  filtered = 0;
  sniffed = 0;
  injected = 0;

  /** The public stats: these counters, `held`, and the queue's counters. */
  snapshot(held: number, queue: Pick<DivertStats, 'overruns' | 'verdictSends' | 'verdictErrors' | 'decodeErrors'>): DivertStats {
    return {
      received: this.received,
      accepted: this.accepted,
      changed: this.changed,
      dropped: this.dropped,
      repeated: this.repeated,
      requeued: this.requeued,
      timedOut: this.timedOut,
      closedWithVerdict: this.closedWithVerdict,
      filtered: this.filtered,
      sniffed: this.sniffed,
      injected: this.injected,
      held,
      ...queue,
    };
  }
}

/** Whether the verdict buckets add up to what was received (see the module comment). */
export function countersAddUp(s: DivertStats): boolean {
  return s.received === s.accepted + s.changed + s.dropped + s.repeated + s.requeued + s.timedOut + s.closedWithVerdict + s.filtered + s.sniffed + s.held;
}
