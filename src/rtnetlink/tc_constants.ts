/**
 * Traffic control (tc) constants over rtnetlink, in uapi spelling: message types, `struct tcmsg`,
 * handles, the TCA_* attributes of qdiscs and filters, the bpf classifier and the mirred action.
 *
 * ```
 * struct tcmsg {              (20 bytes, host order)     handle = major:minor, each 16 bits
 *   u8  tcm_family;           AF_UNSPEC                  ffff:fff1  TC_H_CLSACT (= TC_H_INGRESS)
 *   u8  tcm__pad1; u16 tcm__pad2;                        ffff:0000  the clsact qdisc itself
 *   s32 tcm_ifindex;                                     ffff:fff2  its ingress hook (filter parent)
 *   u32 tcm_handle;           filter: its handle          ffff:fff3  its egress hook
 *   u32 tcm_parent;           qdisc/hook it hangs on
 *   u32 tcm_info;             filter: prio << 16 | protocol (__be16, ETH_P_*); qdisc: refcnt
 * };
 * ```
 * include/uapi/linux/rtnetlink.h, pkt_sched.h, pkt_cls.h, tc_act/tc_mirred.h
 * @module
 */

/** tc message types. include/uapi/linux/rtnetlink.h */
export const RtmTcType = {
  RTM_NEWQDISC: 36,
  RTM_DELQDISC: 37,
  RTM_GETQDISC: 38,
  RTM_NEWTFILTER: 44,
  RTM_DELTFILTER: 45,
  RTM_GETTFILTER: 46,
} as const;

/** Top-level attributes of qdisc and filter messages (`enum { TCA_UNSPEC, … }`). include/uapi/linux/rtnetlink.h */
export const TcaAttr = {
  TCA_UNSPEC: 0,
  /** NUL-terminated kind: "clsact", "bpf", … */
  TCA_KIND: 1,
  /** Kind-specific nest (empty for clsact). */
  TCA_OPTIONS: 2,
  TCA_STATS: 3,
  TCA_XSTATS: 4,
  TCA_RATE: 5,
  TCA_FCNT: 6,
  TCA_STATS2: 7,
  TCA_STAB: 8,
  TCA_PAD: 9,
  TCA_DUMP_INVISIBLE: 10,
  /** u32 filter chain index; every filter dump carries it (0 = the default chain). */
  TCA_CHAIN: 11,
  TCA_HW_OFFLOAD: 12,
  TCA_INGRESS_BLOCK: 13,
  TCA_EGRESS_BLOCK: 14,
  TCA_DUMP_FLAGS: 15,
  TCA_EXT_WARN_MSG: 16,
} as const;

/** Handles and their halves. include/uapi/linux/pkt_sched.h */
export const TcHandle = {
  TC_H_MAJ_MASK: 0xffff_0000,
  TC_H_MIN_MASK: 0x0000_ffff,
  TC_H_UNSPEC: 0,
  TC_H_ROOT: 0xffff_ffff,
  TC_H_INGRESS: 0xffff_fff1,
  /** clsact shares its parent id with ingress: only one of the two can sit on a device. */
  TC_H_CLSACT: 0xffff_fff1,
  /** Minor of clsact's ingress hook. */
  TC_H_MIN_INGRESS: 0xfff2,
  /** Minor of clsact's egress hook. */
  TC_H_MIN_EGRESS: 0xfff3,
} as const;

/** `#define TC_H_MAKE(maj, min) (((maj) & TC_H_MAJ_MASK) | ((min) & TC_H_MIN_MASK))`, as a u32. */
export function TC_H_MAKE(maj: number, min: number): number {
  return ((maj & TcHandle.TC_H_MAJ_MASK) | (min & TcHandle.TC_H_MIN_MASK)) >>> 0;
}

/** `#define TC_H_MAJ(h) ((h) & TC_H_MAJ_MASK)`, as a u32. */
export function TC_H_MAJ(h: number): number {
  return (h & TcHandle.TC_H_MAJ_MASK) >>> 0;
}

/** `#define TC_H_MIN(h) ((h) & TC_H_MIN_MASK)`. */
export function TC_H_MIN(h: number): number {
  return h & TcHandle.TC_H_MIN_MASK;
}

/** `ETH_P_ALL`: every protocol (it travels as __be16 in tcm_info). */
export { ETH_P_ALL } from '../ip/socket_constants.js';

/** bpf classifier attributes (`enum { TCA_BPF_UNSPEC, … }`). include/uapi/linux/pkt_cls.h */
export const TcaBpfAttr = {
  TCA_BPF_UNSPEC: 0,
  /** Nest of actions, one nest per action numbered from 1 (its order). */
  TCA_BPF_ACT: 1,
  TCA_BPF_POLICE: 2,
  TCA_BPF_CLASSID: 3,
  /** u16: number of `struct sock_filter` instructions (classic BPF). */
  TCA_BPF_OPS_LEN: 4,
  /** The instructions, 8 bytes each, host order. */
  TCA_BPF_OPS: 5,
  /** u32 fd of an eBPF program (not used here). */
  TCA_BPF_FD: 6,
  TCA_BPF_NAME: 7,
  /** u32 TCA_BPF_FLAG_*. */
  TCA_BPF_FLAGS: 8,
  /** u32 TCA_CLS_FLAGS_* (the kernel dumps NOT_IN_HW for software filters). */
  TCA_BPF_FLAGS_GEN: 9,
  TCA_BPF_TAG: 10,
  TCA_BPF_ID: 11,
} as const;

/** TCA_BPF_FLAGS bits. include/uapi/linux/pkt_cls.h */
export const TcaBpfFlag = {
  /** The program's return value is the action (eBPF "da"); classic BPF filters leave it off. */
  TCA_BPF_FLAG_ACT_DIRECT: 1 << 0,
} as const;

/** TCA_*_FLAGS_GEN bits. include/uapi/linux/pkt_cls.h */
export const TcaClsFlags = {
  TCA_CLS_FLAGS_SKIP_HW: 1 << 0,
  TCA_CLS_FLAGS_SKIP_SW: 1 << 1,
  TCA_CLS_FLAGS_IN_HW: 1 << 2,
  TCA_CLS_FLAGS_NOT_IN_HW: 1 << 3,
  TCA_CLS_FLAGS_VERBOSE: 1 << 4,
} as const;

/** Attributes of one action (`enum { TCA_ACT_UNSPEC, … }`). include/uapi/linux/pkt_cls.h */
export const TcaActAttr = {
  TCA_ACT_UNSPEC: 0,
  /** NUL-terminated action kind: "mirred", "gact", … */
  TCA_ACT_KIND: 1,
  /** Kind-specific nest. */
  TCA_ACT_OPTIONS: 2,
  TCA_ACT_INDEX: 3,
  TCA_ACT_STATS: 4,
  TCA_ACT_PAD: 5,
  TCA_ACT_COOKIE: 6,
  TCA_ACT_FLAGS: 7,
  TCA_ACT_HW_STATS: 8,
  TCA_ACT_USED_HW_STATS: 9,
  TCA_ACT_IN_HW_COUNT: 10,
} as const;

/** Action verdicts (`tc_gen.action`). include/uapi/linux/pkt_cls.h */
export const TcAct = {
  TC_ACT_UNSPEC: -1,
  TC_ACT_OK: 0,
  TC_ACT_RECLASSIFY: 1,
  TC_ACT_SHOT: 2,
  TC_ACT_PIPE: 3,
  /** The packet was consumed (what "mirred … redirect" uses). */
  TC_ACT_STOLEN: 4,
  TC_ACT_QUEUED: 5,
  TC_ACT_REPEAT: 6,
  TC_ACT_REDIRECT: 7,
  TC_ACT_TRAP: 8,
} as const;

/** mirred attributes. include/uapi/linux/tc_act/tc_mirred.h */
export const TcaMirredAttr = {
  TCA_MIRRED_UNSPEC: 0,
  /** `struct tcf_t` (install, lastuse, expires, firstuse: u64 jiffies each); dumps only. */
  TCA_MIRRED_TM: 1,
  /** `struct tc_mirred`. */
  TCA_MIRRED_PARMS: 2,
  TCA_MIRRED_PAD: 3,
  TCA_MIRRED_BLOCKID: 4,
} as const;

/** `tc_mirred.eaction`. include/uapi/linux/tc_act/tc_mirred.h */
export const MirredEaction = {
  TCA_EGRESS_REDIR: 1,
  TCA_EGRESS_MIRROR: 2,
  /** Redirect to the target device's ingress: the packet is received there. */
  TCA_INGRESS_REDIR: 3,
  TCA_INGRESS_MIRROR: 4,
} as const;

/** `sizeof(struct tcmsg)`. */
export const TCMSG_LEN = 20;
/** `sizeof(struct tc_mirred)`: tc_gen (5 × 32 bits) + eaction + ifindex. */
export const TC_MIRRED_LEN = 28;
/** `sizeof(struct sock_filter)`: u16 code, u8 jt, u8 jf, u32 k. */
export const SOCK_FILTER_LEN = 8;
/** `BPF_MAXINSNS`: the most instructions a classic program may have. include/uapi/linux/bpf_common.h */
export const BPF_MAXINSNS = 4096;
