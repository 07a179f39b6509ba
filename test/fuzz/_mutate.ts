/**
 * Byte mutation for the fuzz targets: a seed (a valid message or packet, built by a target's
 * structure-aware generator or taken from golden vectors) changed by a few edits of the kinds
 * that find length and offset bugs — a flipped or set byte, a 16/32-bit field overwritten with
 * a boundary value (0, 1, 0xff…, the input's length ± 1), a cut, an insert or a duplicated run.
 * @module
 */
import fc from 'fast-check';

/** One edit; positions are taken modulo the input's length when it is applied. */
export type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u16'; at: number; value: number; le: boolean }
  | { kind: 'u32'; at: number; value: number; le: boolean }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'repeat'; at: number; len: number };

const BOUNDARY = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...BOUNDARY), fc.integer({ min: -4, max: 4 })), le: fc.boolean() }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...BOUNDARY), fc.integer({ min: -4, max: 4 })), le: fc.boolean() }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
);

/** Up to `max` edits. */
export const edits = (max = 4): fc.Arbitrary<Edit[]> => fc.array(edit, { minLength: 1, maxLength: max });

/**
 * `seed` with `list` applied (a new array). A small negative u16/u32 value means "the input's
 * length plus it", so length fields get the values just around the truth.
 */
export function applyEdits(seed: Uint8Array, list: readonly Edit[]): Uint8Array {
  let b = seed.slice();
  for (const e of list) {
    const n = b.length;
    if (n === 0 && e.kind !== 'insert') continue;
    const at = n === 0 ? 0 : e.at % n;
    switch (e.kind) {
      case 'flip': b[at] = b[at]! ^ (1 << e.bit); break;
      case 'set': b[at] = e.value; break;
      case 'u16':
      case 'u32': {
        const width = e.kind === 'u16' ? 2 : 4;
        const v = (e.value <= 4 && e.value >= -4 && e.value !== 0 ? n - at + e.value : e.value) >>> 0;
        for (let i = 0; i < width && at + i < n; i++) {
          const shift = 8 * (e.le ? i : width - 1 - i);
          b[at + i] = Math.floor(v / 2 ** shift) & 0xff;
        }
        break;
      }
      case 'cut': b = b.slice(0, at); break;
      case 'insert': {
        const out = new Uint8Array(n + e.bytes.length);
        out.set(b.subarray(0, at));
        out.set(e.bytes, at);
        out.set(b.subarray(at), at + e.bytes.length);
        b = out;
        break;
      }
      case 'repeat': {
        const run = b.subarray(at, Math.min(n, at + e.len));
        const out = new Uint8Array(n + run.length);
        out.set(b.subarray(0, at + run.length));
        out.set(run, at + run.length);
        out.set(b.subarray(at + run.length), at + 2 * run.length);
        b = out;
        break;
      }
    }
  }
  return b;
}

/** Inputs: a seed from `seeds` (an arbitrary) with a few edits, or (1 in 8) random bytes. */
export function mutated(seeds: fc.Arbitrary<Uint8Array>, maxEdits = 4): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 7, arbitrary: fc.tuple(seeds, edits(maxEdits)).map(([s, e]) => applyEdits(s, e)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  );
}

/**
 * Runs `fn`; an error of one of `allowed` classes is the documented outcome and is returned, any
 * other error is rethrown (the property fails with it).
 */
export function onlyThrows(allowed: readonly (abstract new (...args: never[]) => Error)[], fn: () => void): Error | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) return e as Error;
    throw e;
  }
}
