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
  readonly fd: number;
  readonly events: number;
  readonly callback: (status: number, events: number) => void;
  active: boolean;
  ref: boolean;
  /** A readiness callback is queued (setImmediate). */
  scheduled: boolean;
  /** Callbacks made so far. */
  fires: number;
}

/** Linux default `net.core.rmem_default`. */
const RMEM_DEFAULT = 212_992;

export class FakeSocket {
  readonly fd: number;
  readonly domain: number;
  readonly type: number;
  readonly protocol: number;
  readonly netnsPath: string | null;
  /** Netlink port id (0 until bound); for other sockets 0. */
  portId = 0;
  /** sockaddr given to bind (copy), for non-netlink sockets. */
  boundTo: Uint8Array | undefined;
  closed = false;
  /** Datagrams waiting to be read, oldest first. */
  readonly rx: Uint8Array[] = [];
  rxBytes = 0;
  /** SO_RCVBUF as the kernel keeps it (twice what was set). */
  rcvbuf = RMEM_DEFAULT;
  /** Pending `sk_err` (positive errno): the next receive returns it, e.g. ENOBUFS after an overflow. */
  error = 0;
  /** Scripted errors for the next receives / sends (positive errno). */
  readonly recvFailures: number[] = [];
  readonly sendFailures: number[] = [];
  readonly sent: SentDatagram[] = [];
  /** Options set, by `${level}:${name}`. */
  readonly sockopts = new Map<string, number | Uint8Array>();
  poll: FakePoll | undefined;

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
