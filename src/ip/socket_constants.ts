/**
 * The Linux socket ABI numbers divert passes to socket(2), setsockopt(2) and bind(2), and that
 * netlink headers carry as families: one definition for the native binding, the netlink codec,
 * the injector, the demo's ping and the fake kernel. include/linux/socket.h, uapi/linux/in.h,
 * in6.h, if_ether.h, if_packet.h, asm-generic/socket.h
 * @module
 */

/** Address families: socket(2) domains and the family fields of netlink headers. */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;

/** socket(2) types. */
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;

/** setsockopt(2) levels (IP levels are the IPPROTO_* numbers). */
export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_IPV6 = 41;
export const SOL_PACKET = 263;

/** SOL_SOCKET options. */
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_MARK = 36;

/** SOL_IP options. */
export const IP_MTU_DISCOVER = 10;
export const IP_MULTICAST_IF = 32;
/** SOL_IPV6 options. */
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MTU_DISCOVER = 23;
/** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER value: set DF, never fragment locally. */
export const IP_PMTUDISC_DO = 2;

/** SOL_PACKET options. Linux 4.20. */
export const PACKET_IGNORE_OUTGOING = 23;

/** socket(AF_INET, SOCK_RAW, IPPROTO_RAW): send whole IP packets with our own header. */
export const IPPROTO_RAW = 255;

/** EtherTypes (network order on the wire; host order here). */
export const ETH_P_ALL = 0x0003;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
