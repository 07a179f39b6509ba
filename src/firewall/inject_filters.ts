/**
 * Sweeping the tc redirects behind inbound injection (src/divert/injector.ts) that processes
 * killed before they could clean up left behind: each filter's handle is its owner's pid, so a
 * filter whose owner is gone is stale, and the clsact qdisc the sweep left empty goes with it.
 * @module
 */
import { NetlinkProtocol } from '../netlink/constants.js';
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { sweepRedirectFilters, type RedirectFilter } from '../rtnetlink/tc_redirect.js';
import { INJECT_REDIRECT } from './mark.js';
import { procStat } from './owner.js';

/** Options of {@link sweepStaleInjectFilters}. */
export interface InjectSweepOptions {
  /** Path of the network namespace to sweep (default: this process's). */
  readonly netnsPath?: string | undefined;
  /** Whether a pid still runs (tests replace it). */
  readonly alive?: ((pid: number) => boolean) | undefined;
}

/** What a sweep removed: the stale filters, and the interfaces whose emptied qdisc went too. */
export interface InjectSweep {
  /** The redirect filters removed (their owner process was gone). */
  readonly filters: readonly RedirectFilter[];
  /** Interface indexes whose clsact qdisc was removed because it was left empty. */
  readonly qdiscs: readonly number[];
}

/** A process that runs (a zombie is a dead process not yet reaped). */
export function pidAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * Removes redirect filters whose owner process is gone, and each clsact qdisc left empty.
 * @example const { filters } = await sweepStaleInjectFilters({ netnsPath: '/run/netns/lab' });
 */
export async function sweepStaleInjectFilters(options: InjectSweepOptions = {}): Promise<InjectSweep> {
  const sock = NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE, { netnsPath: options.netnsPath, slotSize: 32768, batch: 4 });
  try {
    const r = await sweepRedirectFilters(sock, { ...INJECT_REDIRECT, alive: options.alive ?? pidAlive });
    return { filters: r.removed, qdiscs: r.qdiscs };
  } finally {
    sock.close();
  }
}
