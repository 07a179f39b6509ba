/**
 * NFLOG protocol constants (nfnetlink_log), spelled as in
 * include/uapi/linux/netfilter/nfnetlink_log.h.
 *
 * Message type on the wire: `NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_*`, payload `struct nfgenmsg`
 * with `res_id` = the group number (big-endian), then NFULA_* attributes whose payloads are all
 * BIG-endian (NFULA_CFG_FLAGS is a be16, the other numbers be32).
 *
 * Unlike NFQUEUE, a logged packet is a copy: the kernel hands it to the group and the packet
 * goes on at once. Nobody answers it, and when the listener's socket buffer is full the copy is
 * lost (the reader sees ENOBUFS), never the packet.
 * @module
 */
import { Nfnetlink } from '../netlink/constants.js';

/** nfnetlink subsystem id of nfnetlink_log. include/uapi/linux/netfilter/nfnetlink.h */
export const NFNL_SUBSYS_ULOG = Nfnetlink.NFNL_SUBSYS_ULOG;

/** `enum nfulnl_msg_types`. */
export const NFULNL_MSG = {
  /** kernel → user: a logged packet. */
  NFULNL_MSG_PACKET: 0,
  /** user → kernel: bind, unbind, mode, buffer size, timeout, threshold, flags. */
  NFULNL_MSG_CONFIG: 1,
} as const;

/** `enum nfulnl_attr_type`: attributes of packet messages. */
export const NFULA = {
  NFULA_UNSPEC: 0,
  /** struct nfulnl_msg_packet_hdr { be16 hw_protocol; u8 hook; u8 _pad } (4 bytes) */
  NFULA_PACKET_HDR: 1,
  /** be32 nfmark (omitted when 0) */
  NFULA_MARK: 2,
  /** struct nfulnl_msg_packet_timestamp { be64 sec; be64 usec } (hooks up to forward only) */
  NFULA_TIMESTAMP: 3,
  /** be32 ifindex */
  NFULA_IFINDEX_INDEV: 4,
  NFULA_IFINDEX_OUTDEV: 5,
  NFULA_IFINDEX_PHYSINDEV: 6,
  NFULA_IFINDEX_PHYSOUTDEV: 7,
  /** struct nfulnl_msg_packet_hw { be16 hw_addrlen; u16 _pad; u8 hw_addr[8] } */
  NFULA_HWADDR: 8,
  /** the packet bytes (from the network header on), up to the copy range / snaplen */
  NFULA_PAYLOAD: 9,
  /** NUL-terminated prefix string of the rule (nft_log always sends one, "" by default) */
  NFULA_PREFIX: 10,
  /** be32 uid of the owning socket */
  NFULA_UID: 11,
  /** be32 instance-local sequence number (NFULNL_CFG_F_SEQ) */
  NFULA_SEQ: 12,
  /** be32 netns-wide sequence number (NFULNL_CFG_F_SEQ_GLOBAL) */
  NFULA_SEQ_GLOBAL: 13,
  /** be32 gid of the owning socket */
  NFULA_GID: 14,
  /** be16 ARPHRD_* of the input device */
  NFULA_HWTYPE: 15,
  /** the link-layer header bytes */
  NFULA_HWHEADER: 16,
  /** be16 hard_header_len of the input device */
  NFULA_HWLEN: 17,
  /** nested CTA_* conntrack attributes (NFULNL_CFG_F_CONNTRACK) */
  NFULA_CT: 18,
  /** be32 enum ip_conntrack_info */
  NFULA_CT_INFO: 19,
  /** nested NFULA_VLAN_* (bridge and netdev families) */
  NFULA_VLAN: 20,
  /** full link-layer header (bridge and netdev families) */
  NFULA_L2HDR: 21,
} as const;

/** `enum nfulnl_vlan_attr`: inside NFULA_VLAN. */
export const NFULA_VLAN = {
  NFULA_VLAN_UNSPEC: 0,
  /** be16 vlan_proto */
  NFULA_VLAN_PROTO: 1,
  /** be16 TCI */
  NFULA_VLAN_TCI: 2,
} as const;

/** `enum nfulnl_attr_config`: attributes of NFULNL_MSG_CONFIG. */
export const NFULA_CFG = {
  NFULA_CFG_UNSPEC: 0,
  /** struct nfulnl_msg_config_cmd { u8 command } (packed, 1 byte) */
  NFULA_CFG_CMD: 1,
  /** struct nfulnl_msg_config_mode { be32 copy_range; u8 copy_mode; u8 _pad } (packed, 6 bytes) */
  NFULA_CFG_MODE: 2,
  /** be32 size of the kernel's batching buffer (NLMSG_GOODSIZE … 131072, else ignored) */
  NFULA_CFG_NLBUFSIZ: 3,
  /** be32 flush timeout in 1/100 s */
  NFULA_CFG_TIMEOUT: 4,
  /** be32 packets batched before a flush */
  NFULA_CFG_QTHRESH: 5,
  /** be16 NFULNL_CFG_F_* */
  NFULA_CFG_FLAGS: 6,
} as const;

/** `enum nfulnl_msg_config_cmds`. PF_BIND / PF_UNBIND set the namespace's default logger. */
export const NFULNL_CFG_CMD = {
  NFULNL_CFG_CMD_NONE: 0,
  NFULNL_CFG_CMD_BIND: 1,
  NFULNL_CFG_CMD_UNBIND: 2,
  NFULNL_CFG_CMD_PF_BIND: 3,
  NFULNL_CFG_CMD_PF_UNBIND: 4,
} as const;

/** Copy modes. NONE and META copy no packet bytes. */
export const NFULNL_COPY = {
  NFULNL_COPY_NONE: 0x00,
  NFULNL_COPY_META: 0x01,
  NFULNL_COPY_PACKET: 0x02,
} as const;

/** NFULA_CFG_FLAGS bits (any other bit: EINVAL, NLA_POLICY_MASK). */
export const NFULNL_CFG_F = {
  /** Send NFULA_SEQ. */
  NFULNL_CFG_F_SEQ: 0x0001,
  /** Send NFULA_SEQ_GLOBAL. */
  NFULNL_CFG_F_SEQ_GLOBAL: 0x0002,
  /** Send NFULA_CT / NFULA_CT_INFO (needs nf_conntrack_netlink). */
  NFULNL_CFG_F_CONNTRACK: 0x0004,
} as const;

/** Largest copy range: `0xffff - NLA_HDRLEN` (NFULNL_COPY_RANGE_MAX, 0 also means this). */
export const NFULNL_COPY_RANGE_MAX = 0xffff - 4;

/** Kernel defaults for a new instance (net/netfilter/nfnetlink_log.c, not uapi). */
export const NFULNL_DEFAULTS = {
  /** NFULNL_QTHRESH_DEFAULT: packets batched per datagram. */
  qthreshold: 100,
  /** NFULNL_TIMEOUT_DEFAULT: flush after 1 s (in 1/100 s). */
  timeout: 100,
  /** NFULNL_NLBUFSIZ_DEFAULT is NLMSG_GOODSIZE: min(PAGE_SIZE, 8192) less skb overhead; the kernel refuses less. */
  nlbufsizMax: 131072,
} as const;
