/**
 * The time an impairment run keeps, behind an interface so tests drive it with a fake clock
 * (src/testing/fake_clock.ts) and assert exact release times.
 * @module
 */

/** Milliseconds and one-shot timers. */
export interface ChaosClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls `fn` once after `delayMs`; returns a handle for {@link cancel}. */
  schedule(delayMs: number, fn: () => void): unknown;
  /** Cancels a timer {@link schedule} returned, if it has not fired. */
  cancel(handle: unknown): void;
}

/** performance.now() and setTimeout. The timers keep the process alive: held packets must go out. */
export const REAL_CLOCK: ChaosClock = {
  now: () => performance.now(),
  schedule: (delayMs, fn) => setTimeout(fn, Math.max(0, Math.ceil(delayMs))),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
