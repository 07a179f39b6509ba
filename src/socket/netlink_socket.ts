/**
 * An asynchronous netlink socket over the native addon: one fd, batched receive into a
 * JS-owned arena, sequence numbers, and request/answer bookkeeping. It knows netlink framing
 * (headers, NLMSG_ERROR, NLMSG_DONE) and nothing of the families above it.
 *
 * Receive path: the libuv poller says "readable" → `recvmmsg` fills up to `batch` slots of the
 * arena → each datagram is walked with a MessageIter → messages answering a request in flight
 * (same `nlmsg_seq`) go to that request's exchange handler, every other message to the
 * `onMessage` handler of `start()`, with the iterator positioned on it. Handlers must copy what
 * they keep: the arena is reused by the next receive.
 *
 * Requests never block the event loop: `exchange()` sends and waits for the poller. The
 * `*Sync` forms poll with a bounded timeout and exist for exit-time cleanup only, where the
 * process cannot wait for the loop any more.
 *
 * Coalescing (`coalesceMs` of `start()`): a wake-up per sparse message is the dearest part of a
 * quiet socket (a context switch, two epoll_pwait — libuv's idle-time metrics poll once with a
 * zero timeout first — one recvmmsg and the answer's sendmsg, whatever the message). With
 * coalescing, a read that empties the socket stops watching it and reads again `coalesceMs`
 * later from a timer, without epoll: what arrived meanwhile is read, and answered, as one batch.
 * The socket is watched again once such a read finds nothing. Messages wait up to `coalesceMs`.
 *
 * Overflow: when the kernel could not queue a message for us (receive buffer full), the socket
 * gets `sk_err = ENOBUFS`; poll(2) reports POLLERR and libuv stops the watcher and calls back
 * with an error. That is not fatal: the next read returns ENOBUFS (clearing it), we count an
 * overrun, tell `onOverrun`, and watch again. Only an error that is not ENOBUFS ends the socket.
 * @module
 */
import { loadNative, UV_READABLE, type NativeBinding, type PollHandle } from '../_native/binding.js';
import { check, Errno } from '../_native/errno.js';
import { sockaddrNl, sockaddrNlPid } from '../_native/sockaddr.js';
import { AF_NETLINK, SOCK_RAW, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE } from '../ip/socket_constants.js';
import { i32ne } from '../netlink/bytes.js';
import { MessageIter } from '../netlink/message_iter.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NlmsgType, SOL_NETLINK, NetlinkSockopt } from '../netlink/constants.js';
import { parseNlmsgerr, toNetlinkError } from '../netlink/netlink_error.js';
import { NetlinkError, SystemCallError, DivertClosedError } from '../errors.js';

const POLLIN = 1;
/** How long a request waits for the kernel's answer. */
const REQUEST_TIMEOUT_MS = 5000;

export interface NetlinkSocketOptions {
  /** Path of a network namespace file (e.g. /run/netns/NAME) to open the socket in. */
  netnsPath?: string | undefined;
  /** Receive buffer in bytes (SO_RCVBUFFORCE, falling back to SO_RCVBUF). */
  receiveBufferBytes?: number | undefined;
  /** Bytes per receive slot: the largest datagram expected. */
  slotSize?: number | undefined;
  /** Datagrams per recvmmsg call. */
  batch?: number | undefined;
}

/** Called for each message nobody is waiting for; `it` is positioned on it (valid during the call only). */
export type MessageHandler = (it: MessageIter) => void;

/**
 * Sees every message answering an exchange (NLMSG_ERROR and NLMSG_DONE included; `it` is valid
 * during the call only) and returns true once the exchange is complete. Throwing ends the
 * exchange with that error.
 */
export type ExchangeHandler = (it: MessageIter) => boolean;

/** One request in flight: the seqs it used and what to do with their answers. */
interface Exchange {
  readonly op: string;
  readonly seqs: readonly number[];
  readonly onMessage: ExchangeHandler;
  /** Set while the exchange is open; cleared when it settles. */
  settle: ((err: Error | null) => void) | undefined;
}

/** What `start()` reports besides messages. */
export interface SocketEvents {
  /** A fatal receive error: the socket cannot go on. */
  onError: (err: Error) => void;
  /** The kernel dropped messages for us (ENOBUFS); reading goes on. */
  onOverrun?: (() => void) | undefined;
  /** Read sparse messages in batches, each waiting up to this long (see the module comment). Default 0. */
  coalesceMs?: number | undefined;
  /**
   * Called after each read that got datagrams (a batch of up to `batch`, whoever read it: the
   * poller, the coalescing timer, drain(), a request waiting for its answer), also when a handler
   * threw: the place to answer what the batch brought in one send.
   */
  afterRead?: (() => void) | undefined;
}

/**
 * An open netlink socket (see the module comment). Make one with `NetlinkSocket.open()`; close
 * it with `close()` or `closeAsync()`.
 */
export class NetlinkSocket {
  /** The socket's file descriptor (non-blocking, close-on-exec); not valid after close. */
  readonly fd: number;
  /**
   * The port id the kernel bound the socket to (`nl_pid` from getsockname): what the kernel's answers are
   * addressed to.
   */
  readonly portId: number;
  /** Datagrams the kernel had to cut because a slot was too small. */
  truncatedDatagrams = 0;
  /** ENOBUFS seen on receive: the kernel dropped messages because our buffer was full. */
  overruns = 0;
  /**
   * Called before each read overwrites the receive arena: a handler that kept views into it (a
   * large packet's original, see DivertPacket.releaseOriginal) copies or drops them here.
   */
  beforeReceive: (() => void) | undefined;

  #native: NativeBinding;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #arena: Uint8Array;
  #lengths: Uint32Array;
  #slot: number;
  #batch: number;
  #iter = new MessageIter();
  #poll: PollHandle | undefined;
  #handler: MessageHandler | undefined;
  #events: SocketEvents | undefined;
  /** start() was called and pause() is not in effect: watch the fd for the handler. */
  #reading = false;
  /** Settles once the fd is closed (see closeAsync). */
  #released: Promise<void> | undefined;
  #bySeq = new Map<number, Exchange>();
  /** Whether a watched fd keeps the process alive (kept across poll handles). */
  #ref = true;
  #coalesceMs = 0;
  /** Set while coalescing: the fd is not watched, this timer reads it next. */
  #coalesceTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(native: NativeBinding, fd: number, portId: number, slot: number, batch: number) {
    this.#native = native;
    this.fd = fd;
    this.portId = portId;
    this.#slot = slot;
    this.#batch = batch;
    this.#arena = new Uint8Array(slot * batch);
    this.#lengths = new Uint32Array(batch);
  }

  /** Opens and binds a netlink socket of `protocol` (NETLINK_NETFILTER, NETLINK_ROUTE…). */
  static open(protocol: number, options: NetlinkSocketOptions = {}): NetlinkSocket {
    const native = loadNative();
    const fd = native.socket(AF_NETLINK, SOCK_RAW, protocol, options.netnsPath ?? null);
    if (fd < 0) {
      if (-fd === Errno.ENOENT && options.netnsPath) {
        throw new SystemCallError('socket', -fd, `Cannot open a netlink socket in ${options.netnsPath}: no such network namespace`);
      }
      if (-fd === Errno.EPROTONOSUPPORT) {
        throw new SystemCallError('socket', -fd, `Cannot open netlink protocol ${protocol}: the kernel does not support it`);
      }
      throw new SystemCallError('socket', -fd);
    }
    try {
      check('bind', native.bind(fd, sockaddrNl(0, 0)));
      const name = new Uint8Array(12);
      check('getsockname', native.getsockname(fd, name));
      const portId = sockaddrNlPid(name);
      // Extended ACKs give the kernel's reason for a refusal; CAP_ACK keeps ACKs short.
      native.setsockopt(fd, SOL_NETLINK, NetlinkSockopt.NETLINK_EXT_ACK, 1);
      native.setsockopt(fd, SOL_NETLINK, NetlinkSockopt.NETLINK_CAP_ACK, 1);
      const rcv = options.receiveBufferBytes;
      if (rcv !== undefined && native.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcv) < 0) {
        native.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcv);
      }
      return new NetlinkSocket(native, fd, portId, options.slotSize ?? 65536, options.batch ?? 16);
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }

  /** True once `close()` or `closeAsync()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The next sequence number to put in a request (never 0: notifications use 0). */
  nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    if (this.#seq === 0) this.#seq = 1;
    return this.#seq;
  }

  /** Sends one datagram (one or many netlink messages) to the kernel. */
  send(bytes: Uint8Array): void {
    if (this.#closed) throw new DivertClosedError('netlink socket');
    for (let attempt = 0; ; attempt++) {
      const n = this.#native.sendto(this.fd, bytes, null, 0);
      if (n >= 0) return;
      // A netlink send to the kernel only fails with EAGAIN/ENOBUFS under memory pressure: retry briefly.
      if ((-n === Errno.EAGAIN || -n === Errno.ENOBUFS) && attempt < 100) continue;
      throw new SystemCallError('sendto', -n);
    }
  }

  /** Joins a multicast group (rtnetlink notifications and the like). */
  joinGroup(group: number): void {
    check('setsockopt(NETLINK_ADD_MEMBERSHIP)', this.#native.setsockopt(this.fd, SOL_NETLINK, NetlinkSockopt.NETLINK_ADD_MEMBERSHIP, group));
  }

  /**
   * Sends `datagrams` in order, then hands every message whose seq is one of `seqs` to
   * `onMessage` until it returns true. Other messages go to the `start()` handler as usual.
   * @throws {NetlinkError} ETIMEDOUT when the answer does not complete within `timeoutMs`, EBADF
   *   when the socket closes first; whatever `onMessage` throws.
   */
  exchange(datagrams: Uint8Array | readonly Uint8Array[], seqs: Iterable<number>, onMessage: ExchangeHandler, op: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ex = this.#open(seqs, onMessage, op);
      const timer = setTimeout(() => ex.settle?.(this.#timeout(op, timeoutMs)), timeoutMs);
      ex.settle = (err) => {
        ex.settle = undefined;
        clearTimeout(timer);
        this.#forget(ex);
        if (err) reject(err);
        else resolve();
      };
      try {
        for (const d of listOf(datagrams)) this.send(d);
        // The kernel answers most requests inside sendto: read them now, the poller does the rest.
        while (isOpen(ex) && this.receiveOnce() > 0);
      } catch (err) {
        ex.settle?.(err as Error);
        return;
      }
      if (isOpen(ex)) this.#syncPoll();
    });
  }

  /**
   * `exchange()` that blocks until done (a bounded poll(2)): for exit-time cleanup only, where the
   * event loop will not turn again.
   */
  exchangeSync(datagrams: Uint8Array | readonly Uint8Array[], seqs: Iterable<number>, onMessage: ExchangeHandler, op: string, timeoutMs = REQUEST_TIMEOUT_MS): void {
    const ex = this.#open(seqs, onMessage, op);
    let result: Error | null | undefined;
    ex.settle = (err) => {
      ex.settle = undefined;
      this.#forget(ex);
      result = err;
    };
    try {
      for (const d of listOf(datagrams)) this.send(d);
      const deadline = performance.now() + timeoutMs;
      while (isOpen(ex)) {
        if (this.receiveOnce() > 0) continue;
        const left = deadline - performance.now();
        if (left <= 0) throw this.#timeout(op, timeoutMs);
        const r = this.#native.poll(this.fd, POLLIN, Math.ceil(left));
        if (r < 0) throw new SystemCallError('poll', -r);
      }
    } catch (err) {
      ex.settle?.(err as Error);
    }
    if (result) throw result;
  }

  /**
   * `exchange()` for a synchronous caller that must not wait: sends, then reads only what is
   * already queued. It serves requests the kernel answers inside sendmsg (rtnetlink and
   * nfnetlink requests are processed in the sending syscall; a dump's later parts are produced
   * inside each recvmsg), e.g. the first inbound injection on an interface, which sendto() does
   * synchronously. Never polls.
   * @throws {NetlinkError} EAGAIN when the answer was not complete after the reads.
   */
  exchangeNow(datagrams: Uint8Array | readonly Uint8Array[], seqs: Iterable<number>, onMessage: ExchangeHandler, op: string): void {
    const ex = this.#open(seqs, onMessage, op);
    let result: Error | null | undefined;
    ex.settle = (err) => {
      ex.settle = undefined;
      this.#forget(ex);
      result = err;
    };
    try {
      for (const d of listOf(datagrams)) this.send(d);
      while (isOpen(ex) && this.receiveOnce() > 0);
      if (isOpen(ex)) throw new NetlinkError(op, Errno.EAGAIN, 0, {}, `${op}: the kernel's answer was not complete when the request returned`);
    } catch (err) {
      ex.settle?.(err as Error);
    }
    if (result) throw result;
  }

  /**
   * `request()` of the message `put` writes with the next sequence number (a family's request in
   * one line: `sock.requestMessage(op, (b, seq) => putBind(b, seq, …))`).
   */
  requestMessage(op: string, put: (b: MessageBuilder, seq: number) => void): Promise<void> {
    const { bytes, seq } = this.#build(put);
    return this.request(bytes, seq, op);
  }

  /** `requestMessage()`, blocking: exit-time cleanup only. */
  requestMessageSync(op: string, put: (b: MessageBuilder, seq: number) => void): void {
    const { bytes, seq } = this.#build(put);
    this.requestSync(bytes, seq, op);
  }

  #build(put: (b: MessageBuilder, seq: number) => void): { bytes: Uint8Array; seq: number } {
    const b = new MessageBuilder(256);
    const seq = this.nextSeq();
    put(b, seq);
    return { bytes: b.bytes(), seq };
  }

  /** Reads whatever the kernel has queued for us right now, batch after batch (closing sockets); returns the datagram count. */
  drain(): number {
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const n = this.receiveOnce();
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  /** Sends a request that carries NLM_F_ACK; resolves on the ACK, rejects with a NetlinkError on a NACK. */
  request(bytes: Uint8Array, seq: number, op: string): Promise<void> {
    return this.exchange(bytes, [seq], ackHandler(op), op);
  }

  /** `request()`, blocking: exit-time cleanup only. */
  requestSync(bytes: Uint8Array, seq: number, op: string, timeoutMs = REQUEST_TIMEOUT_MS): void {
    this.exchangeSync(bytes, [seq], ackHandler(op), op, timeoutMs);
  }

  /** Sends a dump request; `onMessage` sees each message of the dump, until NLMSG_DONE. */
  dump(bytes: Uint8Array, seq: number, op: string, onMessage: MessageHandler, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    return this.exchange(bytes, [seq], dumpHandler(op, onMessage), op, timeoutMs);
  }

  /** `dump()` that reads only what is queued, never waiting (see {@link exchangeNow}). */
  dumpNow(bytes: Uint8Array, seq: number, op: string, onMessage: MessageHandler): void {
    this.exchangeNow(bytes, [seq], dumpHandler(op, onMessage), op);
  }

  /** `dump()`, blocking: exit-time cleanup only. */
  dumpSync(bytes: Uint8Array, seq: number, op: string, onMessage: MessageHandler): void {
    this.exchangeSync(bytes, [seq], dumpHandler(op, onMessage), op);
  }

  /** Starts reading on readiness: unanswered messages go to `onMessage`, events to `events`. */
  start(onMessage: MessageHandler, events: SocketEvents | ((err: Error) => void)): void {
    this.#handler = onMessage;
    this.#events = typeof events === 'function' ? { onError: events } : events;
    this.#coalesceMs = this.#events.coalesceMs ?? 0;
    this.#reading = true;
    this.#syncPoll();
  }

  /** Stops reading for the handler (back-pressure): the kernel keeps queueing up to its limits. */
  pause(): void {
    this.#reading = false;
    clearTimeout(this.#coalesceTimer);
    this.#coalesceTimer = undefined;
    this.#syncPoll();
  }

  /** Reads for the handler again after `pause()`. */
  resume(): void {
    if (this.#handler === undefined) return;
    this.#reading = true;
    this.#syncPoll();
  }

  /** Whether a watched fd keeps the process alive. */
  ref(ref: boolean): void {
    this.#ref = ref;
    if (this.#poll) this.#native.pollRef(this.#poll, ref);
    if (ref) this.#coalesceTimer?.ref();
    else this.#coalesceTimer?.unref();
  }

  /** Reads one batch now (non-blocking) and dispatches it; returns the datagram count. */
  receiveOnce(): number {
    if (this.#closed) return 0;
    this.beforeReceive?.();
    const n = this.#native.recvmmsg(this.fd, this.#arena, this.#slot, this.#batch, this.#lengths);
    if (n < 0) {
      if (-n === Errno.ENOBUFS) {
        this.overruns++;
        this.#events?.onOverrun?.();
        return 0;
      }
      throw new SystemCallError('recvmmsg', -n);
    }
    const it = this.#iter;
    try {
      for (let i = 0; i < n; i++) {
        let len = this.#lengths[i]!;
        if (len & 0x80000000) {
          this.truncatedDatagrams++;
          len = Math.min(len & 0x7fffffff, this.#slot);
        }
        it.reset(this.#arena, i * this.#slot, len);
        while (it.next()) this.#dispatch(it);
      }
    } finally {
      if (n > 0) this.#events?.afterRead?.();
    }
    return n;
  }

  #dispatch(it: MessageIter): void {
    // Answers carry our port id; a notification another process caused carries its own seq and pid.
    const ex = it.pid === this.portId ? this.#bySeq.get(it.seq) : undefined;
    if (ex?.settle) {
      let done: boolean;
      try {
        done = ex.onMessage(it);
      } catch (err) {
        ex.settle(err as Error);
        return;
      }
      if (done) ex.settle(null);
      return;
    }
    const type = it.type;
    if (type === NlmsgType.NLMSG_ERROR) {
      // An error for a request nobody waits on (e.g. a verdict for an unknown id); bare ACKs are dropped.
      if (parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags).errno !== 0) this.#handler?.(it);
      return;
    }
    if (type === NlmsgType.NLMSG_DONE || type === NlmsgType.NLMSG_NOOP || type === NlmsgType.NLMSG_OVERRUN) return;
    this.#handler?.(it);
  }

  #open(seqs: Iterable<number>, onMessage: ExchangeHandler, op: string): Exchange {
    if (this.#closed) throw new DivertClosedError('netlink socket');
    const ex: Exchange = { op, seqs: [...seqs], onMessage, settle: undefined };
    for (const seq of ex.seqs) this.#bySeq.set(seq, ex);
    return ex;
  }

  #forget(ex: Exchange): void {
    for (const seq of ex.seqs) if (this.#bySeq.get(seq) === ex) this.#bySeq.delete(seq);
    this.#syncPoll();
  }

  #timeout(op: string, timeoutMs: number): NetlinkError {
    return new NetlinkError(op, Errno.ETIMEDOUT, 0, {}, `${op}: no answer from the kernel within ${timeoutMs} ms`);
  }

  /** Watches the fd while the handler reads (and no coalescing timer will) or a request waits; otherwise not. */
  #syncPoll(): void {
    const want = !this.#closed && ((this.#reading && this.#coalesceTimer === undefined) || this.#bySeq.size > 0);
    if (want && !this.#poll) this.#startPoll();
    else if (!want && this.#poll) this.#stopPoll();
  }

  #startPoll(): void {
    const handle = this.#native.pollStart(this.fd, UV_READABLE, (status) => this.#onReadable(status));
    if (typeof handle === 'number') {
      const err = new SystemCallError('poll', -handle);
      this.#failAll(err);
      throw err;
    }
    this.#poll = handle;
    if (!this.#ref) this.#native.pollRef(handle, false);
  }

  #stopPoll(): void {
    if (!this.#poll) return;
    this.#native.pollStop(this.#poll);
    this.#poll = undefined;
  }

  #onReadable(status: number): void {
    const overruns = this.overruns;
    let read = 0;
    if (status < 0) {
      // POLLERR: libuv has stopped this watcher. A pending ENOBUFS is collected by the read
      // below (an overrun, not a failure); then watch again with a fresh handle.
      this.#stopPoll();
    }
    try {
      // Drain a few batches per wake-up, then yield to the event loop.
      for (let i = 0; i < 4; i++) {
        const n = this.receiveOnce();
        read += n;
        if (n < this.#batch) break;
      }
    } catch (err) {
      this.#failAll(err as Error);
      return;
    }
    if (status < 0) {
      // An error poll(2) reports but no read explains is not an overflow: give up, don't spin.
      if (read === 0 && this.overruns === overruns) {
        this.#failAll(new SystemCallError('poll', -status, `netlink socket ${this.fd} reported an error (${new SystemCallError('poll', -status).code}) that reading did not clear`));
        return;
      }
      this.#syncPoll();
    }
    if (read > 0 && this.#coalesceMs > 0) this.#coalesce();
  }

  /** Stops watching the fd and reads it again from a timer (see the module comment). */
  #coalesce(): void {
    if (this.#closed || !this.#reading) return;
    if (this.#coalesceTimer) {
      this.#coalesceTimer.refresh();
    } else {
      this.#coalesceTimer = setTimeout(() => this.#onCoalesceTimer(), this.#coalesceMs);
      if (!this.#ref) this.#coalesceTimer.unref();
    }
    this.#syncPoll();
  }

  #onCoalesceTimer(): void {
    let read = 0;
    try {
      for (let i = 0; i < 4; i++) {
        const n = this.receiveOnce();
        read += n;
        if (n < this.#batch) break;
      }
    } catch (err) {
      this.#coalesceTimer = undefined;
      this.#failAll(err as Error);
      return;
    }
    // Nothing came: watch the fd again. Something came: read again after another wait.
    if (read > 0 && this.#reading && !this.#closed) this.#coalesceTimer!.refresh();
    else this.#coalesceTimer = undefined;
    this.#syncPoll();
  }

  /** A receive error that is not an overrun: every waiting request and the handler hear it. */
  #failAll(err: Error): void {
    for (const ex of new Set(this.#bySeq.values())) ex.settle?.(err);
    this.#events?.onError(err);
  }

  /** Stops polling and closes the fd; idempotent. Requests still waiting are rejected. */
  close(): void {
    if (this.#closed) return;
    this.#shutDown();
    this.#native.close(this.fd);
    this.#released = Promise.resolve();
  }

  /**
   * {@link close}, with close(2) itself on libuv's threadpool, so the event loop never waits for
   * the kernel (closing an nf_tables socket flushes the kernel's destroy work, an RCU grace
   * period of 5–25 ms; an owner table goes then too). The socket is closed for JavaScript at
   * once; resolves when the fd is. Idempotent.
   */
  closeAsync(): Promise<void> {
    if (this.#closed) return this.#released ?? Promise.resolve();
    this.#shutDown();
    const native = this.#native;
    const fd = this.fd;
    this.#released = native.closeAsync
      ? new Promise<void>((resolve) => native.closeAsync!(fd, () => resolve()))
      : Promise.resolve(void native.close(fd));
    return this.#released;
  }

  /** Everything of close() but the fd: stop polling, refuse further use, reject waiting requests. */
  #shutDown(): void {
    this.#stopPoll();
    clearTimeout(this.#coalesceTimer);
    this.#coalesceTimer = undefined;
    this.#closed = true;
    this.#reading = false;
    for (const ex of new Set(this.#bySeq.values())) ex.settle?.(new NetlinkError(ex.op, Errno.EBADF, ex.seqs[0] ?? 0, {}, `${ex.op}: socket closed`));
    this.#bySeq.clear();
  }
}

/** Whether the exchange still waits for answers (a function, so the compiler does not narrow it away). */
function isOpen(ex: Exchange): boolean {
  return ex.settle !== undefined;
}

function listOf(datagrams: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return datagrams instanceof Uint8Array ? [datagrams] : datagrams;
}

/** Completes on the request's NLMSG_ERROR: an ACK, or a NACK thrown as a NetlinkError. */
export function ackHandler(op: string): ExchangeHandler {
  return (it) => {
    if (it.type !== NlmsgType.NLMSG_ERROR) return false;
    const e = parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags);
    if (e.errno !== 0) throw toNetlinkError(op, e);
    return true;
  };
}

/**
 * Passes dump messages on; completes on NLMSG_DONE (or an ACK), throws a NACK, and throws when
 * NLMSG_DONE carries a negative errno: the kernel stopped the dump part way (e.g. the object
 * went away meanwhile), so what came is not the whole answer.
 */
export function dumpHandler(op: string, onMessage: MessageHandler): ExchangeHandler {
  return (it) => {
    if (it.type === NlmsgType.NLMSG_DONE) {
      const err = it.end - it.payloadOffset >= 4 ? i32ne(it.buffer, it.payloadOffset) : 0;
      if (err < 0) throw new NetlinkError(op, -err, it.seq);
      return true;
    }
    if (it.type === NlmsgType.NLMSG_ERROR) {
      const e = parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags);
      if (e.errno !== 0) throw toNetlinkError(op, e);
      return true;
    }
    onMessage(it);
    return false;
  };
}
