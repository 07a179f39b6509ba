/**
 * A clock for impairment tests (src/chaos/clock.ts's ChaosClock): time stands still until the
 * test moves it, and then the timers due run in time order, each with the clock at its own time,
 * so a test can name the exact millisecond a packet is released.
 * @module
 */
import type { ChaosClock } from '../chaos/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements ChaosClock {
  #now: number;
  #timers = new Map<number, Timer>();
  #seq = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, delayMs), seq: id, fn });
    return id;
  }

  cancel(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** When the next timer is due, or undefined when none is set. */
  nextAt(): number | undefined {
    return this.#first()?.at;
  }

  /** Moves the clock to the next timer's time and runs it (and any due at that same time); false when none is set. */
  step(): boolean {
    const t = this.#first();
    if (!t) return false;
    this.#now = Math.max(this.#now, t.at);
    for (let next = this.#first(); next && next.at <= this.#now; next = this.#first()) {
      this.#timers.delete(next.seq);
      next.fn();
    }
    return true;
  }

  /** Runs every timer due up to `to`, in order, and leaves the clock at `to`. */
  advanceTo(to: number): void {
    for (let t = this.#first(); t && t.at <= to; t = this.#first()) this.step();
    this.#now = Math.max(this.#now, to);
  }

  #first(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}
