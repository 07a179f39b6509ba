/**
 * Release times of held packets: a binary min-heap on (time, arrival order) and one clock timer
 * for the earliest, so thousands of held packets cost one timer, and packets due at the same
 * moment go out in the order they were scheduled.
 * @module
 */
import type { ChaosClock } from './clock.js';

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
}

export class Scheduler {
  #clock: ChaosClock;
  #heap: Entry[] = [];
  #seq = 0;
  #timer: unknown;
  #timerAt = Infinity;
  #running = false;

  constructor(clock: ChaosClock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Runs `fn` at clock time `at` (at once, on the next timer, when `at` has passed). */
  at(at: number, fn: () => void): void {
    this.#push({ at, seq: this.#seq++, fn });
    this.#arm();
  }

  /** Forgets every entry and the timer. */
  clear(): void {
    this.#heap = [];
    this.#disarm();
  }

  /** Runs everything due by now, in (time, order) order; entries added meanwhile for now run too. */
  #run(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    this.#running = true;
    try {
      while (this.#heap.length > 0 && this.#heap[0]!.at <= now) this.#pop().fn();
    } finally {
      this.#running = false;
      this.#arm();
    }
  }

  #arm(): void {
    if (this.#running) return; // #run arms once it is done
    const first = this.#heap[0];
    if (!first) return this.#disarm();
    if (first.at >= this.#timerAt) return;
    this.#disarm();
    this.#timerAt = first.at;
    this.#timer = this.#clock.schedule(first.at - this.#clock.now(), () => this.#run());
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.cancel(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #push(e: Entry): void {
    const h = this.#heap;
    let i = h.push(e) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
