/**
 * rtnetlink constants for links, addresses and their notifications, in uapi spelling
 * (tc's are in ./tc_constants.ts).
 * @module
 */

/** Message types. include/uapi/linux/rtnetlink.h */
export const RtmType = {
  RTM_NEWLINK: 16,
  RTM_DELLINK: 17,
  RTM_GETLINK: 18,
  RTM_SETLINK: 19,
  RTM_NEWADDR: 20,
  RTM_DELADDR: 21,
  RTM_GETADDR: 22,
  RTM_NEWROUTE: 24,
  RTM_DELROUTE: 25,
  RTM_GETROUTE: 26,
} as const;

/** Link attributes (selection). include/uapi/linux/if_link.h */
export const IflaAttr = {
  IFLA_UNSPEC: 0,
  IFLA_ADDRESS: 1,
  IFLA_BROADCAST: 2,
  IFLA_IFNAME: 3,
  IFLA_MTU: 4,
  IFLA_LINK: 5,
  IFLA_QDISC: 6,
  IFLA_STATS: 7,
  IFLA_MASTER: 10,
  IFLA_TXQLEN: 13,
  IFLA_OPERSTATE: 16,
  IFLA_LINKMODE: 17,
  IFLA_LINKINFO: 18,
  IFLA_IFALIAS: 20,
  IFLA_GROUP: 27,
  IFLA_PROMISCUITY: 30,
  IFLA_NUM_TX_QUEUES: 31,
  IFLA_NUM_RX_QUEUES: 32,
  IFLA_CARRIER: 33,
} as const;

/** Address attributes. include/uapi/linux/if_addr.h */
export const IfaAttr = {
  IFA_UNSPEC: 0,
  /** Peer address on point-to-point links, else the same as IFA_LOCAL (IPv4). */
  IFA_ADDRESS: 1,
  /** The local address. */
  IFA_LOCAL: 2,
  IFA_LABEL: 3,
  IFA_BROADCAST: 4,
  IFA_ANYCAST: 5,
  IFA_CACHEINFO: 6,
  IFA_MULTICAST: 7,
  /** u32 flags superseding the 8-bit `ifa_flags`. */
  IFA_FLAGS: 8,
  IFA_RT_PRIORITY: 9,
  IFA_TARGET_NETNSID: 10,
  IFA_PROTO: 11,
} as const;

/** `ifa_flags` / IFA_FLAGS bits. include/uapi/linux/if_addr.h */
export const IfaFlags = {
  IFA_F_SECONDARY: 0x01,
  IFA_F_TEMPORARY: 0x01,
  IFA_F_NODAD: 0x02,
  IFA_F_OPTIMISTIC: 0x04,
  IFA_F_DADFAILED: 0x08,
  IFA_F_HOMEADDRESS: 0x10,
  IFA_F_DEPRECATED: 0x20,
  IFA_F_TENTATIVE: 0x40,
  IFA_F_PERMANENT: 0x80,
  IFA_F_MANAGETEMPADDR: 0x100,
  IFA_F_NOPREFIXROUTE: 0x200,
  IFA_F_MCAUTOJOIN: 0x400,
  IFA_F_STABLE_PRIVACY: 0x800,
} as const;

/** `ifi_flags` bits. include/uapi/linux/if.h */
export const IffFlags = {
  IFF_UP: 1 << 0,
  IFF_BROADCAST: 1 << 1,
  IFF_DEBUG: 1 << 2,
  IFF_LOOPBACK: 1 << 3,
  IFF_POINTOPOINT: 1 << 4,
  IFF_NOTRAILERS: 1 << 5,
  IFF_RUNNING: 1 << 6,
  IFF_NOARP: 1 << 7,
  IFF_PROMISC: 1 << 8,
  IFF_ALLMULTI: 1 << 9,
  IFF_MASTER: 1 << 10,
  IFF_SLAVE: 1 << 11,
  IFF_MULTICAST: 1 << 12,
  IFF_PORTSEL: 1 << 13,
  IFF_AUTOMEDIA: 1 << 14,
  IFF_DYNAMIC: 1 << 15,
  IFF_LOWER_UP: 1 << 16,
  IFF_DORMANT: 1 << 17,
  IFF_ECHO: 1 << 18,
} as const;

/** `ifa_scope` values (`enum rt_scope_t`). include/uapi/linux/rtnetlink.h */
export const RtScope = {
  RT_SCOPE_UNIVERSE: 0,
  RT_SCOPE_SITE: 200,
  RT_SCOPE_LINK: 253,
  RT_SCOPE_HOST: 254,
  RT_SCOPE_NOWHERE: 255,
} as const;

/**
 * Multicast groups (`enum rtnetlink_groups`), joined with NETLINK_ADD_MEMBERSHIP: the kernel then
 * sends RTM_NEW and RTM_DEL messages with seq 0 as things change. include/uapi/linux/rtnetlink.h
 */
export const RtnlGroup = {
  RTNLGRP_NONE: 0,
  /** RTM_NEWLINK / RTM_DELLINK. */
  RTNLGRP_LINK: 1,
  RTNLGRP_NOTIFY: 2,
  RTNLGRP_NEIGH: 3,
  /** Qdisc, class and filter changes. */
  RTNLGRP_TC: 4,
  /** RTM_NEWADDR / RTM_DELADDR of IPv4. */
  RTNLGRP_IPV4_IFADDR: 5,
  RTNLGRP_IPV4_MROUTE: 6,
  RTNLGRP_IPV4_ROUTE: 7,
  RTNLGRP_IPV4_RULE: 8,
  /** RTM_NEWADDR / RTM_DELADDR of IPv6. */
  RTNLGRP_IPV6_IFADDR: 9,
} as const;

/** `sizeof(struct ifinfomsg)`. */
export const IFINFOMSG_LEN = 16;
/** `sizeof(struct ifaddrmsg)`. */
export const IFADDRMSG_LEN = 8;
