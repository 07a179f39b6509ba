/**
 * tc operations over a NETLINK_ROUTE {@link NetlinkSocket}: the clsact qdisc, filters on its
 * hooks, and their dumps. Each is async (it never blocks the event loop); the `*Sync` forms block
 * on a bounded poll and exist for exit-time cleanup only, where the loop will not turn again.
 *
 * Kernel answers these rely on (Linux 6.x; iproute2's tc prints the extack text):
 * - clsact add, one already there: EEXIST "Exclusivity flag on, cannot modify".
 * - clsact delete, none there: EINVAL "Invalid handle" (ENOENT before the device's ingress
 *   queue ever existed).
 * - filter add without clsact: EINVAL "Parent Qdisc doesn't exists".
 * - filter delete, no such prio: ENOENT "Cannot find specified filter chain"; no such handle:
 *   ENOENT "Specified filter handle not found"; no clsact: EINVAL "Parent Qdisc doesn't exists".
 * - filter dump without clsact: an empty dump, no error.
 * @module
 */
import type { MessageIter } from '../netlink/message_iter.js';
import type { NetlinkSocket } from '../socket/netlink_socket.js';
import { ackTx, dumpTx, run, runSync, type Tx } from './_tx.js';
import { RtmTcType } from './tc_constants.js';
import { parseFilterMessage, putBpfFilter, putFilterDelete, putFilterDump, type BpfFilterSpec, type FilterKey, type TcFilter } from './tc_filter.js';
import type { TcDirection } from './tc_msg.js';
import { isClsact, parseQdiscMessage, putClsactAdd, putClsactDelete, putQdiscDump, type TcQdisc } from './tc_qdisc.js';

/**
 * Adds a clsact qdisc to `ifindex`.
 * @returns true when this call added it, false when one was there already.
 * @throws {NetlinkError} on any other refusal (ENODEV: no such interface; EPERM; ENOENT: the
 *   kernel has no clsact, CONFIG_NET_SCH_INGRESS).
 * @example const added = await addClsact(sock, 3);
 */
export async function addClsact(sock: NetlinkSocket, ifindex: number): Promise<boolean> {
  return (await run(sock, clsactAddTx(sock, ifindex))) === undefined;
}

/**
 * Deletes the clsact qdisc of `ifindex`, and with it every filter on both of its hooks.
 * @returns true when one was deleted, false when there was none.
 * @throws {NetlinkError} on any other refusal.
 */
export async function deleteClsact(sock: NetlinkSocket, ifindex: number): Promise<boolean> {
  return (await run(sock, clsactDeleteTx(sock, ifindex))) === undefined;
}

/** {@link deleteClsact}, blocking: exit-time cleanup only. */
export function deleteClsactSync(sock: NetlinkSocket, ifindex: number): boolean {
  return runSync(sock, clsactDeleteTx(sock, ifindex)) === undefined;
}

/**
 * Lists qdiscs: those of `ifindex`, or of every interface when it is omitted. (The kernel
 * dumps every interface either way; this filters.)
 */
export function listQdiscs(sock: NetlinkSocket, ifindex?: number): Promise<TcQdisc[]> {
  return run(sock, qdiscDumpTx(sock, ifindex));
}

/** {@link listQdiscs}, blocking: exit-time cleanup only. */
export function listQdiscsSync(sock: NetlinkSocket, ifindex?: number): TcQdisc[] {
  return runSync(sock, qdiscDumpTx(sock, ifindex));
}

/** Whether `ifindex` has a clsact qdisc. */
export async function hasClsact(sock: NetlinkSocket, ifindex: number): Promise<boolean> {
  return (await listQdiscs(sock, ifindex)).some(isClsact);
}

/**
 * Lists the filters on one clsact hook of `ifindex` (empty when it has no clsact). Group header
 * entries (handle 0) are left out.
 */
export function listFilters(sock: NetlinkSocket, ifindex: number, direction: TcDirection): Promise<TcFilter[]> {
  return run(sock, filterDumpTx(sock, ifindex, direction));
}

/** {@link listFilters}, blocking: exit-time cleanup only. */
export function listFiltersSync(sock: NetlinkSocket, ifindex: number, direction: TcDirection): TcFilter[] {
  return runSync(sock, filterDumpTx(sock, ifindex, direction));
}

/**
 * Adds a bpf filter, replacing one with the same key unless `exclusive` (then EEXIST).
 * @throws {NetlinkError} EINVAL when the interface has no clsact; ENOENT when the kernel lacks
 *   cls_bpf or an action's module; ENODEV for a mirred target that does not exist.
 * @throws {RangeError} on an invalid spec (see `putBpfFilter`).
 */
export async function replaceBpfFilter(sock: NetlinkSocket, spec: BpfFilterSpec, exclusive = false): Promise<void> {
  await run(sock, bpfFilterTx(sock, spec, exclusive));
}

/**
 * Deletes one filter (sent with TCA_KIND `kind`, as tc does).
 * @returns true when it was deleted; false when there is no such filter: ENOENT (no such prio
 *   or handle), or EINVAL (no clsact on the interface any more, or the filter there is of
 *   another kind: not one to delete).
 */
export async function deleteFilter(sock: NetlinkSocket, key: FilterKey, kind = 'bpf'): Promise<boolean> {
  return (await run(sock, filterDeleteTx(sock, key, kind))) === undefined;
}

/** {@link deleteFilter}, blocking: exit-time cleanup only. */
export function deleteFilterSync(sock: NetlinkSocket, key: FilterKey, kind = 'bpf'): boolean {
  return runSync(sock, filterDeleteTx(sock, key, kind)) === undefined;
}

/** @internal The request behind {@link addClsact}: the result is 'EEXIST' when one was there. */
export function clsactAddTx(sock: NetlinkSocket, ifindex: number): Tx<string | undefined> {
  return ackTx(sock, `add clsact qdisc to interface ${ifindex}`, (b, seq) => putClsactAdd(b, seq, ifindex), ['EEXIST']);
}

/** @internal The request behind {@link deleteClsact}. */
export function clsactDeleteTx(sock: NetlinkSocket, ifindex: number): Tx<string | undefined> {
  return ackTx(sock, `delete clsact qdisc of interface ${ifindex}`, (b, seq) => putClsactDelete(b, seq, ifindex), ['EINVAL', 'ENOENT']);
}

function qdiscDumpTx(sock: NetlinkSocket, ifindex: number | undefined): Tx<TcQdisc[]> {
  return dumpTx(sock, 'list qdiscs', (b, seq) => putQdiscDump(b, seq, ifindex ?? 0), (it: MessageIter) => {
    if (it.type !== RtmTcType.RTM_NEWQDISC) return undefined;
    const q = parseQdiscMessage(it.buffer, it.payloadOffset, it.end);
    return ifindex === undefined || q.ifindex === ifindex ? q : undefined;
  });
}

/** @internal The request behind {@link listFilters}. */
export function filterDumpTx(sock: NetlinkSocket, ifindex: number, direction: TcDirection): Tx<TcFilter[]> {
  return dumpTx(sock, `list tc ${direction} filters of interface ${ifindex}`, (b, seq) => putFilterDump(b, seq, ifindex, direction), (it) => {
    if (it.type !== RtmTcType.RTM_NEWTFILTER) return undefined;
    const f = parseFilterMessage(it.buffer, it.payloadOffset, it.end);
    return f.handle === 0 ? undefined : f;
  });
}

/** @internal The request behind {@link replaceBpfFilter}. */
export function bpfFilterTx(sock: NetlinkSocket, spec: BpfFilterSpec, exclusive = false): Tx<string | undefined> {
  const op = `${exclusive ? 'add' : 'replace'} tc bpf filter ${spec.handle} prio ${spec.prio} on ${spec.direction} of interface ${spec.ifindex}`;
  return ackTx(sock, op, (b, seq) => putBpfFilter(b, seq, spec, exclusive));
}

/** @internal The request behind {@link deleteFilter}: the result is the errno name when there was no such filter. */
export function filterDeleteTx(sock: NetlinkSocket, key: FilterKey, kind = 'bpf'): Tx<string | undefined> {
  const op = `delete tc filter ${key.handle} prio ${key.prio} on ${key.direction} of interface ${key.ifindex}`;
  return ackTx(sock, op, (b, seq) => putFilterDelete(b, seq, key, kind), ['ENOENT', 'EINVAL']);
}
