/**
 * NfQueue: one bound nfnetlink_queue instance. It binds the queue, configures copy mode, length
 * and flags, decodes packet messages and sends verdicts, several per datagram.
 *
 * It knows nothing of filters, firewall rules or divert semantics; the divert socket builds on it.
 * @module
 */
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol, NlmsgType } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { putBind, putPfUnbind, putUnbind, putParams, putQueueMaxLen, putFlags } from './config.js';
import { putVerdict, putVerdictBatch, type VerdictOptions } from './verdict.js';
import { OutstandingIds } from './outstanding.js';
import { decodePacketMessage, type PacketMeta } from './packet_msg.js';
import { NFQNL_MSG, NFQNL_COPY, NFQA_CFG_F, NFNL_SUBSYS_QUEUE, NFQNL_MAX_COPY_RANGE, NF_VERDICT } from './constants.js';
import { DivertError, NetlinkError, SystemCallError } from '../errors.js';
import { Errno } from '../_native/errno.js';

export interface NfQueueOptions {
  /** Path of a network namespace file to bind the queue in. */
  netnsPath?: string | undefined;
  /** `packet` (default) copies up to `copyRange` bytes; `meta` copies none. */
  copyMode?: 'packet' | 'meta' | undefined;
  /** Bytes of each packet to copy (default and maximum 65531). */
  copyRange?: number | undefined;
  /** Kernel queue length before it drops (or accepts, with failOpen). Default 4096. */
  maxLen?: number | undefined;
  /** Accept packets instead of dropping them when the queue is full. */
  failOpen?: boolean | undefined;
  /** Receive GSO super-packets whole (checksums may be partial, see NFQA_SKB_CSUMNOTREADY). */
  gso?: boolean | undefined;
  /** Ask for the owning socket's UID/GID. */
  uidGid?: boolean | undefined;
  /** Socket receive buffer (default 8 MiB). */
  receiveBufferBytes?: number | undefined;
  /** Datagrams read per recvmmsg (default 32). */
  batch?: number | undefined;
}

/** Called for each queued packet; `buf[meta.payloadOffset .. +payloadLength]` is valid during the call only. */
export type PacketHandler = (meta: PacketMeta, buf: Uint8Array) => void;

/**
 * The queues this process has bound, as `<netns path>|<queue>`: the kernel answers EPERM alike
 * whether another process or another socket of this one holds a queue, and the error should say which.
 */
const boundHere = new Set<string>();
const boundKey = (netnsPath: string | undefined, queue: number): string => `${netnsPath ?? ''}|${queue}`;

const FLUSH_BYTES = 48 * 1024;
const SLOT_BYTES = 65536 + 4096;

export class NfQueue {
  readonly queue: number;
  readonly socket: NetlinkSocket;
  /** Verdict datagrams sent, and verdicts in them (for stats and benchmarks). */
  verdictSends = 0;
  verdictsSent = 0;
  /** Verdicts the kernel refused (e.g. ENOENT: the packet was no longer queued). */
  verdictErrors = 0;
  /** Packet messages that could not be decoded (they cannot be answered either). */
  decodeErrors = 0;

  #out = new MessageBuilder(64 * 1024);
  #flushScheduled = false;
  /** A read is delivering packets: verdicts given meanwhile wait for its end (#afterRead). */
  #inRead = false;
  /** Delivered packets still waiting for their verdict, oldest first. */
  #outstanding = new OutstandingIds();
  /** The last id of a run of plain accepts not yet written: one VERDICT_BATCH will answer it all. */
  #runEnd: number | undefined;
  #onFatal: ((err: Error) => void) | undefined;
  #onPacket: PacketHandler | undefined;
  #bound = false;
  readonly #key: string;

  private constructor(queue: number, socket: NetlinkSocket, netnsPath: string | undefined) {
    this.queue = queue;
    this.socket = socket;
    this.#key = boundKey(netnsPath, queue);
  }

  /**
   * Opens a netlink socket and binds queue `queue` (0–65535) on it, configured as `options` say.
   * @throws {RangeError} for a bad queue number or option; {@link DivertError} for a refused bind.
   */
  static async open(queue: number, options: NfQueueOptions = {}): Promise<NfQueue> {
    if (!Number.isInteger(queue) || queue < 0 || queue > 65535) {
      throw new RangeError(`Divert port must be an integer from 0 to 65535, got ${String(queue)}`);
    }
    const config = checkConfig(options);
    let socket: NetlinkSocket;
    try {
      socket = NetlinkSocket.open(NetlinkProtocol.NETLINK_NETFILTER, {
        netnsPath: options.netnsPath,
        receiveBufferBytes: options.receiveBufferBytes ?? 8 * 1024 * 1024,
        slotSize: SLOT_BYTES,
        batch: options.batch ?? 32,
      });
    } catch (err) {
      // A kernel without netfilter netlink refuses the socket itself.
      if (err instanceof SystemCallError && err.errno === Errno.EPROTONOSUPPORT) throw explainBindError(err, queue);
      throw err;
    }
    const q = new NfQueue(queue, socket, options.netnsPath);
    try {
      await q.#configure(config);
    } catch (err) {
      if (q.#bound) boundHere.delete(q.#key);
      socket.close();
      throw err;
    }
    return q;
  }

  #request(op: string, put: (b: MessageBuilder, seq: number) => void): Promise<void> {
    return this.socket.requestMessage(op, put);
  }

  #requestSync(op: string, put: (b: MessageBuilder, seq: number) => void): void {
    this.socket.requestMessageSync(op, put);
  }

  /**
   * Whether nfnetlink serves this socket at all. The kernel answers a bind with EPERM both when
   * another socket has the port and, for every request, without CAP_NET_ADMIN in the namespace;
   * the obsolete PF_UNBIND only the second refuses. (/proc's CapEff cannot tell them apart: it
   * is relative to this process's user namespace, not to the one owning the network namespace.)
   */
  async #mayConfigure(): Promise<boolean> {
    try {
      await this.#request('nfnetlink privilege probe', (b, seq) => putPfUnbind(b, seq));
      return true;
    } catch (err) {
      return !isEperm(err);
    }
  }

  async #configure(c: QueueConfig): Promise<void> {
    const q = this.queue;
    try {
      await this.#request(`Cannot bind divert port ${q}`, (b, seq) => putBind(b, seq, q, AddressFamily.AF_UNSPEC));
    } catch (err) {
      const heldHere = boundHere.has(this.#key);
      throw explainBindError(err, q, heldHere, isEperm(err) && !heldHere && !(await this.#mayConfigure()));
    }
    this.#bound = true;
    boundHere.add(this.#key);
    await this.#request(`Cannot set copy mode on divert port ${q}`, (b, seq) => putParams(b, seq, q, c.mode, c.range));
    await this.#request(`Cannot set the queue length of divert port ${q}`, (b, seq) => putQueueMaxLen(b, seq, q, c.maxLen));
    await this.#request(`Cannot set flags on divert port ${q}`, (b, seq) => putFlags(b, seq, q, c.flags, CONFIG_FLAGS));
  }

  /**
   * Starts delivering packets to `onPacket`. Fatal socket errors go to `onError`; `onOverrun` hears
   * of every time the kernel could not hand us messages (ENOBUFS): reading goes on. With
   * `coalesceMs`, sparse packets are read in batches, each waiting up to that long (see NetlinkSocket).
   */
  start(onPacket: PacketHandler, onError: (err: Error) => void, onOverrun?: () => void, coalesceMs = 0): void {
    this.#onPacket = onPacket;
    this.#onFatal = onError;
    this.socket.start((it) => this.#onMessage(it), { onError, onOverrun, coalesceMs, afterRead: () => this.#afterRead() });
  }

  /** A read batch is over: what its packets were answered with while it ran goes out now, in one send. */
  #afterRead(): void {
    if (!this.#inRead) return;
    this.#inRead = false;
    if (this.#runEnd !== undefined || this.#out.length > 0) this.#flushNow(0);
  }

  #onMessage(it: MessageIter): void {
    const type = it.type;
    if (type === NlmsgType.NLMSG_ERROR) {
      // Only unanswered requests reach here: verdicts, which are sent without NLM_F_ACK.
      this.verdictErrors++;
      return;
    }
    if (type >> 8 !== NFNL_SUBSYS_QUEUE) return;
    if ((type & 0xff) !== NFQNL_MSG.NFQNL_MSG_PACKET) {
      return;
    }
    let meta: PacketMeta;
    try {
      meta = decodePacketMessage(it.buffer, it.payloadOffset, it.end);
    } catch {
      // A message we cannot decode has no id we could answer: count it, never crash or stop.
      this.decodeErrors++;
      return;
    }
    this.#outstanding.push(meta.id);
    this.#inRead = true;
    this.#onPacket?.(meta, it.buffer);
  }

  /**
   * Queues a verdict; verdicts are sent together once the current batch of work is done: given
   * while a read batch delivers packets (an onPacket handler), when that batch ends, in the same
   * call from libuv; given later (an async iterator's loop, in the microtasks the read started), at
   * process.nextTick, so a batch read in one wake-up goes out in one sendmsg and no extra turn
   * of the event loop is spent per wake-up; at once when the pending datagram grows large.
   * Never throws: a verdict once queued stays queued until a send succeeds (see {@link #scheduleFlush}).
   */
  verdict(id: number, verdict: number, options?: VerdictOptions): void {
    if (verdict === NF_VERDICT.NF_ACCEPT && id === this.#outstanding.head && isPlain(options)) {
      // Every older packet is answered (its verdict is written already, or went out before): a
      // run of such accepts goes as one NFQNL_MSG_VERDICT_BATCH up to its last id.
      this.#runEnd = id;
    } else {
      this.#writeRun();
      putVerdict(this.#out, 0, this.queue, id, verdict, options);
    }
    this.#outstanding.answer(id);
    this.verdictsSent++;
    if (this.#out.length > FLUSH_BYTES && this.#trySend()) return;
    // Answered while a read batch is delivered (a handler, an automatic verdict): sent at its end.
    if (!this.#inRead) this.#scheduleFlush(0);
  }

  /**
   * Sends what is queued after `delayMs` (0: once the current batch of work is done). A send the
   * kernel refuses for want of memory is retried with growing delays for about ten seconds; any
   * other failure, or one that lasts, is the socket's end (its held packets then get their close
   * verdict through a fresh attempt at close).
   */
  #scheduleFlush(delayMs: number, attempt = 0): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    const run = (): void => {
      this.#flushScheduled = false;
      this.#flushNow(attempt);
    };
    if (delayMs === 0) process.nextTick(run);
    else setTimeout(run, delayMs); // keeps the process alive: these verdicts must reach the kernel
  }

  /** flush(), retrying a send refused for want of memory (see {@link #scheduleFlush}). */
  #flushNow(attempt: number): void {
    try {
      this.flush();
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      const transient = errno === Errno.ENOMEM || errno === Errno.ENOBUFS || errno === Errno.EAGAIN;
      if (transient && attempt < 20) this.#scheduleFlush(Math.min(1000, 10 * 2 ** attempt), attempt + 1);
      else this.#onFatal?.(err as Error);
    }
  }

  /** flush() that reports failure instead of throwing (the bytes stay queued). */
  #trySend(): boolean {
    try {
      this.flush();
      return true;
    } catch {
      return false;
    }
  }

  /** Writes the pending run of accepts as one batch verdict, before any verdict that follows it. */
  #writeRun(): void {
    if (this.#runEnd === undefined) return;
    putVerdictBatch(this.#out, 0, this.queue, this.#runEnd, NF_VERDICT.NF_ACCEPT);
    this.#runEnd = undefined;
  }

  /** Sends every queued verdict now; on failure they stay queued for the next try (close). */
  flush(): void {
    if (this.socket.closed) return;
    this.#writeRun();
    if (this.#out.length === 0) return;
    this.socket.send(this.#out.bytes());
    this.verdictSends++;
    this.#out.reset();
  }

  /**
   * Stops the kernel from queueing more packets to this port (queue length 0): from now on new
   * packets are accepted (`acceptNew`, through fail-open) or dropped, never left in a queue
   * that close is about to flush. What is already queued stays ours to answer.
   */
  async stopQueueing(acceptNew: boolean): Promise<void> {
    for (const [op, put] of this.#stopRequests(acceptNew)) await this.#request(op, put);
  }

  /** {@link stopQueueing}, blocking: exit-time cleanup only. */
  stopQueueingSync(acceptNew: boolean): void {
    for (const [op, put] of this.#stopRequests(acceptNew)) this.#requestSync(op, put);
  }

  #stopRequests(acceptNew: boolean): Array<[string, (b: MessageBuilder, seq: number) => void]> {
    const q = this.queue;
    const open = NFQA_CFG_F.NFQA_CFG_F_FAIL_OPEN;
    const op = `Cannot stop queueing on divert port ${q}`;
    return [
      [op, (b, seq) => putFlags(b, seq, q, acceptNew ? open : 0, open)],
      [op, (b, seq) => putQueueMaxLen(b, seq, q, 0)],
    ];
  }

  /** Reads whatever the kernel has queued for us right now (used while closing). */
  drain(): number {
    return this.socket.drain();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Flushes verdicts, unbinds the queue and closes the socket; idempotent. */
  async close(): Promise<void> {
    if (this.socket.closed) return;
    try {
      this.flush();
      if (this.#bound) await this.#request(`Cannot unbind divert port ${this.queue}`, (b, seq) => putUnbind(b, seq, this.queue, AddressFamily.AF_UNSPEC));
    } catch {
      // Closing the socket unbinds too (NETLINK_URELEASE); nothing more to do.
    } finally {
      if (this.#bound) boundHere.delete(this.#key);
      this.#bound = false;
      // close(2) on the threadpool: the kernel's release work must not stall the event loop.
      await this.socket.closeAsync();
    }
  }

  /** {@link close}, blocking: exit-time cleanup only. */
  closeSync(): void {
    if (this.socket.closed) return;
    try {
      this.flush();
      if (this.#bound) this.#requestSync(`Cannot unbind divert port ${this.queue}`, (b, seq) => putUnbind(b, seq, this.queue, AddressFamily.AF_UNSPEC));
    } catch {
      // As above: the socket's release unbinds.
    } finally {
      if (this.#bound) boundHere.delete(this.#key);
      this.#bound = false;
      this.socket.close();
    }
  }
}

interface QueueConfig {
  mode: number;
  range: number;
  maxLen: number;
  flags: number;
}

const CONFIG_FLAGS = NFQA_CFG_F.NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F.NFQA_CFG_F_GSO | NFQA_CFG_F.NFQA_CFG_F_UID_GID;

/** Checks the options before anything is opened. */
function checkConfig(o: NfQueueOptions): QueueConfig {
  const mode = o.copyMode === 'meta' ? NFQNL_COPY.NFQNL_COPY_META : NFQNL_COPY.NFQNL_COPY_PACKET;
  const range = o.copyRange ?? NFQNL_MAX_COPY_RANGE;
  if (!Number.isInteger(range) || range < 0 || range > NFQNL_MAX_COPY_RANGE) {
    throw new RangeError(`copyRange must be an integer from 0 to ${NFQNL_MAX_COPY_RANGE}, got ${String(range)}`);
  }
  const maxLen = o.maxLen ?? 4096;
  if (!Number.isInteger(maxLen) || maxLen < 1 || maxLen > 0xffffffff) throw new RangeError(`maxLen must be a positive integer, got ${String(maxLen)}`);
  let flags = 0;
  if (o.failOpen) flags |= NFQA_CFG_F.NFQA_CFG_F_FAIL_OPEN;
  if (o.gso) flags |= NFQA_CFG_F.NFQA_CFG_F_GSO;
  if (o.uidGid) flags |= NFQA_CFG_F.NFQA_CFG_F_UID_GID;
  return { mode, range, maxLen, flags };
}

function isEperm(err: unknown): boolean {
  return (err instanceof NetlinkError || err instanceof SystemCallError) && err.errno === Errno.EPERM;
}

/**
 * Turns the kernel's terse bind errors into ones that say what to do. `heldHere`: another socket
 * of this process has the port; `unprivileged`: nfnetlink refuses this socket (see #mayConfigure).
 */
function explainBindError(err: unknown, port: number, heldHere = false, unprivileged = false): Error {
  if (!(err instanceof NetlinkError || err instanceof SystemCallError)) return err as Error;
  if (err.errno === Errno.EPERM) {
    if (heldHere) {
      return new DivertError(
        `Cannot bind divert port ${port}: this process already has it bound, on another socket (each port has one listener; close that socket first, or pick another port)`,
        'ERR_DIVERT_PORT_IN_USE',
        { cause: err },
      );
    }
    if (!unprivileged) {
      return new DivertError(
        `Cannot bind divert port ${port}: it is bound by another process (each port has one listener; stop it or pick another port)`,
        'ERR_DIVERT_PORT_IN_USE',
        { cause: err },
      );
    }
    return new DivertError(
      `Cannot bind divert port ${port}: operation requires CAP_NET_ADMIN in this network namespace ` +
        '(run as root, or rootless inside "unshare --user --map-root-user --net")',
      'EPERM',
      { cause: err },
    );
  }
  if (err.errno === Errno.EBUSY) {
    return new DivertError(`Cannot bind divert port ${port}: this socket already has it bound`, 'ERR_DIVERT_PORT_IN_USE', { cause: err });
  }
  if (err.errno === Errno.EOPNOTSUPP || err.errno === Errno.EINVAL || err.errno === Errno.ENOENT || err.errno === Errno.EPROTONOSUPPORT) {
    return new DivertError(
      `Cannot bind divert port ${port}: the kernel has no nfnetlink_queue support (${err.code}); ` +
        'load it with "modprobe nfnetlink_queue" or use a kernel built with CONFIG_NETFILTER_NETLINK_QUEUE',
      'ERR_DIVERT_NO_KERNEL_SUPPORT',
      { cause: err },
    );
  }
  return err;
}

/** An accept with nothing to carry (no mark, payload, connmark or priority): one a batch verdict can give. */
function isPlain(o: VerdictOptions | undefined): boolean {
  return o === undefined || (o.mark === undefined && o.payload === undefined && o.connmark === undefined && o.priority === undefined && !o.ack);
}
