/**
 * The socket table under the fake kernel: file descriptors, receive queues with the receive
 * buffer limit (overflow → ENOBUFS on the next read), socket options, recvmmsg into the caller's
 * arena, and level-triggered pollers called back through setImmediate. Protocols live above it.
 * @module
 */
import { UV_READABLE, type PollHandle } from '../_native/binding.js';
import { Errno } from '../_native/errno.js';
import { SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE } from '../ip/socket_constants.js';
import { FakeSocket, type FakePoll } from './_fake_socket.js';


/** The fake kernel's socket layer (see the module comment): {@link FakeKernel} extends it with the protocols. */
export class FakeSocketTable {
  /** Every socket ever opened, closed ones included. */
  readonly sockets: FakeSocket[] = [];
  /** Misuse the fake noticed (closing a polled fd, malformed requests…); tests expect it empty. */
  readonly problems: string[] = [];

  #byFd = new Map<number, FakeSocket>();
  #nextFd = 10;
  #sockoptFailures = new Map<string, number>();
  #keepAlive: boolean;
  #keepAliveTimer: NodeJS.Timeout | undefined;

  /** @param keepAlive hold the event loop open while a ref'd poller is active, as libuv does. */
  constructor(keepAlive: boolean) {
    this.#keepAlive = keepAlive;
  }

  /** Stops keeping the event loop alive. */
  protected dispose(): void {
    if (this.#keepAliveTimer) clearInterval(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
  }

  /** Opens a socket on the next free fd (from 10 up) and records it. */
  protected addSocket(domain: number, type: number, protocol: number, netnsPath: string | null): FakeSocket {
    const s = new FakeSocket(this.#nextFd++, domain, type, protocol, netnsPath);
    this.sockets.push(s);
    this.#byFd.set(s.fd, s);
    return s;
  }

  /** Marks `s` closed and frees its fd. */
  protected closeSocket(s: FakeSocket): void {
    if (s.poll?.active) {
      this.problems.push(`fd ${s.fd} closed while its poller was active (call pollStop first)`);
      s.poll.active = false;
    }
    s.closed = true;
    this.#byFd.delete(s.fd);
    this.updateKeepAlive();
  }

  /** setsockopt(level, name) returns -errno (and the option stays unset). */
  failSetsockopt(level: number, name: number, errno: number): void {
    this.#sockoptFailures.set(`${level}:${name}`, Math.abs(errno));
  }

  /** The next receive on `fd` returns -errno (ENOBUFS: "the kernel dropped messages"). */
  failNextRecv(fd: number, errno: number): void {
    this.mustFd(fd).recvFailures.push(Math.abs(errno));
    this.wake(this.mustFd(fd));
  }

  /** The next send on `fd` returns -errno. */
  failNextSend(fd: number, errno: number): void {
    this.mustFd(fd).sendFailures.push(Math.abs(errno));
  }

  /** Queues a raw datagram (a copy) for `fd`; false when its receive buffer is full (ENOBUFS). */
  deliver(fd: number, datagram: Uint8Array): boolean {
    return this.queueDatagram(this.mustFd(fd), datagram.slice());
  }

  /** The socket with this fd, closed ones included. @throws {RangeError} when no socket ever had it. */
  socketByFd(fd: number): FakeSocket {
    return this.mustFd(fd);
  }

  /** The sockets not closed yet (a test that ends with some open leaked them). */
  openSockets(): FakeSocket[] {
    return this.sockets.filter((s) => !s.closed);
  }

  /** Active, ref'd pollers: what would keep a real event loop alive. */
  get refedPolls(): number {
    return this.sockets.filter((s) => s.poll?.active && s.poll.ref).length;
  }

  /**
   * Records the option (SO_RCVBUF/SO_RCVBUFFORCE sets twice the value as the buffer, as Linux does); -EBADF,
   * or a scripted -errno.
   */
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    const failure = this.#sockoptFailures.get(`${level}:${name}`);
    if (failure !== undefined) return -failure;
    s.sockopts.set(`${level}:${name}`, typeof value === 'number' ? value : value.slice());
    if (level === SOL_SOCKET && (name === SO_RCVBUF || name === SO_RCVBUFFORCE) && typeof value === 'number') s.rcvbuf = value * 2;
    return 0;
  }

  /**
   * Copies an option set before (SO_RCVBUF: the buffer size) into `out`; its length, -ENOPROTOOPT when unset,
   * -EBADF.
   */
  getsockopt(fd: number, level: number, name: number, out: Uint8Array): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    const v = level === SOL_SOCKET && name === SO_RCVBUF ? s.rcvbuf : s.sockopts.get(`${level}:${name}`);
    if (v === undefined) return -Errno.ENOPROTOOPT;
    const bytes = typeof v === 'number' ? new Uint8Array(new Int32Array([v]).buffer) : v;
    const n = Math.min(out.length, bytes.length);
    out.set(bytes.subarray(0, n));
    return n;
  }

  /**
   * As the addon's recvmmsg: queued datagrams into the arena's slots, bit 31 of a length for a cut one; 0
   * when none waits, a pending or scripted -errno first.
   */
  recvmmsg(fd: number, arena: Uint8Array, slotSize: number, max: number, lengths: Uint32Array): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    if (slotSize <= 0 || max <= 0) return -Errno.EINVAL;
    const scripted = s.recvFailures.shift();
    if (scripted !== undefined) return -scripted;
    if (s.error !== 0) {
      const e = s.error;
      s.error = 0;
      return -e;
    }
    const limit = Math.min(max, Math.floor(arena.length / slotSize), lengths.length);
    let n = 0;
    for (; n < limit && s.rx.length > 0; n++) {
      const d = s.rx.shift()!;
      s.rxBytes -= d.length;
      const copied = Math.min(d.length, slotSize);
      arena.set(d.subarray(0, copied), n * slotSize);
      lengths[n] = (copied | (d.length > slotSize ? 0x8000_0000 : 0)) >>> 0;
    }
    return n;
  }

  /** poll(2): readable (POLLIN) when a datagram or an error waits; never blocks (the fake answers synchronously). */
  poll(fd: number, events: number, _timeoutMs: number): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    const readable = s.rx.length > 0 || s.error !== 0 || s.recvFailures.length > 0;
    return readable ? events & 1 : 0;
  }

  /**
   * Watches `fd` (level-triggered, called back through setImmediate); -EEXIST while a poller is active on it,
   * -EBADF.
   */
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void): PollHandle | number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    if (s.poll?.active) return -Errno.EEXIST; // libuv allows one poller per fd
    const poll: FakePoll = { fd, events, callback, active: true, ref: true, scheduled: false, fires: 0 };
    s.poll = poll;
    this.updateKeepAlive();
    this.wake(s);
    return poll as unknown as PollHandle;
  }

  /** Stops a poller; returns 0. */
  pollStop(handle: PollHandle): number {
    (handle as unknown as FakePoll).active = false;
    this.updateKeepAlive();
    return 0;
  }

  /** Whether an active poller keeps the event loop alive (with `keepAlive`); returns 0. */
  pollRef(handle: PollHandle, ref: boolean): number {
    const p = handle as unknown as FakePoll;
    if (p.active) p.ref = ref;
    this.updateKeepAlive();
    return 0;
  }

  /** The open socket with this fd, if any. */
  protected openFd(fd: number): FakeSocket | undefined {
    return this.#byFd.get(fd);
  }

  /** The socket with this fd, closed ones included. @throws {RangeError} when no socket ever had it. */
  protected mustFd(fd: number): FakeSocket {
    const s = this.sockets.find((x) => x.fd === fd);
    if (!s) throw new RangeError(`FakeKernel: no socket with fd ${fd}`);
    return s;
  }

  /** Appends to `s`'s receive queue, or records ENOBUFS when it would overflow. */
  protected queueDatagram(s: FakeSocket, datagram: Uint8Array): boolean {
    if (s.closed) return false;
    if (s.rxBytes + datagram.length > s.rcvbuf) {
      s.error = Errno.ENOBUFS;
      this.wake(s);
      return false;
    }
    s.rx.push(datagram);
    s.rxBytes += datagram.length;
    this.wake(s);
    return true;
  }

  /** Level-triggered readiness: call back on the next turn while the fd has something to read. */
  protected wake(s: FakeSocket): void {
    const p = s.poll;
    if (!p || !p.active || p.scheduled || !s.readable || (p.events & UV_READABLE) === 0) return;
    p.scheduled = true;
    setImmediate(() => {
      p.scheduled = false;
      if (!p.active || s.closed || !s.readable) return;
      p.fires++;
      if (s.error !== 0) {
        // A pending socket error (sk_err, e.g. ENOBUFS after an overflow) makes poll(2) report
        // POLLERR; libuv then stops the watcher and calls back with UV_EBADF, as the real one does.
        p.active = false;
        this.updateKeepAlive();
        p.callback(-Errno.EBADF, 0);
        return;
      }
      p.callback(0, UV_READABLE);
      this.wake(s);
    });
  }

  /** Holds the event loop open (a long interval timer) while `keepAlive` is on and a ref'd poller is active. */
  protected updateKeepAlive(): void {
    const need = this.#keepAlive && this.refedPolls > 0;
    if (need && !this.#keepAliveTimer) this.#keepAliveTimer = setInterval(() => {}, 1 << 30);
    if (!need && this.#keepAliveTimer) {
      clearInterval(this.#keepAliveTimer);
      this.#keepAliveTimer = undefined;
    }
  }
}
