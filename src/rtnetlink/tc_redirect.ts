/**
 * The redirect behind divert's inbound injection, over rtnetlink (no tc binary): on an
 * interface's clsact egress hook, a bpf filter whose classic program matches a mark and whose
 * mirred action redirects the packet to the same interface's ingress.
 *
 * ```
 * ifindex N: clsact ── egress ffff:fff3 ── bpf prio P handle <pid> protocol all
 *                                           ops: mark == M ? match : no match
 *                                           action 1: mirred TCA_INGRESS_REDIR ifindex N (stolen)
 * ```
 * The filter's handle is its owner's pid, so filters of a process that died without cleaning up
 * can be told apart and swept. The qdisc is removed with the last filter only when the remover
 * added it (or, in a sweep, when the sweep emptied it).
 * @module
 */
import { AddressFamily } from '../netlink/families.js';
import type { NetlinkSocket } from '../socket/netlink_socket.js';
import { dumpTx, run, runNow } from './_tx.js';
import { sameProgram, type SockFilter } from './cbpf.js';
import { RtmType } from './constants.js';
import { parseLinkMessage, putGetLinkDump } from './link_addr.js';
import { ETH_P_ALL, MirredEaction } from './tc_constants.js';
import type { BpfFilterSpec, FilterKey, TcFilter } from './tc_filter.js';
import { clsactParent } from './tc_msg.js';
import {
  addClsact, bpfFilterTx, clsactAddTx, clsactDeleteTx, deleteClsact, deleteClsactSync, deleteFilter, deleteFilterSync, listFilters, listFiltersSync,
  replaceBpfFilter,
} from './tc_ops.js';

/** Which redirect filters are divert's: their priority and program. */
export interface RedirectMatch {
  prio: number;
  ops: readonly SockFilter[];
}

/** One process's redirect on one interface. */
export interface RedirectSpec extends RedirectMatch {
  ifindex: number;
  /** Owner pid: the filter handle. */
  pid: number;
}

/** What {@link removeRedirect} removed. */
export interface RedirectRemoval {
  /** The filter was there and is gone. */
  filter: boolean;
  /** The clsact qdisc was removed too. */
  qdisc: boolean;
}

/** A redirect filter found on the system. */
export interface RedirectFilter {
  ifindex: number;
  ifname: string;
  /** The owner pid (the filter's handle). */
  pid: number;
}

/** The bpf filter spec of a redirect (egress, protocol all, mirred ingress redirect to itself). */
export function redirectFilterSpec(r: RedirectSpec): BpfFilterSpec {
  return {
    ...redirectKey(r),
    ops: r.ops,
    actions: [{ kind: 'mirred', eaction: MirredEaction.TCA_INGRESS_REDIR, ifindex: r.ifindex }],
  };
}

/** Whether a dumped filter is a redirect matching `m`: same hook, prio and program, mirred ingress redirect to its own interface. */
export function isRedirectFilter(f: TcFilter, m: RedirectMatch): boolean {
  if (f.kind !== 'bpf' || f.bpf?.ops === undefined || f.prio !== m.prio || f.parent !== clsactParent('egress')) return false;
  if (!sameProgram(f.bpf.ops, m.ops)) return false;
  return f.bpf.actions.some((a) => a.mirred?.eaction === MirredEaction.TCA_INGRESS_REDIR && a.mirred.ifindex === f.ifindex);
}

/**
 * Installs the redirect of `r.pid` on `r.ifindex`: a clsact qdisc (unless one is there) and the
 * filter (replacing this pid's earlier one). When the filter fails, a qdisc added here is removed.
 * @returns whether this call added the qdisc; pass it to {@link removeRedirect}.
 * @throws {NetlinkError} from the kernel (ENODEV, EPERM, ENOENT for a missing module, …).
 */
export async function installRedirect(sock: NetlinkSocket, r: RedirectSpec): Promise<{ addedQdisc: boolean }> {
  const addedQdisc = await addClsact(sock, r.ifindex);
  try {
    await replaceBpfFilter(sock, redirectFilterSpec(r));
  } catch (err) {
    if (addedQdisc) await deleteClsact(sock, r.ifindex).catch(() => false);
    throw err;
  }
  return { addedQdisc };
}

/**
 * {@link installRedirect} for a synchronous caller (the first inbound injection on an interface,
 * inside sendto()): the kernel answers these requests inside sendmsg, so nothing waits.
 */
export function installRedirectNow(sock: NetlinkSocket, r: RedirectSpec): { addedQdisc: boolean } {
  const addedQdisc = runNow(sock, clsactAddTx(sock, r.ifindex)) === undefined;
  try {
    runNow(sock, bpfFilterTx(sock, redirectFilterSpec(r)));
  } catch (err) {
    if (addedQdisc) {
      try {
        runNow(sock, clsactDeleteTx(sock, r.ifindex));
      } catch {
        // The filter's error is the one to report.
      }
    }
    throw err;
  }
  return { addedQdisc };
}

/**
 * Removes the redirect of `r.pid` from `r.ifindex`, and the clsact qdisc when `addedQdisc` and no
 * filter is left on either hook (another program's filters keep it).
 */
export async function removeRedirect(sock: NetlinkSocket, r: RedirectSpec, addedQdisc: boolean): Promise<RedirectRemoval> {
  const filter = await deleteFilter(sock, redirectKey(r));
  if (!addedQdisc) return { filter, qdisc: false };
  const left = (await listFilters(sock, r.ifindex, 'egress')).length + (await listFilters(sock, r.ifindex, 'ingress')).length;
  return { filter, qdisc: left === 0 && (await deleteClsact(sock, r.ifindex)) };
}

/** {@link removeRedirect}, blocking: exit-time cleanup only. */
export function removeRedirectSync(sock: NetlinkSocket, r: RedirectSpec, addedQdisc: boolean): RedirectRemoval {
  const filter = deleteFilterSync(sock, redirectKey(r));
  if (!addedQdisc) return { filter, qdisc: false };
  const left = listFiltersSync(sock, r.ifindex, 'egress').length + listFiltersSync(sock, r.ifindex, 'ingress').length;
  return { filter, qdisc: left === 0 && deleteClsactSync(sock, r.ifindex) };
}

/** Every redirect filter matching `m` in the socket's namespace, with its interface and owner pid. */
export async function listRedirectFilters(sock: NetlinkSocket, m: RedirectMatch): Promise<RedirectFilter[]> {
  const out: RedirectFilter[] = [];
  for (const link of await listLinkNames(sock)) {
    for (const f of await listFilters(sock, link.index, 'egress')) {
      if (isRedirectFilter(f, m)) out.push({ ifindex: link.index, ifname: link.name, pid: f.handle });
    }
  }
  return out;
}

/**
 * Removes redirect filters whose owner is not `alive` (a process killed before it cleaned up),
 * and each clsact qdisc the sweep left without any filter (unless `removeEmptyQdisc` is false).
 * @returns the filters removed and the interfaces whose qdisc went with them.
 */
export async function sweepRedirectFilters(
  sock: NetlinkSocket,
  m: RedirectMatch & { alive: (pid: number) => boolean; removeEmptyQdisc?: boolean | undefined },
): Promise<{ removed: RedirectFilter[]; qdiscs: number[] }> {
  const removed: RedirectFilter[] = [];
  const qdiscs: number[] = [];
  const stale = (await listRedirectFilters(sock, m)).filter((f) => !m.alive(f.pid));
  for (const f of stale) {
    if (await deleteFilter(sock, redirectKey({ ...m, ifindex: f.ifindex, pid: f.pid }))) removed.push(f);
  }
  if (m.removeEmptyQdisc === false) return { removed, qdiscs };
  for (const ifindex of new Set(removed.map((f) => f.ifindex))) {
    const left = (await listFilters(sock, ifindex, 'egress')).length + (await listFilters(sock, ifindex, 'ingress')).length;
    if (left === 0 && (await deleteClsact(sock, ifindex))) qdiscs.push(ifindex);
  }
  return { removed, qdiscs };
}

function redirectKey(r: RedirectSpec): FilterKey {
  return { ifindex: r.ifindex, direction: 'egress', prio: r.prio, protocol: ETH_P_ALL, handle: r.pid };
}

/** Index and name of every interface (one link dump). */
function listLinkNames(sock: NetlinkSocket): Promise<Array<{ index: number; name: string }>> {
  return run(sock, dumpTx(sock, 'list interfaces', (b, seq) => putGetLinkDump(b, seq, AddressFamily.AF_UNSPEC), (it) => {
    if (it.type !== RtmType.RTM_NEWLINK) return undefined;
    const l = parseLinkMessage(it.buffer, it.payloadOffset, it.end);
    return { index: l.index, name: l.name };
  }));
}
