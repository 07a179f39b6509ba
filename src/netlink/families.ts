/**
 * Address families used in netlink headers (`nfgen_family`, `ifi_family`, `ifa_family`, NFQUEUE
 * `pf`). include/linux/socket.h
 * @module
 */
export const AddressFamily = {
  AF_UNSPEC: 0,
  AF_INET: 2,
  AF_BRIDGE: 7,
  AF_INET6: 10,
  AF_NETLINK: 16,
  AF_PACKET: 17,
} as const;
