/**
 * Helpers for this folder's tests only (not exported from `mod.ts`): a seeded PRNG, hex input,
 * 0xa5-filled buffers, a strict buffer that throws on out-of-bounds reads, and a getter sweep.
 * @module
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every run. */
export class Prng {
  #state: number;
  constructor(seed: number) { this.#state = seed >>> 0; }
  /** Next 32-bit unsigned integer. */
  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in `[lo, hi]`. */
  int(lo: number, hi: number): number { return lo + (this.u32() % (hi - lo + 1)); }
  /** Integer with `bits` random bits. */
  bits(bits: number): number { return bits === 32 ? this.u32() : this.u32() % 2 ** bits; }
  /** Random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

/** Bytes from hex text; whitespace is ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A buffer of `n` bytes pre-filled with 0xa5, so a field never written shows up (smoltcp). */
export function filledA5(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

/** Thrown by `strictBytes` when code indexes outside the buffer. */
export class OutOfBoundsRead extends Error {}

/**
 * A copy of `src` behind a Proxy that throws `OutOfBoundsRead` on any integer-index read outside
 * `[0, length)`; methods run on the real array, so `subarray` results are not watched.
 */
export function strictBytes(src: Uint8Array): Uint8Array {
  const target = new Uint8Array(src);
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'string' && /^-?\d+$/.test(key)) {
        const i = Number(key);
        if (i < 0 || i >= t.length) throw new OutOfBoundsRead(`read at ${i} of ${t.length}`);
        return t[i];
      }
      const v = Reflect.get(t, key, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** Read every getter `obj` has along its prototype chain (to flush out reads past the end). */
export function touchAll(obj: object): unknown[] {
  const seen: unknown[] = [];
  for (let p = Object.getPrototypeOf(obj) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get) seen.push((obj as Record<string, unknown>)[key]);
    }
  }
  return seen;
}

/**
 * An IPv6 atomic fragment (RFC 6946) of the header-chain-free IPv6 packet `pkt`: a fragment
 * header with offset 0 and M = 0 inserted after the fixed header.
 */
export function atomicFragment(pkt: Uint8Array, ident: number): Uint8Array {
  const out = new Uint8Array(pkt.length + 8);
  out.set(pkt.subarray(0, 40));
  out.set(pkt.subarray(40), 48);
  out[6] = 44;
  out[40] = pkt[6]!;
  out.set([ident >>> 24, (ident >>> 16) & 0xff, (ident >>> 8) & 0xff, ident & 0xff], 44);
  const len = out.length - 40;
  out[4] = len >> 8;
  out[5] = len & 0xff;
  return out;
}
