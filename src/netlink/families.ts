/**
 * Address families used in netlink headers (`nfgen_family`, `ifi_family`, `ifa_family`, NFQUEUE
 * `pf`). include/linux/socket.h
 * @module
 */
import { AF_BRIDGE, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC } from '../ip/socket_constants.js';

/** The AF_* numbers netlink messages carry (AF_INET 2, AF_INET6 10…). */
export const AddressFamily = { AF_UNSPEC, AF_INET, AF_BRIDGE, AF_INET6, AF_NETLINK, AF_PACKET } as const;
