/**
 * The seeded random source of an impairment run: the same seed, settings and packets give the
 * same decisions, so a run can be repeated (`--seed N`).
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand), seeded through
 * splitmix32 so that nearby seeds give unrelated streams. Not for cryptography.
 * @module
 */

/** A source of numbers in [0, 1). */
export interface RandomSource {
  /** The next number, at least 0 and below 1. */
  next(): number;
}

/** splitmix32: spreads one 32-bit seed over the generator's four words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded generator; `seed` is an integer from 0 to 2^32 − 1. */
export function seededRandom(seed: number): RandomSource {
  const st = { s: seed | 0 };
  let a = splitmix32(st);
  let b = splitmix32(st);
  let c = splitmix32(st);
  let d = splitmix32(st);
  return {
    next(): number {
      // sfc32: a 128-bit state with a counter (d), period at least 2^32.
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return (t >>> 0) / 4294967296;
    },
  };
}
