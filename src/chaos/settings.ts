/**
 * What an impairment run does to packets, checked and turned into the divert socket's sizing.
 *
 * Probabilities are fractions (0.05 is 5 %), times milliseconds, the throttle bits per second
 * (or text such as `'1mbit'`). A packet is held for at most {@link maxHoldMs}: its lag and
 * jitter, the reorder wait, and the time a full throttle queue takes to drain; the socket's
 * verdict timeout (a safety net only: the engine releases every packet itself) and the kernel's
 * queue length are sized from it, and settings that no timer or queue can honour are refused.
 * @module
 */
import { parseRate } from './units.js';

/** What to do to packets; every option may be left out (then it does nothing, or takes its default). */
export interface ImpairmentOptions {
  /** Probability that a packet is dropped (0–1). */
  drop?: number | undefined;
  /** Milliseconds every packet is held before it goes on. */
  lag?: number | undefined;
  /** Spread of the lag: each packet's delay is uniform in lag ± jitter (never below 0), in whole ms. */
  jitter?: number | undefined;
  /** Probability that a packet is sent twice (the copy is injected right after the original). */
  duplicate?: number | undefined;
  /** Probability that a packet is held back until the next packet has gone (or `reorderWait` passed). */
  reorder?: number | undefined;
  /** Milliseconds a reordered packet waits for another to overtake it (default 100). */
  reorderWait?: number | undefined;
  /** Probability that one bit of a packet's payload is flipped. */
  tamper?: number | undefined;
  /** Tampered packets keep their old checksums, now wrong (default: checksums are made right). */
  tamperKeepChecksums?: boolean | undefined;
  /** Token-bucket rate limit: bits per second, or text (`'1mbit'`, `'256kbit'`, `'10mbps'`). */
  throttle?: number | string | undefined;
  /** Packets waiting for throttle tokens before more are dropped (default 1000). */
  queueLimit?: number | undefined;
  /** Token bucket size in bytes (default: 10 ms at the throttle rate, at least 1500). */
  burst?: number | undefined;
  /** Packets held at once, in every stage, before more are dropped (default 10000). */
  maxHeld?: number | undefined;
  /** Seed of the random source (an integer 0 – 2^32−1): the same seed, settings and packets give the same decisions. */
  seed?: number | undefined;
}

/** The checked settings, defaults filled in. */
export interface ImpairmentSettings {
  /** Probability that a packet is dropped (0–1). */
  drop: number;
  /** Milliseconds every packet is held. */
  lag: number;
  /** Spread of the lag in ms (uniform in lag ± jitter). */
  jitter: number;
  /** Probability that a packet is sent twice (0–1). */
  duplicate: number;
  /** Probability that a packet is held back for another to overtake it (0–1). */
  reorder: number;
  /** Milliseconds a reordered packet waits at most (default 100). */
  reorderWait: number;
  /** Probability that one payload bit is flipped (0–1). */
  tamper: number;
  /** Tampered packets keep their old, now wrong, checksums (default false). */
  tamperKeepChecksums: boolean;
  /** Bits per second; 0: no throttle. */
  throttle: number;
  /** Packets waiting for throttle tokens before more are dropped (default 1000). */
  queueLimit: number;
  /** Token bucket size in bytes (default 10 ms at the throttle rate, at least 1500). */
  burst: number;
  /** Packets held at once before more are dropped (default 10000). */
  maxHeld: number;
  /** Seed of the random source (0 – 2^32−1); a random one when none was given. */
  seed: number;
}

/** The most bytes one packet can have: what a full throttle queue is sized with. */
const MAX_PACKET_BYTES = 65535;
/** setTimeout's and the divert socket's longest wait. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Packets the kernel may queue beyond maxHeld: those on their way to user space. */
export const KERNEL_QUEUE_HEADROOM = 1024;
/** Margin of the socket's verdict timeout over the longest hold. */
const TIMEOUT_MARGIN_MS = 10_000;

function fraction(v: unknown, name: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`Option ${name} must be a probability from 0 to 1, got ${String(v)}`);
  if (v < 0 || v > 1) throw new RangeError(`Option ${name} must be a probability from 0 to 1 (0.05 for 5 %), got ${v}`);
  return v;
}

function ms(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`Option ${name} must be a number of milliseconds, got ${String(v)}`);
  if (v < 0 || v > MAX_TIMER_MS) throw new RangeError(`Option ${name} must be from 0 to ${MAX_TIMER_MS} ms, got ${v}`);
  return v;
}

function count(v: unknown, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`Option ${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  return v;
}

/**
 * Checks the impairment options and fills in the defaults.
 * @throws {TypeError|RangeError} naming the option, what it accepts and what it got.
 */
export function checkImpairment(o: ImpairmentOptions, randomSeed: () => number): ImpairmentSettings {
  const throttle = o.throttle === undefined ? 0 : typeof o.throttle === 'string' ? parseRate(o.throttle) : o.throttle;
  if (typeof throttle !== 'number' || !Number.isFinite(throttle) || throttle < 0) {
    throw new RangeError(`Option throttle must be bits per second (a number above 0, or text such as '1mbit'), got ${String(o.throttle)}`);
  }
  if (o.tamperKeepChecksums !== undefined && typeof o.tamperKeepChecksums !== 'boolean') throw new TypeError(`Option tamperKeepChecksums must be true or false, got ${String(o.tamperKeepChecksums)}`);
  const s: ImpairmentSettings = {
    drop: fraction(o.drop, 'drop'),
    lag: ms(o.lag, 'lag', 0),
    jitter: ms(o.jitter, 'jitter', 0),
    duplicate: fraction(o.duplicate, 'duplicate'),
    reorder: fraction(o.reorder, 'reorder'),
    reorderWait: ms(o.reorderWait, 'reorderWait', 100),
    tamper: fraction(o.tamper, 'tamper'),
    tamperKeepChecksums: o.tamperKeepChecksums ?? false,
    throttle,
    queueLimit: count(o.queueLimit, 'queueLimit', 1000, 0, 1_000_000),
    burst: count(o.burst, 'burst', Math.max(1500, Math.ceil(throttle / 8 / 100)), 1, 2 ** 31 - 1),
    maxHeld: count(o.maxHeld, 'maxHeld', 10_000, 1, 1_000_000),
    seed: count(o.seed, 'seed', -1, 0, 2 ** 32 - 1),
  };
  if (s.seed < 0) s.seed = randomSeed();
  if (s.throttle > 0 && s.queueLimit > s.maxHeld) {
    throw new RangeError(`queueLimit ${s.queueLimit} is more than maxHeld ${s.maxHeld}: the throttle queue is part of what is held; raise maxHeld or lower queueLimit`);
  }
  socketSizing(s); // refuses what no timer can wait for
  return s;
}

/** The longest a packet can be held under `s` (ms): lag + jitter + reorder wait + a full throttle queue's drain. */
export function maxHoldMs(s: ImpairmentSettings): number {
  const drain = s.throttle > 0 ? ((s.queueLimit + 1) * MAX_PACKET_BYTES * 8 * 1000) / s.throttle : 0;
  return s.lag + s.jitter + (s.reorder > 0 ? s.reorderWait : 0) + drain;
}

/** The divert socket's options an impairment run needs. */
export interface SocketSizing {
  /** The socket's `verdictTimeoutMs`: the longest hold plus 10 s of margin. */
  verdictTimeoutMs: number;
  /** The socket's `maxQueueLength`: `maxHeld` plus packets on their way to user space. */
  maxQueueLength: number;
}

/**
 * The verdict timeout and kernel queue length for `s`.
 * @throws {RangeError} when a packet could be held longer than the socket's timer can wait.
 */
export function socketSizing(s: ImpairmentSettings): SocketSizing {
  const hold = maxHoldMs(s);
  const timeout = Math.ceil(hold) + TIMEOUT_MARGIN_MS;
  if (timeout > MAX_TIMER_MS) {
    const why = s.throttle > 0
      ? `a full throttle queue (${s.queueLimit} packets of up to ${MAX_PACKET_BYTES} bytes at ${s.throttle} bit/s) drains in ${Math.round(hold / 1000)} s`
      : `lag, jitter and reorder wait add up to ${Math.round(hold)} ms`;
    throw new RangeError(`These settings can hold a packet longer than divert can wait for its verdict (${MAX_TIMER_MS} ms): ${why}; lower queueLimit, raise throttle or shorten the lag`);
  }
  return { verdictTimeoutMs: timeout, maxQueueLength: s.maxHeld + KERNEL_QUEUE_HEADROOM };
}
