/**
 * A multi-queue divert socket: `-j DIVERT 10:13` spreads flows over ports 10…13 (the kernel
 * hashes each flow to one queue, so a flow's packets stay in order on one queue), and one worker
 * thread per port runs the same handler module on its queue's packets (`onPacket()` in that
 * thread). Stats are merged; `close()` closes every worker gracefully (each answers what it
 * holds), and the rules, installed by the main thread, go first.
 *
 * Order matters for "no packet lost": every worker binds its queue before the rules that feed
 * it exist (a packet queued to an unbound port is dropped), and the rules go before the workers
 * close. The main thread holds the namespace (holdNamespace) until the last worker has closed:
 * when the program's table goes, the kernel drops every packet still queued in the namespace.
 * @module
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { RuleSet, type RuleSpec } from './rule_set.js';
import { checkSocketOptions, show, type DivertSocketOptions, type DivertStats } from './options.js';
import type { WorkerData, WorkerMessage } from './worker_main.js';
import { holdNamespace } from '../firewall/api.js';
import { installExitCleanup } from '../firewall/cleanup.js';
import { DivertClosedError, DivertError } from '../errors.js';
import type { DivertWorkersEvents } from './events.js';

/** What `createDivertSocket({ port: 'first:last', worker })` (or createDivertWorkers) takes. */
export interface DivertWorkersOptions extends Omit<DivertSocketOptions, 'port'> {
  /** The divert ports, `'first:last'` or `{ first, last }` (up to 64): one worker thread per port. */
  port: string | { first: number; last: number };
  /**
   * The handler module each worker imports: its default export (or `onPacket` export),
   * `(p: DivertPacket) => void`, gets each packet of its queue, as `sock.onPacket()` would.
   * A `file:` URL or an absolute path.
   */
  worker: URL | string;
  /**
   * Queue by the CPU that handles each packet (`--queue-cpu-fanout`) instead of by a hash of its
   * addresses: CPU i's packets go to port first + i % ports. A flow stays in order only while one
   * CPU handles it. Rules only (a filter's rules always hash).
   */
  cpuFanout?: boolean | undefined;
  /**
   * Data for the handler module (structured-cloneable): it reads it as `workerData.data` (import
   * `workerData` from node:worker_threads). A handler sends something back to the main thread with
   * `parentPort.postMessage({ type: 'user', data })`: the socket emits it as a `'message'` event.
   */
  workerData?: unknown;
}

/** More queues than this is a typo, not a plan (each is a thread and a socket). */
const MAX_WORKERS = 64;
/** How long the process's exit waits for the workers to answer their held packets. */
const EXIT_WAIT_MS = 2000;

interface Started {
  readonly port: number;
  readonly worker: Worker;
  stats: Record<string, number>;
  /** Resolves when the thread has ended. */
  readonly ended: Promise<void>;
  exited: boolean;
}

/** A multi-queue divert socket: one worker thread per port, each running the handler module (README: "Multi-queue"). */
export class DivertWorkers extends EventEmitter<DivertWorkersEvents> {
  /** The divert ports served, one worker thread each. */
  readonly ports: readonly number[];
  #options: DivertWorkersOptions;
  #handler: string;
  #workers: Started[] = [];
  #rules: RuleSet | undefined;
  #unhold: (() => Promise<void>) | undefined;
  #untrack: (() => void) | undefined;
  #done = new SharedArrayBuffer(4 * MAX_WORKERS);
  #ready: Promise<void>;
  #closing: Promise<void> | undefined;
  #state: 'open' | 'closing' | 'closed' = 'open';

  /** @throws {TypeError|RangeError} for a bad port range, worker module or option. */
  constructor(options: DivertWorkersOptions) {
    super();
    const { port, worker, cpuFanout, workerData: _data, ...rest } = options;
    this.ports = portsOf(port);
    this.#handler = handlerUrl(worker);
    checkSocketOptions(rest);
    if (cpuFanout !== undefined && typeof cpuFanout !== 'boolean') throw new TypeError(`Option cpuFanout must be true or false, got ${show(cpuFanout)}`);
    if (cpuFanout && rest.filter !== undefined) throw new TypeError('Option cpuFanout works with rules, not with a filter (a filter\'s rules spread flows by a hash of their addresses)');
    this.#options = options;
    this.#ready = this.#start();
    this.#ready.catch(() => {});
  }

  /** Settles when every worker has bound its port and the rules are live; rejects with the first failure. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Whether close() has begun. */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** Every worker's stats, summed (each worker reports every 100 ms, and once more as it closes). */
  get stats(): DivertStats {
    const sum: Record<string, number> = {};
    for (const w of this.#workers) for (const [k, v] of Object.entries(w.stats)) sum[k] = (sum[k] ?? 0) + v;
    return { ...emptyStats(), ...sum } as DivertStats;
  }

  /** Each worker's stats, in port order. */
  get workerStats(): Array<{ port: number; stats: DivertStats }> {
    return this.#workers.map((w) => ({ port: w.port, stats: { ...emptyStats(), ...w.stats } as DivertStats }));
  }

  async #start(): Promise<void> {
    const o = this.#options;
    const { port: _port, worker: _worker, cpuFanout, workerData: _data, rules, filter, signal, handleSignals, ...socketOptions } = o;
    try {
      this.#unhold = holdNamespace(o.netns);
      const started = this.ports.map((port, index) => this.#spawn(port, index, { ...socketOptions, netns: o.netns }, filter));
      const results = await Promise.allSettled(started.map((s) => s.ready));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (this.#state !== 'open') throw new DivertClosedError();
      const range = { first: this.ports[0]!, last: this.ports.at(-1)! };
      if ((rules && rules.length > 0) || o.defragment || filter !== undefined) {
        this.#rules = new RuleSet(range, { netns: o.netns, passThrough: o.passThrough ?? false, defragment: o.defragment ?? false, priority: o.priority ?? 0, cpuFanout });
        await this.#rules.install(rules ?? []);
        if (filter !== undefined && !(rules && rules.length > 0)) await this.#rules.installFilter(filter);
      }
      if (handleSignals !== false) this.#untrack = installExitCleanup({ removeSync: () => (this.exitSync(), 0) });
      if (signal) {
        const onAbort = (): void => void this.close().catch(() => {});
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    } catch (err) {
      this.#closing ??= this.#shutdown();
      await this.#closing.catch(() => {});
      throw err;
    }
  }

  #spawn(port: number, index: number, options: DivertSocketOptions, filter: string | undefined): { ready: Promise<void> } {
    const data: WorkerData = { index, port, handler: this.#handler, options, filter, done: this.#done, data: this.#options.workerData };
    const worker = new Worker(new URL('./worker_main.js', import.meta.url), { workerData: data });
    let resolveEnded!: () => void;
    const s: Started = { port, worker, stats: {}, ended: new Promise((r) => (resolveEnded = r)), exited: false };
    this.#workers.push(s);
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'failed') reject(new DivertError(`The worker for divert port ${port} could not start: ${m.message}`, m.code ?? 'ERR_DIVERT_WORKER'));
        else if (m.type === 'stats' || m.type === 'closed') s.stats = m.stats;
        else if (m.type === 'user') this.emit('message', m.data, port);
        else if (m.type === 'error') this.#report(new DivertError(`Worker for divert port ${port}: ${m.message}`, 'ERR_DIVERT_WORKER'));
      });
      worker.on('error', (err) => {
        reject(err);
        this.#report(new DivertError(`The worker for divert port ${port} failed: ${err.message}`, 'ERR_DIVERT_WORKER', { cause: err }));
      });
      worker.on('exit', (code) => {
        s.exited = true;
        resolveEnded();
        reject(new DivertError(`The worker for divert port ${port} ended (exit code ${code}) before it was ready`, 'ERR_DIVERT_WORKER'));
        if (this.#state === 'open' && code !== 0) this.#report(new DivertError(`The worker for divert port ${port} ended unexpectedly (exit code ${code}); its port is not served any more`, 'ERR_DIVERT_WORKER'));
      });
    });
    return { ready };
  }

  /** An error from a worker: to 'error' listeners, or a process warning (never silent). */
  #report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, 'DivertWarning');
  }

  /** Graceful close: the rules go, then each worker closes its socket (answering what it holds). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#ready.catch(() => {}).then(() => this.#shutdown());
    return this.#closing;
  }

  /** `await using workers = …` (TypeScript): close() when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    let ruleError: unknown;
    try {
      await this.#rules?.remove();
    } catch (err) {
      ruleError = err;
    }
    for (const w of this.#workers) if (!w.exited) w.worker.postMessage({ type: 'close' });
    await Promise.all(this.#workers.map((w) => w.ended));
    await this.#unhold?.().catch(() => {});
    this.#untrack?.();
    this.#state = 'closed';
    this.emit('close');
    if (ruleError) throw ruleError;
  }

  /** For exit handlers: the rules go, and every worker answers what it holds, synchronously (bounded wait). */
  exitSync(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    try {
      this.#rules?.removeSync();
    } catch {
      // The process is exiting; its own table goes with it.
    }
    const done = new Int32Array(this.#done);
    const live = this.#workers.map((w, i) => ({ w, i })).filter(({ w }) => !w.exited);
    for (const { w } of live) w.worker.postMessage({ type: 'exit' });
    const deadline = Date.now() + EXIT_WAIT_MS;
    for (const { i } of live) {
      const left = deadline - Date.now();
      if (left > 0) Atomics.wait(done, i, 0, left);
    }
    this.#state = 'closed';
  }
}

/** Ports `first`…`last` of a range given as `'10:13'` or `{ first, last }`. */
function portsOf(port: unknown): number[] {
  let first: unknown;
  let last: unknown;
  if (typeof port === 'string') {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(port);
    if (!m) throw new TypeError(`Option port of a multi-queue socket must be a range 'first:last' such as '10:13', got ${show(port)}`);
    first = Number(m[1]);
    last = Number(m[2]);
  } else if (typeof port === 'object' && port !== null) {
    ({ first, last } = port as { first?: unknown; last?: unknown });
  } else {
    throw new TypeError(`Option port of a multi-queue socket must be a range 'first:last' such as '10:13', got ${show(port)}`);
  }
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535;
  if (!ok(first) || !ok(last) || last < first) {
    throw new RangeError(`Divert port range must be first:last with 0 ≤ first ≤ last ≤ 65535, got ${show(port)}`);
  }
  if (last - first + 1 > MAX_WORKERS) throw new RangeError(`A multi-queue socket serves at most ${MAX_WORKERS} ports (one thread each), got ${last - first + 1}`);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** The handler module as a URL string `import()` takes. */
function handlerUrl(worker: unknown): string {
  if (worker instanceof URL) return worker.href;
  if (typeof worker === 'string' && worker.startsWith('file:')) return worker;
  if (typeof worker === 'string' && isAbsolute(worker)) return pathToFileURL(worker).href;
  throw new TypeError(`Option worker must be the handler module as a URL (new URL('./handler.js', import.meta.url)) or an absolute path, got ${show(worker)}`);
}

function emptyStats(): DivertStats {
  return {
    received: 0, accepted: 0, changed: 0, dropped: 0, repeated: 0, requeued: 0, timedOut: 0, closedWithVerdict: 0,
    filtered: 0, sniffed: 0, injected: 0, held: 0, overruns: 0, verdictSends: 0, verdictErrors: 0, decodeErrors: 0,
  };
}

/** Creates a multi-queue divert socket: one worker thread per port of the range. */
export function createDivertWorkers(options: DivertWorkersOptions): DivertWorkers {
  return new DivertWorkers(options);
}

export type { RuleSpec };
