/**
 * Big-endian integer access and argument checks shared by the packet views (internal).
 *
 * Every read and write names its byte order (style §10.3). Reads go through `Uint8Array` indexing:
 * an index past the end yields `undefined`, which the bit operators turn into 0, so even an
 * unchecked view never throws and never reads outside its buffer. Every view constructor also
 * refuses a start offset outside `[0, length]` (`checkOffset`), and every `checked`/`checkLen`
 * reports one as a fault (`offsetFault`).
 * @module
 */

/**
 * Why `o` cannot start a view in `b`, or `undefined`: it must be an integer in `[0, b.length]`.
 * NB: the index reads above never leave the buffer, but `subarray` counts a negative index from
 * the end, so a view at a negative offset would hand out bytes it does not own.
 */
export function offsetFault(b: Uint8Array, o: number): string | undefined {
  if (Number.isInteger(o) && o >= 0 && o <= b.length) return undefined;
  return `offset ${String(o)} is not an integer in [0, ${b.length}]`;
}

/** Throw a `RangeError` naming `view` unless `o` is a valid start offset in `b` (see `offsetFault`). */
export function checkOffset(b: Uint8Array, o: number, view: string): void {
  const fault = offsetFault(b, o);
  if (fault !== undefined) throw new RangeError(`Cannot create ${view}: ${fault}`);
}

/** Read a big-endian 16-bit unsigned integer at `o`. */
export function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Write `v` as a big-endian 16-bit unsigned integer at `o`. */
export function setU16be(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Read a big-endian 32-bit unsigned integer at `o`. */
export function u32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Write `v` as a big-endian 32-bit unsigned integer at `o`. */
export function setU32be(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** Throw a `RangeError` unless `v` is an integer in `[0, 2**bits)`: setters never truncate silently. */
export function checkUint(v: number, bits: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new RangeError(`Cannot set ${name}: ${v} is not an integer in [0, ${2 ** bits - 1}]`);
  }
}

/** Copy `src` (exactly `len` bytes) to `b` at `o`, or throw a `RangeError` naming the field. */
export function setRaw(b: Uint8Array, o: number, src: Uint8Array, len: number, name: string): void {
  if (src.length !== len) {
    throw new RangeError(`Cannot set ${name}: expected ${len} bytes, got ${src.length}`);
  }
  b.set(src, o);
}

/**
 * Write `src` into the fixed-size region `[o, o + room)` and zero-fill the rest (zero is the
 * end-of-option-list kind for both IPv4 and TCP). Throws a `RangeError` when `src` does not fit.
 */
export function setPadded(b: Uint8Array, o: number, room: number, src: Uint8Array, name: string): void {
  if (src.length > room) {
    throw new RangeError(`Cannot set ${name}: ${src.length} bytes do not fit in ${room}`);
  }
  b.set(src, o);
  b.fill(0, o + src.length, o + room);
}
