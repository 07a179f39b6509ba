/**
 * ChaosEngine: clumsy's impairments, applied to packets a divert socket holds. It takes each
 * packet's verdict over (so it composes with any loop over a DivertSocket) and gives exactly one:
 * a drop, or a reinjection now or later, out of order.
 *
 * A packet goes through the stages in this order, drawing from the random source only for the
 * impairments that are on (so one seed, one set of settings and one packet sequence always give
 * the same decisions and release times):
 *
 *   drop? ─ tamper? ─ duplicate? ─ lag ± jitter ─ reorder? (wait for an overtaker) ─ throttle ─ release
 *
 * - **drop**: the packet is dropped at once.
 * - **tamper**: one bit of its payload (after the TCP/UDP/ICMP header, else after the IP headers)
 *   is flipped; the checksums are made right unless `tamperKeepChecksums`.
 * - **duplicate**: once the packet is released, a copy is injected where it was taken.
 * - **lag ± jitter**: held until arrival + round(lag + uniform(−jitter, +jitter)), at least 0.
 * - **reorder**: after its lag, held until the next packet leaves the lag stage, then sent right
 *   after that one; or after `reorderWait` ms when none comes.
 * - **throttle**: a token bucket of `burst` bytes refilled at `throttle` bit/s; a packet goes when
 *   the bucket holds its size (or the whole bucket, for a packet larger than it), else it waits
 *   in a FIFO of at most `queueLimit` packets; one arriving at a full queue is dropped.
 *
 * At most `maxHeld` packets are held; more are dropped (`overflowDrops`). {@link releaseAll}
 * reinjects everything held, at once (the end of a run): no packet is left in limbo.
 * @module
 */
import type { DivertPacket } from '../divert/divert_packet.js';
import type { DivertAddress } from '../divert/address.js';
import { tryParsePacket } from '../packet/parse.js';
import type { ChaosClock } from './clock.js';
import type { RandomSource } from './random.js';
import { Scheduler } from './scheduler.js';
import type { ImpairmentSettings } from './settings.js';

/** What the engine needs of a held packet: DivertPacket has it. */
export type ChaosPacket = Pick<DivertPacket, 'packet' | 'address' | 'verdict' | 'reinject' | 'drop'>;

/** What the engine did, by action. Every packet taken ends in exactly one of dropped, queueDrops, overflowDrops, released, or is held. */
export interface ChaosStats {
  /** Packets taken. */
  received: number;
  /** Dropped by the `drop` probability. */
  dropped: number;
  /** Dropped at a full throttle queue. */
  queueDrops: number;
  /** Dropped because `maxHeld` packets were held already. */
  overflowDrops: number;
  /** Reinjected (lagged or not). */
  released: number;
  /** Held right now, in any stage. */
  held: number;
  /** Waiting in the throttle queue right now. */
  queued: number;
  /** Held by lag for more than 0 ms. */
  delayed: number;
  /** Held back for reordering. */
  reordered: number;
  /** Released after a packet that arrived after it (a reordered one that was overtaken). */
  overtaken: number;
  /** Had a payload bit flipped. */
  tampered: number;
  /** Copies injected. */
  duplicated: number;
  /** Copies the kernel would not take (see the `error` callback). */
  duplicateErrors: number;
  /** Waited in the throttle queue. */
  throttled: number;
}

/** What the engine acts through: time, chance and injection (tests pass fakes). */
export interface ChaosEngineIo {
  /** The clock of lags, reorder waits and the throttle. */
  clock: ChaosClock;
  /** The random source every probability draws from. */
  random: RandomSource;
  /** Injects a copy of a released packet where it was taken (DivertSocket.sendto). */
  inject(bytes: Uint8Array, address: DivertAddress): void;
  /** Told when a duplicate could not be injected (the original went on). */
  error?: ((err: unknown) => void) | undefined;
  /** Told of every release, with the clock time (for tests and histograms). */
  released?: ((p: ChaosPacket, at: number) => void) | undefined;
}

interface Item {
  p: ChaosPacket;
  keepChecksums: boolean;
  duplicate: boolean;
  reorder: boolean;
  /** 'lag' → ('overtake') → ('throttle') → 'done'. */
  stage: 'lag' | 'overtake' | 'throttle' | 'done';
}

/** Gives every packet it takes its impairments and exactly one verdict (see the module comment). */
export class ChaosEngine {
  /** The settings in force (a frozen copy). */
  readonly settings: Readonly<ImpairmentSettings>;
  #io: ChaosEngineIo;
  #scheduler: Scheduler;
  /** Every held packet, in arrival order (releaseAll keeps it). */
  #held = new Set<Item>();
  /** Reordered packets waiting for another to overtake them. */
  #overtake: Item[] = [];
  #queue: Item[] = [];
  #queueHead = 0;
  #tokens: number;
  #tokensAt: number;
  #queueTimer = false;
  #stopped = false;
  #s: Omit<ChaosStats, 'held' | 'queued'> = {
    received: 0, dropped: 0, queueDrops: 0, overflowDrops: 0, released: 0, delayed: 0, reordered: 0, overtaken: 0,
    tampered: 0, duplicated: 0, duplicateErrors: 0, throttled: 0,
  };

  /** An engine applying `settings` (checked ones: see `checkImpairment`) through `io`. */
  constructor(settings: ImpairmentSettings, io: ChaosEngineIo) {
    this.settings = Object.freeze({ ...settings });
    this.#io = io;
    this.#scheduler = new Scheduler(io.clock);
    this.#tokens = settings.burst;
    this.#tokensAt = io.clock.now();
  }

  /** What the engine did so far: a snapshot of its counters. */
  get stats(): ChaosStats {
    return { ...this.#s, held: this.#held.size, queued: this.#queue.length - this.#queueHead };
  }

  /** Whether {@link releaseAll} or {@link forget} ended the engine: packets now pass untouched. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Takes over `p`'s verdict. After {@link releaseAll}, packets are reinjected at once. */
  take(p: ChaosPacket): void {
    const s = this.settings;
    const r = this.#io.random;
    if (p.verdict !== undefined) throw new Error('ChaosEngine.take(): the packet already has its verdict');
    this.#s.received++;
    if (this.#stopped) return this.#release({ p, keepChecksums: false, duplicate: false, reorder: false, stage: 'lag' }, false);
    if (s.drop > 0 && r.next() < s.drop) {
      this.#s.dropped++;
      return p.drop();
    }
    if (this.#held.size >= s.maxHeld) {
      this.#s.overflowDrops++;
      return p.drop();
    }
    const item: Item = { p, keepChecksums: false, duplicate: false, reorder: false, stage: 'lag' };
    if (s.tamper > 0 && r.next() < s.tamper && tamper(p, r)) {
      this.#s.tampered++;
      item.keepChecksums = s.tamperKeepChecksums;
    }
    item.duplicate = s.duplicate > 0 && r.next() < s.duplicate;
    const delay = Math.max(0, Math.round(s.jitter > 0 ? s.lag + (2 * r.next() - 1) * s.jitter : s.lag));
    item.reorder = s.reorder > 0 && r.next() < s.reorder;
    this.#held.add(item);
    if (delay > 0) {
      this.#s.delayed++;
      this.#scheduler.at(this.#io.clock.now() + delay, () => this.#lagDone(item));
    } else {
      this.#lagDone(item);
    }
  }

  /**
   * Reinjects every held packet now, in arrival order, and passes later ones untouched: the end
   * of a run. Duplicates still due are sent.
   */
  releaseAll(): void {
    this.#stopped = true;
    this.#scheduler.clear();
    this.#overtake = [];
    this.#queue = [];
    this.#queueHead = 0;
    for (const item of [...this.#held]) this.#release(item, item.duplicate);
  }

  /** The socket answered every held packet itself (it closed): forget them, counted as released. */
  forget(): void {
    this.#stopped = true;
    this.#scheduler.clear();
    this.#s.released += this.#held.size;
    this.#held.clear();
    this.#overtake = [];
    this.#queue = [];
    this.#queueHead = 0;
  }

  #lagDone(item: Item): void {
    if (item.stage !== 'lag') return;
    if (item.reorder) {
      item.stage = 'overtake';
      this.#s.reordered++;
      this.#overtake.push(item);
      this.#scheduler.at(this.#io.clock.now() + this.settings.reorderWait, () => {
        if (item.stage !== 'overtake') return;
        this.#overtake.splice(this.#overtake.indexOf(item), 1);
        this.#throttle(item);
      });
      return;
    }
    this.#throttle(item);
    // Whatever was held back for reordering goes right after this packet.
    for (const waiting of this.#overtake.splice(0)) {
      this.#s.overtaken++;
      this.#throttle(waiting);
    }
  }

  #throttle(item: Item): void {
    const s = this.settings;
    if (s.throttle <= 0) return this.#release(item, item.duplicate);
    item.stage = 'throttle';
    this.#refill();
    if (this.#queue.length === this.#queueHead && this.#tokens >= this.#need(item)) {
      this.#tokens -= item.p.packet.length;
      return this.#release(item, item.duplicate);
    }
    if (this.#queue.length - this.#queueHead >= s.queueLimit) {
      this.#s.queueDrops++;
      this.#held.delete(item);
      item.stage = 'done';
      return item.p.drop();
    }
    this.#s.throttled++;
    this.#queue.push(item);
    this.#armQueue();
  }

  /** Tokens a packet needs before it may go: its size, or the whole bucket when it is larger. */
  #need(item: Item): number {
    return Math.min(item.p.packet.length, this.settings.burst);
  }

  #refill(): void {
    const now = this.#io.clock.now();
    const perMs = this.settings.throttle / 8 / 1000;
    this.#tokens = Math.min(this.settings.burst, this.#tokens + (now - this.#tokensAt) * perMs);
    this.#tokensAt = now;
  }

  #armQueue(): void {
    const head = this.#queue[this.#queueHead];
    if (this.#queueTimer || !head) return;
    const perMs = this.settings.throttle / 8 / 1000;
    const wait = Math.max(0, (this.#need(head) - this.#tokens) / perMs);
    this.#queueTimer = true;
    this.#scheduler.at(this.#io.clock.now() + wait, () => {
      this.#queueTimer = false;
      this.#drain();
    });
  }

  #drain(): void {
    this.#refill();
    for (;;) {
      const head = this.#queue[this.#queueHead];
      // A millionth of a byte of slack: the wait was computed from these very tokens.
      if (!head || this.#tokens + 1e-6 < this.#need(head)) break;
      this.#queueHead++;
      this.#tokens -= head.p.packet.length;
      this.#release(head, head.duplicate);
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    this.#armQueue();
  }

  #release(item: Item, duplicate: boolean): void {
    this.#held.delete(item);
    item.stage = 'done';
    const p = item.p;
    if (p.verdict !== undefined) return; // the socket answered it already (closed)
    this.#s.released++;
    p.reinject(undefined, item.keepChecksums ? { fillChecksums: false } : {});
    const copy = duplicate ? p.packet.slice() : undefined;
    this.#io.released?.(p, this.#io.clock.now());
    if (copy) {
      try {
        // The original has its verdict now, so sendto() injects the copy where it was taken.
        this.#io.inject(copy, p.address);
        this.#s.duplicated++;
      } catch (err) {
        this.#s.duplicateErrors++;
        this.#io.error?.(err);
      }
    }
  }
}

/** Flips one random bit of the packet's payload; false when it has none (or holds only part of the packet). */
function tamper(p: ChaosPacket, r: RandomSource): boolean {
  if (p.address.truncated) return false;
  const payload = tryParsePacket(p.packet)?.payload;
  if (!payload || payload.length === 0) return false;
  const i = Math.floor(r.next() * payload.length);
  payload[i]! ^= 1 << Math.floor(r.next() * 8);
  return true;
}
