/**
 * nf_tables expressions as typed values: a discriminated union on `type` (the NFTA_EXPR_NAME),
 * after google/nftables' `expr` package. Encoders (`expr_encode.ts`) write exactly the fields
 * present, in libnftnl's order; decoders (`expr_decode.ts`) give back the same shapes with
 * exactly the attributes the kernel sent, so `decode(encode(e))` deep-equals `e` and a rule
 * dumped from the kernel compares equal to the value it was built from when that value spells
 * out what the kernel reports (see each type's "dumps" note).
 *
 * Numbers: registers are NFT_REG_* / NFT_REG32_*; keys, ops and bases are the uapi numbers of
 * `expr_constants.ts`. Register data (`Uint8Array`) is raw: the bytes as the register holds
 * them (network order for packet fields, host order for `meta mark`): see `data.ts`.
 * @module
 */

/** A verdict: NFT_VERDICT code, and the target chain of NFT_JUMP / NFT_GOTO. */
export interface Verdict {
  /** NF_ACCEPT, NF_DROP, NFT_CONTINUE, NFT_RETURN, NFT_JUMP, NFT_GOTO… (signed). */
  code: number;
  /** NFTA_VERDICT_CHAIN: target of a jump or goto. */
  chain?: string;
  /** NFTA_VERDICT_CHAIN_ID: target chain added in the same batch, by transaction id. */
  chainId?: number;
}

/** NFTA_DATA_*: raw register bytes, or a verdict. */
export type NftData =
  | {
      /** NFTA_DATA_VALUE: the bytes as the register holds them. */
      value: Uint8Array;
    }
  | {
      /** NFTA_DATA_VERDICT: a verdict, loaded into NFT_REG_VERDICT. */
      verdict: Verdict;
    };

/** `meta`: load a key into `dreg`, or set it from `sreg` (exactly one of the two). */
export interface MetaExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'meta';
  /** NFT_META_* */
  key: number;
  /** NFTA_META_DREG: register the key is loaded into. */
  dreg?: number;
  /** NFTA_META_SREG: register the key is set from. */
  sreg?: number;
}

/**
 * `payload`: load `len` bytes at `base` + `offset` into `dreg`, or write them from `sreg`
 * (then the checksum fields say which checksum to fix: NFT_PAYLOAD_CSUM_*, its offset from
 * `base`, NFT_PAYLOAD_L4CSUM_PSEUDOHDR). Dumps of a write carry all three checksum fields.
 */
export interface PayloadExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'payload';
  /** NFT_PAYLOAD_* header base */
  base: number;
  /** NFTA_PAYLOAD_OFFSET: bytes from the start of `base`. */
  offset: number;
  /** NFTA_PAYLOAD_LEN: number of bytes loaded or written. */
  len: number;
  /** NFTA_PAYLOAD_DREG: register the bytes are loaded into. */
  dreg?: number;
  /** NFTA_PAYLOAD_SREG: register the bytes are written from. */
  sreg?: number;
  /** NFTA_PAYLOAD_CSUM_TYPE: NFT_PAYLOAD_CSUM_NONE / _INET / _SCTP, the checksum a write fixes. */
  csumType?: number;
  /** NFTA_PAYLOAD_CSUM_OFFSET: where that checksum is, in bytes from the start of `base`. */
  csumOffset?: number;
  /** NFTA_PAYLOAD_CSUM_FLAGS: NFT_PAYLOAD_L4CSUM_PSEUDOHDR to fix the layer 4 checksum too. */
  csumFlags?: number;
}

/**
 * `exthdr`: an IPv6 extension header, TCP option or IPv4 option field (`op`), loaded into
 * `dreg` or written from `sreg`. With NFT_EXTHDR_F_PRESENT the register gets 1 when the header
 * exists. Dumps carry `op` and `flags` always.
 */
export interface ExthdrExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'exthdr';
  /** NFT_EXTHDR_OP_* */
  op?: number;
  /** NFTA_EXTHDR_TYPE (u8): header type or option kind. */
  exthdrType: number;
  /** NFTA_EXTHDR_OFFSET: bytes from the start of the header or option. */
  offset: number;
  /** NFTA_EXTHDR_LEN: number of bytes loaded or written. */
  len: number;
  /** NFTA_EXTHDR_DREG: register the field is loaded into. */
  dreg?: number;
  /** NFTA_EXTHDR_SREG: register the field is written from. */
  sreg?: number;
  /** NFT_EXTHDR_F_* */
  flags?: number;
}

/** `cmp`: compare `sreg` with `data` (NFT_CMP_*). */
export interface CmpExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'cmp';
  /** NFTA_CMP_OP: NFT_CMP_EQ, _NEQ, _LT, _LTE, _GT, _GTE. */
  op: number;
  /** NFTA_CMP_SREG: register compared. */
  sreg: number;
  /** NFTA_CMP_DATA: the bytes compared with, as the register holds them. */
  data: Uint8Array;
}

/**
 * `bitwise`: `dreg = (sreg & mask) ^ xor` (NFT_BITWISE_MASK_XOR, the default), or a shift of
 * `len` bytes by `data` (NFT_BITWISE_LSHIFT / RSHIFT). Dumps carry `op` always.
 */
export interface BitwiseExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'bitwise';
  /** NFTA_BITWISE_SREG: register read. */
  sreg: number;
  /** NFTA_BITWISE_DREG: register written (may be `sreg`). */
  dreg: number;
  /** NFTA_BITWISE_LEN: bytes operated on. */
  len: number;
  /** NFTA_BITWISE_OP: NFT_BITWISE_MASK_XOR (default), _LSHIFT or _RSHIFT. */
  op?: number;
  /** NFTA_BITWISE_MASK: `len` bytes ANDed with `sreg` (mask-xor only). */
  mask?: Uint8Array;
  /** NFTA_BITWISE_XOR: `len` bytes XORed after the mask (mask-xor only). */
  xor?: Uint8Array;
  /** NFTA_BITWISE_DATA: the shift amount in bits, as a u32 in host order (shifts only). */
  data?: Uint8Array;
}

/** `range`: `sreg` within [from, to] (NFT_RANGE_EQ) or outside it (NFT_RANGE_NEQ). */
export interface RangeExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'range';
  /** NFTA_RANGE_OP: NFT_RANGE_EQ or NFT_RANGE_NEQ. */
  op: number;
  /** NFTA_RANGE_SREG: register compared. */
  sreg: number;
  /** NFTA_RANGE_FROM_DATA: lower bound, inclusive, as the register holds it. */
  from: Uint8Array;
  /** NFTA_RANGE_TO_DATA: upper bound, inclusive, as the register holds it. */
  to: Uint8Array;
}

/**
 * `lookup`: is `sreg` in the set (by name, or by transaction id for a set of the same batch);
 * with `dreg` a map lookup. `flags` NFT_LOOKUP_F_INV inverts. Dumps carry `set` and `flags`.
 */
export interface LookupExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'lookup';
  /** NFTA_LOOKUP_SET: name of the set in the rule's table. */
  set?: string;
  /** NFTA_LOOKUP_SET_ID: transaction id of a set added in the same batch. */
  setId?: number;
  /** NFTA_LOOKUP_SREG: register holding the key looked up. */
  sreg: number;
  /** NFTA_LOOKUP_DREG: register the mapped data goes to (maps only). */
  dreg?: number;
  /** NFTA_LOOKUP_FLAGS: NFT_LOOKUP_F_INV to match when the key is absent. */
  flags?: number;
}

/** `counter`. Dumps carry both numbers (exact below 2^53). */
export interface CounterExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'counter';
  /** NFTA_COUNTER_PACKETS: packets counted (initial value when adding). */
  packets?: number;
  /** NFTA_COUNTER_BYTES: bytes counted (initial value when adding). */
  bytes?: number;
}

/** `immediate`: load `data` into `dreg`; a verdict goes to NFT_REG_VERDICT (0). */
export interface ImmediateExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'immediate';
  /** NFTA_IMMEDIATE_DREG: register loaded; NFT_REG_VERDICT (0) for a verdict. */
  dreg: number;
  /** NFTA_IMMEDIATE_DATA: the bytes or verdict loaded. */
  data: NftData;
}

/** `ct`: load a conntrack key (NFT_CT_*) into `dreg`, or set it from `sreg`. */
export interface CtExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'ct';
  /** NFTA_CT_KEY: NFT_CT_* (state, mark, direction, addresses…). */
  key: number;
  /** NFTA_CT_DREG: register the key is loaded into. */
  dreg?: number;
  /** NFTA_CT_SREG: register the key is set from (mark, label, zone…). */
  sreg?: number;
  /** IP_CT_DIR_* for the directional keys (addresses, ports). */
  direction?: number;
}

/** `numgen`: `dreg` = counter or random (NFT_NG_*) modulo `modulus`, plus `offset`. Dumps carry `offset`. */
export interface NumgenExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'numgen';
  /** NFTA_NG_DREG: register the number goes to. */
  dreg: number;
  /** NFTA_NG_MODULUS: the number is taken modulo this (at least 1). */
  modulus: number;
  /** NFT_NG_INCREMENTAL / NFT_NG_RANDOM */
  ngType: number;
  /** NFTA_NG_OFFSET: added after the modulo. */
  offset?: number;
}

/**
 * `log`: to the kernel log (`level`, `flags` NF_LOG_*) or to an nflog `group` (`snaplen`,
 * `qthreshold`). What dumps carry depends on the mode (see the README).
 */
export interface LogExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'log';
  /** NFTA_LOG_PREFIX: text put before each logged packet. */
  prefix?: string;
  /** NFTA_LOG_GROUP: nflog group (u16) the packet goes to. */
  group?: number;
  /** NFTA_LOG_SNAPLEN: bytes of each packet sent to the nflog group. */
  snaplen?: number;
  /** NFTA_LOG_QTHRESHOLD: packets the kernel batches before sending to the nflog group. */
  qthreshold?: number;
  /** NFTA_LOG_LEVEL: syslog level for the kernel log (0 emerg … 7 debug). */
  level?: number;
  /** NFTA_LOG_FLAGS: NF_LOG_* (TCP sequence numbers, options, uid…) for the kernel log. */
  flags?: number;
}

/**
 * `queue` (native NFQUEUE; needs CONFIG_NFT_QUEUE): queues `num`..`num + total - 1`, or the
 * queue number in `sregQnum`; `flags` NFT_QUEUE_FLAG_*. Dumps carry `total` and `flags`.
 */
export interface QueueExpr {
  /** The expression's name (NFTA_EXPR_NAME). */
  type: 'queue';
  /** NFTA_QUEUE_NUM: first queue number (u16). */
  num?: number;
  /** NFTA_QUEUE_TOTAL: number of queues, from `num` on, the packets are spread over. */
  total?: number;
  /** NFTA_QUEUE_FLAGS: NFT_QUEUE_FLAG_BYPASS, NFT_QUEUE_FLAG_CPU_FANOUT. */
  flags?: number;
  /** NFTA_QUEUE_SREG_QNUM: register holding the queue number, instead of `num`. */
  sregQnum?: number;
}

/**
 * xtables compat (nft_compat): a `target` or `match` by name and revision, with its struct in
 * HOST byte order. Dumps give `info` XT_ALIGN-padded (to 8 bytes on 64-bit hosts).
 */
export interface CompatExpr {
  /** The expression's name (NFTA_EXPR_NAME): an xtables target or match. */
  type: 'target' | 'match';
  /** NFTA_TARGET_NAME / NFTA_MATCH_NAME: the xtables extension, e.g. `NFQUEUE`. */
  name: string;
  /** NFTA_TARGET_REV / NFTA_MATCH_REV: the revision of its struct. */
  rev: number;
  /** NFTA_TARGET_INFO / NFTA_MATCH_INFO: the extension's struct, in host byte order. */
  info: Uint8Array;
}

/** Any other expression, kept as its raw NFTA_EXPR_DATA payload (dumps of rules made by others). */
export interface UnknownExpr {
  /** Marks an expression this library does not decode. */
  type: 'unknown';
  /** NFTA_EXPR_NAME */
  name: string;
  /** The NFTA_EXPR_DATA payload (its nested attributes), without the nest header. */
  data: Uint8Array;
}

/** One nf_tables expression. */
export type Expr =
  | MetaExpr
  | PayloadExpr
  | ExthdrExpr
  | CmpExpr
  | BitwiseExpr
  | RangeExpr
  | LookupExpr
  | CounterExpr
  | ImmediateExpr
  | CtExpr
  | NumgenExpr
  | LogExpr
  | QueueExpr
  | CompatExpr
  | UnknownExpr;

/** The NFTA_EXPR_NAME of an expression. */
export function exprName(e: Expr): string {
  return e.type === 'unknown' ? e.name : e.type;
}
