/**
 * TCP sequence-number arithmetic: numbers live on a 32-bit circle, compared by their signed
 * distance (RFC 9293 §3.4, the kernel's before()/after()).
 * @module
 */

/** `a - b` as a signed 32-bit distance: negative when `a` comes before `b` on the circle. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a + n` on the circle (n may be negative), as an unsigned 32-bit number. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Whichever of `a` and `b` comes later on the circle. */
export function seqMax(a: number, b: number): number {
  return seqDiff(a, b) >= 0 ? a : b;
}
