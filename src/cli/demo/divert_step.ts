/**
 * One demo step's divert plumbing: bind a port in the router, install DIVERT rules there, hand
 * every packet to a handler while traffic runs, then remove the rules and close the socket.
 * @module
 */
import { createDivertSocket, type DivertPacket } from '../../mod.js';
import { addRule, releaseOwnedTable } from '../../firewall/mod.js';
import { packetRecord, type CliVerdict } from '../format/record.js';
import { formatLine } from '../format/line.js';

export interface StepOutput {
  line(s: string): void;
}

/** What the handler did with a packet, for the printed line. */
export type Handled = CliVerdict | { verdict: CliVerdict; note: string };

/**
 * Runs `traffic` while packets matching `rules` in `netns` go through `handler` (which gives the
 * verdict), printing one line per packet. Returns the traffic's result and the packet count.
 */
export async function withDivert<T>(
  out: StepOutput,
  netns: string,
  port: number,
  rules: readonly string[],
  handler: (p: DivertPacket) => Handled,
  traffic: () => Promise<T>,
): Promise<{ result: T; packets: number }> {
  const sock = createDivertSocket({ netns, handleSignals: false });
  await sock.bind(port);
  let packets = 0;
  const loop = (async () => {
    try {
      for await (const p of sock) {
        packets++;
        const before = p.packet.slice();
        let h: Handled;
        try {
          h = handler(p);
        } catch {
          h = 'reinject';
        }
        if (p.verdict === undefined) {
          if ((typeof h === 'string' ? h : h.verdict) === 'drop') p.drop();
          else p.reinject();
        }
        const verdict = typeof h === 'string' ? h : h.verdict;
        const line = formatLine(packetRecord(before, p.address, verdict)).replace(/^\S+ /, '');
        out.line(`    ${line}${typeof h === 'string' ? '' : `  ← ${h.note}`}`);
      }
    } catch {
      // the socket closed
    }
  })();
  const rule = await addRule(rules.map((r) => `${r} -j DIVERT ${port}`), { netns, label: 'demo' });
  try {
    const result = await traffic();
    return { result, packets };
  } finally {
    // Rules first, their table (and hooks) only after the socket answered what it holds.
    await rule.remove({ keepTable: true }).catch(() => 0);
    await sock.close();
    releaseOwnedTable(netns);
    await loop;
  }
}
