/**
 * `divert intercept --sniff`: print (and write as pcap) a copy of every packet the run's rules or
 * filter select, through a sniffing socket (NFLOG). The packets are never held: a stopped or slow
 * run loses copies, not traffic. The socket installs and removes the rules itself (there are no
 * held packets to answer before they go).
 * @module
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { createDivertSocket, type SniffedPacket } from '../../mod.js';
import { PcapWriter } from '../../pcap/pcap_writer.js';
import type { CliIo } from '../io.js';
import type { InterceptOptions } from './intercept_args.js';
import { checkFirewallRule } from './intercept_rules.js';
import { packetRecord } from '../format/record.js';
import { formatLine } from '../format/line.js';
import { formatJson } from '../format/json.js';
import { formatHex } from '../format/hex.js';
import { classicBanner, formatClassicPacket } from '../format/classic.js';
import { onStopSignals } from '../stop_signals.js';

const NAME = 'divert intercept';
const PROG = 'divert';

function print(p: SniffedPacket, o: InterceptOptions, out: (s: string) => void): void {
  if (o.format === 'classic') out(formatClassicPacket(PROG, p.packet, p.address));
  else if (o.format !== 'none') {
    const r = packetRecord(p.packet, p.address, 'sniffed');
    out((o.format === 'json' ? formatJson(r) : formatLine(r)) + '\n');
  }
  if (o.hex) out(formatHex(p.packet));
}

/** Opens the sniffing socket with the run's rules, prints until -c, a signal or an error, and cleans up. */
export async function runSniff(o: InterceptOptions, io: CliIo): Promise<number> {
  if (o.firewall !== undefined) checkFirewallRule(o.firewall, o.port ?? 0, false);
  const sock = createDivertSocket({
    sniff: true, port: o.port, netns: o.netns, handleSignals: false, defragment: o.defragment, priority: o.priority,
    ...(o.filter === undefined ? {} : { filter: o.filter }),
    ...(o.firewall === undefined ? {} : { rules: [o.firewall] }),
  });
  // An exit without close (an uncaught error): the rules go synchronously; SIGKILL: the kernel's owner table.
  const onExit = (): void => sock.exitSync();
  process.on('exit', onExit);
  const onSignal = (): void => void sock.close().catch(() => {});
  const offStopSignals = onStopSignals(onSignal); // Ctrl-C, kill, a closed terminal: the same clean end
  let pcapFd: number | undefined;
  let received = 0;
  try {
    if (o.format === 'classic') io.stderr(classicBanner(PROG).stderr);
    await sock.ready;
    const port = sock.port!;
    if (o.write !== undefined) pcapFd = openSync(o.write, 'w');
    const pcap = pcapFd === undefined ? undefined : new PcapWriter((c) => void writeSync(pcapFd!, c));
    if (o.format === 'classic') io.stdout(classicBanner(PROG).stdout);
    else {
      const rule = o.firewall === undefined ? '' : `, rule "${o.firewall.trim()} -j SNIFF ${port}"`;
      io.stderr(`${NAME}: sniffing on port ${port} (NFLOG group ${port})${o.netns ? ` in netns ${o.netns}` : ''}${rule}${o.filter ? `, filter "${o.filter}"` : ''}\n`);
    }
    for await (const p of sock) {
      received++;
      pcap?.writePacket(p.packet, p.address.timestamp ?? Date.now(), p.address.originalLength);
      print(p, o, io.stdout);
      if (o.count !== undefined && received >= o.count) break;
    }
    await sock.close();
    const { overruns } = sock.stats;
    const lost = overruns > 0 ? `, copies lost ${overruns} time${overruns === 1 ? '' : 's'} (socket buffer full)` : '';
    io.stderr(`${received} packet${received === 1 ? '' : 's'} sniffed (copies: the packets went on)${lost}\n`);
    return 0;
  } finally {
    await sock.close().catch((err: unknown) => io.stderr(`${NAME}: cleanup: ${(err as Error).message}\n`));
    if (pcapFd !== undefined) closeSync(pcapFd);
    offStopSignals();
    process.off('exit', onExit);
  }
}
