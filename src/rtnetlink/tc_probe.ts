/**
 * Live probes for `divert doctor`: does the kernel have what inbound injection needs — the
 * clsact qdisc (CONFIG_NET_SCH_INGRESS), the bpf classifier (CONFIG_NET_CLS_BPF) and the mirred
 * action (CONFIG_NET_ACT_MIRRED)? Each is tried for real on `lo` of a network namespace the
 * caller made for the purpose (the library starts no processes; the CLI makes the namespace),
 * then removed. A missing module shows as ENOENT with the kernel's extack text.
 * @module
 */
import { NetlinkProtocol } from '../netlink/constants.js';
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { NetlinkError } from '../errors.js';
import { BpfCode } from './cbpf.js';
import { MirredEaction } from './tc_constants.js';
import { addClsact, deleteClsact, deleteFilter, replaceBpfFilter } from './tc_ops.js';

/** Outcome of one probe. */
export type TcProbeOutcome =
  | {
      /** The kernel accepted it. */
      ok: true;
    }
  | {
      /** The kernel refused it, or it was not tried. */
      ok: false;
      /** errno name (ENOENT: not built or module missing), or "SKIPPED". */
      code: string;
      /** The kernel's extack text (else the error's message), or why the probe was skipped. */
      detail: string;
    };

/** What {@link probeTc} found. */
export interface TcProbe {
  /** The clsact qdisc (CONFIG_NET_SCH_INGRESS). */
  clsact: TcProbeOutcome;
  /** The bpf classifier (CONFIG_NET_CLS_BPF); skipped without clsact. */
  clsBpf: TcProbeOutcome;
  /** The mirred action (CONFIG_NET_ACT_MIRRED); skipped without cls_bpf. */
  actMirred: TcProbeOutcome;
}

/** `lo` is ifindex 1 in every namespace. */
const LOOPBACK = 1;

/**
 * Tries a clsact qdisc, a bpf filter, and a bpf filter with a mirred action on `lo` inside the
 * namespace at `netnsPath`, and removes them.
 * @param netnsPath a throwaway namespace (for example /run/netns/NAME or /proc/PID/ns/net):
 *   required, so the host's own `lo` is never touched.
 * @throws {SystemCallError} when no NETLINK_ROUTE socket can be opened there.
 * @example
 * ```ts
 * const p = await probeTc('/run/netns/divert-doctor-123');
 * if (!p.actMirred.ok) console.log(`act_mirred: ${p.actMirred.code} ${p.actMirred.detail}`);
 * ```
 */
export async function probeTc(netnsPath: string): Promise<TcProbe> {
  if (!netnsPath) throw new TypeError('probeTc() needs the path of a throwaway network namespace');
  const sock = NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE, { netnsPath, slotSize: 16384, batch: 2 });
  const skipped = (why: string): TcProbeOutcome => ({ ok: false, code: 'SKIPPED', detail: why });
  try {
    let added: boolean;
    try {
      added = await addClsact(sock, LOOPBACK);
    } catch (err) {
      const clsact = failure(err);
      return { clsact, clsBpf: skipped('needs clsact'), actMirred: skipped('needs clsact') };
    }
    // A program that matches nothing: the probe changes no traffic even for a moment.
    const ops = [{ code: BpfCode.BPF_RET_K, jt: 0, jf: 0, k: 0 }];
    const key = { ifindex: LOOPBACK, direction: 'egress' as const, prio: 1, handle: 1 };
    try {
      const clsBpf = await outcome(() => replaceBpfFilter(sock, { ...key, ops, actions: [] }, true));
      if (!clsBpf.ok) return { clsact: { ok: true }, clsBpf, actMirred: skipped('needs cls_bpf') };
      const mirred = { kind: 'mirred' as const, eaction: MirredEaction.TCA_INGRESS_REDIR, ifindex: LOOPBACK };
      const actMirred = await outcome(() => replaceBpfFilter(sock, { ...key, prio: 2, handle: 2, ops, actions: [mirred] }, true));
      return { clsact: { ok: true }, clsBpf, actMirred };
    } finally {
      // Deleting the qdisc deletes the probe's filters with it; a qdisc found there stays.
      if (added) await deleteClsact(sock, LOOPBACK).catch(() => false);
      else for (const k of [key, { ...key, prio: 2, handle: 2 }]) await deleteFilter(sock, k).catch(() => false);
    }
  } finally {
    sock.close();
  }
}

async function outcome(f: () => Promise<unknown>): Promise<TcProbeOutcome> {
  try {
    await f();
    return { ok: true };
  } catch (err) {
    return failure(err);
  }
}

function failure(err: unknown): TcProbeOutcome {
  if (err instanceof NetlinkError) return { ok: false, code: err.code, detail: err.extackMessage ?? err.message };
  throw err;
}
