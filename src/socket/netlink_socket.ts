/**
 * An asynchronous netlink socket over the native addon: one fd, batched receive into a
 * JS-owned arena, sequence numbers, and ACK/dump bookkeeping. It knows netlink framing
 * (headers, NLMSG_ERROR, NLMSG_DONE) and nothing of the families above it.
 *
 * Receive path: the libuv poller says "readable" → `recvmmsg` fills up to `batch` slots of the
 * arena → each datagram is walked with a MessageIter → control messages settle pending requests,
 * every other message goes to the `onMessage` handler with the iterator positioned on it. The
 * handler must copy what it keeps: the arena is reused by the next receive.
 * @module
 */
import { loadNative, UV_READABLE, type NativeBinding, type PollHandle } from '../_native/binding.js';
import { check, Errno } from '../_native/errno.js';
import { AF_NETLINK, SOCK_RAW, sockaddrNl, sockaddrNlPid } from '../_native/sockaddr.js';
import { MessageIter } from '../netlink/message_iter.js';
import { NlmsgType, SOL_NETLINK, NetlinkSockopt } from '../netlink/constants.js';
import { parseNlmsgerr, toNetlinkError } from '../netlink/netlink_error.js';
import { NetlinkError, SystemCallError, DivertClosedError } from '../errors.js';

const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;
const SO_RCVBUF = 8;
const POLLIN = 1;
/** How long a synchronous request waits for the kernel's ACK. */
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

/** Called for each non-control message; `it` is positioned on the message (valid during the call only). */
export type MessageHandler = (it: MessageIter) => void;

interface Pending {
  op: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class NetlinkSocket {
  readonly fd: number;
  readonly portId: number;
  /** Datagrams the kernel had to cut because a slot was too small. */
  truncatedDatagrams = 0;
  /** ENOBUFS seen on receive: the kernel dropped messages because our buffer was full. */
  overruns = 0;

  #native: NativeBinding;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #arena: Uint8Array;
  #lengths: Uint32Array;
  #slot: number;
  #batch: number;
  #iter = new MessageIter();
  #poll: PollHandle | undefined;
  #handler: MessageHandler | undefined;
  #onError: ((err: Error) => void) | undefined;
  #pending = new Map<number, Pending>();
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
      const err = new SystemCallError('socket', -fd);
      if (-fd === Errno.ENOENT && options.netnsPath) {
        throw new SystemCallError('socket', -fd, `Cannot open a netlink socket in ${options.netnsPath}: no such network namespace`);
      }
      if (-fd === Errno.EPROTONOSUPPORT) {
        throw new SystemCallError('socket', -fd, `Cannot open netlink protocol ${protocol}: the kernel does not support it`);
      }
      throw err;
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

  get closed(): boolean {
    return this.#closed;
  }

  /** The next sequence number to put in a request. */
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

  /**
   * Sends a request that carries NLM_F_ACK and waits for its ACK by reading the socket right away
   * (the kernel answers config requests synchronously); other messages read meanwhile go to the
   * handler as usual. Throws a NetlinkError on a NACK.
   */
  requestSync(bytes: Uint8Array, seq: number, op: string, timeoutMs = REQUEST_TIMEOUT_MS): void {
    let settled: Error | null | undefined;
    this.#pending.set(seq, {
      op,
      resolve: () => (settled = null),
      reject: (err) => (settled = err),
    });
    try {
      this.send(bytes);
      const deadline = performance.now() + timeoutMs;
      const overrunsBefore = this.overruns;
      while (settled === undefined) {
        if (this.receiveOnce() > 0) continue;
        const left = deadline - performance.now();
        if (left <= 0) {
          const lost = this.overruns > overrunsBefore ? ' (the receive buffer overflowed: the answer may have been dropped)' : '';
          throw new NetlinkError(op, Errno.ETIMEDOUT, seq, {}, `${op}: no answer from the kernel within ${timeoutMs} ms${lost}`);
        }
        // Wait for the answer without spinning: a short blocking poll, config requests only.
        const r = this.#native.poll(this.fd, POLLIN, Math.ceil(left));
        if (r < 0) throw new SystemCallError('poll', -r);
      }
    } finally {
      this.#pending.delete(seq);
    }
    if (settled) throw settled;
  }

  /**
   * Sends a dump request and collects its messages synchronously until NLMSG_DONE. `onMessage`
   * sees each message of the dump (and only those).
   */
  dumpSync(bytes: Uint8Array, seq: number, op: string, onMessage: MessageHandler): void {
    const previous = this.#handler;
    this.#handler = (it) => {
      if (it.seq === seq) onMessage(it);
      else previous?.(it);
    };
    try {
      this.requestSync(bytes, seq, op);
    } finally {
      this.#handler = previous;
    }
  }

  /** Starts reading on readiness; `onMessage` gets family messages, `onError` fatal socket errors. */
  start(onMessage: MessageHandler, onError: (err: Error) => void): void {
    this.#handler = onMessage;
    this.#onError = onError;
    this.resume();
  }

  /** Stops watching the fd (back-pressure): the kernel keeps queueing up to its limits. */
  pause(): void {
    if (this.#poll) {
      this.#native.pollStop(this.#poll);
      this.#poll = undefined;
    }
  }

  /** Watches the fd again after `pause()`. */
  resume(): void {
    if (this.#closed || this.#poll) return;
    const handle = this.#native.pollStart(this.fd, UV_READABLE, (status) => {
      if (status < 0) {
        this.#onError?.(new SystemCallError('poll', -status));
        return;
      }
      try {
        // Drain a few batches per wake-up, then yield to the event loop.
        for (let i = 0; i < 4 && this.#poll && this.receiveOnce() === this.#batch; i++);
      } catch (err) {
        this.#onError?.(err as Error);
      }
    });
    if (typeof handle === 'number') throw new SystemCallError('poll', -handle);
    this.#poll = handle;
  }

  /** Whether a watched fd keeps the process alive. */
  ref(ref: boolean): void {
    if (this.#poll) this.#native.pollRef(this.#poll, ref);
  }

  /** Reads one batch now (non-blocking) and dispatches it; returns the datagram count. */
  receiveOnce(): number {
    if (this.#closed) return 0;
    const n = this.#native.recvmmsg(this.fd, this.#arena, this.#slot, this.#batch, this.#lengths);
    if (n < 0) {
      if (-n === Errno.ENOBUFS) {
        this.overruns++;
        return 0;
      }
      throw new SystemCallError('recvmmsg', -n);
    }
    const it = this.#iter;
    for (let i = 0; i < n; i++) {
      let len = this.#lengths[i]!;
      if (len & 0x80000000) {
        this.truncatedDatagrams++;
        len = Math.min(len & 0x7fffffff, this.#slot);
      }
      it.reset(this.#arena, i * this.#slot, len);
      while (it.next()) this.#dispatch(it);
    }
    return n;
  }

  #dispatch(it: MessageIter): void {
    if (it.type === NlmsgType.NLMSG_ERROR) {
      const e = parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags);
      const pending = this.#pending.get(e.seq);
      if (!pending) {
        // An error for a request nobody waits on (e.g. a verdict for an unknown id).
        if (e.errno !== 0) this.#handler?.(it);
        return;
      }
      this.#pending.delete(e.seq);
      if (e.errno === 0) pending.resolve();
      else pending.reject(toNetlinkError(pending.op, e));
      return;
    }
    if (it.type === NlmsgType.NLMSG_DONE) {
      const pending = this.#pending.get(it.seq);
      if (pending) {
        this.#pending.delete(it.seq);
        pending.resolve();
      }
      return;
    }
    if (it.type === NlmsgType.NLMSG_NOOP || it.type === NlmsgType.NLMSG_OVERRUN) return;
    this.#handler?.(it);
  }

  /** Stops polling and closes the fd; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.pause();
    this.#closed = true;
    this.#native.close(this.fd);
    for (const [seq, p] of this.#pending) p.reject(new NetlinkError(p.op, Errno.EBADF, seq, {}, `${p.op}: socket closed`));
    this.#pending.clear();
  }
}
