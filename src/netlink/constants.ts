/**
 * Netlink core constants, spelled as in the kernel's uapi headers so they can be grepped against
 * `include/uapi`. Grouped in `as const` objects (no `enum`, per the project style).
 *
 * ```
 * struct nlmsghdr {           (16 bytes, HOST byte order)
 *   __u32 nlmsg_len;          total length including this header
 *   __u16 nlmsg_type;         NLMSG_* below, or family specific
 *   __u16 nlmsg_flags;        NLM_F_*
 *   __u32 nlmsg_seq;
 *   __u32 nlmsg_pid;          sender port id (0 = kernel)
 * };
 * struct nlattr {             (4 bytes, HOST byte order) then payload, padded to 4
 *   __u16 nla_len;            header + payload, without padding
 *   __u16 nla_type;           NLA_F_NESTED | NLA_F_NET_BYTEORDER | type
 * };
 * ```
 * @module
 */

/** Message types reserved by netlink itself. include/uapi/linux/netlink.h */
export const NlmsgType = {
  NLMSG_NOOP: 0x1,
  NLMSG_ERROR: 0x2,
  NLMSG_DONE: 0x3,
  NLMSG_OVERRUN: 0x4,
  /** Types below this are control messages. */
  NLMSG_MIN_TYPE: 0x10,
} as const;

/** `nlmsg_flags` bits. include/uapi/linux/netlink.h */
export const NlmFlags = {
  NLM_F_REQUEST: 0x01,
  NLM_F_MULTI: 0x02,
  NLM_F_ACK: 0x04,
  NLM_F_ECHO: 0x08,
  NLM_F_DUMP_INTR: 0x10,
  NLM_F_DUMP_FILTERED: 0x20,
  // Modifiers to GET requests.
  NLM_F_ROOT: 0x100,
  NLM_F_MATCH: 0x200,
  NLM_F_ATOMIC: 0x400,
  NLM_F_DUMP: 0x100 | 0x200,
  // Modifiers to NEW requests.
  NLM_F_REPLACE: 0x100,
  NLM_F_EXCL: 0x200,
  NLM_F_CREATE: 0x400,
  NLM_F_APPEND: 0x800,
  // Modifiers to DELETE requests.
  NLM_F_NONREC: 0x100,
  NLM_F_BULK: 0x200,
  // Flags for ACK (NLMSG_ERROR) messages.
  /** The echoed request was cut to its header. */
  NLM_F_CAPPED: 0x100,
  /** Extended ACK TLVs follow the echoed request. */
  NLM_F_ACK_TLVS: 0x200,
} as const;

/** Netlink protocol numbers for `socket(AF_NETLINK, SOCK_RAW, proto)`. include/uapi/linux/netlink.h */
export const NetlinkProtocol = {
  NETLINK_ROUTE: 0,
  NETLINK_SOCK_DIAG: 4,
  NETLINK_NETFILTER: 12,
  NETLINK_GENERIC: 16,
} as const;

/** `setsockopt` level for netlink sockets. include/linux/socket.h */
export const SOL_NETLINK = 270;

/** `setsockopt(fd, SOL_NETLINK, …)` option names. include/uapi/linux/netlink.h */
export const NetlinkSockopt = {
  NETLINK_ADD_MEMBERSHIP: 1,
  NETLINK_DROP_MEMBERSHIP: 2,
  NETLINK_PKTINFO: 3,
  NETLINK_BROADCAST_ERROR: 4,
  NETLINK_NO_ENOBUFS: 5,
  NETLINK_RX_RING: 6,
  NETLINK_TX_RING: 7,
  NETLINK_LISTEN_ALL_NSID: 8,
  NETLINK_LIST_MEMBERSHIPS: 9,
  NETLINK_CAP_ACK: 10,
  NETLINK_EXT_ACK: 11,
  NETLINK_GET_STRICT_CHK: 12,
} as const;

/** High bits of `nla_type`. include/uapi/linux/netlink.h */
export const NlaFlags = {
  NLA_F_NESTED: 1 << 15,
  NLA_F_NET_BYTEORDER: 1 << 14,
  /** `#define NLA_TYPE_MASK ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)` (as a u16). */
  NLA_TYPE_MASK: 0xffff & ~((1 << 15) | (1 << 14)),
} as const;

/** Extended ACK attributes (`enum nlmsgerr_attrs`). include/uapi/linux/netlink.h */
export const NlmsgerrAttr = {
  NLMSGERR_ATTR_UNUSED: 0,
  /** NUL-terminated error message string. */
  NLMSGERR_ATTR_MSG: 1,
  /** u32 byte offset of the offending attribute in the echoed request. */
  NLMSGERR_ATTR_OFFS: 2,
  NLMSGERR_ATTR_COOKIE: 3,
  NLMSGERR_ATTR_POLICY: 4,
  /** u32 type of a missing required attribute. */
  NLMSGERR_ATTR_MISS_TYPE: 5,
  /** u32 offset of the nest where the attribute is missing. */
  NLMSGERR_ATTR_MISS_NEST: 6,
} as const;

/**
 * nfnetlink: message type is `subsys << 8 | msg`, payload starts with `struct nfgenmsg`.
 * include/uapi/linux/netfilter/nfnetlink.h
 *
 * ```
 * struct nfgenmsg {           (4 bytes)
 *   __u8   nfgen_family;      AF_xxx
 *   __u8   version;           NFNETLINK_V0
 *   __be16 res_id;            resource id (queue number), BIG-endian
 * };
 * ```
 */
export const Nfnetlink = {
  NFNETLINK_V0: 0,
  NFNL_SUBSYS_NONE: 0,
  NFNL_SUBSYS_CTNETLINK: 1,
  NFNL_SUBSYS_CTNETLINK_EXP: 2,
  NFNL_SUBSYS_QUEUE: 3,
  NFNL_SUBSYS_ULOG: 4,
  NFNL_SUBSYS_NFTABLES: 10,
  NFNL_MSG_BATCH_BEGIN: 0x10,
  NFNL_MSG_BATCH_END: 0x11,
} as const;

/** `sizeof(struct nfgenmsg)`. */
export const NFGENMSG_LEN = 4;
