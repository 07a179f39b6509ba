/**
 * NFQUEUE protocol constants, spelled as in include/uapi/linux/netfilter/nfnetlink_queue.h
 * (verdicts and hooks from include/uapi/linux/netfilter.h).
 *
 * Message type on the wire: `NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_*`, payload `struct nfgenmsg`
 * with `res_id` = queue number (big-endian), then NFQA_* attributes whose payloads are all
 * BIG-endian.
 * @module
 */
import { Nfnetlink } from '../netlink/constants.js';

/** nfnetlink subsystem id of nfnetlink_queue. include/uapi/linux/netfilter/nfnetlink.h */
export const NFNL_SUBSYS_QUEUE = Nfnetlink.NFNL_SUBSYS_QUEUE;

/** `enum nfqnl_msg_types`. */
export const NFQNL_MSG = {
  /** kernel → user: a queued packet. */
  NFQNL_MSG_PACKET: 0,
  /** user → kernel: verdict on one packet id. */
  NFQNL_MSG_VERDICT: 1,
  /** user → kernel: bind, unbind, params, maxlen, flags. */
  NFQNL_MSG_CONFIG: 2,
  /** user → kernel: verdict on every packet id <= the given one. */
  NFQNL_MSG_VERDICT_BATCH: 3,
} as const;

/** `enum nfqnl_attr_type`: attributes of packet and verdict messages. */
export const NFQA = {
  NFQA_UNSPEC: 0,
  /** struct nfqnl_msg_packet_hdr { be32 packet_id; be16 hw_protocol; u8 hook } (packed, 7 bytes) */
  NFQA_PACKET_HDR: 1,
  /** struct nfqnl_msg_verdict_hdr { be32 verdict; be32 id } */
  NFQA_VERDICT_HDR: 2,
  /** be32 nfmark */
  NFQA_MARK: 3,
  /** struct nfqnl_msg_packet_timestamp { be64 sec; be64 usec } */
  NFQA_TIMESTAMP: 4,
  /** be32 ifindex */
  NFQA_IFINDEX_INDEV: 5,
  NFQA_IFINDEX_OUTDEV: 6,
  NFQA_IFINDEX_PHYSINDEV: 7,
  NFQA_IFINDEX_PHYSOUTDEV: 8,
  /** struct nfqnl_msg_packet_hw { be16 hw_addrlen; u16 pad; u8 hw_addr[8] } */
  NFQA_HWADDR: 9,
  /** the packet bytes (from the network header on) */
  NFQA_PAYLOAD: 10,
  /** nested CTA_* conntrack attributes */
  NFQA_CT: 11,
  /** be32 enum ip_conntrack_info */
  NFQA_CT_INFO: 12,
  /** be32 original packet length (sent when the payload was truncated) */
  NFQA_CAP_LEN: 13,
  /** be32 NFQA_SKB_* flags */
  NFQA_SKB_INFO: 14,
  /** nested conntrack expectation */
  NFQA_EXP: 15,
  /** be32 sk uid */
  NFQA_UID: 16,
  /** be32 sk gid */
  NFQA_GID: 17,
  /** security context string */
  NFQA_SECCTX: 18,
  /** nested NFQA_VLAN_* (bridge family) */
  NFQA_VLAN: 19,
  /** link-layer header (bridge family) */
  NFQA_L2HDR: 20,
  /** be32 skb->priority */
  NFQA_PRIORITY: 21,
  /** be32 cgroup v1 net_cls classid */
  NFQA_CGROUP_CLASSID: 22,
} as const;

/** `enum nfqnl_vlan_attr`: inside NFQA_VLAN. */
export const NFQA_VLAN = {
  NFQA_VLAN_UNSPEC: 0,
  /** be16 vlan_proto */
  NFQA_VLAN_PROTO: 1,
  /** be16 TCI */
  NFQA_VLAN_TCI: 2,
} as const;

/** `enum nfqnl_attr_config`: attributes of NFQNL_MSG_CONFIG. */
export const NFQA_CFG = {
  NFQA_CFG_UNSPEC: 0,
  /** struct nfqnl_msg_config_cmd { u8 command; u8 pad; be16 pf } */
  NFQA_CFG_CMD: 1,
  /** struct nfqnl_msg_config_params { be32 copy_range; u8 copy_mode } (packed, 5 bytes) */
  NFQA_CFG_PARAMS: 2,
  /** be32 queue length */
  NFQA_CFG_QUEUE_MAXLEN: 3,
  /** be32 which flags NFQA_CFG_FLAGS changes (mandatory with it) */
  NFQA_CFG_MASK: 4,
  /** be32 NFQA_CFG_F_* */
  NFQA_CFG_FLAGS: 5,
} as const;

/** `enum nfqnl_msg_config_cmds`. PF_BIND / PF_UNBIND are ignored since Linux 3.8. */
export const NFQNL_CFG_CMD = {
  NFQNL_CFG_CMD_NONE: 0,
  NFQNL_CFG_CMD_BIND: 1,
  NFQNL_CFG_CMD_UNBIND: 2,
  NFQNL_CFG_CMD_PF_BIND: 3,
  NFQNL_CFG_CMD_PF_UNBIND: 4,
} as const;

/** `enum nfqnl_config_mode`. NONE makes every enqueue fail: always set META or PACKET. */
export const NFQNL_COPY = {
  NFQNL_COPY_NONE: 0,
  NFQNL_COPY_META: 1,
  NFQNL_COPY_PACKET: 2,
} as const;

/** Largest copy range: `0xffff - NLA_HDRLEN`. 0 or more also means this. */
export const NFQNL_MAX_COPY_RANGE = 0xffff - 4;

/** Kernel default queue length (net/netfilter/nfnetlink_queue.c, not uapi). */
export const NFQNL_QMAX_DEFAULT = 1024;

/** NFQA_CFG_FLAGS bits. */
export const NFQA_CFG_F = {
  /** Accept instead of drop when the queue is full or the socket buffer overflows (3.6). */
  NFQA_CFG_F_FAIL_OPEN: 1 << 0,
  /** Attach conntrack info (NFQA_CT, NFQA_CT_INFO) (3.6). */
  NFQA_CFG_F_CONNTRACK: 1 << 1,
  /** Deliver GSO packets unsegmented (3.10). */
  NFQA_CFG_F_GSO: 1 << 2,
  /** Attach the owning socket's NFQA_UID / NFQA_GID. */
  NFQA_CFG_F_UID_GID: 1 << 3,
  /** Attach NFQA_SECCTX (needs CONFIG_NETWORK_SECMARK). */
  NFQA_CFG_F_SECCTX: 1 << 4,
  NFQA_CFG_F_MAX: 1 << 5,
} as const;

/** NFQA_SKB_INFO bits. */
export const NFQA_SKB = {
  /** Checksums look wrong but are fine (CHECKSUM_PARTIAL: the NIC fills them on output). */
  NFQA_SKB_CSUMNOTREADY: 1 << 0,
  /** The packet is a GSO aggregate (only with NFQA_CFG_F_GSO). */
  NFQA_SKB_GSO: 1 << 1,
  /** The checksum has not been verified yet. */
  NFQA_SKB_CSUM_NOTVERIFIED: 1 << 2,
} as const;

/** Verdicts. include/uapi/linux/netfilter.h */
export const NF_VERDICT = {
  NF_DROP: 0,
  NF_ACCEPT: 1,
  /** Refused by nfnetlink_queue (EINVAL). */
  NF_STOLEN: 2,
  /** Re-queue to another queue: use {@link NF_QUEUE_NR}. */
  NF_QUEUE: 3,
  /** Re-run the same hook: loops unless a mark changes what matches. */
  NF_REPEAT: 4,
  /** Accept and skip the remaining base chains of this hook. */
  NF_STOP: 5,
} as const;

/** Low byte of a verdict: the verdict proper. */
export const NF_VERDICT_MASK = 0x0000_00ff;
/** With NF_QUEUE: accept instead of drop when the target queue has no listener. */
export const NF_VERDICT_FLAG_QUEUE_BYPASS = 0x0000_8000;
/** High 16 bits of an NF_QUEUE verdict: the target queue number. */
export const NF_VERDICT_QMASK = 0xffff_0000;
export const NF_VERDICT_QBITS = 16;

/**
 * `#define NF_QUEUE_NR(x) ((((x) << NF_VERDICT_QBITS) & NF_VERDICT_QMASK) | NF_QUEUE)`
 * @example putVerdict(b, seq, 7, id, NF_QUEUE_NR(9) | NF_VERDICT_FLAG_QUEUE_BYPASS)
 */
export function NF_QUEUE_NR(queue: number): number {
  return (((queue << NF_VERDICT_QBITS) & NF_VERDICT_QMASK) | NF_VERDICT.NF_QUEUE) >>> 0;
}

/** CTA_MARK inside NFQA_CT (be32 connmark). include/uapi/linux/netfilter/nfnetlink_conntrack.h */
export const CTA_MARK = 8;
