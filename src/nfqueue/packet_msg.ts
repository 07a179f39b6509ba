/**
 * Decodes one NFQNL_MSG_PACKET message into a plain {@link PacketMeta}. This is the per-packet
 * hot path: one result object, no copies (the packet stays in the caller's buffer, located by
 * `payloadOffset` / `payloadLength`), reused attribute decoders, strings only for the rare
 * NFQA_HWADDR / NFQA_SECCTX.
 *
 * ```
 * nlmsghdr | nfgenmsg { family, version, be16 res_id = queue } | NFQA_* attributes
 * NFQA_PACKET_HDR  { be32 packet_id; be16 hw_protocol; u8 hook }   always sent
 * NFQA_TIMESTAMP   { be64 sec; be64 usec }                         when the skb has a stamp
 * NFQA_HWADDR      { be16 hw_addrlen; u16 pad; u8 hw_addr[8] }     input device with a MAC header
 * everything else: be32 or opaque, see the field docs below
 * ```
 * net/netfilter/nfnetlink_queue.c (nfqnl_build_packet_message) decides what is sent.
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { u16be, u32be } from '../netlink/bytes.js';
import { NFGENMSG_LEN } from '../netlink/constants.js';
import { decodeHwAddrAttr, decodeStringAttr, decodeTimestampAttr, decodeVlanAttr, shortAttr } from '../netlink/nf_packet_attrs.js';
import { PacketError } from '../errors.js';
import { NFQA } from './constants.js';

/**
 * Metadata of one queued packet. Fields the kernel omits when unset are 0 (numbers that are 0
 * by default anyway) or `undefined` (where 0 would be a real value or absence matters).
 */
export interface PacketMeta {
  /** Queue number (`nfgenmsg.res_id`). */
  queue: number;
  /** `nfgen_family`: AF_INET, AF_INET6 or AF_BRIDGE. */
  family: number;
  /** Packet id for the verdict. */
  id: number;
  /** Ethertype (0x0800 IPv4, 0x86dd IPv6); may be 0 for locally generated packets. */
  hwProtocol: number;
  /** Netfilter hook (NF_INET_PRE_ROUTING 0 … NF_INET_POST_ROUTING 4). */
  hook: number;
  /** skb->mark; 0 when absent (the kernel omits a zero mark). */
  mark: number;
  /** Input interface index; 0 when absent (output hooks). */
  indev: number;
  /** Output interface index; 0 when absent (input hooks). */
  outdev: number;
  /** Bridge port the packet came in on; 0 unless bridged. */
  physindev: number;
  /** Bridge port the packet goes out on; 0 unless bridged. */
  physoutdev: number;
  /** Receive time in ms since the epoch (fractional); undefined when the skb had no stamp. */
  timestamp: number | undefined;
  /** Exact seconds of the stamp; undefined with `timestamp`. */
  timestampSec: number | undefined;
  /** Exact microseconds of the stamp; undefined with `timestamp`. */
  timestampUsec: number | undefined;
  /** Source MAC as "aa:bb:…"; undefined without an input device or MAC header. */
  hwAddr: string | undefined;
  /** Offset of the packet bytes (from the network header) in the decoded buffer; 0 if none. */
  payloadOffset: number;
  /** Bytes of packet copied; 0 with NFQNL_COPY_META. */
  payloadLength: number;
  /** Original packet length when the copy was cut by the copy range; else undefined. */
  capLen: number | undefined;
  /** `payloadLength < capLen`: the copy is not the whole packet (do not reinject it). */
  truncated: boolean;
  /** NFQA_SKB_* flags; 0 when absent. */
  skbInfo: number;
  /** Owning socket's uid; undefined unless NFQA_CFG_F_UID_GID and a local socket. */
  uid: number | undefined;
  /** Owning socket's gid; as `uid`. */
  gid: number | undefined;
  /** skb->priority; 0 when absent. */
  priority: number;
  /** cgroup v1 net_cls classid; 0 when absent. */
  cgroupClassid: number;
  /** `enum ip_conntrack_info`; undefined unless NFQA_CFG_F_CONNTRACK and a tracked packet. */
  ctInfo: number | undefined;
  /** Raw NFQA_CT nest (CTA_* attributes) location; both 0 when absent. */
  ctOffset: number;
  ctLength: number;
  /** Security context; undefined unless NFQA_CFG_F_SECCTX and one is set. */
  secctx: string | undefined;
  /** VLAN TCI and protocol (bridge family only); undefined when absent. */
  vlanTci: number | undefined;
  vlanProto: number | undefined;
  /** Link-layer header location (bridge family only); both 0 when absent. */
  l2HdrOffset: number;
  l2HdrLength: number;
}

const PACKET_HDR_LEN = 7;

// Reused across calls: decoding is synchronous and not re-entrant.
const attrs = new AttrDecoder();
const nest = new AttrDecoder();

/**
 * Decodes an NFQNL_MSG_PACKET.
 * @param buf buffer holding the message (the receive arena).
 * @param payloadOffset the netlink payload offset (`MessageIter.payloadOffset`: the nfgenmsg).
 * @param end end of the message (`MessageIter.end`).
 * @returns metadata; the packet is `buf.subarray(meta.payloadOffset, meta.payloadOffset + meta.payloadLength)`.
 * @throws {PacketError} when the message is short, an attribute is malformed, or NFQA_PACKET_HDR is missing.
 * @example
 * ```ts
 * if (it.type === ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.NFQNL_MSG_PACKET)) {
 *   const meta = decodePacketMessage(it.buffer, it.payloadOffset, it.end);
 *   putVerdict(out, 0, meta.queue, meta.id, NF_VERDICT.NF_ACCEPT);
 * }
 * ```
 */
export function decodePacketMessage(buf: Uint8Array, payloadOffset: number, end: number): PacketMeta {
  if (end - payloadOffset < NFGENMSG_LEN || end > buf.length) {
    throw new PacketError('nfqueue', `packet message of ${end - payloadOffset} bytes has no nfgenmsg`);
  }
  const m: PacketMeta = {
    queue: u16be(buf, payloadOffset + 2),
    family: buf[payloadOffset]!,
    id: 0,
    hwProtocol: 0,
    hook: 0,
    mark: 0,
    indev: 0,
    outdev: 0,
    physindev: 0,
    physoutdev: 0,
    timestamp: undefined,
    timestampSec: undefined,
    timestampUsec: undefined,
    hwAddr: undefined,
    payloadOffset: 0,
    payloadLength: 0,
    capLen: undefined,
    truncated: false,
    skbInfo: 0,
    uid: undefined,
    gid: undefined,
    priority: 0,
    cgroupClassid: 0,
    ctInfo: undefined,
    ctOffset: 0,
    ctLength: 0,
    secctx: undefined,
    vlanTci: undefined,
    vlanProto: undefined,
    l2HdrOffset: 0,
    l2HdrLength: 0,
  };
  let sawHeader = false;
  const ad = attrs.reset(buf, payloadOffset + NFGENMSG_LEN, end);
  while (ad.next()) {
    const off = ad.offset;
    switch (ad.type) {
      case NFQA.NFQA_PACKET_HDR:
        if (ad.length < PACKET_HDR_LEN) throw shortAttr('nfqueue', 'NFQA_PACKET_HDR', ad.length, PACKET_HDR_LEN);
        m.id = u32be(buf, off);
        m.hwProtocol = u16be(buf, off + 4);
        m.hook = buf[off + 6]!;
        sawHeader = true;
        break;
      case NFQA.NFQA_PAYLOAD:
        m.payloadOffset = off;
        m.payloadLength = ad.length;
        break;
      case NFQA.NFQA_MARK:
        m.mark = ad.u32be();
        break;
      case NFQA.NFQA_IFINDEX_INDEV:
        m.indev = ad.u32be();
        break;
      case NFQA.NFQA_IFINDEX_OUTDEV:
        m.outdev = ad.u32be();
        break;
      case NFQA.NFQA_IFINDEX_PHYSINDEV:
        m.physindev = ad.u32be();
        break;
      case NFQA.NFQA_IFINDEX_PHYSOUTDEV:
        m.physoutdev = ad.u32be();
        break;
      case NFQA.NFQA_TIMESTAMP:
        decodeTimestampAttr(ad, m, 'nfqueue', 'NFQA_TIMESTAMP');
        break;
      case NFQA.NFQA_HWADDR:
        m.hwAddr = decodeHwAddrAttr(ad, 'nfqueue', 'NFQA_HWADDR');
        break;
      case NFQA.NFQA_CAP_LEN:
        m.capLen = ad.u32be();
        break;
      case NFQA.NFQA_SKB_INFO:
        m.skbInfo = ad.u32be();
        break;
      case NFQA.NFQA_UID:
        m.uid = ad.u32be();
        break;
      case NFQA.NFQA_GID:
        m.gid = ad.u32be();
        break;
      case NFQA.NFQA_PRIORITY:
        m.priority = ad.u32be();
        break;
      case NFQA.NFQA_CGROUP_CLASSID:
        m.cgroupClassid = ad.u32be();
        break;
      case NFQA.NFQA_CT_INFO:
        m.ctInfo = ad.u32be();
        break;
      case NFQA.NFQA_CT:
        m.ctOffset = off;
        m.ctLength = ad.length;
        break;
      case NFQA.NFQA_SECCTX:
        m.secctx = decodeStringAttr(buf, off, ad.length);
        break;
      case NFQA.NFQA_VLAN:
        decodeVlanAttr(ad, nest, m);
        break;
      case NFQA.NFQA_L2HDR:
        m.l2HdrOffset = off;
        m.l2HdrLength = ad.length;
        break;
      // NFQA_EXP and unknown (newer) attributes are skipped.
    }
  }
  if (ad.err) throw ad.err;
  if (!sawHeader) throw new PacketError('nfqueue', 'packet message without NFQA_PACKET_HDR');
  m.truncated = m.capLen !== undefined && m.payloadLength < m.capLen;
  return m;
}

