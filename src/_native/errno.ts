/**
 * Turns the addon's `-errno` results into errors.
 * @module
 */
import { SystemCallError } from '../errors.js';

/** Returns `n` when it is a success (>= 0), else throws a SystemCallError for `syscall`. */
export function check(syscall: string, n: number): number {
  if (n < 0) throw new SystemCallError(syscall, -n);
  return n;
}

/** errno numbers this project reacts to by name (Linux values). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ERANGE: 34,
  EPROTO: 71,
  /** Kernel-internal: nf_tables' "the generation changed, rebuild the batch". */
  ERESTART: 85,
  ENOPROTOOPT: 92,
  EADDRINUSE: 98,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EADDRNOTAVAIL: 99,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
  ENAMETOOLONG: 36,
  /** Kernel-internal: "not supported" (e.g. an unknown NFQUEUE config command). */
  ENOTSUPP: 524,
} as const;
