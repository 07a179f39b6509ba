/**
 * The fake kernel's nfnetlink_log (net/netfilter/nfnetlink_log.c): group instances owned by a
 * netlink port id, NFULNL_MSG_CONFIG handling with the kernel's errno choices, and packet
 * messages built as `__build_packet_message` builds them, batched up to the instance's queue
 * threshold (a batch of more than one ends with NLMSG_DONE, as `__nfulnl_send` adds it).
 *
 * ```
 * packet  nlmsghdr 0x0400 pid 0 seq 0 | nfgenmsg {NFPROTO_IPV4|IPV6, 0, be16 group}
 *         | PACKET_HDR | PREFIX | IFINDEX_INDEV | IFINDEX_OUTDEV | MARK | HWADDR | TIMESTAMP
 *         | UID | GID | SEQ | PAYLOAD
 * ```
 * A copy that does not fit the listener's buffer is lost and counted (`lost`); the packet itself
 * is never held: logging has no verdict.
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { putU16be, putU64be, u16be, u32be } from '../netlink/bytes.js';
import { NFGENMSG_LEN, NlmsgType } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { NFPROTO } from '../netlink/netfilter.js';
import { NFNL_SUBSYS_ULOG, NFULA, NFULA_CFG, NFULNL_CFG_CMD, NFULNL_CFG_F, NFULNL_COPY, NFULNL_COPY_RANGE_MAX, NFULNL_DEFAULTS, NFULNL_MSG } from '../nflog/constants.js';
import { Errno } from '../_native/errno.js';
import type { FakeNack } from './_fake_netlink.js';

/** Metadata of a packet a rule logs; everything is optional (0 / absent by default). */
export interface FakeLogMeta {
  /** NF_INET_HOOK number (default NF_INET_PRE_ROUTING). */
  hook?: number | undefined;
  /** Index of the interface it came in on (sends NFULA_IFINDEX_INDEV). */
  indev?: number | undefined;
  /** Index of the interface it goes out on (sends NFULA_IFINDEX_OUTDEV). */
  outdev?: number | undefined;
  /** The packet's mark, u32 (sends NFULA_MARK). */
  mark?: number | undefined;
  /** The rule's prefix (default "": nft_log always sends one). */
  prefix?: string | undefined;
  /** The rule's snaplen (NFTA_LOG_SNAPLEN): copies at most this many bytes. */
  snaplen?: number | undefined;
  /** Time in ms since the epoch (default: sent at hooks up to forward, as now). */
  timestamp?: number | undefined;
  /** Source MAC "aa:bb:cc:dd:ee:ff" (sends NFULA_HWADDR). */
  hwAddr?: string | undefined;
  /** Uid of the owning socket (sends NFULA_UID). */
  uid?: number | undefined;
  /** Gid of the owning socket (sends NFULA_GID). */
  gid?: number | undefined;
}

/** One decoded NFULNL_MSG_CONFIG request, whatever the answer was. */
export interface LogConfigRecord {
  group: number;
  portId: number;
  command?: number;
  copyMode?: number;
  copyRange?: number;
  qthreshold?: number;
  timeout?: number;
  nlbufsiz?: number;
  flags?: number;
}

/** A group instance as the kernel holds it. */
export interface LogGroupState {
  group: number;
  portId: number;
  copyMode: number;
  copyRange: number;
  qthreshold: number;
  timeout: number;
  flags: number;
  /** Instance-local sequence (NFULA_SEQ). */
  seq: number;
  /** Packet messages waiting for the threshold or the timer. */
  batch: Uint8Array[];
}

/** The fake kernel's nfnetlink_log (see the module comment); reach it as {@link FakeKernel.nflog}. */
export class FakeNflog {
  /** Every NFULNL_MSG_CONFIG request, in order, whatever the answer was. */
  readonly config: LogConfigRecord[] = [];
  /** Copies the listener's full buffer refused (the packets themselves went on). */
  lost = 0;
  #groups = new Map<number, LogGroupState>();
  #deliver: (portId: number, datagram: Uint8Array) => boolean;
  #attrs = new AttrDecoder();

  /** `deliver` queues a datagram on the socket with `portId`; false when it did not fit. */
  constructor(deliver: (portId: number, datagram: Uint8Array) => boolean) {
    this.#deliver = deliver;
  }

  /** The group instance bound to `group`; undefined when none is. */
  state(group: number): LogGroupState | undefined {
    return this.#groups.get(group);
  }

  /** Handles one NFNL_SUBSYS_ULOG request from `portId`; returns the NACK, or undefined for success. */
  handle(it: MessageIter, portId: number): FakeNack | undefined {
    if (it.end - it.payloadOffset < NFGENMSG_LEN) return { errno: Errno.EINVAL };
    // nfulnl_recv_unsupp: user space may not send packets.
    if ((it.type & 0xff) !== NFULNL_MSG.NFULNL_MSG_CONFIG) return { errno: Errno.ENOTSUPP };
    const group = u16be(it.buffer, it.payloadOffset + 2);
    const rec = this.#parse(it, group, portId);
    if (!rec) return { errno: Errno.EINVAL };
    this.config.push(rec);
    if (rec.command === NFULNL_CFG_CMD.NFULNL_CFG_CMD_PF_BIND || rec.command === NFULNL_CFG_CMD.NFULNL_CFG_CMD_PF_UNBIND) return undefined;
    let g = this.#groups.get(group);
    if (g && g.portId !== portId) return { errno: Errno.EPERM };
    if (rec.command === NFULNL_CFG_CMD.NFULNL_CFG_CMD_BIND) {
      if (g) return { errno: Errno.EBUSY };
      g = {
        group, portId, copyMode: NFULNL_COPY.NFULNL_COPY_PACKET, copyRange: NFULNL_COPY_RANGE_MAX,
        qthreshold: NFULNL_DEFAULTS.qthreshold, timeout: NFULNL_DEFAULTS.timeout, flags: 0, seq: 0, batch: [],
      };
      this.#groups.set(group, g);
    } else if (rec.command === NFULNL_CFG_CMD.NFULNL_CFG_CMD_UNBIND) {
      if (!g) return { errno: Errno.ENODEV };
      this.#destroy(g);
      return undefined;
    } else if (rec.command !== undefined) {
      return { errno: Errno.ENOTSUPP };
    }
    if (!g) return { errno: Errno.ENODEV };
    if (rec.copyMode !== undefined && rec.copyRange !== undefined) {
      // nfulnl_set_mode: META and NONE copy nothing; 0 or too much means the maximum; other modes EINVAL (ignored).
      if (rec.copyMode === NFULNL_COPY.NFULNL_COPY_PACKET) g.copyRange = rec.copyRange === 0 ? NFULNL_COPY_RANGE_MAX : Math.min(rec.copyRange, NFULNL_COPY_RANGE_MAX);
      else if (rec.copyMode <= NFULNL_COPY.NFULNL_COPY_META) g.copyRange = 0;
      if (rec.copyMode <= NFULNL_COPY.NFULNL_COPY_PACKET) g.copyMode = rec.copyMode;
    }
    if (rec.timeout !== undefined) g.timeout = rec.timeout;
    if (rec.qthreshold !== undefined) g.qthreshold = rec.qthreshold;
    if (rec.flags !== undefined) g.flags = rec.flags;
    return undefined;
  }

  #parse(it: MessageIter, group: number, portId: number): LogConfigRecord | undefined {
    const b = it.buffer;
    const rec: LogConfigRecord = { group, portId };
    const ad = this.#attrs.reset(b, it.payloadOffset + NFGENMSG_LEN, it.end);
    while (ad.next()) {
      const o = ad.offset;
      switch (ad.type) {
        case NFULA_CFG.NFULA_CFG_CMD:
          if (ad.length < 1) return undefined;
          rec.command = b[o]!;
          break;
        case NFULA_CFG.NFULA_CFG_MODE:
          if (ad.length < 6) return undefined;
          [rec.copyRange, rec.copyMode] = [u32be(b, o), b[o + 4]!];
          break;
        case NFULA_CFG.NFULA_CFG_TIMEOUT:
          rec.timeout = ad.u32be();
          break;
        case NFULA_CFG.NFULA_CFG_QTHRESH:
          rec.qthreshold = ad.u32be();
          break;
        case NFULA_CFG.NFULA_CFG_NLBUFSIZ:
          rec.nlbufsiz = ad.u32be();
          break;
        case NFULA_CFG.NFULA_CFG_FLAGS: {
          // NLA_POLICY_MASK(NLA_BE16, …): a 2-byte attribute with known bits only.
          if (ad.length !== 2) return undefined;
          const flags = u16be(b, o);
          if (flags & ~(NFULNL_CFG_F.NFULNL_CFG_F_SEQ | NFULNL_CFG_F.NFULNL_CFG_F_SEQ_GLOBAL | NFULNL_CFG_F.NFULNL_CFG_F_CONNTRACK)) return undefined;
          rec.flags = flags;
          break;
        }
      }
    }
    return ad.err ? undefined : rec;
  }

  /**
   * A rule logs `bytes` (from the IP header) to `group`, as nfulnl_log_packet does: nothing
   * happens without a listener; else a packet message joins the group's batch, which is sent
   * once it reaches the threshold (see {@link flush} for the timer).
   * @returns whether a listener was there.
   */
  log(group: number, bytes: Uint8Array, meta: FakeLogMeta): boolean {
    const g = this.#groups.get(group);
    if (!g) return false;
    g.batch.push(encodeLogPacket(g, bytes, meta));
    if (g.batch.length >= g.qthreshold) this.#send(g);
    return true;
  }

  /** The flush timer fires: what the group's batch holds is sent. */
  flush(group: number): void {
    const g = this.#groups.get(group);
    if (g && g.batch.length > 0) this.#send(g);
  }

  #send(g: LogGroupState): void {
    const msgs = g.batch.splice(0);
    if (msgs.length > 1) {
      const done = new MessageBuilder(32);
      done.begin(NlmsgType.NLMSG_DONE, 0, 0, 0).putNfgenmsg(0, 0, g.group).end();
      msgs.push(done.bytes());
    }
    const total = msgs.reduce((n, m) => n + m.length, 0);
    const datagram = new Uint8Array(total);
    let at = 0;
    for (const m of msgs) {
      datagram.set(m, at);
      at += m.length;
    }
    if (!this.#deliver(g.portId, datagram)) this.lost += msgs.length - (msgs.length > 1 ? 1 : 0);
  }

  /** NETLINK_URELEASE: the socket with `portId` closed; its groups go (pending batches are sent to nobody). */
  release(portId: number): void {
    for (const g of [...this.#groups.values()]) if (g.portId === portId) this.#groups.delete(g.group);
  }

  #destroy(g: LogGroupState): void {
    // __instance_destroy flushes what is batched, then the instance goes.
    if (g.batch.length > 0) this.#send(g);
    this.#groups.delete(g.group);
  }
}

/** One NFULNL_MSG_PACKET message for `bytes` logged to `g`. */
function encodeLogPacket(g: LogGroupState, bytes: Uint8Array, m: FakeLogMeta): Uint8Array {
  const v6 = bytes.length > 0 && bytes[0]! >> 4 === 6;
  let dataLen = g.copyMode === NFULNL_COPY.NFULNL_COPY_PACKET ? Math.min(g.copyRange, bytes.length) : 0;
  if (m.snaplen !== undefined) dataLen = Math.min(dataLen, m.snaplen);
  const hook = m.hook ?? 0;
  const b = new MessageBuilder(bytes.length + 256);
  b.begin((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG.NFULNL_MSG_PACKET, 0, 0, 0);
  b.putNfgenmsg(v6 ? NFPROTO.NFPROTO_IPV6 : NFPROTO.NFPROTO_IPV4, 0, g.group);
  const hdr = b.reserveAttr(NFULA.NFULA_PACKET_HDR, 4);
  putU16be(b.buffer, hdr, v6 ? 0x86dd : 0x0800);
  b.buffer[hdr + 2] = hook;
  b.putAttrString(NFULA.NFULA_PREFIX, m.prefix ?? '');
  if (m.indev) b.putAttrU32be(NFULA.NFULA_IFINDEX_INDEV, m.indev);
  if (m.outdev) b.putAttrU32be(NFULA.NFULA_IFINDEX_OUTDEV, m.outdev);
  if (m.mark) b.putAttrU32be(NFULA.NFULA_MARK, m.mark);
  if (m.hwAddr !== undefined) {
    const mac = m.hwAddr.split(':').map((h) => parseInt(h, 16));
    const off = b.reserveAttr(NFULA.NFULA_HWADDR, 12);
    putU16be(b.buffer, off, mac.length);
    b.buffer.set(mac.slice(0, 8), off + 4);
  }
  // hooknum <= NF_INET_FORWARD: a stamp, the skb's or now.
  if (hook <= 2) {
    const usec = Math.round((m.timestamp ?? Date.now()) * 1000);
    const off = b.reserveAttr(NFULA.NFULA_TIMESTAMP, 16);
    putU64be(b.buffer, off, BigInt(Math.floor(usec / 1e6)));
    putU64be(b.buffer, off + 8, BigInt(usec % 1e6));
  }
  if (m.uid !== undefined) b.putAttrU32be(NFULA.NFULA_UID, m.uid);
  if (m.gid !== undefined) b.putAttrU32be(NFULA.NFULA_GID, m.gid);
  if (g.flags & NFULNL_CFG_F.NFULNL_CFG_F_SEQ) b.putAttrU32be(NFULA.NFULA_SEQ, g.seq++ >>> 0);
  if (dataLen > 0) b.putAttr(NFULA.NFULA_PAYLOAD, bytes.subarray(0, dataLen));
  b.end();
  return b.bytes().slice();
}
