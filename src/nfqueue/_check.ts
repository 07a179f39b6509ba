/**
 * Argument checks shared by the NFQUEUE builders. Misuse throws RangeError (project error model).
 * @module
 */

/** Throws unless `queue` is an integer 0..65535 (`res_id` is a be16). */
export function checkQueue(queue: number): void {
  if (!(queue >= 0 && queue <= 0xffff && (queue | 0) === queue)) {
    throw new RangeError(`Queue number must be an integer from 0 to 65535, got ${String(queue)}`);
  }
}

/** Throws unless `v` is an integer 0..2^32-1. */
export function checkU32(what: string, v: number): void {
  if (!(v >= 0 && v <= 0xffff_ffff && Math.floor(v) === v)) {
    throw new RangeError(`${what} must be an integer from 0 to 4294967295, got ${String(v)}`);
  }
}
