/**
 * The traffic-control state of a test namespace, read over divert's own rtnetlink (no tc binary):
 * what inbound injection adds (a clsact qdisc, bpf + mirred filters) must be gone afterwards.
 * @module
 */
import { NetlinkProtocol } from '../../src/netlink/constants.js';
import { NetlinkSocket } from '../../src/socket/netlink_socket.js';
import { listFilters, listQdiscs } from '../../src/rtnetlink/tc_ops.js';
import type { Netns } from './netns.js';

/** Runs `work` with a NETLINK_ROUTE socket opened in `ns`, closed after. */
export async function withRtnl<T>(ns: Pick<Netns, 'path'>, work: (sock: NetlinkSocket) => Promise<T>): Promise<T> {
  const sock = NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE, { netnsPath: ns.path, slotSize: 32768, batch: 4 });
  try {
    return await work(sock);
  } finally {
    sock.close();
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * Every qdisc in `ns` and every filter on each clsact hook, as sorted lines that compare equal
 * when nothing changed (what `tc qdisc show` and `tc filter show dev … ingress|egress` list;
 * reference counts and action indexes left out).
 */
export async function tcState(ns: Pick<Netns, 'path'>): Promise<string[]> {
  return withRtnl(ns, async (sock) => {
    const lines: string[] = [];
    const qdiscs = await listQdiscs(sock);
    for (const q of qdiscs) lines.push(`qdisc ${q.ifindex} ${q.kind} handle ${hex(q.handle)} parent ${hex(q.parent)}`);
    for (const ifindex of new Set(qdiscs.filter((q) => q.kind === 'clsact').map((q) => q.ifindex))) {
      for (const direction of ['ingress', 'egress'] as const) {
        for (const f of await listFilters(sock, ifindex, direction)) {
          const actions = (f.bpf?.actions ?? []).map((a) => `${a.order}:${a.kind}${a.mirred ? `(${a.mirred.eaction}>${a.mirred.ifindex})` : ''}`);
          lines.push(`filter ${ifindex} ${direction} ${f.kind} prio ${f.prio} handle ${hex(f.handle)} protocol ${hex(f.protocol)} ops ${JSON.stringify(f.bpf?.ops)} actions ${actions.join(',')}`);
        }
      }
    }
    return lines.sort();
  });
}
