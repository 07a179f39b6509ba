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
export type NftData = { value: Uint8Array } | { verdict: Verdict };

/** `meta`: load a key into `dreg`, or set it from `sreg` (exactly one of the two). */
export interface MetaExpr {
  type: 'meta';
  /** NFT_META_* */
  key: number;
  dreg?: number;
  sreg?: number;
}

/**
 * `payload`: load `len` bytes at `base` + `offset` into `dreg`, or write them from `sreg`
 * (then the checksum fields say which checksum to fix: NFT_PAYLOAD_CSUM_*, its offset from
 * `base`, NFT_PAYLOAD_L4CSUM_PSEUDOHDR). Dumps of a write carry all three checksum fields.
 */
export interface PayloadExpr {
  type: 'payload';
  /** NFT_PAYLOAD_* header base */
  base: number;
  offset: number;
  len: number;
  dreg?: number;
  sreg?: number;
  csumType?: number;
  csumOffset?: number;
  csumFlags?: number;
}

/**
 * `exthdr`: an IPv6 extension header, TCP option or IPv4 option field (`op`), loaded into
 * `dreg` or written from `sreg`. With NFT_EXTHDR_F_PRESENT the register gets 1 when the header
 * exists. Dumps carry `op` and `flags` always.
 */
export interface ExthdrExpr {
  type: 'exthdr';
  /** NFT_EXTHDR_OP_* */
  op?: number;
  /** NFTA_EXTHDR_TYPE (u8): header type or option kind. */
  exthdrType: number;
  offset: number;
  len: number;
  dreg?: number;
  sreg?: number;
  /** NFT_EXTHDR_F_* */
  flags?: number;
}

/** `cmp`: compare `sreg` with `data` (NFT_CMP_*). */
export interface CmpExpr {
  type: 'cmp';
  op: number;
  sreg: number;
  data: Uint8Array;
}

/**
 * `bitwise`: `dreg = (sreg & mask) ^ xor` (NFT_BITWISE_MASK_XOR, the default), or a shift of
 * `len` bytes by `data` (NFT_BITWISE_LSHIFT / RSHIFT). Dumps carry `op` always.
 */
export interface BitwiseExpr {
  type: 'bitwise';
  sreg: number;
  dreg: number;
  len: number;
  op?: number;
  mask?: Uint8Array;
  xor?: Uint8Array;
  data?: Uint8Array;
}

/** `range`: `sreg` within [from, to] (NFT_RANGE_EQ) or outside it (NFT_RANGE_NEQ). */
export interface RangeExpr {
  type: 'range';
  op: number;
  sreg: number;
  from: Uint8Array;
  to: Uint8Array;
}

/**
 * `lookup`: is `sreg` in the set (by name, or by transaction id for a set of the same batch);
 * with `dreg` a map lookup. `flags` NFT_LOOKUP_F_INV inverts. Dumps carry `set` and `flags`.
 */
export interface LookupExpr {
  type: 'lookup';
  set?: string;
  setId?: number;
  sreg: number;
  dreg?: number;
  flags?: number;
}

/** `counter`. Dumps carry both numbers (exact below 2^53). */
export interface CounterExpr {
  type: 'counter';
  packets?: number;
  bytes?: number;
}

/** `immediate`: load `data` into `dreg`; a verdict goes to NFT_REG_VERDICT (0). */
export interface ImmediateExpr {
  type: 'immediate';
  dreg: number;
  data: NftData;
}

/** `ct`: load a conntrack key (NFT_CT_*) into `dreg`, or set it from `sreg`. */
export interface CtExpr {
  type: 'ct';
  key: number;
  dreg?: number;
  sreg?: number;
  /** IP_CT_DIR_* for the directional keys (addresses, ports). */
  direction?: number;
}

/** `numgen`: `dreg` = counter or random (NFT_NG_*) modulo `modulus`, plus `offset`. Dumps carry `offset`. */
export interface NumgenExpr {
  type: 'numgen';
  dreg: number;
  modulus: number;
  /** NFT_NG_INCREMENTAL / NFT_NG_RANDOM */
  ngType: number;
  offset?: number;
}

/**
 * `log`: to the kernel log (`level`, `flags` NF_LOG_*) or to an nflog `group` (`snaplen`,
 * `qthreshold`). What dumps carry depends on the mode (see the README).
 */
export interface LogExpr {
  type: 'log';
  prefix?: string;
  group?: number;
  snaplen?: number;
  qthreshold?: number;
  level?: number;
  flags?: number;
}

/**
 * `queue` (native NFQUEUE; needs CONFIG_NFT_QUEUE): queues `num`..`num + total - 1`, or the
 * queue number in `sregQnum`; `flags` NFT_QUEUE_FLAG_*. Dumps carry `total` and `flags`.
 */
export interface QueueExpr {
  type: 'queue';
  num?: number;
  total?: number;
  flags?: number;
  sregQnum?: number;
}

/**
 * xtables compat (nft_compat): a `target` or `match` by name and revision, with its struct in
 * HOST byte order. Dumps give `info` XT_ALIGN-padded (to 8 bytes on 64-bit hosts).
 */
export interface CompatExpr {
  type: 'target' | 'match';
  name: string;
  rev: number;
  info: Uint8Array;
}

/** Any other expression, kept as its raw NFTA_EXPR_DATA payload (dumps of rules made by others). */
export interface UnknownExpr {
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
