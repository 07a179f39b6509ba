/**
 * Does this process hold a capability (in its own user namespace)? Read from the CapEff line of
 * /proc/self/status: the one privilege check for the library's errors and the CLI's doctor and demo.
 * Only consulted when something already failed or before a command starts, never per packet.
 * @module
 */
import { readFileSync } from 'node:fs';

/** include/uapi/linux/capability.h */
export const CAP_NET_ADMIN = 12;
export const CAP_SYS_ADMIN = 21;

/** Parses the CapEff line of /proc/<pid>/status into a bigint mask (0 when absent). */
export function parseCapEff(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

/** Whether this process has capability `cap` in its user namespace (false when unreadable). */
export function hasCapability(cap: number): boolean {
  try {
    return ((parseCapEff(readFileSync('/proc/self/status', 'utf8')) >> BigInt(cap)) & 1n) === 1n;
  } catch {
    return false;
  }
}
