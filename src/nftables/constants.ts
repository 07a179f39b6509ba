/**
 * nf_tables message and object constants, spelled as in include/uapi/linux/netfilter/nf_tables.h
 * (families, hooks and verdicts from include/uapi/linux/netfilter.h), so they can be grepped
 * against the kernel headers. Expression attributes live in `expr_constants.ts`.
 *
 * ```
 * nlmsghdr.nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*
 * payload            = struct nfgenmsg { u8 nfgen_family (NFPROTO_*); u8 version; be16 res_id }
 *                      then NFTA_* attributes
 * ```
 * Byte order: attribute headers are host order; every NFTA_* integer below is BIG-endian
 * (NLA_BE32 / NLA_BE64 / NLA_BE16 in the kernel's policies) unless its comment says otherwise.
 * @module
 */
import { Nfnetlink } from '../netlink/constants.js';
import { NFPROTO as NETFILTER_NFPROTO, NF_INET_HOOKS } from '../netlink/netfilter.js';

/** nfnetlink subsystem of nf_tables. include/uapi/linux/netfilter/nfnetlink.h */
export const NFNL_SUBSYS_NFTABLES = Nfnetlink.NFNL_SUBSYS_NFTABLES;

/** `enum nfnl_batch_attributes`: the optional attribute of NFNL_MSG_BATCH_BEGIN. */
export const NFNL_BATCH = {
  NFNL_BATCH_UNSPEC: 0,
  /** be32 ruleset generation the batch was built against: ERESTART when it moved on. */
  NFNL_BATCH_GENID: 1,
} as const;

/** `NFT_NAME_MAXLEN`: table, chain, set and object names, NUL included. */
export const NFT_NAME_MAXLEN = 256;
/** `NFT_USERDATA_MAXLEN`: NFTA_*_USERDATA payload limit. */
export const NFT_USERDATA_MAXLEN = 256;

/** `enum nf_tables_msg_types`. */
export const NFT_MSG = {
  NFT_MSG_NEWTABLE: 0,
  NFT_MSG_GETTABLE: 1,
  NFT_MSG_DELTABLE: 2,
  NFT_MSG_NEWCHAIN: 3,
  NFT_MSG_GETCHAIN: 4,
  NFT_MSG_DELCHAIN: 5,
  NFT_MSG_NEWRULE: 6,
  NFT_MSG_GETRULE: 7,
  NFT_MSG_DELRULE: 8,
  NFT_MSG_NEWSET: 9,
  NFT_MSG_GETSET: 10,
  NFT_MSG_DELSET: 11,
  NFT_MSG_NEWSETELEM: 12,
  NFT_MSG_GETSETELEM: 13,
  NFT_MSG_DELSETELEM: 14,
  NFT_MSG_NEWGEN: 15,
  NFT_MSG_GETGEN: 16,
  NFT_MSG_TRACE: 17,
  NFT_MSG_NEWOBJ: 18,
  NFT_MSG_GETOBJ: 19,
  NFT_MSG_DELOBJ: 20,
  NFT_MSG_GETOBJ_RESET: 21,
  NFT_MSG_NEWFLOWTABLE: 22,
  NFT_MSG_GETFLOWTABLE: 23,
  NFT_MSG_DELFLOWTABLE: 24,
  NFT_MSG_GETRULE_RESET: 25,
  NFT_MSG_DESTROYTABLE: 26,
  NFT_MSG_DESTROYCHAIN: 27,
  NFT_MSG_DESTROYRULE: 28,
  NFT_MSG_DESTROYSET: 29,
  NFT_MSG_DESTROYSETELEM: 30,
  NFT_MSG_DESTROYOBJ: 31,
  NFT_MSG_DESTROYFLOWTABLE: 32,
  NFT_MSG_GETSETELEM_RESET: 33,
} as const;

const MSG_NAMES = new Map<number, string>(Object.entries(NFT_MSG).map(([k, v]) => [v, k]));

/** uapi name of an nf_tables message number ("NFT_MSG_NEWRULE"), "NFT_MSG_<n>" when unknown. */
export function nftMsgName(msg: number): string {
  return MSG_NAMES.get(msg) ?? `NFT_MSG_${msg}`;
}

/** `enum nft_list_attributes`. */
export const NFTA_LIST = {
  NFTA_LIST_UNSPEC: 0,
  /** One element of a list (NLA_NESTED). */
  NFTA_LIST_ELEM: 1,
} as const;

/** `enum nft_hook_attributes` (inside NFTA_CHAIN_HOOK). */
export const NFTA_HOOK = {
  NFTA_HOOK_UNSPEC: 0,
  /** be32 NF_INET_* hook. */
  NFTA_HOOK_HOOKNUM: 1,
  /** be32 priority, a signed value (-150 = 0xffffff6a). */
  NFTA_HOOK_PRIORITY: 2,
  /** string: device of a netdev/ingress chain. */
  NFTA_HOOK_DEV: 3,
  /** nested NFTA_DEVICE_NAME list. */
  NFTA_HOOK_DEVS: 4,
} as const;

/** `enum nft_table_flags`. */
export const NFT_TABLE_F = {
  NFT_TABLE_F_DORMANT: 0x1,
  /** The table belongs to the netlink socket that created it (5.12). */
  NFT_TABLE_F_OWNER: 0x2,
  /** With OWNER: the table outlives its owner, which others may then adopt (6.9). */
  NFT_TABLE_F_PERSIST: 0x4,
} as const;

/** `enum nft_table_attributes`. */
export const NFTA_TABLE = {
  NFTA_TABLE_UNSPEC: 0,
  /** string */
  NFTA_TABLE_NAME: 1,
  /** be32 NFT_TABLE_F_* */
  NFTA_TABLE_FLAGS: 2,
  /** be32 number of chains (dumps only) */
  NFTA_TABLE_USE: 3,
  /** be64 handle (dumps only) */
  NFTA_TABLE_HANDLE: 4,
  NFTA_TABLE_PAD: 5,
  /** binary, libnftnl TLVs (comment) */
  NFTA_TABLE_USERDATA: 6,
  /** be32 netlink port id of the owner (dumps only) */
  NFTA_TABLE_OWNER: 7,
} as const;

/** `enum nft_chain_flags`. */
export const NFT_CHAIN = {
  NFT_CHAIN_BASE: 1 << 0,
  NFT_CHAIN_HW_OFFLOAD: 1 << 1,
  NFT_CHAIN_BINDING: 1 << 2,
} as const;

/** `enum nft_chain_attributes`. */
export const NFTA_CHAIN = {
  NFTA_CHAIN_UNSPEC: 0,
  /** string */
  NFTA_CHAIN_TABLE: 1,
  /** be64 */
  NFTA_CHAIN_HANDLE: 2,
  /** string */
  NFTA_CHAIN_NAME: 3,
  /** nested NFTA_HOOK_*: makes a base chain */
  NFTA_CHAIN_HOOK: 4,
  /** be32 NF_ACCEPT / NF_DROP (base chains) */
  NFTA_CHAIN_POLICY: 5,
  /** be32 references (dumps only) */
  NFTA_CHAIN_USE: 6,
  /** NUL string: "filter", "route" or "nat" */
  NFTA_CHAIN_TYPE: 7,
  /** nested NFTA_COUNTER_* */
  NFTA_CHAIN_COUNTERS: 8,
  NFTA_CHAIN_PAD: 9,
  /** be32 NFT_CHAIN_* */
  NFTA_CHAIN_FLAGS: 10,
  /** be32 transaction id */
  NFTA_CHAIN_ID: 11,
  /** binary */
  NFTA_CHAIN_USERDATA: 12,
} as const;

/** `enum nft_rule_attributes`. */
export const NFTA_RULE = {
  NFTA_RULE_UNSPEC: 0,
  /** string */
  NFTA_RULE_TABLE: 1,
  /** string */
  NFTA_RULE_CHAIN: 2,
  /** be64, per table */
  NFTA_RULE_HANDLE: 3,
  /** nested NFTA_LIST_ELEM list of expressions */
  NFTA_RULE_EXPRESSIONS: 4,
  /** nested NFTA_RULE_COMPAT_* */
  NFTA_RULE_COMPAT: 5,
  /** be64 handle of the rule to add after (NLM_F_APPEND) or before */
  NFTA_RULE_POSITION: 6,
  /** binary, at most NFT_USERDATA_MAXLEN bytes, libnftnl TLVs */
  NFTA_RULE_USERDATA: 7,
  NFTA_RULE_PAD: 8,
  /** be32 transaction id */
  NFTA_RULE_ID: 9,
  /** be32 transaction id of the rule to add after */
  NFTA_RULE_POSITION_ID: 10,
  /** be32 transaction id of the chain */
  NFTA_RULE_CHAIN_ID: 11,
} as const;

/** `enum nft_rule_compat_flags`. */
export const NFT_RULE_COMPAT_F = {
  NFT_RULE_COMPAT_F_UNUSED: 1 << 0,
  NFT_RULE_COMPAT_F_INV: 1 << 1,
} as const;

/** `enum nft_rule_compat_attributes` (inside NFTA_RULE_COMPAT; both mandatory there). */
export const NFTA_RULE_COMPAT = {
  NFTA_RULE_COMPAT_UNSPEC: 0,
  /** be32 layer 4 protocol the xtables extension may rely on */
  NFTA_RULE_COMPAT_PROTO: 1,
  /** be32 NFT_RULE_COMPAT_F_* */
  NFTA_RULE_COMPAT_FLAGS: 2,
} as const;

/** `enum nft_set_flags`. */
export const NFT_SET = {
  NFT_SET_ANONYMOUS: 0x1,
  NFT_SET_CONSTANT: 0x2,
  NFT_SET_INTERVAL: 0x4,
  NFT_SET_MAP: 0x8,
  NFT_SET_TIMEOUT: 0x10,
  NFT_SET_EVAL: 0x20,
  NFT_SET_OBJECT: 0x40,
  NFT_SET_CONCAT: 0x80,
  NFT_SET_EXPR: 0x100,
} as const;

/** `enum nft_set_policies`. */
export const NFT_SET_POL = {
  NFT_SET_POL_PERFORMANCE: 0,
  NFT_SET_POL_MEMORY: 1,
} as const;

/** `enum nft_set_desc_attributes` (inside NFTA_SET_DESC). */
export const NFTA_SET_DESC = {
  NFTA_SET_DESC_UNSPEC: 0,
  /** be32 expected number of elements */
  NFTA_SET_DESC_SIZE: 1,
  /** nested NFTA_LIST_ELEM { NFTA_SET_FIELD_LEN } */
  NFTA_SET_DESC_CONCAT: 2,
} as const;

/** `enum nft_set_field_attributes`. */
export const NFTA_SET_FIELD = {
  NFTA_SET_FIELD_UNSPEC: 0,
  /** be32 */
  NFTA_SET_FIELD_LEN: 1,
} as const;

/** `enum nft_set_attributes`. */
export const NFTA_SET = {
  NFTA_SET_UNSPEC: 0,
  NFTA_SET_TABLE: 1,
  NFTA_SET_NAME: 2,
  /** be32 NFT_SET_* */
  NFTA_SET_FLAGS: 3,
  /** be32, informational (nft's datatype number) */
  NFTA_SET_KEY_TYPE: 4,
  /** be32 bytes */
  NFTA_SET_KEY_LEN: 5,
  /** be32; NFT_DATA_VERDICT for verdict maps */
  NFTA_SET_DATA_TYPE: 6,
  /** be32 bytes */
  NFTA_SET_DATA_LEN: 7,
  /** be32 NFT_SET_POL_* */
  NFTA_SET_POLICY: 8,
  /** nested NFTA_SET_DESC_* */
  NFTA_SET_DESC: 9,
  /** be32 transaction id */
  NFTA_SET_ID: 10,
  /** be64 milliseconds */
  NFTA_SET_TIMEOUT: 11,
  /** be32 milliseconds */
  NFTA_SET_GC_INTERVAL: 12,
  NFTA_SET_USERDATA: 13,
  NFTA_SET_PAD: 14,
  /** be32 NFT_OBJECT_* */
  NFTA_SET_OBJ_TYPE: 15,
  /** be64 (dumps only) */
  NFTA_SET_HANDLE: 16,
  NFTA_SET_EXPR: 17,
  NFTA_SET_EXPRESSIONS: 18,
  /** string: backend (dumps only, 6.x) */
  NFTA_SET_TYPE: 19,
  /** be32 element count (dumps only, 6.x) */
  NFTA_SET_COUNT: 20,
} as const;

/** `enum nft_set_elem_flags`. */
export const NFT_SET_ELEM = {
  NFT_SET_ELEM_INTERVAL_END: 0x1,
  NFT_SET_ELEM_CATCHALL: 0x2,
} as const;

/** `enum nft_set_elem_attributes`. */
export const NFTA_SET_ELEM = {
  NFTA_SET_ELEM_UNSPEC: 0,
  /** nested NFTA_DATA_* */
  NFTA_SET_ELEM_KEY: 1,
  /** nested NFTA_DATA_* (maps) */
  NFTA_SET_ELEM_DATA: 2,
  /** be32 NFT_SET_ELEM_* */
  NFTA_SET_ELEM_FLAGS: 3,
  /** be64 milliseconds */
  NFTA_SET_ELEM_TIMEOUT: 4,
  /** be64 milliseconds */
  NFTA_SET_ELEM_EXPIRATION: 5,
  NFTA_SET_ELEM_USERDATA: 6,
  NFTA_SET_ELEM_EXPR: 7,
  NFTA_SET_ELEM_PAD: 8,
  NFTA_SET_ELEM_OBJREF: 9,
  /** nested NFTA_DATA_*: closing key of an interval */
  NFTA_SET_ELEM_KEY_END: 10,
  NFTA_SET_ELEM_EXPRESSIONS: 11,
} as const;

/** `enum nft_set_elem_list_attributes`. */
export const NFTA_SET_ELEM_LIST = {
  NFTA_SET_ELEM_LIST_UNSPEC: 0,
  NFTA_SET_ELEM_LIST_TABLE: 1,
  NFTA_SET_ELEM_LIST_SET: 2,
  /** nested NFTA_LIST_ELEM { NFTA_SET_ELEM_* } */
  NFTA_SET_ELEM_LIST_ELEMENTS: 3,
  /** be32 transaction id of the set */
  NFTA_SET_ELEM_LIST_SET_ID: 4,
} as const;

/** `enum nft_data_types`: NFTA_SET_DATA_TYPE of a verdict map. */
export const NFT_DATA = {
  NFT_DATA_VALUE: 0,
  NFT_DATA_VERDICT: 0xffffff00,
} as const;

/** `NFT_DATA_VALUE_MAXLEN`: longest NFTA_DATA_VALUE. */
export const NFT_DATA_VALUE_MAXLEN = 64;

/** `enum nft_data_attributes`. */
export const NFTA_DATA = {
  NFTA_DATA_UNSPEC: 0,
  /** binary: the bytes as the register holds them */
  NFTA_DATA_VALUE: 1,
  /** nested NFTA_VERDICT_* */
  NFTA_DATA_VERDICT: 2,
} as const;

/** `enum nft_verdict_attributes`. */
export const NFTA_VERDICT = {
  NFTA_VERDICT_UNSPEC: 0,
  /** be32, a signed verdict (NFT_JUMP = -3 = 0xfffffffd) */
  NFTA_VERDICT_CODE: 1,
  /** string: target of jump / goto */
  NFTA_VERDICT_CHAIN: 2,
  /** be32 transaction id of the target chain */
  NFTA_VERDICT_CHAIN_ID: 3,
} as const;

/** `enum nft_gen_attributes` (NFT_MSG_NEWGEN). */
export const NFTA_GEN = {
  NFTA_GEN_UNSPEC: 0,
  /** be32 ruleset generation */
  NFTA_GEN_ID: 1,
  /** be32 pid of the last committer */
  NFTA_GEN_PROC_PID: 2,
  /** string: its comm */
  NFTA_GEN_PROC_NAME: 3,
} as const;

/**
 * Netfilter verdicts (include/uapi/linux/netfilter.h) and nf_tables' own (`enum nft_verdicts`),
 * which share one signed number space.
 */
export const NFT_VERDICT = {
  NF_DROP: 0,
  NF_ACCEPT: 1,
  NF_STOLEN: 2,
  NF_QUEUE: 3,
  NF_REPEAT: 4,
  NF_STOP: 5,
  NFT_CONTINUE: -1,
  NFT_BREAK: -2,
  NFT_JUMP: -3,
  NFT_GOTO: -4,
  NFT_RETURN: -5,
} as const;

/** `enum nfproto`: the `nfgen_family` of nf_tables messages (shared with src/netlink/netfilter.ts). */
export const NFPROTO = NETFILTER_NFPROTO;

/** `enum nf_inet_hooks`, with the ingress hook base chains of netdev/inet tables may use. */
export const NF_INET = {
  ...NF_INET_HOOKS,
  /** NF_INET_NUMHOOKS: the netdev/inet ingress hook. */
  NF_INET_INGRESS: 5,
} as const;

/** Base chain priorities of the iptables tables (`enum nf_ip_hook_priorities`). include/uapi/linux/netfilter_ipv4.h */
export const NF_IP_PRI = {
  NF_IP_PRI_CONNTRACK_DEFRAG: -400,
  NF_IP_PRI_RAW: -300,
  NF_IP_PRI_CONNTRACK: -200,
  NF_IP_PRI_MANGLE: -150,
  NF_IP_PRI_NAT_DST: -100,
  NF_IP_PRI_FILTER: 0,
  NF_IP_PRI_SECURITY: 50,
  NF_IP_PRI_NAT_SRC: 100,
} as const;

const FAMILY_NAMES = new Map<number, string>([[1, 'inet'], [2, 'ip'], [3, 'arp'], [5, 'netdev'], [7, 'bridge'], [10, 'ip6']]);

/** nft's name of an NFPROTO_* family ("inet", "ip", "ip6"…), "unknown" otherwise (as libnftnl). */
export function familyName(family: number): string {
  return FAMILY_NAMES.get(family) ?? 'unknown';
}
