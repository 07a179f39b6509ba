/**
 * Decodes one NFULNL_MSG_PACKET message into a plain {@link LogMeta}: one result object, no
 * copies (the packet stays in the caller's buffer, located by `payloadOffset` / `payloadLength`),
 * reused attribute decoders, strings only for the prefix, NFULA_HWADDR and when asked.
 *
 * ```
 * nlmsghdr | nfgenmsg { family = the packet's NFPROTO, version, be16 res_id = group } | NFULA_*
 * NFULA_PACKET_HDR  { be16 hw_protocol; u8 hook; u8 _pad }          always sent
 * NFULA_PREFIX      "…\0"                                           the rule's prefix
 * NFULA_TIMESTAMP   { be64 sec; be64 usec }                         prerouting, local-in, forward
 * NFULA_HWADDR      { be16 hw_addrlen; u16 pad; u8 hw_addr[8] }     input device with a MAC header
 * NFULA_PAYLOAD     the packet from its network header, up to the copy range / snaplen
 * everything else: be32, be16 (HWTYPE, HWLEN) or opaque, see the field docs below
 * ```
 * net/netfilter/nfnetlink_log.c (__build_packet_message) decides what is sent. With a queue
 * threshold above 1 one datagram carries several packet messages and ends with NLMSG_DONE.
 * NB: unlike NFQUEUE there is no packet id and no NFQA_CAP_LEN: a copy cut by the copy range
 * says so only by being shorter than the IP header's total length.
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { u16be, u32be } from '../netlink/bytes.js';
import { NFGENMSG_LEN } from '../netlink/constants.js';
import { decodeHwAddrAttr, decodeStringAttr, decodeTimestampAttr, decodeVlanAttr, shortAttr } from '../netlink/nf_packet_attrs.js';
import { PacketError } from '../errors.js';
import { NFULA } from './constants.js';

/**
 * Metadata of one logged packet. Fields the kernel omits when unset are 0 (numbers that are 0
 * by default anyway) or `undefined` (where 0 would be a real value or absence matters).
 */
export interface LogMeta {
  /** Group number (`nfgenmsg.res_id`). */
  group: number;
  /** `nfgen_family`: the packet's NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10) for inet rules. */
  family: number;
  /** Ethertype (0x0800 IPv4, 0x86dd IPv6), as skb->protocol; may be 0 for local packets. */
  hwProtocol: number;
  /** Netfilter hook (NF_INET_PRE_ROUTING 0 … NF_INET_POST_ROUTING 4). */
  hook: number;
  /** The logging rule's prefix ("" when it has none); undefined when the kernel sent none. */
  prefix: string | undefined;
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
  /** Time in ms since the epoch (fractional); undefined on local-out and postrouting (not sent). */
  timestamp: number | undefined;
  /** Exact seconds of the stamp; undefined with `timestamp`. */
  timestampSec: number | undefined;
  /** Exact microseconds of the stamp; undefined with `timestamp`. */
  timestampUsec: number | undefined;
  /** Source MAC as "aa:bb:…"; undefined without an input device or MAC header. */
  hwAddr: string | undefined;
  /** ARPHRD_* of the input device; undefined without one. */
  hwType: number | undefined;
  /** Link-layer header location (NFULA_HWHEADER); both 0 when absent. */
  hwHeaderOffset: number;
  hwHeaderLength: number;
  /** Offset of the packet bytes (from the network header) in the decoded buffer; 0 if none. */
  payloadOffset: number;
  /** Bytes of packet copied; 0 with NFULNL_COPY_META. */
  payloadLength: number;
  /** Owning socket's uid; undefined unless a local full socket owns the packet. */
  uid: number | undefined;
  /** Owning socket's gid; as `uid`. */
  gid: number | undefined;
  /** Instance-local sequence number; undefined without NFULNL_CFG_F_SEQ. */
  seq: number | undefined;
  /** Namespace-wide sequence number; undefined without NFULNL_CFG_F_SEQ_GLOBAL. */
  seqGlobal: number | undefined;
  /** `enum ip_conntrack_info`; undefined unless NFULNL_CFG_F_CONNTRACK and a tracked packet. */
  ctInfo: number | undefined;
  /** Raw NFULA_CT nest (CTA_* attributes) location; both 0 when absent. */
  ctOffset: number;
  ctLength: number;
  /** VLAN TCI and protocol (bridge/netdev families only); undefined when absent. */
  vlanTci: number | undefined;
  vlanProto: number | undefined;
  /** Link-layer header location (bridge/netdev families only); both 0 when absent. */
  l2HdrOffset: number;
  l2HdrLength: number;
}

const PACKET_HDR_LEN = 4;

// Reused across calls: decoding is synchronous and not re-entrant.
const attrs = new AttrDecoder();
const nest = new AttrDecoder();

/**
 * Decodes an NFULNL_MSG_PACKET.
 * @param buf buffer holding the message (the receive arena).
 * @param payloadOffset the netlink payload offset (`MessageIter.payloadOffset`: the nfgenmsg).
 * @param end end of the message (`MessageIter.end`).
 * @returns metadata; the packet is `buf.subarray(meta.payloadOffset, meta.payloadOffset + meta.payloadLength)`.
 * @throws {PacketError} when the message is short, an attribute is malformed, or NFULA_PACKET_HDR is missing.
 * @example
 * ```ts
 * if (it.type === ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG.NFULNL_MSG_PACKET)) {
 *   const meta = decodeLogMessage(it.buffer, it.payloadOffset, it.end);
 *   console.log(meta.group, meta.payloadLength);
 * }
 * ```
 */
export function decodeLogMessage(buf: Uint8Array, payloadOffset: number, end: number): LogMeta {
  if (end - payloadOffset < NFGENMSG_LEN || end > buf.length) {
    throw new PacketError('nflog', `packet message of ${end - payloadOffset} bytes has no nfgenmsg`);
  }
  const m = emptyMeta(u16be(buf, payloadOffset + 2), buf[payloadOffset]!);
  let sawHeader = false;
  const ad = attrs.reset(buf, payloadOffset + NFGENMSG_LEN, end);
  while (ad.next()) {
    const off = ad.offset;
    switch (ad.type) {
      case NFULA.NFULA_PACKET_HDR:
        if (ad.length < PACKET_HDR_LEN) throw shortAttr('nflog', 'NFULA_PACKET_HDR', ad.length, PACKET_HDR_LEN);
        m.hwProtocol = u16be(buf, off);
        m.hook = buf[off + 2]!;
        sawHeader = true;
        break;
      case NFULA.NFULA_PAYLOAD:
        m.payloadOffset = off;
        m.payloadLength = ad.length;
        break;
      case NFULA.NFULA_PREFIX:
        m.prefix = decodeStringAttr(buf, off, ad.length);
        break;
      case NFULA.NFULA_MARK:
        m.mark = ad.u32be();
        break;
      case NFULA.NFULA_IFINDEX_INDEV:
        m.indev = ad.u32be();
        break;
      case NFULA.NFULA_IFINDEX_OUTDEV:
        m.outdev = ad.u32be();
        break;
      case NFULA.NFULA_IFINDEX_PHYSINDEV:
        m.physindev = ad.u32be();
        break;
      case NFULA.NFULA_IFINDEX_PHYSOUTDEV:
        m.physoutdev = ad.u32be();
        break;
      case NFULA.NFULA_TIMESTAMP:
        decodeTimestampAttr(ad, m, 'nflog', 'NFULA_TIMESTAMP');
        break;
      case NFULA.NFULA_HWADDR:
        m.hwAddr = decodeHwAddrAttr(ad, 'nflog', 'NFULA_HWADDR');
        break;
      case NFULA.NFULA_HWTYPE:
        m.hwType = ad.u16be();
        break;
      case NFULA.NFULA_HWHEADER:
        m.hwHeaderOffset = off;
        m.hwHeaderLength = ad.length;
        break;
      case NFULA.NFULA_UID:
        m.uid = ad.u32be();
        break;
      case NFULA.NFULA_GID:
        m.gid = ad.u32be();
        break;
      case NFULA.NFULA_SEQ:
        m.seq = ad.u32be();
        break;
      case NFULA.NFULA_SEQ_GLOBAL:
        m.seqGlobal = ad.u32be();
        break;
      case NFULA.NFULA_CT_INFO:
        m.ctInfo = ad.u32be();
        break;
      case NFULA.NFULA_CT:
        m.ctOffset = off;
        m.ctLength = ad.length;
        break;
      case NFULA.NFULA_VLAN:
        decodeVlanAttr(ad, nest, m);
        break;
      case NFULA.NFULA_L2HDR:
        m.l2HdrOffset = off;
        m.l2HdrLength = ad.length;
        break;
      // NFULA_HWLEN (the header's length is the attribute's) and unknown attributes are skipped.
    }
  }
  if (ad.err) throw ad.err;
  if (!sawHeader) throw new PacketError('nflog', 'packet message without NFULA_PACKET_HDR');
  return m;
}

function emptyMeta(group: number, family: number): LogMeta {
  return {
    group,
    family,
    hwProtocol: 0,
    hook: 0,
    prefix: undefined,
    mark: 0,
    indev: 0,
    outdev: 0,
    physindev: 0,
    physoutdev: 0,
    timestamp: undefined,
    timestampSec: undefined,
    timestampUsec: undefined,
    hwAddr: undefined,
    hwType: undefined,
    hwHeaderOffset: 0,
    hwHeaderLength: 0,
    payloadOffset: 0,
    payloadLength: 0,
    uid: undefined,
    gid: undefined,
    seq: undefined,
    seqGlobal: undefined,
    ctInfo: undefined,
    ctOffset: 0,
    ctLength: 0,
    vlanTci: undefined,
    vlanProto: undefined,
    l2HdrOffset: 0,
    l2HdrLength: 0,
  };
}

