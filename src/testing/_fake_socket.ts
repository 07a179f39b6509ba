/**
 * One socket of the fake kernel: its receive queue (whole datagrams), what was sent on it, its
 * options, and the poller watching it.
 * @module
 */

/** A datagram user space sent, as the fake saw it. */
export interface SentDatagram {
  /** Copy of the bytes. */
  bytes: Uint8Array;
  /** Copy of the destination sockaddr (null for "the kernel" / connected). */
  sockaddr: Uint8Array | null;
  /** Number of the datagram, counted over all sockets of the kernel. */
  seq: number;
}

/** The fake's `uv_poll_t`: handed out (cast) as the `PollHandle`. */
export interface FakePoll {
  /** The fd watched. */
  readonly fd: number;
  /** The libuv events asked for (UV_READABLE). */
  readonly events: number;
  /** Called with (0, events) on readiness, or (-errno, 0) when a socket error stops the watcher. */
  readonly callback: (status: number, events: number) => void;
  /** Watching (false once stopped, or after an error callback). */
  active: boolean;
  /** Keeps the event loop alive (see `pollRef`). */
  ref: boolean;
  /** A readiness callback is queued (setImmediate). */
  scheduled: boolean;
  /** Callbacks made so far. */
  fires: number;
}

/** Linux default `net.core.rmem_default`. */
const RMEM_DEFAULT = 212_992;

/**
 * A socket of the fake kernel; tests read its state (and may script failures) through
 * {@link FakeKernel.socketByFd}.
 */
export class FakeSocket {
  /** Its file descriptor (the fake's, not a real one). */
  readonly fd: number;
  /** The address family it was opened with (AF_NETLINK, AF_INET…). */
  readonly domain: number;
  /** The socket type it was opened with (SOCK_RAW…). */
  readonly type: number;
  /** The protocol it was opened with (NETLINK_NETFILTER, NETLINK_ROUTE, IPPROTO_RAW…). */
  readonly protocol: number;
  /** The network namespace path it was opened in; null for the caller's own. */
  readonly netnsPath: string | null;
  /** Netlink port id (0 until bound); for other sockets 0. */
  portId = 0;
  /** sockaddr given to bind (copy), for non-netlink sockets. */
  boundTo: Uint8Array | undefined;
  /** Closed by user space (its fd is free again). */
  closed = false;
  /** Datagrams waiting to be read, oldest first. */
  readonly rx: Uint8Array[] = [];
  /** Bytes waiting in `rx`: compared with `rcvbuf` to decide an overflow. */
  rxBytes = 0;
  /** SO_RCVBUF as the kernel keeps it (twice what was set). */
  rcvbuf = RMEM_DEFAULT;
  /** Pending `sk_err` (positive errno): the next receive returns it, e.g. ENOBUFS after an overflow. */
  error = 0;
  /** Scripted errors for the next receives / sends (positive errno). */
  readonly recvFailures: number[] = [];
  /** Scripted errors for the next sends (positive errno). */
  readonly sendFailures: number[] = [];
  /** Every datagram user space sent on it, oldest first. */
  readonly sent: SentDatagram[] = [];
  /** Options set, by `${level}:${name}`. */
  readonly sockopts = new Map<string, number | Uint8Array>();
  /** The last poller started on it, active or not. */
  poll: FakePoll | undefined;

  /** A new, unbound socket (the fake kernel makes them: see `socket`). */
  constructor(fd: number, domain: number, type: number, protocol: number, netnsPath: string | null) {
    this.fd = fd;
    this.domain = domain;
    this.type = type;
    this.protocol = protocol;
    this.netnsPath = netnsPath;
  }

  /** Whether a poll for reading would report readiness (data, or an error to collect). */
  get readable(): boolean {
    return this.rx.length > 0 || this.error !== 0 || this.recvFailures.length > 0;
  }

  /** Whether option `name` at `level` was set to a non-zero value. */
  option(level: number, name: number): boolean {
    const v = this.sockopts.get(`${level}:${name}`);
    return v !== undefined && v !== 0;
  }
}
