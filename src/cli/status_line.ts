/**
 * A status line redrawn on a terminal's stderr once a second, hidden while other output prints.
 * @module
 */
import { readRangeCounters, type QueueCounters } from './queue_proc.js';
import { formatStatus, type InterceptCounts } from './format/status.js';

/** One status line from the counts, the packet rate and the kernel's queue counters. */
export type StatusFormat<C> = (counts: C, ratePerSec: number, kernel: QueueCounters | undefined) => string;

export class StatusLine<C extends { received: number } = InterceptCounts> {
  #write: (s: string) => void;
  #counts: () => C;
  #format: StatusFormat<C>;
  #timer: NodeJS.Timeout | undefined;
  #shown = false;
  #last = { at: performance.now(), received: 0 };
  kernel: QueueCounters | undefined;

  /**
   * `queues`: the divert port, or a multi-queue socket's first and last (their counters added
   * up); `format` defaults to intercept's line (formatStatus).
   */
  constructor(write: (s: string) => void, counts: () => C, queues: number | readonly [number, number], netns: string | undefined, format?: StatusFormat<C>) {
    this.#write = write;
    this.#counts = counts;
    this.#format = format ?? (formatStatus as unknown as StatusFormat<C>);
    const [first, last] = typeof queues === 'number' ? [queues, queues] : queues;
    this.#timer = setInterval(() => {
      void readRangeCounters(first, last, netns).then((k) => {
        this.kernel = k;
        this.#draw();
      });
    }, 1000);
    this.#timer.unref();
  }

  #draw(): void {
    if (!this.#timer) return;
    const c = this.#counts();
    const now = performance.now();
    const rate = ((c.received - this.#last.received) * 1000) / Math.max(1, now - this.#last.at);
    this.#last = { at: now, received: c.received };
    this.#write(`\r\x1b[K${this.#format(c, rate, this.kernel)}`);
    this.#shown = true;
  }

  /** Clears the line so other output starts at column 0; it comes back at the next tick. */
  hide(): void {
    if (!this.#shown) return;
    this.#write('\r\x1b[K');
    this.#shown = false;
  }

  stop(): void {
    this.hide();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
