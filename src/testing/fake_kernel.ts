/**
 * FakeKernel: a {@link NativeBinding} that speaks real netlink datagrams, so the whole TS stack
 * (builders, iterator, seq/ACK handling, verdict batching, ENOBUFS accounting) runs unmodified
 * in unit tests, without privileges. Style guide §10.6 and §11 item 4: the fake sits at the
 * datagram level, under ./testing, never as a public seam.
 *
 * ```ts
 * const kernel = FakeKernel.install();          // loadNative() now returns the fake
 * kernel.setLinks([{ index: 2, name: 'eth0', ipv4: ['192.0.2.1/24'] }]);
 * const sock = createDivertSocket({ port: 7, handleSignals: false });
 * await sock.ready;
 * kernel.enqueuePacket(7, bytes, { hook: NF_INET_HOOKS.NF_INET_PRE_ROUTING, indev: 2 });
 * (await sock.recvfrom()).reinject();
 * await sock.close();
 * kernel.verdicts;                              // [{ queue: 7, id: 1, verdict: NF_ACCEPT, … }]
 * kernel.uninstall();
 * ```
 * Kernels: NETLINK_NETFILTER (nfnetlink_queue, nfnetlink_log: `kernel.nflog`, and nf_tables: `kernel.nftables`) and NETLINK_ROUTE (link and address dumps,
 * their notifications to joined groups, clsact qdiscs and bpf filters: `kernel.rtnetlink`);
 * other sockets (raw, packet) only record what is sent. Readiness is level-triggered like
 * libuv's: while a watched fd has data, its callback runs again on each setImmediate.
 * @module
 */
import { setNativeBinding, type NativeBinding } from '../_native/binding.js';
import { Errno } from '../_native/errno.js';
import { AF_NETLINK, sockaddrNl, sockaddrNlPid } from '../_native/sockaddr.js';
import { NlmFlags, NlmsgType, NetlinkProtocol, SOL_NETLINK, NetlinkSockopt, Nfnetlink } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { putAck, take, type FakeNack } from './_fake_netlink.js';
import { FakeNfqueue, type AutoVerdictRecord, type ConfigRecord, type ConfigStep, type FakePacketMeta, type QueueState, type VerdictRecord } from './_fake_nfqueue.js';
import { FakeNflog, type FakeLogMeta, type LogConfigRecord, type LogGroupState } from './_fake_nflog.js';
import { FakeRtnetlink, type FakeLink } from './_fake_rtnetlink.js';
import { FakeNftables } from './_fake_nftables.js';
import type { FakeSocket } from './_fake_socket.js';
import { FakeSocketTable } from './_fake_io.js';

export type { FakeLink, FakePacketMeta, VerdictRecord, AutoVerdictRecord, ConfigRecord, ConfigStep, QueueState, FakeNack, FakeLogMeta, LogConfigRecord, LogGroupState };
export { FakeSocket, type SentDatagram, type FakePoll } from './_fake_socket.js';

const { NFNL_MSG_BATCH_BEGIN, NFNL_SUBSYS_NFTABLES, NFNL_SUBSYS_ULOG } = Nfnetlink;

/** Which socket() calls a scripted failure applies to (all given fields must match). */
export interface SocketMatch {
  /** Only sockets of this address family (AF_NETLINK, AF_INET…). */
  domain?: number | undefined;
  /** Only sockets of this protocol (NETLINK_NETFILTER, NETLINK_ROUTE…). */
  protocol?: number | undefined;
  /** Only sockets opened in this namespace path. */
  netnsPath?: string | undefined;
}

/** How {@link FakeKernel.install} sets the fake up. */
export interface FakeKernelOptions {
  /** Keep the event loop alive while a ref'd poller is active, as libuv does (default false). */
  keepAlive?: boolean | undefined;
  /** Port id of the process's first netlink socket (Linux uses the tgid). */
  pid?: number | undefined;
}

/**
 * The fake kernel: install() it and divert's sockets talk to it instead of Linux (see the module
 * comment, and `divert/testing`).
 */
export class FakeKernel extends FakeSocketTable implements NativeBinding {
  /** Whether the caller holds CAP_NET_ADMIN: without it nfnetlink refuses every request (EPERM). */
  capNetAdmin = true;
  /** nfnetlink_queue: bound queues, queued packets, the verdicts and config requests it got. */
  readonly nfqueue: FakeNfqueue;
  /** nfnetlink_log: groups, their config, packet copies (`kernel.logPacket()`), copies lost to a full buffer. */
  readonly nflog: FakeNflog;
  /** rtnetlink: links and addresses (`setLinks`), clsact qdiscs and bpf filters (`rtnetlink.tc`). */
  readonly rtnetlink = new FakeRtnetlink((s, d) => this.queueDatagram(s, d));
  /** nf_tables: batches, echoes, dumps, owner tables (`kernel.nftables.tables()`, `.rules(table)`…). */
  readonly nftables = new FakeNftables();

  #pid: number;
  #rover = -4096; // netlink_autobind's rover for later sockets
  #sendSeq = 0;
  #socketFailures: Array<{ errno: number; match: SocketMatch }> = [];

  /** A fake not yet installed (most tests want {@link FakeKernel.install}). */
  constructor(options: FakeKernelOptions = {}) {
    super(options.keepAlive ?? false);
    this.#pid = options.pid ?? 4242;
    this.nfqueue = new FakeNfqueue((portId, d) => {
      const s = this.sockets.find((x) => !x.closed && x.protocol === NetlinkProtocol.NETLINK_NETFILTER && x.portId === portId);
      return s !== undefined && this.queueDatagram(s, d);
    });
    this.nflog = new FakeNflog((portId, d) => {
      const s = this.sockets.find((x) => !x.closed && x.protocol === NetlinkProtocol.NETLINK_NETFILTER && x.portId === portId);
      return s !== undefined && this.queueDatagram(s, d);
    });
  }

  /** Creates a fake and makes `loadNative()` return it until {@link uninstall}. */
  static install(options?: FakeKernelOptions): FakeKernel {
    const k = new FakeKernel(options);
    setNativeBinding(k);
    return k;
  }

  /** Restores the real addon. */
  uninstall(): void {
    setNativeBinding(undefined);
    this.dispose();
  }

  // ── scripting ────────────────────────────────────────────────────────────────────────────

  /** Matching socket() calls return -errno (e.g. EPROTONOSUPPORT, or ENOENT for a netns path). */
  failSocket(errno: number, match: SocketMatch = {}): void {
    this.#socketFailures.push({ errno: Math.abs(errno), match });
  }

  /** The next NFQNL_CFG_CMD_BIND of `queue` is refused with errno (and extack `message`). */
  failBind(queue: number, errno: number, message?: string): void {
    this.nfqueue.fail(queue, 'bind', { errno: Math.abs(errno), message });
  }

  /** The next config request of kind `step` for `queue` is refused. */
  failConfig(queue: number, step: ConfigStep, errno: number, message?: string): void {
    this.nfqueue.fail(queue, step, { errno: Math.abs(errno), message });
  }

  /** The interfaces RTM_GETLINK / RTM_GETADDR dumps report. */
  setLinks(links: readonly FakeLink[]): void {
    this.rtnetlink.setLinks(links);
  }

  /**
   * Queues `bytes` (from the IP header) on NFQUEUE `queue` as the kernel would and returns its
   * packet id; copy mode and range of the queue apply.
   * @throws {Error} when no socket is bound to `queue`.
   */
  enqueuePacket(queue: number, bytes: Uint8Array, meta: FakePacketMeta = {}): number {
    return this.nfqueue.enqueue(queue, bytes, meta);
  }

  /**
   * A rule logs `bytes` (from the IP header) to NFLOG group `group` (nf_tables `log group N`):
   * a copy goes to the group's listener, batched by its queue threshold; the packet itself goes on.
   * @returns whether a listener was bound.
   */
  logPacket(group: number, bytes: Uint8Array, meta: FakeLogMeta = {}): boolean {
    return this.nflog.log(group, bytes, meta);
  }

  // ── observation ──────────────────────────────────────────────────────────────────────────

  /** Verdicts received from user space, in order. */
  get verdicts(): VerdictRecord[] {
    return this.nfqueue.verdicts;
  }

  /** Verdicts the kernel gave itself (flush on unbind/close, full queue, full buffer). */
  get autoVerdicts(): AutoVerdictRecord[] {
    return this.nfqueue.autoVerdicts;
  }

  /** Every NFQNL_MSG_CONFIG request received, in order. */
  get configLog(): ConfigRecord[] {
    return this.nfqueue.config;
  }

  /** The instance bound to `queue`, if any. */
  queueState(queue: number): QueueState | undefined {
    return this.nfqueue.state(queue);
  }

  // ── NativeBinding ────────────────────────────────────────────────────────────────────────

  /** socket(2), as the addon's `socket`: a new fake fd, or -errno (see {@link failSocket}). */
  socket(domain: number, type: number, protocol: number, netnsPath?: string | null): number {
    const ns = netnsPath ?? null;
    for (const { errno, match: m } of this.#socketFailures) {
      if ((m.domain ?? domain) === domain && (m.protocol ?? protocol) === protocol && (m.netnsPath === undefined || m.netnsPath === ns)) return -errno;
    }
    if (domain === AF_NETLINK && protocol !== NetlinkProtocol.NETLINK_NETFILTER && protocol !== NetlinkProtocol.NETLINK_ROUTE) {
      return -Errno.EPROTONOSUPPORT;
    }
    return this.addSocket(domain, type, protocol, ns).fd;
  }

  /** bind(2): netlink port ids as the kernel assigns them; other families record the address. */
  bind(fd: number, sockaddr: Uint8Array): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    if (s.domain !== AF_NETLINK) {
      s.boundTo = sockaddr.slice();
      return 0;
    }
    if (sockaddr.length < 12) return -Errno.EINVAL;
    const pid = sockaddrNlPid(sockaddr);
    if (s.portId !== 0) return pid === s.portId || pid === 0 ? 0 : -Errno.EINVAL;
    if (pid === 0) return this.#autobind(s);
    if (this.#portTaken(s.protocol, pid)) return -Errno.EADDRINUSE;
    s.portId = pid;
    return 0;
  }

  /** setsockopt(2): records the option; netlink group memberships join rtnetlink's groups. */
  override setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): number {
    const r = super.setsockopt(fd, level, name, value);
    const s = this.openFd(fd);
    // Group memberships are a set per socket, not one option value: the rtnetlink side keeps them.
    if (r === 0 && s && s.domain === AF_NETLINK && s.protocol === NetlinkProtocol.NETLINK_ROUTE && level === SOL_NETLINK && typeof value === 'number') {
      this.rtnetlink.setMembership(s, name, value);
    }
    return r;
  }

  /** getsockname(2): a netlink socket's sockaddr_nl with its port id. */
  getsockname(fd: number, out: Uint8Array): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    if (s.domain !== AF_NETLINK) return 0;
    const name = sockaddrNl(s.portId, 0);
    out.set(name.subarray(0, Math.min(out.length, name.length)));
    return name.length;
  }

  /** close(2): a netfilter socket's queues and owned tables go with it (NETLINK_URELEASE). */
  close(fd: number): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    this.closeSocket(s);
    if (s.protocol === NetlinkProtocol.NETLINK_NETFILTER && s.domain === AF_NETLINK && s.portId !== 0) {
      this.nfqueue.release(s.portId);
      this.nflog.release(s.portId);
      this.nftables.release(s.portId);
    }
    return 0;
  }

  /** sendto(2): records the datagram; a netlink request is answered as the kernel would. */
  sendto(fd: number, bytes: Uint8Array, sockaddr: Uint8Array | null, _flags: number): number {
    const s = this.openFd(fd);
    if (!s) return -Errno.EBADF;
    const failure = s.sendFailures.shift();
    if (failure !== undefined) return -failure;
    const copy = bytes.slice();
    const seq = ++this.#sendSeq;
    s.sent.push({ bytes: copy, sockaddr: sockaddr ? sockaddr.slice() : null, seq });
    if (s.domain === AF_NETLINK) {
      if (s.portId === 0) this.#autobind(s);
      this.#request(s, copy, seq);
    }
    return bytes.length;
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────

  #portTaken(protocol: number, pid: number): boolean {
    return this.sockets.some((x) => !x.closed && x.domain === AF_NETLINK && x.protocol === protocol && x.portId === pid);
  }

  /** netlink_autobind: the tgid first, then -4096, -4097, … (as u32). */
  #autobind(s: FakeSocket): number {
    let pid = this.#pid;
    while (this.#portTaken(s.protocol, pid)) pid = this.#rover-- >>> 0;
    s.portId = pid;
    return 0;
  }

  /** The kernel side of a netlink sendmsg: every message handled in order, answers queued. */
  #request(s: FakeSocket, datagram: Uint8Array, seq: number): void {
    const it = new MessageIter().reset(datagram);
    const out = new MessageBuilder(256);
    const opts = { capAck: s.option(SOL_NETLINK, NetlinkSockopt.NETLINK_CAP_ACK), extAck: s.option(SOL_NETLINK, NetlinkSockopt.NETLINK_EXT_ACK) };
    const nfnl = s.protocol === NetlinkProtocol.NETLINK_NETFILTER;
    while (it.next()) {
      if (nfnl && !this.capNetAdmin) {
        // nfnetlink_rcv: netlink_net_capable() fails → one EPERM for the whole datagram.
        putAck(out, it, s.portId, opts, { errno: Errno.EPERM });
        this.queueDatagram(s, take(out));
        return;
      }
      const emit = (d: Uint8Array): void => void this.queueDatagram(s, d);
      // nfnetlink_rcv_skb_batch: a batch is handled as a whole (nf_tables answers after its commit).
      if (nfnl && it.type === NFNL_MSG_BATCH_BEGIN) return this.nftables.batch(datagram, s.portId, s.netnsPath, opts, emit);
      let nack: FakeNack | undefined;
      if ((it.flags & NlmFlags.NLM_F_REQUEST) !== 0 && it.type >= NlmsgType.NLMSG_MIN_TYPE) {
        nack = nfnl && it.type >> 8 === NFNL_SUBSYS_NFTABLES ? this.nftables.handle(it, s.portId, s.netnsPath, emit)
          : nfnl && it.type >> 8 === NFNL_SUBSYS_ULOG ? this.nflog.handle(it, s.portId)
          : nfnl ? this.nfqueue.handle(it, s.portId, seq) : this.rtnetlink.handle(it, s.portId, (d) => this.queueDatagram(s, d));
      }
      if (nack || (it.flags & NlmFlags.NLM_F_ACK) !== 0) {
        putAck(out, it, s.portId, opts, nack);
        this.queueDatagram(s, take(out));
      }
    }
    if (it.err) this.problems.push(`fd ${s.fd} sent a malformed datagram: ${it.err.message}`);
  }
}
