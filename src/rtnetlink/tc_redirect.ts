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
import { dumpTx, run, runSteps, runStepsNow, runStepsSync, step, type Steps } from './_tx.js';
import { sameProgram, type SockFilter } from './cbpf.js';
import { RtmType } from './constants.js';
import { parseLinkMessage, putGetLinkDump } from './link_addr.js';
import { ETH_P_ALL, MirredEaction } from './tc_constants.js';
import type { BpfFilterSpec, FilterKey, TcFilter } from './tc_filter.js';
import { clsactParent } from './tc_msg.js';
import { bpfFilterTx, clsactAddTx, clsactDeleteTx, deleteFilter, filterDeleteTx, filterDumpTx, listFilters, listQdiscs } from './tc_ops.js';
import { isClsact } from './tc_qdisc.js';

/** Which redirect filters are divert's: their priority and program. */
export interface RedirectMatch {
  /** Priority of the filters (tc's "pref"). */
  prio: number;
  /** Their classic program (it matches the injection mark). */
  ops: readonly SockFilter[];
}

/** One process's redirect on one interface. */
export interface RedirectSpec extends RedirectMatch {
  /** The interface: the filter is on its egress hook and redirects to its ingress. */
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
  /** Index of the interface the filter is on. */
  ifindex: number;
  /** Its name, as the link dump gave it. */
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
export function installRedirect(sock: NetlinkSocket, r: RedirectSpec): Promise<{ addedQdisc: boolean }> {
  return runSteps(sock, installSteps(sock, r));
}

/**
 * {@link installRedirect} for a synchronous caller (the first inbound injection on an interface,
 * inside sendto()): the kernel answers these requests inside sendmsg, so nothing waits.
 */
export function installRedirectNow(sock: NetlinkSocket, r: RedirectSpec): { addedQdisc: boolean } {
  return runStepsNow(sock, installSteps(sock, r));
}

/**
 * Removes the redirect of `r.pid` from `r.ifindex`, and the clsact qdisc when `addedQdisc` and no
 * filter is left on either hook (another program's filters keep it).
 */
export function removeRedirect(sock: NetlinkSocket, r: RedirectSpec, addedQdisc: boolean): Promise<RedirectRemoval> {
  return runSteps(sock, removeSteps(sock, r, addedQdisc));
}

/** {@link removeRedirect}, blocking: exit-time cleanup only. */
export function removeRedirectSync(sock: NetlinkSocket, r: RedirectSpec, addedQdisc: boolean): RedirectRemoval {
  return runStepsSync(sock, removeSteps(sock, r, addedQdisc));
}

/**
 * Every redirect filter matching `m` in the socket's namespace, with its interface and owner pid.
 * Filters are dumped one interface at a time, so only interfaces with a clsact qdisc (one qdisc
 * dump finds them all) are asked.
 */
export async function listRedirectFilters(sock: NetlinkSocket, m: RedirectMatch): Promise<RedirectFilter[]> {
  const withClsact = new Set((await listQdiscs(sock)).filter(isClsact).map((q) => q.ifindex));
  if (withClsact.size === 0) return [];
  const out: RedirectFilter[] = [];
  for (const link of await listLinkNames(sock)) {
    if (!withClsact.has(link.index)) continue;
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
    if (await runSteps(sock, deleteClsactIfEmpty(sock, ifindex))) qdiscs.push(ifindex);
  }
  return { removed, qdiscs };
}

/** The requests of an install: qdisc (EEXIST: one was there), filter, and the qdisc's removal if the filter fails. */
function* installSteps(sock: NetlinkSocket, r: RedirectSpec): Steps<{ addedQdisc: boolean }> {
  const addedQdisc = (yield* step(clsactAddTx(sock, r.ifindex))) === undefined;
  try {
    yield* step(bpfFilterTx(sock, redirectFilterSpec(r)));
  } catch (err) {
    if (addedQdisc) {
      try {
        yield* step(clsactDeleteTx(sock, r.ifindex));
      } catch {
        // The filter's error is the one to report.
      }
    }
    throw err;
  }
  return { addedQdisc };
}

function* removeSteps(sock: NetlinkSocket, r: RedirectSpec, addedQdisc: boolean): Steps<RedirectRemoval> {
  const filter = (yield* step(filterDeleteTx(sock, redirectKey(r)))) === undefined;
  return { filter, qdisc: addedQdisc && (yield* deleteClsactIfEmpty(sock, r.ifindex)) };
}

/** Deletes the clsact qdisc of `ifindex` when no filter is left on either hook; true when it did. */
function* deleteClsactIfEmpty(sock: NetlinkSocket, ifindex: number): Steps<boolean> {
  return (yield* filtersLeft(sock, ifindex)) === 0 && (yield* step(clsactDeleteTx(sock, ifindex))) === undefined;
}

/** How many filters are on the two clsact hooks of `ifindex` (any program's). */
function* filtersLeft(sock: NetlinkSocket, ifindex: number): Steps<number> {
  const egress = yield* step(filterDumpTx(sock, ifindex, 'egress'));
  const ingress = yield* step(filterDumpTx(sock, ifindex, 'ingress'));
  return egress.length + ingress.length;
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
