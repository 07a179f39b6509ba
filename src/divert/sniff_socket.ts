/**
 * SniffSocket: a divert socket in sniff mode (WinDivert's SNIFF, ipfw's `tee`). Its rules and
 * filter select packets as a diverting socket's do, but end in nf_tables `log group <port>`
 * instead of the queue verdict: the kernel hands a copy of each packet to NFLOG group <port>
 * (nfnetlink_log) and the packet goes on at once. `recvfrom()` and `for await` give the copies
 * as {@link SniffedPacket}s with the same addresses as diverted packets.
 *
 * Why NFLOG and not NFQUEUE with fail-open or bypass: a queued packet waits for its verdict, so a
 * slow or stopped (SIGSTOP, debugger) listener holds traffic up until the queue fills, and
 * fail-open only helps once it is full; bypass only when nobody is bound. A logged packet never
 * waits: when the listener does not read, the kernel's send into its socket buffer fails and
 * that copy is lost (counted in `stats.overruns`, event `overflow`), never the packet.
 * @module
 */
import { EventEmitter } from 'node:events';
import { NfLog } from '../nflog/log_group.js';
import type { LogMeta } from '../nflog/packet_msg.js';
import { LinkTable } from '../rtnetlink/link_table.js';
import { Netns, type NetnsPin } from '../_native/netns.js';
import { compileFilter, type CompiledFilter } from '../filter/evaluate.js';
import { installExitCleanup } from '../firewall/cleanup.js';
import { releaseOwnedTable } from '../firewall/api.js';
import { DivertClosedError, DivertError } from '../errors.js';
import type { DivertAddress } from './address.js';
import { Counters } from './counters.js';
import { Injector, type InjectAddress } from './injector.js';
import { checkSocketOptions, show, type DivertSocketOptions, type DivertStats } from './options.js';
import { RuleSet } from './rule_set.js';
import { sniffedPacket, type SniffedPacket } from './sniffed_packet.js';
import type { SniffSocketEvents } from './events.js';
import { PacketQueue } from './packet_queue.js';
import { openOnFreePort } from './free_port.js';
import { checkSendtoArgs, injectionTarget } from './sendto_args.js';


/** Options of a diverting socket that mean nothing when sniffing: refused, so nobody relies on them. */
const NOT_WHEN_SNIFFING = ['passThrough', 'verdictTimeoutMs', 'timeoutVerdict', 'closeVerdict', 'maxQueueLength', 'failOpen', 'gso', 'uidGid', 'tcpRewrite'] as const;

/** A sniffing socket (`createDivertSocket({ sniff: true, … })`): copies of the packets its rules select; the originals go on. */
export class SniffSocket extends EventEmitter<SniffSocketEvents> implements AsyncIterable<SniffedPacket> {
  #options: DivertSocketOptions;
  #pin: NetnsPin | undefined;
  #log: NfLog | undefined;
  #links: LinkTable | undefined;
  #injector: Injector | undefined;
  #rules: RuleSet | undefined;
  #port: number | undefined;
  #binding: Promise<void> | undefined;
  /** Copies read, not yet taken. Not reading only costs copies: the kernel drops them when the socket buffer is full. */
  #ready: PacketQueue<SniffedPacket>;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #untrack: (() => void) | undefined;
  #fatal: Error | undefined;
  #residue: CompiledFilter | undefined;
  #counters = new Counters();
  #nextId = 0;

  /**
   * @throws {TypeError|RangeError} for an unknown option, a bad value, or an option that only
   *   diverting has (passThrough, verdict timeouts and verdicts, queue length, failOpen, gso, uidGid, tcpRewrite).
   */
  constructor(options: DivertSocketOptions = {}) {
    super();
    this.#options = checkSniffOptions(options);
    this.#ready = new PacketQueue(this.#options.highWaterMark ?? 2048, { pause: () => this.#log?.pause(), resume: () => this.#log?.resume() });
    if (options.port !== undefined || options.filter !== undefined) {
      this.#binding = this.bind(options.port);
      this.#binding.catch(() => {}); // reported by recvfrom()/iteration
    }
    if (options.signal?.aborted) void this.close().catch(() => {});
    else if (options.signal) {
      const signal = options.signal;
      const onAbort = (): void => void this.close().catch(() => {});
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }

  /** Always true: this socket sniffs. */
  get sniff(): true {
    return true;
  }

  /** Settles when the bind started by the `port` or `filter` option (and its rules) is done. */
  get ready(): Promise<void> {
    return this.#binding ?? Promise.resolve();
  }

  /** The bound port (the NFLOG group), or undefined before bind(). */
  get port(): number | undefined {
    return this.#port;
  }

  /** Whether close() has begun. */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** Counters: every copy is `sniffed` or `filtered`; `overruns` counts times the kernel lost copies for us. */
  get stats(): DivertStats {
    const log = this.#log;
    return this.#counters.snapshot(0, { overruns: log?.socket.overruns ?? 0, verdictSends: 0, verdictErrors: 0, decodeErrors: log?.decodeErrors ?? 0 });
  }

  /**
   * Binds `port` (the NFLOG group; a free one when not given) and installs the socket's rules
   * and filter, logging to it.
   * @throws {RangeError} for a port outside 0–65535.
   * @throws {DivertError} `EPERM` without CAP_NET_ADMIN, `ERR_DIVERT_PORT_IN_USE` when another socket has the group.
   */
  bind(port?: number): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new DivertClosedError());
    if (this.#binding) return Promise.reject(new DivertError('The socket is already bound: one bind per socket (the port and filter options bind it at once)', 'ERR_DIVERT_ALREADY_BOUND'));
    if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) {
      return Promise.reject(new RangeError(`Divert port must be an integer from 0 to 65535, got ${show(port)}`));
    }
    this.#port = port;
    this.#binding = this.#bind(port);
    return this.#binding;
  }

  async #openLog(port: number | undefined): Promise<NfLog> {
    const o = this.#options;
    // coalesceMs: the kernel batches copies itself (NFLOG's queue threshold and flush timeout, in
    // 1/100 s) into one datagram per batch, in its largest buffer; else one datagram per copy.
    const coalesce = o.coalesceMs ? { qthreshold: 256, timeoutCentiseconds: Math.ceil(o.coalesceMs / 10), nlbufsiz: 131072 } : {};
    const options = { netnsPath: this.#netnsPath(), copyMode: o.copyMode, copyRange: o.copyRange, ...coalesce };
    if (port !== undefined) return NfLog.open(port, options);
    const free = await openOnFreePort((p) => NfLog.open(p, options));
    this.#port = free.port;
    return free.opened;
  }

  async #bind(port: number | undefined): Promise<void> {
    const o = this.#options;
    const stillOpen = (): void => {
      if (this.#state !== 'open') throw new DivertClosedError();
    };
    try {
      this.#log = await this.#openLog(port);
      stillOpen();
      this.#links ??= await LinkTable.open(this.#netnsPath());
      stillOpen();
      this.#log.start(
        (meta, buf) => this.#onCopy(meta, buf),
        (err) => this.#onError(err),
        () => this.emit('overflow', { overruns: this.#log?.socket.overruns ?? 0 }),
      );
      if (o.handleSignals !== false) this.#untrack = installExitCleanup({ removeSync: () => (this.exitSync(), 0) });
      const bound = this.#port!;
      if ((o.rules && o.rules.length > 0) || o.defragment || o.filter !== undefined) {
        // The group's copy range limits every copy: the rules need no snaplen of their own.
        this.#rules = new RuleSet(bound, { netns: this.#netnsPath(), passThrough: false, defragment: o.defragment ?? false, priority: o.priority ?? 0, sniff: {} });
        await this.#rules.install(o.rules ?? []);
        stillOpen();
      }
      if (o.filter !== undefined) {
        const withRules = (o.rules?.length ?? 0) > 0;
        const h = withRules ? undefined : await this.#rules!.installFilter(o.filter);
        stillOpen();
        if (withRules || h?.residual) this.#residue = compileFilter(o.filter);
      }
    } catch (err) {
      if (this.#state === 'closed') await this.#undoLateBind();
      else {
        this.#closing ??= this.#shutdown();
        await this.#closing.catch(() => {});
      }
      throw err;
    }
  }

  async #undoLateBind(): Promise<void> {
    await this.#rules?.remove().catch(() => {});
    await releaseOwnedTable(this.#options.netns).catch(() => {});
    await this.#log?.close().catch(() => {});
    this.#links?.close();
    this.#untrack?.();
  }

  /** Resolves with the next copy; rejects once the socket is closed and every copy read. */
  async recvfrom(options: { signal?: AbortSignal } = {}): Promise<SniffedPacket> {
    const p = await this.#next(options.signal);
    if (!p) throw this.#fatal ?? new DivertClosedError();
    return p;
  }

  /** `for await (const p of sock)`: each copy as it comes; ends when the socket closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<SniffedPacket> {
    for (;;) {
      const p = await this.#next(undefined);
      if (!p) {
        if (this.#fatal) throw this.#fatal;
        return;
      }
      yield p;
    }
  }

  /** `await using sock = …` (TypeScript): close() when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Injects `packet` (it does not reinject: sniffed copies have no verdict): with a copy's
   * address, where the original was seen (inbound on its interface, or outbound); with no
   * address, `0.0.0.0`/`::` or `{ outbound: true }`, outbound; with a local interface's address,
   * name or index, inbound as if received there. Returns the number of bytes sent.
   * @throws {TypeError} for bytes or an address of the wrong type; {@link PacketError} for bytes that are not a whole IP packet.
   */
  sendto(packet: Uint8Array, address?: DivertAddress | InjectAddress | string): number {
    if (this.#state !== 'open') throw new DivertClosedError();
    checkSendtoArgs(packet, address);
    this.#injector ??= new Injector(this.#netnsPath(), () => (this.#links ??= LinkTable.openNow(this.#netnsPath())));
    const n = this.#injector.send(packet, injectionTarget(address), this.#options.fillChecksums !== false);
    this.#counters.injected++;
    return n;
  }

  /**
   * Graceful close: removes the socket's rules, reads the copies the kernel already sent, unbinds
   * and closes. Copies read before the close are still given by recvfrom() and iteration, which
   * end after them. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#binding) await this.#binding.catch(() => {});
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    let ruleError: unknown;
    try {
      await this.#rules?.remove();
      if (this.#rules) await releaseOwnedTable(this.#options.netns);
    } catch (err) {
      ruleError = err;
    }
    try {
      this.#log?.drain();
    } catch {
      // The socket is going away; what it could not read is lost (copies only).
    }
    try {
      await this.#log?.close();
    } finally {
      await this.#injector?.close().catch(() => {});
      this.#finish();
    }
    if (ruleError) throw ruleError;
  }

  /** For exit handlers: rules, then the group, synchronously. */
  exitSync(): void {
    try {
      this.#rules?.removeSync();
    } catch {
      // The process is exiting: its table goes with it.
    }
    this.closeSync();
  }

  /** The synchronous part of close (exit handlers): unbind and close; rules are not removed here. */
  closeSync(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    this.#log?.closeSync();
    this.#injector?.closeSync();
    this.#finish();
  }

  #netnsPath(): string | undefined {
    this.#pin ??= Netns.pin(this.#options.netns);
    return this.#pin.path;
  }

  #finish(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#links?.close();
    this.#pin?.release();
    this.#untrack?.();
    this.#ready.end();
    this.emit('close');
  }

  async #next(signal: AbortSignal | undefined): Promise<SniffedPacket | undefined> {
    if (this.#binding) await this.#binding;
    const ready = this.#ready.shift();
    if (ready !== undefined) return ready;
    if (this.#state !== 'open') return undefined;
    if (!this.#log) throw new DivertError('The socket is not bound: call bind(port) first', 'ERR_DIVERT_NOT_BOUND');
    return this.#ready.wait(signal);
  }

  #onCopy(meta: LogMeta, buf: Uint8Array): void {
    const p = sniffedPacket(meta, buf, this.#links, this.#port ?? meta.group, ++this.#nextId);
    this.#counters.received++;
    if (this.#residue && !this.#residue.match(p.packet, p.address)) {
      this.#counters.filtered++;
      return;
    }
    this.#counters.sniffed++;
    this.#ready.push(p);
  }

  #onError(err: Error): void {
    this.#fatal = err;
    this.#ready.fail(err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
    void this.close().catch(() => {});
  }
}

/** Checks a sniffing socket's options: a diverting socket's, less those only diverting has. */
export function checkSniffOptions(options: unknown): DivertSocketOptions {
  const o = checkSocketOptions(options);
  for (const name of NOT_WHEN_SNIFFING) {
    if (o[name] !== undefined) throw new TypeError(`Option ${name} is for diverting; a sniffing socket holds no packet (its copies need no verdict): leave it out, or drop sniff: true`);
  }
  if (o.sniff === false) throw new TypeError('A SniffSocket always sniffs: leave out sniff: false, or use createDivertSocket() to divert');
  return o;
}
