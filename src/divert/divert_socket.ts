/**
 * DivertSocket: the seed's divert socket on today's Linux.
 *
 * `bind(port)` binds NFQUEUE queue `port`; `recvfrom()` gives the next packet a DIVERT rule sent
 * there with the address of the interface it came in on; `sendto(packet, address)` puts it back
 * where it was taken; a packet never sent back is dropped (`drop()` says so at once). Exactly one
 * verdict per packet; packets left without one get `timeoutVerdict` after `verdictTimeoutMs`,
 * and `close()` reinjects (or drops) everything still held, so no packet is ever lost in limbo.
 *
 * An overflow (the kernel could not hand us packets: ENOBUFS) is counted in `stats.overruns` and
 * reported as an `'overflow'` event; the socket goes on. Only a receive error that is not an
 * overflow ends it, and then every held packet still gets its close verdict.
 * @module
 */
import { EventEmitter } from 'node:events';
import { NfQueue } from '../nfqueue/queue.js';
import type { PacketMeta } from '../nfqueue/packet_msg.js';
import { NF_VERDICT, NF_QUEUE_NR } from '../nfqueue/constants.js';
import { fillChecksums } from '../packet/checksum.js';
import { checkIpPacket } from '../packet/ip_length.js';
import { DivertAddress, heldPacketOf } from './address.js';
import { HOOKS } from '../netlink/netfilter.js';
import { HeldPackets } from './held_packets.js';
import { addressOfMeta, familyOf, receivedPacket } from './received.js';
import { checkSocketOptions, show, type DivertSocketOptions, type DivertStats } from './options.js';
import { Netns, type NetnsPin } from '../_native/netns.js';
import { DivertPacket, type AutoReason, type ReinjectOptions, type VerdictKind, type VerdictSink } from './divert_packet.js';
import { LinkTable } from '../rtnetlink/link_table.js';
import { Injector, type InjectAddress } from './injector.js';
import { RuleSet } from './rule_set.js';
import { Counters } from './counters.js';
import { compileFilter, type CompiledFilter } from '../filter/evaluate.js';
import { residuePlaces } from '../filter/residue_places.js';
import { installExitCleanup } from '../firewall/cleanup.js';
import { holdNamespace } from '../firewall/api.js';
import { DivertClosedError, DivertError } from '../errors.js';
import { DivertWorkers, type DivertWorkersOptions } from './workers.js';
import { PacketQueue } from './packet_queue.js';
import { openOnFreePort } from './free_port.js';
import { checkSendtoArgs, injectionTarget } from './sendto_args.js';
import { SniffSocket } from './sniff_socket.js';
import { TcpRewrite, checkTcpRewriteOptions, type TcpRewriteWarning } from './tcp_rewrite.js';
import type { DivertSocketEvents } from './events.js';

export type { DivertSocketOptions, DivertStats } from './options.js';
export type { DivertSocketEvents, OverflowInfo } from './events.js';


/** Set by DivertSocket's static block: the one way in to its residue from outside (worker threads). */
let residueSetter: (s: DivertSocket, filter: string) => void;

/**
 * A divert socket: bind a port (an NFQUEUE queue), receive the packets DIVERT rules send there,
 * give each exactly one verdict, inject new ones. Made by {@link createDivertSocket}; its events
 * are typed by {@link DivertSocketEvents}.
 */
export class DivertSocket extends EventEmitter<DivertSocketEvents> implements AsyncIterable<DivertPacket> {
  static {
    residueSetter = (s, filter) => {
      s.#residue = compileFilter(filter);
    };
  }

  #options: DivertSocketOptions;
  /** The namespace, opened once: from the first bind or injection until close. */
  #pin: NetnsPin | undefined;
  /** Lets this process's table in the namespace go (see holdNamespace): from bind until the queue is closed. */
  #unhold: (() => Promise<void>) | undefined;
  #queue: NfQueue | undefined;
  #links: LinkTable | undefined;
  #injector: Injector | undefined;
  #rules: RuleSet | undefined;
  #port: number | undefined;
  #binding: Promise<void> | undefined;
  /** The bind (queue, rules, filter) has completed: recvfrom() and iteration may take packets at once. */
  #bound = false;
  /** Received, no verdict yet, oldest first. Each one's address leads back to it while it is
   * held (setHeldPacket), for the seed's sendto(packet, address): no Map keyed by address. */
  #held = new HeldPackets<DivertPacket>();
  /** Read, not yet taken by recvfrom()/iteration (created with the options: see the constructor). */
  #ready: PacketQueue<DivertPacket>;
  /** Set by onPacket(): every packet goes to it, synchronously, and none to recvfrom/iteration. */
  #handler: ((p: DivertPacket) => void) | undefined;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #untrack: (() => void) | undefined;
  #fatal: Error | undefined;
  /** The filter, when user space must decide what the kernel rules queue. */
  #residue: CompiledFilter | undefined;
  /** Where (hook, family) the residue must decide; undefined: everywhere. */
  #residueWhere: ((hook: string, family: 4 | 6) => boolean) | undefined;
  #counters = new Counters();
  /** Packets read since the last read whose originals are views into the receive arena. */
  #borrowed: DivertPacket[] = [];
  /** With the tcpRewrite option: the flows whose data lengths the program changed. */
  #tcpRewrite: TcpRewrite | undefined;
  #tcpWarned = false;
  #sink: VerdictSink = {
    prepare: (p, bytes, opts) => this.#prepare(p, bytes, opts),
    injectVia: (p, bytes, opts) => this.#injectVia(p, bytes, opts),
    settle: (p, kind, payload, opts, auto, via, port) => this.#settle(p, kind, payload, opts, auto, via, port),
    addressOf: (meta, family) => addressOfMeta(meta, family, this.#links, this.#port ?? meta.queue),
  };

  /**
   * @throws {TypeError|RangeError} for an unknown option or a bad value (named in the message).
   */
  constructor(options: DivertSocketOptions = {}) {
    super();
    this.#options = checkSocketOptions(options);
    this.#ready = new PacketQueue(this.#options.highWaterMark ?? 2048, { pause: () => this.#queue?.pause(), resume: () => this.#queue?.resume() });
    if (options.sniff === true) throw new TypeError('A DivertSocket diverts: for sniff: true use createDivertSocket({ sniff: true }) or new SniffSocket()');
    checkTcpRewriteOptions(this.#options);
    if (this.#options.tcpRewrite) this.#tcpRewrite = new TcpRewrite((w) => this.#warnTcp(w), (bytes, p) => this.#injectAfter(bytes, p));
    if (options.netns !== undefined) Netns.from(options.netns); // a bad name fails here, not at bind
    if (options.port !== undefined || options.filter !== undefined) {
      this.#binding = this.bind(options.port);
      // The error is reported by recvfrom()/iteration; keep it from being an unhandled rejection.
      this.#binding.catch(() => {});
    }
    // Nobody awaits a close the signal starts: a failure there (rules the kernel would not delete;
    // they go with the process) must not become an unhandled rejection.
    if (options.signal?.aborted) void this.close().catch(() => {});
    else if (options.signal) {
      const signal = options.signal;
      const onAbort = (): void => void this.close().catch(() => {});
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }

  /**
   * Settles when the bind started by the `port` option (and its rules) is done; rejects with its
   * error. Resolves at once when there is none.
   */
  get ready(): Promise<void> {
    return this.#binding ?? Promise.resolve();
  }

  /** The bound port, or undefined before bind(). */
  get port(): number | undefined {
    return this.#port;
  }

  /** Whether close() has begun (or the socket ended on an error). */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** A snapshot of the counters (see {@link DivertStats}: they always add up). */
  get stats(): DivertStats {
    const q = this.#queue;
    return this.#counters.snapshot(this.#held.size, {
      overruns: q?.socket.overruns ?? 0,
      verdictSends: q?.verdictSends ?? 0,
      verdictErrors: q?.verdictErrors ?? 0,
      decodeErrors: q?.decodeErrors ?? 0,
    });
  }

  /**
   * Binds divert port `port` (the NFQUEUE queue number) and installs the socket's rules and
   * filter. Without `port`, a free one is chosen (see {@link port}).
   * @throws {RangeError} for a port outside 0–65535.
   * @throws {DivertError} `EPERM` without CAP_NET_ADMIN, `ERR_DIVERT_PORT_IN_USE` when another process has the port.
   */
  bind(port?: number): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new DivertClosedError());
    if (this.#binding) {
      const what = this.#port === undefined ? 'is already binding (to a port it chooses)' : `is already bound to port ${this.#port}`;
      return Promise.reject(new DivertError(`The socket ${what}: one bind per socket (the port and filter options bind it at once)`, 'ERR_DIVERT_ALREADY_BOUND'));
    }
    if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) {
      return Promise.reject(new RangeError(`Divert port must be an integer from 0 to 65535, got ${show(port)}`));
    }
    this.#port = port;
    this.#binding = this.#bind(port);
    return this.#binding;
  }

  /** Opens the queue of `port`, or of the first free port from a per-process start when none is given. */
  async #openQueue(port: number | undefined): Promise<NfQueue> {
    const o = this.#options;
    const options = { netnsPath: this.#netnsPath(), copyMode: o.copyMode, copyRange: o.copyRange, maxLen: o.maxQueueLength, failOpen: o.failOpen, gso: o.gso ?? o.tcpRewrite !== true, uidGid: o.uidGid };
    if (port !== undefined) return NfQueue.open(port, options);
    const free = await openOnFreePort((p) => NfQueue.open(p, options));
    this.#port = free.port;
    return free.opened;
  }

  async #bind(port: number | undefined): Promise<void> {
    const o = this.#options;
    // closeSync() may run while this bind awaits: after each await, stop if it did.
    const stillOpen = (): void => {
      if (this.#state !== 'open') throw new DivertClosedError();
    };
    try {
      this.#queue = await this.#openQueue(port);
      this.#unhold = holdNamespace(this.#netnsPath());
      stillOpen();
      this.#links ??= await LinkTable.open(this.#netnsPath());
      stillOpen();
      // Large packets' originals are views into the queue's receive arena until its next read.
      this.#queue.socket.beforeReceive = () => this.#releaseBorrowed();
      this.#queue.start(
        (meta, buf) => this.#onPacket(meta, buf),
        (err) => this.#onError(err),
        () => this.emit('overflow', { overruns: this.#queue?.socket.overruns ?? 0 }),
        o.coalesceMs ?? 0,
      );
      this.#startTimer();
      // On SIGINT/SIGTERM/SIGHUP, an uncaught exception or exit: exitSync(), then the usual end.
      if (o.handleSignals !== false) this.#untrack = installExitCleanup({ removeSync: () => (this.exitSync(), 0) });
      if (this.#state !== 'open') throw new DivertClosedError();
      const bound = this.#port!;
      if ((o.rules && o.rules.length > 0) || o.defragment || o.filter !== undefined) {
        this.#rules = new RuleSet(bound, { netns: this.#netnsPath(), passThrough: o.passThrough ?? false, defragment: o.defragment ?? false, priority: o.priority ?? 0 });
        await this.#rules.install(o.rules ?? []);
        stillOpen();
      }
      if (o.filter !== undefined) {
        const withRules = (o.rules?.length ?? 0) > 0;
        // With rules too, the rules choose in the kernel and the filter decides in user space.
        const h = withRules ? undefined : await this.#rules!.installFilter(o.filter);
        stillOpen();
        if (withRules || h?.residual) this.#residue = compileFilter(o.filter);
        // Packets queued where every rule is exact matched in the kernel: no evaluation for them.
        if (h?.residual) this.#residueWhere = residuePlaces(h.lowered);
      }
      this.#bound = true;
    } catch (err) {
      if (this.#state === 'closed') {
        // closeSync() ran meanwhile and could not see what this bind made after it: undo that.
        await this.#undoLateBind();
      } else {
        // Not close(): it waits for the bind in progress, which is this very call.
        this.#closing ??= this.#shutdown();
        await this.#closing.catch(() => {});
      }
      throw err;
    }
  }

  /** Removes what a bind made after the socket was already closed (each step idempotent). */
  async #undoLateBind(): Promise<void> {
    await this.#rules?.remove().catch(() => {});
    await this.#queue?.close().catch(() => {});
    this.#links?.close();
    await this.#unhold?.().catch(() => {});
    this.#untrack?.();
  }

  /**
   * The fastest way to read: `handler` is called synchronously for each packet as it is read (no
   * promise, no queue), and gives its verdict with `p.reinject()`, `p.drop()`… at once or later;
   * a packet left unanswered gets `timeoutVerdict` after `verdictTimeoutMs`, as always. Packets
   * read before the call go to it at once. From then on `recvfrom()` and iteration are refused
   * (`ERR_DIVERT_HANDLER`). When the handler throws, the packet (if it has no verdict yet) gets
   * `timeoutVerdict` at once, and the error is emitted as `'error'` (with no listener, it is
   * thrown from a microtask: an uncaught exception, like any listener's).
   * @throws {TypeError} when `handler` is not a function; a DivertError when a handler is set
   *   already; {@link DivertClosedError} after close().
   */
  onPacket(handler: (p: DivertPacket) => void): this {
    if (typeof handler !== 'function') throw new TypeError(`onPacket() takes a function (p) => { p.reinject(); }, got ${show(handler)}`);
    if (this.#state !== 'open') throw new DivertClosedError();
    if (this.#handler) throw new DivertError('This socket already has its onPacket() handler: one per socket', 'ERR_DIVERT_HANDLER');
    this.#handler = handler;
    this.#ready.fail(handlerError());
    for (let p = this.#ready.shift(); p !== undefined; p = this.#ready.shift()) {
      if (p.verdict === undefined) this.#deliver(p);
    }
    return this;
  }

  /** Hands `p` to the onPacket handler; a throw gives the packet its timeout verdict and is reported. */
  #deliver(p: DivertPacket): void {
    try {
      this.#handler!(p);
    } catch (err) {
      p.settleAutomatically(this.#options.timeoutVerdict ?? 'accept', 'timeout');
      // The 'error' event carries an Error: a handler that threw something else has it as the cause.
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(`onPacket handler threw ${String(err)}`, { cause: err }));
      else queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Resolves with the next diverted packet; rejects once the socket is closed. */
  recvfrom(options: { signal?: AbortSignal } = {}): Promise<DivertPacket> {
    const ready = this.#takeNow();
    if (ready) return Promise.resolve(ready);
    return this.#next(options.signal).then((p) => p ?? Promise.reject(this.#fatal ?? new DivertClosedError()));
  }

  /** `for await (const p of sock)`: each packet as it comes; ends when the socket closes, throws its fatal error. */
  [Symbol.asyncIterator](): AsyncIterator<DivertPacket> {
    // A plain iterator, not an async generator: a packet already read costs one settled promise
    // here, where a generator's yield and await cost several per packet.
    let finished = false;
    const end: IteratorResult<DivertPacket> = { value: undefined, done: true };
    return {
      next: () => {
        if (finished) return Promise.resolve(end);
        const ready = this.#takeNow();
        if (ready) return Promise.resolve({ value: ready, done: false });
        return this.#next(undefined).then((p) => {
          if (p) return { value: p, done: false };
          finished = true;
          if (this.#fatal) throw this.#fatal;
          return end;
        });
      },
      return: () => {
        finished = true;
        return Promise.resolve(end);
      },
    };
  }

  /** A packet recvfrom() or iteration may take at once (bound, no handler, one still without a verdict), if any. */
  #takeNow(): DivertPacket | undefined {
    if (!this.#bound || this.#handler) return undefined;
    for (let p = this.#ready.shift(); p !== undefined; p = this.#ready.shift()) {
      // A packet that timed out while waiting here already has its verdict: never hand it out.
      if (p.verdict === undefined) return p;
    }
    return undefined;
  }

  /** `await using sock = …` (TypeScript): close() when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * The seed's sendto(): with the address `recvfrom()` gave, reinjects that packet (`packet` may
   * be changed or new bytes); with no address, `0.0.0.0`/`::` or `{ outbound: true }`, injects
   * `packet` outbound; with a local interface's address, name or index, injects it inbound as if
   * received there. Returns the number of bytes sent.
   * @throws {TypeError} for a packet that is not bytes or an address of the wrong type;
   *   {@link PacketError} for bytes that are not a whole IP packet (a held packet stays held).
   */
  sendto(packet: Uint8Array, address?: DivertAddress | InjectAddress | string): number {
    if (this.#state !== 'open') throw new DivertClosedError();
    checkSendtoArgs(packet, address);
    const held = address instanceof DivertAddress ? this.#findHeld(address) : undefined;
    if (held) {
      held.reinject(packet === held.packet ? undefined : packet);
      return packet.length;
    }
    // Not held (answered already, or another address): the bytes are injected.
    const n = this.#inject(packet, injectionTarget(address));
    this.#counters.injected++;
    return n;
  }

  #inject(packet: Uint8Array, to: InjectAddress | undefined, fill = this.#options.fillChecksums !== false): number {
    // A socket that only injects has no table yet: read one now (nothing waits, see openNow).
    this.#injector ??= new Injector(this.#netnsPath(), () => (this.#links ??= LinkTable.openNow(this.#netnsPath())));
    return this.#injector.send(packet, to, fill);
  }

  /** Drops the packet recvfrom() gave with `address` (the seed drops by not sending it back). */
  drop(target: DivertPacket | DivertAddress): void {
    const p = target instanceof DivertPacket ? target : target instanceof DivertAddress ? this.#findHeld(target) : undefined;
    if (!p) throw new DivertError('No held packet matches that address', 'ERR_DIVERT_UNKNOWN_PACKET');
    p.drop();
  }

  /**
   * Graceful close: removes the socket's rules, stops the kernel queueing, reads what it still
   * queued, gives every held packet `closeVerdict` (reinject by default), unbinds and closes.
   * Idempotent.
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
    } catch (err) {
      ruleError = err;
    }
    const verdict = this.#options.closeVerdict ?? 'accept';
    try {
      // Rules we do not own may still send packets here: make the kernel stop queueing first
      // (new ones are accepted, or dropped with closeVerdict 'drop'), so the unbind finds
      // nothing left for the kernel to drop. Then read what it had already queued.
      await this.#queue?.stopQueueing(verdict === 'accept');
      this.#queue?.drain();
    } catch {
      // The socket is going away; whatever it held gets its verdict below.
    }
    try {
      this.#answerHeld();
      await this.#queue?.close();
    } finally {
      // Whatever failed above, the socket ends and close() settles: the queue's fd closes (if a
      // verdict could not be sent even then, the kernel drops that packet as it unbinds).
      // Only now may the rules' table (and its hooks) go: when a hook goes, the kernel drops every
      // packet queued in the namespace.
      await this.#unhold?.().catch(() => {});
      await this.#injector?.close().catch(() => {});
      this.#finish();
    }
    if (ruleError) throw ruleError;
  }

  /** @internal For exit handlers: everything close() does, synchronously and in the same order. */
  exitSync(): void {
    try {
      this.#rules?.removeSync();
    } catch {
      // The process is exiting; `divert rules sweep` removes what is left.
    }
    this.closeSync();
  }

  /**
   * @internal The synchronous part of close (exit handlers): verdicts for everything held, unbind, close.
   * Rules are not removed here.
   */
  closeSync(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    try {
      this.#queue?.stopQueueingSync((this.#options.closeVerdict ?? 'accept') === 'accept');
      this.#queue?.drain();
    } catch {
      // As in close().
    }
    this.#answerHeld();
    this.#queue?.closeSync();
    void this.#unhold?.();
    this.#injector?.closeSync();
    this.#finish();
  }

  /** The path of the socket's namespace, opening it on first use; undefined: this process's. */
  #netnsPath(): string | undefined {
    this.#pin ??= Netns.pin(this.#options.netns);
    return this.#pin.path;
  }

  /** Every held packet gets the close verdict, sent now if the kernel takes it (else at the queue's close). */
  #answerHeld(): void {
    const verdict = this.#options.closeVerdict ?? 'accept';
    for (const p of this.#held.toArray()) p.settleAutomatically(verdict, 'close');
    try {
      this.#queue?.flush();
    } catch {
      // They stay queued: the queue's close tries once more.
    }
  }

  #finish(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#timer) clearInterval(this.#timer);
    this.#links?.close();
    this.#pin?.release();
    this.#untrack?.();
    this.#ready.clear();
    this.#ready.end();
    this.emit('close');
  }

  /** The packet recvfrom() gave with `address`, while it still waits for its verdict. */
  #findHeld(address: DivertAddress): DivertPacket | undefined {
    const p = heldPacketOf(address);
    return p instanceof DivertPacket && p.held && p.cameTo(this.#sink) ? p : undefined;
  }

  async #next(signal: AbortSignal | undefined): Promise<DivertPacket | undefined> {
    if (this.#handler) throw handlerError();
    if (this.#binding) await this.#binding;
    for (let p = this.#ready.shift(); p !== undefined; p = this.#ready.shift()) {
      // A packet that timed out while waiting here already has its verdict: never hand it out.
      if (p.verdict === undefined) return p;
    }
    if (this.#state !== 'open') return undefined;
    if (!this.#queue) throw new DivertError('The socket is not bound: call bind(port) first', 'ERR_DIVERT_NOT_BOUND');
    return this.#ready.wait(signal);
  }

  #releaseBorrowed(): void {
    if (this.#borrowed.length === 0) return;
    for (const p of this.#borrowed) p.releaseOriginal();
    this.#borrowed.length = 0;
  }

  #onPacket(meta: PacketMeta, buf: Uint8Array): void {
    const p = receivedPacket(meta, buf, this.#sink, this.#borrowed);
    this.#counters.received++;
    this.#held.add(p);
    // (The address, made when first read, links itself back to the held packet then.)
    if (this.#residue && (this.#residueWhere?.(HOOKS[meta.hook] ?? '', familyOf(meta, p.packet)) ?? true) && !this.#residue.match(p.packet, p.address)) {
      p.settleAutomatically('accept', 'filtered');
      return;
    }
    if (this.#state !== 'open') {
      p.settleAutomatically(this.#options.closeVerdict ?? 'accept', 'close');
      return;
    }
    if (this.#handler) this.#deliver(p);
    else this.#ready.push(p);
  }

  /** What a reinjection will send: undefined when unchanged, else checked bytes with checksums filled. */
  #prepare(p: DivertPacket, bytes: Uint8Array | undefined, opts: ReinjectOptions): Uint8Array | undefined {
    const out = bytes ?? (p.changed ? p.packet : undefined);
    if (out !== undefined) {
      checkIpPacket(out);
      if (opts.fillChecksums ?? this.#options.fillChecksums ?? true) fillChecksums(out);
    }
    return this.#tcpRewrite ? this.#tcpRewrite.prepare(p, out) : out;
  }

  /** A further segment of a split TCP rewrite, where `p` was taken (as sendto() does once `p` is answered). */
  #injectAfter(bytes: Uint8Array, p: DivertPacket): void {
    this.#inject(bytes, p.address.outbound ? undefined : { interface: p.address.ifindex }, false);
    this.#counters.injected++;
  }

  /** A flow tcpRewrite cannot keep consistent: the 'tcpRewriteWarning' event, else one process warning. */
  #warnTcp(w: TcpRewriteWarning): void {
    if (this.listenerCount('tcpRewriteWarning') > 0) this.emit('tcpRewriteWarning', w);
    else if (!this.#tcpWarned) {
      this.#tcpWarned = true;
      process.emitWarning(w.message, { code: w.code });
    }
  }

  /** Reinjection by a chosen interface: the bytes are injected first; only then is the original dropped. */
  #injectVia(p: DivertPacket, bytes: Uint8Array, opts: ReinjectOptions): void {
    // Changed bytes had their checksums made right by #prepare. Unchanged ones the kernel left
    // with partial checksums (checksumNotReady: offload, with gso) would be dropped where they
    // arrive: a copy gets them filled.
    const partial = bytes === p.packet && p.address.checksumNotReady && !p.changed;
    this.#inject(bytes, { interface: opts.interface, outbound: p.address.outbound }, partial);
  }

  #settle(p: DivertPacket, kind: VerdictKind, payload: Uint8Array | undefined, opts: ReinjectOptions, auto: AutoReason | undefined, via = false, port = 0): void {
    if (!this.#held.remove(p)) return;
    p.unlinkAddress();
    const c = this.#counters;
    if (auto === 'timeout') c.timedOut++;
    else if (auto === 'close') c.closedWithVerdict++;
    else if (auto === 'filtered') c.filtered++;
    else if (kind === 'drop') c.dropped++;
    else if (kind === 'repeat') c.repeated++;
    else if (kind === 'queue') c.requeued++;
    else if (payload !== undefined) c.changed++;
    else c.accepted++;
    const q = this.#queue;
    if (!q) return;
    if (auto !== undefined && kind === 'accept' && this.#tcpRewrite) payload = this.#tcpRewrite.auto(p);
    // An injection by interface took the bytes: the original is dropped.
    const verdict = kind === 'drop' || via ? NF_VERDICT.NF_DROP
      : kind === 'repeat' ? NF_VERDICT.NF_REPEAT
      : kind === 'queue' ? NF_QUEUE_NR(port)
      : NF_VERDICT.NF_ACCEPT;
    // A plain verdict carries no options object (none made per packet).
    const mark = opts.mark;
    q.verdict(p.id, verdict, via || (mark === undefined && payload === undefined) ? undefined : { mark, payload });
  }

  #startTimer(): void {
    const timeout = this.#options.verdictTimeoutMs ?? 5000;
    if (timeout === 0) return;
    this.#timer = setInterval(() => {
      const limit = performance.now() - timeout;
      const kind = this.#options.timeoutVerdict ?? 'accept';
      // Held in arrival order: the oldest first, until one is young enough.
      for (let p = this.#held.oldest(); p !== undefined && p.receivedAt <= limit; p = this.#held.oldest()) {
        if (p.settleAutomatically(kind, 'timeout')) this.emit('timeout', p);
        else this.#held.remove(p); // cannot be (held means unanswered), but never loop
      }
    }, Math.max(10, Math.min(250, timeout / 4)));
    this.#timer.unref();
  }

  #onError(err: Error): void {
    // A fatal socket error ends the socket; held packets still get their close verdict.
    this.#fatal = err;
    this.#ready.fail(err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
    void this.close().catch(() => {});
  }
}

/**
 * @internal Makes `sock` decide `filter` in user space: packets that do not match are accepted at
 * once and counted as filtered (the worker threads of a multi-queue socket, whose kernel rules
 * the main thread installed).
 */
export function setResidue(sock: DivertSocket, filter: string): void {
  residueSetter(sock, filter);
}

function handlerError(): DivertError {
  return new DivertError('This socket delivers its packets to its onPacket() handler: recvfrom() and iteration get none', 'ERR_DIVERT_HANDLER');
}

/**
 * Creates a divert socket; with `port`, binds it (and installs `rules`) at once. With
 * `sniff: true`, a {@link SniffSocket}: copies of the selected packets, the originals unheld
 * (typed as one when `sniff` is the literal `true`; or write `new SniffSocket(options)`). With a
 * port range and `worker` (`{ port: '10:13', worker: new URL('./handler.js', import.meta.url) }`),
 * a multi-queue socket: one worker thread per port runs the handler module (see DivertWorkers).
 */
export function createDivertSocket(options: DivertWorkersOptions): DivertWorkers;
export function createDivertSocket(options: DivertSocketOptions & { sniff: true }): SniffSocket;
export function createDivertSocket(options?: DivertSocketOptions): DivertSocket;
export function createDivertSocket(options: DivertSocketOptions | DivertWorkersOptions = {}): DivertSocket | SniffSocket | DivertWorkers {
  if (typeof options === 'object' && options !== null && (options as { worker?: unknown }).worker !== undefined) {
    return new DivertWorkers(options as DivertWorkersOptions);
  }
  const o = options as DivertSocketOptions;
  return o.sniff === true ? new SniffSocket(o) : new DivertSocket(o);
}
