/**
 * The fake kernel's nfnetlink_queue (net/netfilter/nfnetlink_queue.c): queue instances owned by
 * a netlink port id, NFQNL_MSG_CONFIG handling with the kernel's errno choices, packet messages
 * built as `nfqnl_build_packet_message` builds them, and verdicts parsed and recorded.
 *
 * ```
 * packet  nlmsghdr 0x0300 pid 0 seq 0 | nfgenmsg {AF_INET|AF_INET6, 0, be16 queue}
 *         | PACKET_HDR | IFINDEX_INDEV | IFINDEX_OUTDEV | MARK | HWADDR | TIMESTAMP | UID | GID
 *         | CAP_LEN | SKB_INFO | PAYLOAD (last, unpadded: nlmsg_len = skb->len)
 * ```
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { NLA_ALIGN } from '../netlink/align.js';
import { putU16be, putU32be, putU32ne, putU64be, u16be, u32be } from '../netlink/bytes.js';
import { NFGENMSG_LEN } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { NFNL_SUBSYS_QUEUE, NFQA, NFQA_CFG, NFQA_CFG_F, NFQNL_CFG_CMD, NFQNL_COPY, NFQNL_MAX_COPY_RANGE, NFQNL_MSG, NFQNL_QMAX_DEFAULT, NF_VERDICT } from '../nfqueue/constants.js';
import { Errno } from '../_native/errno.js';
import type { FakeNack } from './_fake_netlink.js';


/** Metadata of a packet the fake queues; everything is optional (0 / absent by default). */
export interface FakePacketMeta {
  /** NF_INET_HOOK number (default NF_INET_PRE_ROUTING). */
  hook?: number | undefined;
  /** Index of the interface it came in on (sends NFQA_IFINDEX_INDEV). */
  indev?: number | undefined;
  /** Index of the interface it goes out on (sends NFQA_IFINDEX_OUTDEV). */
  outdev?: number | undefined;
  /** The packet's mark, u32 (sends NFQA_MARK). */
  mark?: number | undefined;
  /** NFQA_SKB_* bits. */
  skbInfo?: number | undefined;
  /** Length of the packet in the kernel when `bytes` is only its start (sends NFQA_CAP_LEN). */
  capLen?: number | undefined;
  /** Ethertype (default 0x0800 or 0x86dd from the IP version). */
  hwProtocol?: number | undefined;
  /** Receive time in ms since the epoch (sends NFQA_TIMESTAMP). */
  timestamp?: number | undefined;
  /** Source MAC "aa:bb:cc:dd:ee:ff" (sends NFQA_HWADDR). */
  hwAddr?: string | undefined;
  /** Uid of the owning socket (sends NFQA_UID). */
  uid?: number | undefined;
  /** Gid of the owning socket (sends NFQA_GID). */
  gid?: number | undefined;
}

/** A verdict the fake received from user space. */
export interface VerdictRecord {
  /** The queue number. */
  queue: number;
  /** The packet id the verdict applies to (a batch verdict gives a record per packet). */
  id: number;
  /** The verdict word as sent: NF_ACCEPT, NF_DROP, NF_REPEAT… in the low byte, a new queue number in the high 16 bits for NF_QUEUE. */
  verdict: number;
  /** NFQA_MARK, when the verdict set the packet's mark. */
  mark?: number;
  /** Copy of NFQA_PAYLOAD, when the verdict replaced the packet. */
  payload?: Uint8Array;
  /** Number of the datagram (counted over all sockets) that carried it. */
  datagram: number;
  /** Came from an NFQNL_MSG_VERDICT_BATCH. */
  batch: boolean;
}

/** A verdict the kernel gave by itself: unbind/close flush, full queue, full socket buffer. */
export interface AutoVerdictRecord {
  /** The queue number. */
  queue: number;
  /** The packet id. */
  id: number;
  /** NF_DROP, or NF_ACCEPT for a full queue with NFQA_CFG_F_FAIL_OPEN. */
  verdict: number;
  /** Why the kernel gave it: the queue was unbound or its socket closed, or the packet found no room. */
  reason: 'unbind' | 'close' | 'queue full' | 'socket buffer full';
}

/** One decoded NFQNL_MSG_CONFIG request, whatever the answer was. */
export interface ConfigRecord {
  /** The queue number (nfgenmsg res_id). */
  queue: number;
  /** Port id of the socket that sent it. */
  portId: number;
  /** The request's nlmsg_seq. */
  seq: number;
  /** NFQA_CFG_CMD command: NFQNL_CFG_CMD_BIND, _UNBIND, _PF_BIND, _PF_UNBIND. */
  command?: number;
  /** NFQA_CFG_CMD protocol family. */
  pf?: number;
  /** NFQA_CFG_PARAMS copy mode: NFQNL_COPY_NONE, _META, _PACKET. */
  copyMode?: number;
  /** NFQA_CFG_PARAMS copy range: bytes of each packet to send. */
  copyRange?: number;
  /** NFQA_CFG_QUEUE_MAXLEN: packets the queue may hold. */
  maxLen?: number;
  /** NFQA_CFG_FLAGS: NFQA_CFG_F_* bits to set. */
  flags?: number;
  /** NFQA_CFG_MASK: which of those bits the request changes. */
  mask?: number;
}

/** Which part of a config request a scripted failure applies to. */
export type ConfigStep = 'bind' | 'unbind' | 'params' | 'maxlen' | 'flags';

/** A queue instance as the kernel holds it. */
export interface QueueState {
  /** The queue number. */
  queue: number;
  /** Port id of the socket bound to it. */
  portId: number;
  /** NFQNL_COPY_* (NONE until configured). */
  copyMode: number;
  /** Bytes of each packet sent (0 in META mode; the maximum for 0 or too much). */
  copyRange: number;
  /** Packets it may hold waiting for verdicts (default NFQNL_QMAX_DEFAULT, 1024). */
  maxLen: number;
  /** NFQA_CFG_F_* bits in force. */
  flags: number;
  /** Ids waiting for a verdict, oldest first. */
  pending: number[];
  /** Last id handed out (ids start at 1 per instance). */
  idSequence: number;
}

/** The fake kernel's nfnetlink_queue (see the module comment); reach it as {@link FakeKernel.nfqueue}. */
export class FakeNfqueue {
  /** Every verdict user space gave, in order (one record per packet). */
  readonly verdicts: VerdictRecord[] = [];
  /** Every verdict the kernel gave by itself, in order. */
  readonly autoVerdicts: AutoVerdictRecord[] = [];
  /** Every NFQNL_MSG_CONFIG request, in order, whatever the answer was. */
  readonly config: ConfigRecord[] = [];
  #queues = new Map<number, QueueState>();
  #failures: Array<{ queue: number; step: ConfigStep; nack: FakeNack }> = [];
  #deliver: (portId: number, datagram: Uint8Array) => boolean;
  #attrs = new AttrDecoder();

  /** `deliver` queues a datagram on the socket with `portId`; false when it did not fit. */
  constructor(deliver: (portId: number, datagram: Uint8Array) => boolean) {
    this.#deliver = deliver;
  }

  /** The queue instance bound to `queue`; undefined when none is. */
  state(queue: number): QueueState | undefined {
    return this.#queues.get(queue);
  }

  /** The next `step` request for `queue` is refused with `nack`. */
  fail(queue: number, step: ConfigStep, nack: FakeNack): void {
    this.#failures.push({ queue, step, nack });
  }

  /** Handles one nfnetlink request from `portId`; returns the NACK, or undefined for success. */
  handle(it: MessageIter, portId: number, datagram: number): FakeNack | undefined {
    if (it.type >> 8 !== NFNL_SUBSYS_QUEUE || it.end - it.payloadOffset < NFGENMSG_LEN) return { errno: Errno.EINVAL };
    const queue = u16be(it.buffer, it.payloadOffset + 2);
    const attrs = this.#parse(it);
    if (!attrs) return { errno: Errno.EINVAL };
    switch (it.type & 0xff) {
      case NFQNL_MSG.NFQNL_MSG_CONFIG:
        return this.#config(it, queue, portId, attrs);
      case NFQNL_MSG.NFQNL_MSG_VERDICT:
      case NFQNL_MSG.NFQNL_MSG_VERDICT_BATCH:
        return this.#verdict(it, queue, portId, attrs, datagram, (it.type & 0xff) === NFQNL_MSG.NFQNL_MSG_VERDICT_BATCH);
      default:
        return { errno: Errno.EINVAL };
    }
  }

  /** Attributes by type (offset, length), as nla_parse gives them; undefined when malformed. */
  #parse(it: MessageIter): Map<number, [number, number]> | undefined {
    const out = new Map<number, [number, number]>();
    const ad = this.#attrs.reset(it.buffer, it.payloadOffset + NFGENMSG_LEN, it.end);
    while (ad.next()) out.set(ad.type, [ad.offset, ad.length]);
    return ad.err ? undefined : out;
  }

  #config(it: MessageIter, queue: number, portId: number, a: Map<number, [number, number]>): FakeNack | undefined {
    const b = it.buffer;
    const rec: ConfigRecord = { queue, portId, seq: it.seq };
    const cmd = a.get(NFQA_CFG.NFQA_CFG_CMD);
    if (cmd) [rec.command, rec.pf] = [b[cmd[0]]!, u16be(b, cmd[0] + 2)];
    const params = a.get(NFQA_CFG.NFQA_CFG_PARAMS);
    if (params) [rec.copyRange, rec.copyMode] = [u32be(b, params[0]), b[params[0] + 4]!];
    const maxLen = a.get(NFQA_CFG.NFQA_CFG_QUEUE_MAXLEN);
    if (maxLen) rec.maxLen = u32be(b, maxLen[0]);
    const flags = a.get(NFQA_CFG.NFQA_CFG_FLAGS);
    if (flags) rec.flags = u32be(b, flags[0]);
    const mask = a.get(NFQA_CFG.NFQA_CFG_MASK);
    if (mask) rec.mask = u32be(b, mask[0]);
    this.config.push(rec);

    const step: ConfigStep = rec.command === NFQNL_CFG_CMD.NFQNL_CFG_CMD_BIND ? 'bind'
      : rec.command === NFQNL_CFG_CMD.NFQNL_CFG_CMD_UNBIND ? 'unbind'
      : params ? 'params' : maxLen ? 'maxlen' : 'flags';
    const scripted = this.#failures.findIndex((f) => f.queue === queue && f.step === step);
    if (scripted >= 0) return this.#failures.splice(scripted, 1)[0]!.nack;

    if (rec.command === NFQNL_CFG_CMD.NFQNL_CFG_CMD_PF_BIND || rec.command === NFQNL_CFG_CMD.NFQNL_CFG_CMD_PF_UNBIND) return undefined;
    if (rec.flags !== undefined) {
      if (rec.mask === undefined) return { errno: Errno.EINVAL };
      if (rec.flags >= NFQA_CFG_F.NFQA_CFG_F_MAX) return { errno: Errno.EOPNOTSUPP };
    }
    let q = this.#queues.get(queue);
    if (q && q.portId !== portId) return { errno: Errno.EPERM };
    if (rec.command === NFQNL_CFG_CMD.NFQNL_CFG_CMD_BIND) {
      if (q) return { errno: Errno.EBUSY };
      q = { queue, portId, copyMode: NFQNL_COPY.NFQNL_COPY_NONE, copyRange: NFQNL_MAX_COPY_RANGE, maxLen: NFQNL_QMAX_DEFAULT, flags: 0, pending: [], idSequence: 0 };
      this.#queues.set(queue, q);
    } else if (rec.command === NFQNL_CFG_CMD.NFQNL_CFG_CMD_UNBIND) {
      if (!q) return { errno: Errno.ENODEV };
      this.#destroy(q, 'unbind');
      return undefined;
    } else if (rec.command !== undefined && rec.command !== NFQNL_CFG_CMD.NFQNL_CFG_CMD_NONE) {
      return { errno: Errno.ENOTSUPP };
    }
    if (!q) return { errno: Errno.ENODEV };
    if (rec.copyMode !== undefined && rec.copyRange !== undefined) {
      q.copyMode = rec.copyMode;
      // nfqnl_set_mode: META copies nothing; 0 or too much means the maximum.
      q.copyRange = rec.copyMode === NFQNL_COPY.NFQNL_COPY_META ? 0
        : rec.copyRange === 0 || rec.copyRange > NFQNL_MAX_COPY_RANGE ? NFQNL_MAX_COPY_RANGE : rec.copyRange;
    }
    if (rec.maxLen !== undefined) q.maxLen = rec.maxLen;
    if (rec.flags !== undefined && rec.mask !== undefined) q.flags = (q.flags & ~rec.mask) | (rec.flags & rec.mask);
    return undefined;
  }

  #verdict(it: MessageIter, queue: number, portId: number, a: Map<number, [number, number]>, datagram: number, batch: boolean): FakeNack | undefined {
    const q = this.#queues.get(queue);
    if (!q) return { errno: Errno.ENODEV };
    if (q.portId !== portId) return { errno: Errno.EPERM };
    const b = it.buffer;
    const hdr = a.get(NFQA.NFQA_VERDICT_HDR);
    if (!hdr || hdr[1] < 8) return { errno: Errno.EINVAL };
    const verdict = u32be(b, hdr[0]);
    const id = u32be(b, hdr[0] + 4);
    const kind = verdict & 0xff;
    if (kind > NF_VERDICT.NF_STOP || kind === NF_VERDICT.NF_STOLEN) return { errno: Errno.EINVAL };
    // A batch covers every pending id up to `id` (compared with wraparound, as `after()` does).
    const ids = batch ? q.pending.filter((p) => ((id - p) | 0) >= 0) : q.pending.includes(id) ? [id] : [];
    if (ids.length === 0) return { errno: Errno.ENOENT };
    q.pending = q.pending.filter((p) => !ids.includes(p));
    const mark = a.get(NFQA.NFQA_MARK);
    const payload = batch ? undefined : a.get(NFQA.NFQA_PAYLOAD);
    for (const pid of ids) {
      const rec: VerdictRecord = { queue, id: pid, verdict, datagram, batch };
      if (mark) rec.mark = u32be(b, mark[0]);
      if (payload) rec.payload = b.slice(payload[0], payload[0] + payload[1]);
      this.verdicts.push(rec);
    }
    return undefined;
  }

  /**
   * Queues `bytes` on `queue` as the kernel would; returns the packet id.
   * @throws {Error} when no socket is bound to `queue` or its copy mode is still NONE.
   */
  enqueue(queue: number, bytes: Uint8Array, meta: FakePacketMeta): number {
    const q = this.#queues.get(queue);
    if (!q) throw new Error(`FakeKernel: no socket is bound to queue ${queue} (the kernel would drop the packet)`);
    if (q.copyMode === NFQNL_COPY.NFQNL_COPY_NONE) throw new Error(`FakeKernel: queue ${queue} has copy mode NONE (every enqueue fails)`);
    const id = (q.idSequence = (q.idSequence + 1) >>> 0);
    const failOpen = (q.flags & NFQA_CFG_F.NFQA_CFG_F_FAIL_OPEN) !== 0;
    const lost = (reason: AutoVerdictRecord['reason']): number => {
      this.autoVerdicts.push({ queue, id, verdict: failOpen ? NF_VERDICT.NF_ACCEPT : NF_VERDICT.NF_DROP, reason });
      return id;
    };
    if (q.pending.length >= q.maxLen) return lost('queue full');
    if (!this.#deliver(q.portId, encodePacket(q, id, bytes, meta))) return lost('socket buffer full');
    q.pending.push(id);
    return id;
  }

  /** NETLINK_URELEASE: the socket with `portId` closed; its queues go, their packets dropped. */
  release(portId: number): void {
    for (const q of [...this.#queues.values()]) if (q.portId === portId) this.#destroy(q, 'close');
  }

  #destroy(q: QueueState, reason: 'unbind' | 'close'): void {
    for (const id of q.pending) this.autoVerdicts.push({ queue: q.queue, id, verdict: NF_VERDICT.NF_DROP, reason });
    this.#queues.delete(q.queue);
  }
}

/** One NFQNL_MSG_PACKET datagram for packet `id` of `q`. */
function encodePacket(q: QueueState, id: number, bytes: Uint8Array, m: FakePacketMeta): Uint8Array {
  const v6 = bytes.length > 0 && bytes[0]! >> 4 === 6;
  const skbLen = m.capLen ?? bytes.length;
  const dataLen = q.copyMode === NFQNL_COPY.NFQNL_COPY_PACKET ? Math.min(q.copyRange, bytes.length) : 0;
  const b = new MessageBuilder(bytes.length + 256);
  b.begin((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.NFQNL_MSG_PACKET, 0, 0, 0);
  b.putNfgenmsg(v6 ? AddressFamily.AF_INET6 : AddressFamily.AF_INET, 0, q.queue);
  const hdr = b.reserveAttr(NFQA.NFQA_PACKET_HDR, 7);
  putU32be(b.buffer, hdr, id);
  putU16be(b.buffer, hdr + 4, m.hwProtocol ?? (v6 ? 0x86dd : 0x0800));
  b.buffer[hdr + 6] = m.hook ?? 0;
  if (m.indev) b.putAttrU32be(NFQA.NFQA_IFINDEX_INDEV, m.indev);
  if (m.outdev) b.putAttrU32be(NFQA.NFQA_IFINDEX_OUTDEV, m.outdev);
  if (m.mark) b.putAttrU32be(NFQA.NFQA_MARK, m.mark);
  if (m.hwAddr !== undefined) {
    const mac = m.hwAddr.split(':').map((h) => parseInt(h, 16));
    const off = b.reserveAttr(NFQA.NFQA_HWADDR, 12);
    putU16be(b.buffer, off, mac.length);
    b.buffer.set(mac.slice(0, 8), off + 4);
  }
  if (m.timestamp !== undefined) {
    const usec = Math.round(m.timestamp * 1000);
    const off = b.reserveAttr(NFQA.NFQA_TIMESTAMP, 16);
    putU64be(b.buffer, off, BigInt(Math.floor(usec / 1e6)));
    putU64be(b.buffer, off + 8, BigInt(usec % 1e6));
  }
  if (m.uid !== undefined) b.putAttrU32be(NFQA.NFQA_UID, m.uid);
  if (m.gid !== undefined) b.putAttrU32be(NFQA.NFQA_GID, m.gid);
  if (q.copyMode === NFQNL_COPY.NFQNL_COPY_PACKET && skbLen > dataLen) b.putAttrU32be(NFQA.NFQA_CAP_LEN, skbLen);
  if (m.skbInfo) b.putAttrU32be(NFQA.NFQA_SKB_INFO, m.skbInfo);
  if (dataLen > 0) b.putAttr(NFQA.NFQA_PAYLOAD, bytes.subarray(0, dataLen));
  b.end();
  // The kernel sets nlmsg_len = skb->len: the payload's padding is not part of the message.
  const len = b.length - (NLA_ALIGN(dataLen) - dataLen);
  const out = b.bytes().slice(0, len);
  putU32ne(out, 0, len);
  return out;
}
