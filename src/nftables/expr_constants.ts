/**
 * nf_tables expression constants, spelled as in include/uapi/linux/netfilter/nf_tables.h and
 * include/uapi/linux/netfilter/nf_tables_compat.h (log flags: include/uapi/linux/netfilter/nf_log.h).
 *
 * ```
 * NFTA_LIST_ELEM {                 one expression of NFTA_RULE_EXPRESSIONS
 *   NFTA_EXPR_NAME  "cmp\0"        NUL string
 *   NFTA_EXPR_DATA  { NFTA_CMP_SREG be32 | NFTA_CMP_OP be32 | NFTA_CMP_DATA { NFTA_DATA_VALUE raw } }
 * }
 * ```
 * Byte order: registers, keys, offsets and lengths are be32 (NLA_BE32); NFTA_LOG_GROUP,
 * NFTA_LOG_QTHRESHOLD and the NFTA_QUEUE_* numbers are be16; NFTA_EXTHDR_TYPE and
 * NFTA_CT_DIRECTION are u8; counters are be64. NFTA_DATA_VALUE holds raw register bytes.
 * @module
 */

/** `enum nft_expr_attributes`. */
export const NFTA_EXPR = {
  NFTA_EXPR_UNSPEC: 0,
  /** NUL string: "meta", "cmp", "target"… */
  NFTA_EXPR_NAME: 1,
  /** nested, the expression's own attributes */
  NFTA_EXPR_DATA: 2,
} as const;

/**
 * `enum nft_registers`. NFT_REG_1..4 are the old 16-byte registers (aliases of NFT_REG32_00,
 * 04, 08, 12); NFT_REG32_00..15 the 4-byte ones.
 */
export const NFT_REG = {
  NFT_REG_VERDICT: 0,
  NFT_REG_1: 1,
  NFT_REG_2: 2,
  NFT_REG_3: 3,
  NFT_REG_4: 4,
  NFT_REG32_00: 8,
  NFT_REG32_01: 9,
  NFT_REG32_02: 10,
  NFT_REG32_03: 11,
  NFT_REG32_04: 12,
  NFT_REG32_05: 13,
  NFT_REG32_06: 14,
  NFT_REG32_07: 15,
  NFT_REG32_08: 16,
  NFT_REG32_09: 17,
  NFT_REG32_10: 18,
  NFT_REG32_11: 19,
  NFT_REG32_12: 20,
  NFT_REG32_13: 21,
  NFT_REG32_14: 22,
  NFT_REG32_15: 23,
} as const;

/** `enum nft_immediate_attributes`. */
export const NFTA_IMMEDIATE = { NFTA_IMMEDIATE_UNSPEC: 0, NFTA_IMMEDIATE_DREG: 1, NFTA_IMMEDIATE_DATA: 2 } as const;

/** `enum nft_bitwise_ops`. */
export const NFT_BITWISE = {
  NFT_BITWISE_MASK_XOR: 0,
  NFT_BITWISE_LSHIFT: 1,
  NFT_BITWISE_RSHIFT: 2,
  NFT_BITWISE_AND: 3,
  NFT_BITWISE_OR: 4,
  NFT_BITWISE_XOR: 5,
} as const;

/** `enum nft_bitwise_attributes`. */
export const NFTA_BITWISE = {
  NFTA_BITWISE_UNSPEC: 0,
  NFTA_BITWISE_SREG: 1,
  NFTA_BITWISE_DREG: 2,
  NFTA_BITWISE_LEN: 3,
  /** nested NFTA_DATA_* */
  NFTA_BITWISE_MASK: 4,
  /** nested NFTA_DATA_* */
  NFTA_BITWISE_XOR: 5,
  /** be32 NFT_BITWISE_* */
  NFTA_BITWISE_OP: 6,
  /** nested NFTA_DATA_*: the shift amount (be32 value in host-order register bytes) */
  NFTA_BITWISE_DATA: 7,
  NFTA_BITWISE_SREG2: 8,
} as const;

/** `enum nft_cmp_ops`. */
export const NFT_CMP = { NFT_CMP_EQ: 0, NFT_CMP_NEQ: 1, NFT_CMP_LT: 2, NFT_CMP_LTE: 3, NFT_CMP_GT: 4, NFT_CMP_GTE: 5 } as const;

/** `enum nft_cmp_attributes`. */
export const NFTA_CMP = { NFTA_CMP_UNSPEC: 0, NFTA_CMP_SREG: 1, NFTA_CMP_OP: 2, NFTA_CMP_DATA: 3 } as const;

/** `enum nft_range_ops`. */
export const NFT_RANGE = { NFT_RANGE_EQ: 0, NFT_RANGE_NEQ: 1 } as const;

/** `enum nft_range_attributes`. */
export const NFTA_RANGE = { NFTA_RANGE_UNSPEC: 0, NFTA_RANGE_SREG: 1, NFTA_RANGE_OP: 2, NFTA_RANGE_FROM_DATA: 3, NFTA_RANGE_TO_DATA: 4 } as const;

/** `enum nft_lookup_flags`. */
export const NFT_LOOKUP_F = { NFT_LOOKUP_F_INV: 1 << 0 } as const;

/** `enum nft_lookup_attributes`. */
export const NFTA_LOOKUP = {
  NFTA_LOOKUP_UNSPEC: 0,
  /** string */
  NFTA_LOOKUP_SET: 1,
  NFTA_LOOKUP_SREG: 2,
  /** maps only */
  NFTA_LOOKUP_DREG: 3,
  /** be32 transaction id of a set added in the same batch */
  NFTA_LOOKUP_SET_ID: 4,
  /** be32 NFT_LOOKUP_F_* */
  NFTA_LOOKUP_FLAGS: 5,
} as const;

/** `enum nft_payload_bases`. */
export const NFT_PAYLOAD = {
  NFT_PAYLOAD_LL_HEADER: 0,
  NFT_PAYLOAD_NETWORK_HEADER: 1,
  NFT_PAYLOAD_TRANSPORT_HEADER: 2,
  NFT_PAYLOAD_INNER_HEADER: 3,
  NFT_PAYLOAD_TUN_HEADER: 4,
} as const;

/** `enum nft_payload_csum_types`. */
export const NFT_PAYLOAD_CSUM = { NFT_PAYLOAD_CSUM_NONE: 0, NFT_PAYLOAD_CSUM_INET: 1, NFT_PAYLOAD_CSUM_SCTP: 2 } as const;

/** `enum nft_payload_csum_flags`. */
export const NFT_PAYLOAD_L4CSUM = { NFT_PAYLOAD_L4CSUM_PSEUDOHDR: 1 << 0 } as const;

/** `enum nft_payload_attributes`. */
export const NFTA_PAYLOAD = {
  NFTA_PAYLOAD_UNSPEC: 0,
  NFTA_PAYLOAD_DREG: 1,
  NFTA_PAYLOAD_BASE: 2,
  NFTA_PAYLOAD_OFFSET: 3,
  NFTA_PAYLOAD_LEN: 4,
  NFTA_PAYLOAD_SREG: 5,
  NFTA_PAYLOAD_CSUM_TYPE: 6,
  NFTA_PAYLOAD_CSUM_OFFSET: 7,
  NFTA_PAYLOAD_CSUM_FLAGS: 8,
} as const;

/** `enum nft_exthdr_flags`. */
export const NFT_EXTHDR_F = { NFT_EXTHDR_F_PRESENT: 1 << 0 } as const;

/** `enum nft_exthdr_op`. */
export const NFT_EXTHDR_OP = { NFT_EXTHDR_OP_IPV6: 0, NFT_EXTHDR_OP_TCPOPT: 1, NFT_EXTHDR_OP_IPV4: 2, NFT_EXTHDR_OP_SCTP: 3, NFT_EXTHDR_OP_DCCP: 4 } as const;

/** `enum nft_exthdr_attributes`. */
export const NFTA_EXTHDR = {
  NFTA_EXTHDR_UNSPEC: 0,
  NFTA_EXTHDR_DREG: 1,
  /** u8: extension header type / TCP or IPv4 option kind */
  NFTA_EXTHDR_TYPE: 2,
  NFTA_EXTHDR_OFFSET: 3,
  NFTA_EXTHDR_LEN: 4,
  /** be32 NFT_EXTHDR_F_* */
  NFTA_EXTHDR_FLAGS: 5,
  /** be32 NFT_EXTHDR_OP_* */
  NFTA_EXTHDR_OP: 6,
  NFTA_EXTHDR_SREG: 7,
} as const;

/** `enum nft_meta_keys`. */
export const NFT_META = {
  NFT_META_LEN: 0,
  NFT_META_PROTOCOL: 1,
  NFT_META_PRIORITY: 2,
  NFT_META_MARK: 3,
  NFT_META_IIF: 4,
  NFT_META_OIF: 5,
  NFT_META_IIFNAME: 6,
  NFT_META_OIFNAME: 7,
  NFT_META_IFTYPE: 8,
  /** `#define NFT_META_IIFTYPE NFT_META_IFTYPE` */
  NFT_META_IIFTYPE: 8,
  NFT_META_OIFTYPE: 9,
  NFT_META_SKUID: 10,
  NFT_META_SKGID: 11,
  NFT_META_NFTRACE: 12,
  NFT_META_RTCLASSID: 13,
  NFT_META_SECMARK: 14,
  NFT_META_NFPROTO: 15,
  NFT_META_L4PROTO: 16,
  NFT_META_BRI_IIFNAME: 17,
  NFT_META_BRI_OIFNAME: 18,
  NFT_META_PKTTYPE: 19,
  NFT_META_CPU: 20,
  NFT_META_IIFGROUP: 21,
  NFT_META_OIFGROUP: 22,
  NFT_META_CGROUP: 23,
  NFT_META_PRANDOM: 24,
  NFT_META_SECPATH: 25,
  NFT_META_IIFKIND: 26,
  NFT_META_OIFKIND: 27,
  NFT_META_BRI_IIFPVID: 28,
  NFT_META_BRI_IIFVPROTO: 29,
  NFT_META_TIME_NS: 30,
  NFT_META_TIME_DAY: 31,
  NFT_META_TIME_HOUR: 32,
  NFT_META_SDIF: 33,
  NFT_META_SDIFNAME: 34,
  NFT_META_BRI_BROUTE: 35,
} as const;

/** `enum nft_meta_attributes`. */
export const NFTA_META = { NFTA_META_UNSPEC: 0, NFTA_META_DREG: 1, NFTA_META_KEY: 2, NFTA_META_SREG: 3 } as const;

/** `enum nft_ct_keys`. */
export const NFT_CT = {
  NFT_CT_STATE: 0,
  NFT_CT_DIRECTION: 1,
  NFT_CT_STATUS: 2,
  NFT_CT_MARK: 3,
  NFT_CT_SECMARK: 4,
  NFT_CT_EXPIRATION: 5,
  NFT_CT_HELPER: 6,
  NFT_CT_L3PROTOCOL: 7,
  NFT_CT_SRC: 8,
  NFT_CT_DST: 9,
  NFT_CT_PROTOCOL: 10,
  NFT_CT_PROTO_SRC: 11,
  NFT_CT_PROTO_DST: 12,
  NFT_CT_LABELS: 13,
  NFT_CT_PKTS: 14,
  NFT_CT_BYTES: 15,
  NFT_CT_AVGPKT: 16,
  NFT_CT_ZONE: 17,
  NFT_CT_EVENTMASK: 18,
  NFT_CT_SRC_IP: 19,
  NFT_CT_DST_IP: 20,
  NFT_CT_SRC_IP6: 21,
  NFT_CT_DST_IP6: 22,
  NFT_CT_ID: 23,
} as const;

/** `enum nft_ct_attributes`. */
export const NFTA_CT = {
  NFTA_CT_UNSPEC: 0,
  NFTA_CT_DREG: 1,
  NFTA_CT_KEY: 2,
  /** u8 IP_CT_DIR_* */
  NFTA_CT_DIRECTION: 3,
  NFTA_CT_SREG: 4,
} as const;

/** `enum ip_conntrack_dir`. include/uapi/linux/netfilter/nf_conntrack_tuple_common.h */
export const IP_CT_DIR = { IP_CT_DIR_ORIGINAL: 0, IP_CT_DIR_REPLY: 1 } as const;

/**
 * `ct state` bits as the register holds them: NF_CT_STATE_INVALID_BIT, NF_CT_STATE_UNTRACKED_BIT
 * and `NF_CT_STATE_BIT(ctinfo) = 1 << (ctinfo % IP_CT_IS_REPLY + 1)` for the others
 * (include/uapi/linux/netfilter/nf_conntrack_common.h); keys are nft's names.
 */
export const CT_STATE = { invalid: 1 << 0, established: 1 << 1, related: 1 << 2, new: 1 << 3, untracked: 1 << 6 } as const;

/** `enum nft_counter_attributes`. */
export const NFTA_COUNTER = { NFTA_COUNTER_UNSPEC: 0, NFTA_COUNTER_BYTES: 1, NFTA_COUNTER_PACKETS: 2, NFTA_COUNTER_PAD: 3 } as const;

/** `enum nft_log_attributes`. */
export const NFTA_LOG = {
  NFTA_LOG_UNSPEC: 0,
  /** be16 nflog group */
  NFTA_LOG_GROUP: 1,
  /** NUL string, at most 127 characters */
  NFTA_LOG_PREFIX: 2,
  NFTA_LOG_SNAPLEN: 3,
  /** be16 */
  NFTA_LOG_QTHRESHOLD: 4,
  /** be32 NFT_LOGLEVEL_* */
  NFTA_LOG_LEVEL: 5,
  /** be32 NF_LOG_* */
  NFTA_LOG_FLAGS: 6,
} as const;

/** `enum nft_log_level`. */
export const NFT_LOGLEVEL = {
  NFT_LOGLEVEL_EMERG: 0,
  NFT_LOGLEVEL_ALERT: 1,
  NFT_LOGLEVEL_CRIT: 2,
  NFT_LOGLEVEL_ERR: 3,
  NFT_LOGLEVEL_WARNING: 4,
  NFT_LOGLEVEL_NOTICE: 5,
  NFT_LOGLEVEL_INFO: 6,
  NFT_LOGLEVEL_DEBUG: 7,
  NFT_LOGLEVEL_AUDIT: 8,
} as const;

/** Log flags. include/uapi/linux/netfilter/nf_log.h */
export const NF_LOG = {
  NF_LOG_TCPSEQ: 0x01,
  NF_LOG_TCPOPT: 0x02,
  NF_LOG_IPOPT: 0x04,
  NF_LOG_UID: 0x08,
  NF_LOG_NFLOG: 0x10,
  NF_LOG_MACDECODE: 0x20,
  NF_LOG_MASK: 0x2f,
} as const;

/** `enum nft_queue_attributes`. */
export const NFTA_QUEUE = {
  NFTA_QUEUE_UNSPEC: 0,
  /** be16 first queue */
  NFTA_QUEUE_NUM: 1,
  /** be16 number of queues to spread over */
  NFTA_QUEUE_TOTAL: 2,
  /** be16 NFT_QUEUE_FLAG_* */
  NFTA_QUEUE_FLAGS: 3,
  /** be32 register holding the queue number */
  NFTA_QUEUE_SREG_QNUM: 4,
} as const;

/** `NFT_QUEUE_FLAG_*` (same values as xt_NFQUEUE's NFQ_FLAG_*). */
export const NFT_QUEUE_FLAG = { NFT_QUEUE_FLAG_BYPASS: 0x01, NFT_QUEUE_FLAG_CPU_FANOUT: 0x02, NFT_QUEUE_FLAG_MASK: 0x03 } as const;

/** `enum nft_ng_attributes`. */
export const NFTA_NG = { NFTA_NG_UNSPEC: 0, NFTA_NG_DREG: 1, NFTA_NG_MODULUS: 2, NFTA_NG_TYPE: 3, NFTA_NG_OFFSET: 4, NFTA_NG_SET_NAME: 5, NFTA_NG_SET_ID: 6 } as const;

/** `enum nft_ng_types`. */
export const NFT_NG = { NFT_NG_INCREMENTAL: 0, NFT_NG_RANDOM: 1 } as const;

/** `enum nft_target_attributes`. include/uapi/linux/netfilter/nf_tables_compat.h */
export const NFTA_TARGET = {
  NFTA_TARGET_UNSPEC: 0,
  /** NUL string, the xtables target ("NFQUEUE") */
  NFTA_TARGET_NAME: 1,
  /** be32 revision */
  NFTA_TARGET_REV: 2,
  /** binary: the target's struct in HOST byte order (XT_ALIGN-padded in dumps) */
  NFTA_TARGET_INFO: 3,
} as const;

/** `enum nft_match_attributes`. include/uapi/linux/netfilter/nf_tables_compat.h */
export const NFTA_MATCH = { NFTA_MATCH_UNSPEC: 0, NFTA_MATCH_NAME: 1, NFTA_MATCH_REV: 2, NFTA_MATCH_INFO: 3 } as const;

/** `NFT_COMPAT_NAME_MAX`: longest xtables extension name, NUL included. */
export const NFT_COMPAT_NAME_MAX = 32;

/** xt_NFQUEUE's `struct xt_NFQ_info_v3` flags. include/uapi/linux/netfilter/xt_NFQUEUE.h */
export const NFQ_FLAG = { NFQ_FLAG_BYPASS: 0x01, NFQ_FLAG_CPU_FANOUT: 0x02, NFQ_FLAG_MASK: 0x03 } as const;
