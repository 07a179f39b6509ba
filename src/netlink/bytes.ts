/**
 * Byte-order-named reads and writes over a `Uint8Array` (zero copy, no allocation).
 *
 * Netlink mixes two orders in one message: `nlmsghdr` and `nlattr` headers are in HOST order
 * (`*ne`, "native endian"), while `nfgenmsg.res_id` and every NFQA payload field are BIG-endian
 * (`*be`). Every helper names its order; there is no default.
 *
 * Why plain byte arithmetic rather than a `DataView`: the callers hand us arbitrary subarrays of a
 * receive arena, and a `DataView` per buffer would be an allocation (or a cache to invalidate).
 * V8 inlines these small monomorphic functions, so they cost the same as `DataView` reads.
 * NB: no bounds checks here; callers validate lengths first (out of range reads give `undefined`
 * coerced to 0, never a crash).
 * @module
 */

/** `true` on little-endian hosts (x86-64, arm64): computed once from the platform. */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads the byte at `off`. */
export function u8(b: Uint8Array, off: number): number {
  return b[off]!;
}

/** Reads a big-endian u16. */
export function u16be(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

/** Reads a little-endian u16. */
export function u16le(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}

/** Reads a big-endian u32. */
export function u32be(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Reads a little-endian u32. */
export function u32le(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** Reads a host-order u16 (netlink and nlattr headers). */
export function u16ne(b: Uint8Array, off: number): number {
  return HOST_LITTLE_ENDIAN ? u16le(b, off) : u16be(b, off);
}

/** Reads a host-order u32 (netlink and nlattr headers). */
export function u32ne(b: Uint8Array, off: number): number {
  return HOST_LITTLE_ENDIAN ? u32le(b, off) : u32be(b, off);
}

/** Reads a host-order s32 (`nlmsgerr.error`, `ifinfomsg.ifi_index`). */
export function i32ne(b: Uint8Array, off: number): number {
  return u32ne(b, off) | 0;
}

/**
 * Reads a big-endian u64 as a `number`. Exact below 2^53 (timestamps in seconds or
 * microseconds are); use {@link u64beBig} when all 64 bits matter.
 */
export function u64beNumber(b: Uint8Array, off: number): number {
  return u32be(b, off) * 0x1_0000_0000 + u32be(b, off + 4);
}

/** Reads a big-endian u64 as a `bigint` (allocates; not for hot paths). */
export function u64beBig(b: Uint8Array, off: number): bigint {
  return (BigInt(u32be(b, off)) << 32n) | BigInt(u32be(b, off + 4));
}

/** Writes a big-endian u16. */
export function putU16be(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8;
  b[off + 1] = v;
}

/** Writes a big-endian u32. */
export function putU32be(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

/** Writes a big-endian u64 from a `bigint` (masked to 64 bits). */
export function putU64be(b: Uint8Array, off: number, v: bigint): void {
  const x = BigInt.asUintN(64, v);
  putU32be(b, off, Number(x >> 32n));
  putU32be(b, off + 4, Number(x & 0xffff_ffffn));
}

/** Writes a host-order u16. */
export function putU16ne(b: Uint8Array, off: number, v: number): void {
  if (HOST_LITTLE_ENDIAN) {
    b[off] = v;
    b[off + 1] = v >>> 8;
  } else {
    putU16be(b, off, v);
  }
}

/** Writes a host-order u32 (an s32 is written by its two's complement bits). */
export function putU32ne(b: Uint8Array, off: number, v: number): void {
  if (HOST_LITTLE_ENDIAN) {
    b[off] = v;
    b[off + 1] = v >>> 8;
    b[off + 2] = v >>> 16;
    b[off + 3] = v >>> 24;
  } else {
    putU32be(b, off, v);
  }
}
