/**
 * NfLog: one bound nfnetlink_log group. It binds the group, sets copy mode, batching and flags,
 * and decodes the packet messages rules send to it (nf_tables `log group N`).
 *
 * A logged packet is a copy: the packet went on when the rule ran. Nothing here can hold
 * traffic up — a slow or stopped reader only loses copies (the kernel's send fails, the reader
 * sees ENOBUFS: `socket.overruns`). It knows nothing of rules or divert semantics.
 * @module
 */
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { putLogBind, putLogFlags, putLogMode, putLogQthresh, putLogTimeout, putLogUnbind, putLogNlbufsiz, checkGroup } from './config.js';
import { decodeLogMessage, type LogMeta } from './packet_msg.js';
import { NFNL_SUBSYS_ULOG, NFULNL_COPY, NFULNL_COPY_RANGE_MAX, NFULNL_MSG } from './constants.js';
import { DivertError, NetlinkError, SystemCallError } from '../errors.js';
import { Errno } from '../_native/errno.js';
import { CAP_NET_ADMIN, hasCapability } from '../_native/capability.js';

export interface NfLogOptions {
  /** Path of a network namespace file to bind the group in. */
  netnsPath?: string | undefined;
  /** `packet` (default) copies up to `copyRange` bytes; `meta` copies none. */
  copyMode?: 'packet' | 'meta' | undefined;
  /** Bytes of each packet to copy (default and maximum 65531). */
  copyRange?: number | undefined;
  /** Packets the kernel batches into one datagram (default 1: each is sent at once). */
  qthreshold?: number | undefined;
  /** How long a batch below the threshold may wait, in 1/100 s (default 1). */
  timeoutCentiseconds?: number | undefined;
  /** The kernel's batch buffer in bytes (default: its own, NLMSG_GOODSIZE). */
  nlbufsiz?: number | undefined;
  /** NFULNL_CFG_F_* flags (default 0). */
  flags?: number | undefined;
  /** Socket receive buffer (default 8 MiB): what a stopped reader can catch up on later. */
  receiveBufferBytes?: number | undefined;
  /** Datagrams read per recvmmsg (default 32). */
  batch?: number | undefined;
}

/** Called for each logged packet; `buf[meta.payloadOffset .. +payloadLength]` is valid during the call only. */
export type LogHandler = (meta: LogMeta, buf: Uint8Array) => void;

const SLOT_BYTES = 65536 + 4096;
const PACKET_TYPE = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG.NFULNL_MSG_PACKET;

export class NfLog {
  readonly group: number;
  readonly socket: NetlinkSocket;
  /** Packet messages that could not be decoded. */
  decodeErrors = 0;

  #onPacket: LogHandler | undefined;
  #bound = false;

  private constructor(group: number, socket: NetlinkSocket) {
    this.group = group;
    this.socket = socket;
  }

  /**
   * Opens a netlink socket and binds NFLOG group `group` (0–65535) on it, configured as `options` say.
   * @throws {RangeError} for a bad group or option; {@link DivertError} for a refused bind
   *   (`ERR_DIVERT_PORT_IN_USE` when another socket has the group, `EPERM` without CAP_NET_ADMIN).
   * @example const log = await NfLog.open(7); log.start((meta) => console.log(meta.hook), console.error);
   */
  static async open(group: number, options: NfLogOptions = {}): Promise<NfLog> {
    checkGroup(group);
    const c = checkConfig(options);
    let socket: NetlinkSocket;
    try {
      socket = NetlinkSocket.open(NetlinkProtocol.NETLINK_NETFILTER, {
        netnsPath: options.netnsPath,
        receiveBufferBytes: options.receiveBufferBytes ?? 8 * 1024 * 1024,
        slotSize: SLOT_BYTES,
        batch: options.batch ?? 32,
      });
    } catch (err) {
      if (err instanceof SystemCallError && err.errno === Errno.EPROTONOSUPPORT) throw explainBindError(err, group);
      throw err;
    }
    const log = new NfLog(group, socket);
    try {
      await log.#configure(c);
    } catch (err) {
      socket.close();
      throw err;
    }
    return log;
  }

  #request(op: string, put: (b: MessageBuilder, seq: number) => void): Promise<void> {
    return this.socket.requestMessage(op, put);
  }

  async #configure(c: LogConfig): Promise<void> {
    const g = this.group;
    try {
      await this.#request(`Cannot bind NFLOG group ${g}`, (b, seq) => putLogBind(b, seq, g));
    } catch (err) {
      throw explainBindError(err, g);
    }
    this.#bound = true;
    const op = `Cannot configure NFLOG group ${g}`;
    await this.#request(op, (b, seq) => putLogMode(b, seq, g, c.mode, c.range));
    await this.#request(op, (b, seq) => putLogQthresh(b, seq, g, c.qthreshold));
    await this.#request(op, (b, seq) => putLogTimeout(b, seq, g, c.timeout));
    if (c.nlbufsiz !== undefined) await this.#request(op, (b, seq) => putLogNlbufsiz(b, seq, g, c.nlbufsiz!));
    if (c.flags !== 0) await this.#request(op, (b, seq) => putLogFlags(b, seq, g, c.flags));
  }

  /**
   * Starts delivering packets to `onPacket`. Fatal socket errors go to `onError`; `onOverrun`
   * hears of every time the kernel could not hand us copies (ENOBUFS): reading goes on.
   */
  start(onPacket: LogHandler, onError: (err: Error) => void, onOverrun?: () => void): void {
    this.#onPacket = onPacket;
    this.socket.start((it) => this.#onMessage(it), { onError, onOverrun });
  }

  #onMessage(it: MessageIter): void {
    // NLMSG_DONE ends a batch of several packets (the socket layer drops it); errors answer nothing of ours.
    if (it.type !== PACKET_TYPE) return;
    let meta: LogMeta;
    try {
      meta = decodeLogMessage(it.buffer, it.payloadOffset, it.end);
    } catch {
      this.decodeErrors++;
      return;
    }
    this.#onPacket?.(meta, it.buffer);
  }

  /** Reads whatever the kernel has sent us right now (used while closing). */
  drain(): number {
    return this.socket.drain();
  }

  /** Stops reading (the kernel keeps sending until the socket buffer is full, then drops copies). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Unbinds the group and closes the socket; idempotent. */
  async close(): Promise<void> {
    if (this.socket.closed) return;
    try {
      if (this.#bound) await this.#request(`Cannot unbind NFLOG group ${this.group}`, (b, seq) => putLogUnbind(b, seq, this.group));
    } catch {
      // Closing the socket unbinds too (NETLINK_URELEASE destroys the instance).
    } finally {
      this.#bound = false;
      await this.socket.closeAsync();
    }
  }

  /** {@link close}, blocking: exit-time cleanup only (the socket's release unbinds the group). */
  closeSync(): void {
    if (this.socket.closed) return;
    this.#bound = false;
    this.socket.close();
  }
}

interface LogConfig {
  mode: number;
  range: number;
  qthreshold: number;
  timeout: number;
  nlbufsiz: number | undefined;
  flags: number;
}

/** Checks the options before anything is opened (the builders check the numbers again). */
function checkConfig(o: NfLogOptions): LogConfig {
  const mode = o.copyMode === 'meta' ? NFULNL_COPY.NFULNL_COPY_META : NFULNL_COPY.NFULNL_COPY_PACKET;
  const range = o.copyRange ?? NFULNL_COPY_RANGE_MAX;
  const c = { mode, range, qthreshold: o.qthreshold ?? 1, timeout: o.timeoutCentiseconds ?? 1, nlbufsiz: o.nlbufsiz, flags: o.flags ?? 0 };
  // Build once into a scratch buffer: every range check of config.ts runs before the socket opens.
  const b = new MessageBuilder(256);
  putLogMode(b, 0, 0, c.mode, c.range);
  putLogQthresh(b, 0, 0, c.qthreshold);
  putLogTimeout(b, 0, 0, c.timeout);
  if (c.nlbufsiz !== undefined) putLogNlbufsiz(b, 0, 0, c.nlbufsiz);
  putLogFlags(b, 0, 0, c.flags);
  return c;
}

/** Turns the kernel's terse bind errors into ones that say what to do. */
function explainBindError(err: unknown, group: number): Error {
  if (!(err instanceof NetlinkError || err instanceof SystemCallError)) return err as Error;
  if (err.errno === Errno.EPERM) {
    if (hasCapability(CAP_NET_ADMIN)) {
      return new DivertError(
        `Cannot bind NFLOG group ${group}: another socket has it (each group has one listener per network namespace; stop it or pick another port)`,
        'ERR_DIVERT_PORT_IN_USE',
        { cause: err },
      );
    }
    return new DivertError(
      `Cannot bind NFLOG group ${group}: operation requires CAP_NET_ADMIN in this network namespace ` +
        '(run as root, or rootless inside "unshare --user --map-root-user --net")',
      'EPERM',
      { cause: err },
    );
  }
  if (err.errno === Errno.EBUSY) {
    return new DivertError(`Cannot bind NFLOG group ${group}: this socket already has it bound`, 'ERR_DIVERT_PORT_IN_USE', { cause: err });
  }
  if (err.errno === Errno.EOPNOTSUPP || err.errno === Errno.EINVAL || err.errno === Errno.ENOENT || err.errno === Errno.EPROTONOSUPPORT) {
    return new DivertError(
      `Cannot bind NFLOG group ${group}: the kernel has no nfnetlink_log support (${err.code}); ` +
        'load it with "modprobe nfnetlink_log" or use a kernel built with CONFIG_NETFILTER_NETLINK_LOG',
      'ERR_DIVERT_NO_KERNEL_SUPPORT',
      { cause: err },
    );
  }
  return err;
}
