/**
 * createChaos(): a divert socket sized for holding packets, and a {@link ChaosEngine} giving
 * every packet it receives its impairment. The packets are chosen as a divert socket chooses them
 * (`rules`, `filter`, `port`); a `handler` sees each packet first and may give it a verdict
 * itself, so a program's own logic and the impairments compose.
 *
 * ```ts
 * import { createChaos } from 'divert/chaos';
 * const chaos = createChaos({ filter: 'udp.DstPort == 53', drop: 0.2, lag: 100, jitter: 20 });
 * await chaos.ready;
 * // … later, or on Ctrl-C:
 * await chaos.close();   // every held packet released, the rules removed
 * ```
 *
 * The socket asks for one packet per segment (no GSO super-packets: an impairment acts on what
 * goes on the wire), a kernel queue of `maxHeld` + headroom packets, and a verdict timeout longer
 * than any packet can be held (see settings.ts); its close verdict is accept, so a socket closed
 * by a signal reinjects what the engine held.
 * @module
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createDivertSocket, type DivertSocket, type DivertSocketOptions } from '../divert/divert_socket.js';
import type { DivertPacket } from '../divert/divert_packet.js';
import { ChaosEngine, type ChaosStats } from './engine.js';
import { REAL_CLOCK, type ChaosClock } from './clock.js';
import { seededRandom, type RandomSource } from './random.js';
import { checkImpairment, socketSizing, type ImpairmentOptions, type ImpairmentSettings } from './settings.js';

/** The divert socket options that choose the packets and where. */
type Selection = Pick<DivertSocketOptions, 'port' | 'rules' | 'filter' | 'netns' | 'priority' | 'passThrough' | 'defragment' | 'handleSignals' | 'signal'>;

/**
 * Options of {@link createChaos}: which packets (the divert socket's `port`, `rules`, `filter`, `netns`…) and
 * what to do to them.
 */
export interface ChaosOptions extends Selection, ImpairmentOptions {
  /**
   * Sees every packet before the impairments. Give the packet a verdict (reinject, drop…) to take
   * it out of the run; leave it without one and the impairments apply. May change `p.packet`.
   */
  handler?: ((p: DivertPacket) => void | Promise<void>) | undefined;
  /** The clock of lags and the throttle (tests pass a fake one). Default: performance.now() and setTimeout. */
  clock?: ChaosClock | undefined;
  /** The random source (tests, simulations); default: seeded with `seed`. */
  random?: RandomSource | undefined;
}

const SELECTION_KEYS = ['port', 'rules', 'filter', 'netns', 'priority', 'passThrough', 'defragment', 'handleSignals', 'signal'] as const;
const OWN_KEYS = new Set<string>([...SELECTION_KEYS, 'handler', 'clock', 'random', 'drop', 'lag', 'jitter', 'duplicate', 'reorder', 'reorderWait', 'tamper',
  'tamperKeepChecksums', 'throttle', 'queueLimit', 'burst', 'maxHeld', 'seed']);

/** Emits `'warning'`: a duplicate the kernel would not take (the original went on), or maxHeld reached for the first time. */
export class Chaos extends EventEmitter {
  /** The divert socket the run receives packets on. */
  readonly socket: DivertSocket;
  /** The engine that holds, drops, duplicates and releases the packets. */
  readonly engine: ChaosEngine;
  /** The settings in force, the seed included (a random one when none was given). */
  readonly settings: Readonly<ImpairmentSettings>;
  /** Settles when the socket is bound and its rules installed; rejects with the error. */
  readonly ready: Promise<void>;
  /** Settles when the run's loop ended (close, a signal, or an error: then it rejects). */
  readonly done: Promise<void>;
  #closing: Promise<void> | undefined;

  /**
   * Starts a run (as {@link createChaos}).
   * @throws {TypeError|RangeError} for a bad option, or settings no timer or queue can honour.
   */
  constructor(options: ChaosOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('createChaos() takes an options object');
    for (const name of Object.keys(options)) {
      if (!OWN_KEYS.has(name)) throw new TypeError(`Unknown option ${JSON.stringify(name)}; the options are: ${[...OWN_KEYS].join(', ')}`);
    }
    if (options.handler !== undefined && typeof options.handler !== 'function') throw new TypeError('Option handler must be a function (p) => void');
    const settings = checkImpairment(options, () => randomInt(0, 2 ** 32 - 1));
    this.settings = settings;
    const selection: DivertSocketOptions = {};
    for (const k of SELECTION_KEYS) if (options[k] !== undefined) (selection as Record<string, unknown>)[k] = options[k];
    const socket = createDivertSocket({
      ...selection,
      ...socketSizing(settings),
      timeoutVerdict: 'accept',
      closeVerdict: 'accept',
      gso: false,
    });
    this.socket = socket;
    this.engine = new ChaosEngine(settings, {
      clock: options.clock ?? REAL_CLOCK,
      random: options.random ?? seededRandom(settings.seed),
      inject: (bytes, address) => void socket.sendto(bytes, address),
      error: (err) => this.emit('warning', err),
    });
    // A socket that closes on its own (a signal, an error) answers what the engine holds.
    socket.once('close', () => this.engine.forget());
    this.ready = options.port === undefined && options.filter === undefined ? socket.bind() : socket.ready;
    this.done = this.#loop(options.handler);
    this.done.catch(() => {}); // reported through ready or by whoever awaits done
  }

  /** What the engine did so far: a snapshot of its counters. */
  get stats(): ChaosStats {
    return this.engine.stats;
  }

  /** The divert port the run listens on (after {@link ready}). */
  get port(): number | undefined {
    return this.socket.port;
  }

  /** Releases every held packet at once, removes the rules and closes the socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.engine.releaseAll();
      await this.socket.close();
      await this.done.catch(() => {});
    })();
    return this.#closing;
  }

  /** {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #loop(handler: ChaosOptions['handler']): Promise<void> {
    await this.ready;
    for await (const p of this.socket) {
      if (handler) {
        try {
          await handler(p);
        } catch (err) {
          // The handler's failure is the program's, not the packet's: it still gets its verdict,
          // and the run ends as a failed one (everything held released, the rules removed).
          if (p.verdict === undefined) this.#take(p);
          void this.close().catch(() => {});
          throw err;
        }
      }
      if (p.verdict === undefined) this.#take(p);
    }
  }

  /** engine.take(), and should it fail, the packet still gets its one verdict (reinjected as it is). */
  #take(p: DivertPacket): void {
    try {
      const overflows = this.engine.stats.overflowDrops;
      this.engine.take(p);
      if (overflows === 0 && this.engine.stats.overflowDrops === 1) {
        this.emit('warning', new Error(`${this.settings.maxHeld} packets are held (maxHeld): more are dropped until some are released; raise maxHeld (--max-held) or shorten the lag`));
      }
    } catch (err) {
      if (p.verdict === undefined) p.reinject();
      this.emit('warning', err);
    }
  }
}

/**
 * Starts an impairment run: a divert socket choosing packets by `rules`/`filter`/`port`, every
 * packet impaired as the options say.
 * @throws {TypeError|RangeError} for a bad option, or settings no timer or queue can honour.
 */
export function createChaos(options: ChaosOptions): Chaos {
  return new Chaos(options);
}
