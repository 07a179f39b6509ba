/**
 * Filter values (bigints) as big-endian bytes and back: the one pair the lexer (address
 * literals), the formatter (addresses), the evaluator (fieldValue of 16-byte addresses) and the
 * rule emitter (register bytes) use. Not on the packet path.
 * @module
 */

/** `b[off, off + len)` as an unsigned big-endian number. */
export function bigFromBytes(b: Uint8Array, off = 0, len = b.length - off): bigint {
  let v = 0n;
  for (let i = off; i < off + len; i++) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** The low `len` bytes of `v`, most significant first. */
export function bigToBytes(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}
