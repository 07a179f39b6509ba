/**
 * Netlink alignment: messages and attributes start on 4-byte boundaries.
 * From include/uapi/linux/netlink.h.
 * @module
 */

/** Both netlink messages and attributes align to 4 bytes. */
export const NLMSG_ALIGNTO = 4;
/** `#define NLA_ALIGNTO 4` */
export const NLA_ALIGNTO = 4;

/** `#define NLMSG_ALIGN(len) ( ((len)+NLMSG_ALIGNTO-1) & ~(NLMSG_ALIGNTO-1) )` */
export function NLMSG_ALIGN(len: number): number {
  return (len + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

/** `#define NLMSG_HDRLEN ((int) NLMSG_ALIGN(sizeof(struct nlmsghdr)))`: 16. */
export const NLMSG_HDRLEN = 16;

/** `#define NLA_ALIGN(len) (((len) + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1))` */
export function NLA_ALIGN(len: number): number {
  return (len + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);
}

/** `#define NLA_HDRLEN ((int) NLA_ALIGN(sizeof(struct nlattr)))`: 4. */
export const NLA_HDRLEN = 4;

/** Largest attribute payload: `nla_len` is a u16 that includes the 4-byte header. */
export const NLA_MAX_PAYLOAD = 0xffff - NLA_HDRLEN;
