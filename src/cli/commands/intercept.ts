/**
 * `divert intercept <port>`: print every diverted packet and reinject (or drop) it, the seed's
 * §6.4 interceptor grown into a tcpdump-like tool. See INTERCEPT_HELP for the flags.
 * @module
 */
import { closeSync, writeSync } from 'node:fs';
import { createDivertSocket, type DivertPacket, type DivertSocket } from '../../mod.js';
import { PcapWriter } from '../../pcap/pcap_writer.js';
import { captured } from './captured.js';
import { openCaptureForWrite } from '../capture_file.js';
import type { CliIo } from '../io.js';
import { reportError } from '../report_error.js';
import { INTERCEPT_HELP, LENGTH_LEGEND, parseInterceptArgs, type InterceptOptions } from './intercept_args.js';
import { checkFirewallRule, installRunRules, type RunRules } from './intercept_rules.js';
import { packetRecord } from '../format/record.js';
import { formatLine } from '../format/line.js';
import { formatJson } from '../format/json.js';
import { formatHex } from '../format/hex.js';
import { classicBanner, formatClassicPacket, formatClassicReinject } from '../format/classic.js';
import { formatSummary, type InterceptCounts } from '../format/status.js';
import { StatusLine } from '../status_line.js';
import { readQueueCounters } from '../queue_proc.js';
import { runSniff } from './intercept_sniff.js';
import { runWorkers } from './intercept_workers.js';
import { onStopSignals } from '../stop_signals.js';

const NAME = 'divert intercept';
const PROG = 'divert';

/** Prints one packet in the chosen format and gives it its verdict. */
function handle(p: DivertPacket, sock: DivertSocket, o: InterceptOptions, out: (s: string) => void, counts: InterceptCounts): void {
  if (o.format === 'classic') {
    out(formatClassicPacket(PROG, p.packet, p.address));
    if (o.verdict === 'reinject') {
      const n = p.packet.length;
      const sent = sock.sendto(p.packet, p.address);
      out(formatClassicReinject(PROG, n, sent));
    }
  } else if (o.format !== 'none') {
    const r = packetRecord(p.packet, p.address, o.verdict);
    out((o.format === 'json' ? formatJson(r, o.hex ? p.packet : undefined) : formatLine(r)) + '\n');
  }
  // With --json the bytes are in the record: a hex dump between JSON lines would break jq.
  if (o.hex && o.format !== 'json') out(formatHex(p.packet));
  if (p.verdict === undefined) {
    if (o.verdict === 'drop') p.drop();
    else p.reinject();
  }
  if (o.verdict === 'drop') counts.dropped++;
  else counts.reinjected++;
}

/** Opens the socket and rules, runs the loop until -c, a signal or an error, and cleans up. */
async function run(o: InterceptOptions, io: CliIo): Promise<number> {
  if (o.firewall !== undefined) checkFirewallRule(o.firewall, o.port ?? 0, o.passThrough);
  // The pcap file first: a path that cannot be written fails before any rule is installed.
  let pcapFd = o.write === undefined ? undefined : openCaptureForWrite(o.write);
  if (o.lastPort !== undefined) return runWorkers(o, io, pcapFd);
  const counts: InterceptCounts = { received: 0, reinjected: 0, dropped: 0 };
  // With --filter the socket owns the run's rules (it must AND them with the filter); else the
  // command installs them itself, to read the kernel's counters before the queue goes.
  let sock: DivertSocket;
  try {
    sock = o.filter === undefined
      ? createDivertSocket({ netns: o.netns, handleSignals: false })
      : createDivertSocket({
        port: o.port, netns: o.netns, handleSignals: false, filter: o.filter, passThrough: o.passThrough, defragment: o.defragment, priority: o.priority,
        ...(o.firewall === undefined ? {} : { rules: [o.firewall] }),
      });
  } catch (err) {
    if (pcapFd !== undefined) closeSync(pcapFd);
    throw err;
  }
  const onExit = (): void => sock.closeSync();
  process.on('exit', onExit);
  let rules: RunRules | undefined;
  let installing: Promise<RunRules> | undefined;
  let status: StatusLine | undefined;
  let stopping: Promise<void> | undefined;
  let kernelAtEnd: Awaited<ReturnType<typeof readQueueCounters>>;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Rule first, so nothing new is queued while the socket hands back what it holds. A signal
      // may come while the rule is being installed: wait for it, then remove it too.
      try {
        await installing?.catch(() => {});
        await rules?.remove();
        if (sock.port !== undefined) kernelAtEnd = await readQueueCounters(sock.port, o.netns);
      } finally {
        await sock.close();
        rules?.release();
      }
    })());
  const onSignal = (): void => void stop().catch(() => {});
  const offStopSignals = onStopSignals(onSignal); // Ctrl-C, kill, a closed terminal: the same clean end
  try {
    if (o.format === 'classic') io.stderr(classicBanner(PROG).stderr);
    // With --filter the socket binds itself (choosing a port when none is given).
    await (o.filter === undefined ? sock.bind(o.port) : sock.ready);
    const port = sock.port!;
    if (o.filter === undefined) {
      installing = installRunRules({ ...o, port });
      rules = await installing;
    }
    const pcap = pcapFd === undefined ? undefined : new PcapWriter((c) => void writeSync(pcapFd!, c));
    if (o.format === 'classic') io.stdout(classicBanner(PROG).stdout);
    else io.stderr(`${NAME}: listening on divert port ${port}${o.netns ? ` in netns ${o.netns}` : ''}${rules?.text ? `, rule "${rules.text}"` : ''}${o.filter ? `, filter "${o.filter}"` : ''}${o.format === 'line' ? `; ${LENGTH_LEGEND}` : ''}\n`);
    if (io.stderrIsTty) status = new StatusLine(io.stderr, () => counts, port, o.netns);
    const out = (s: string): void => {
      status?.hide();
      io.stdout(s);
    };
    for await (const p of sock) {
      counts.received++;
      pcap?.writePacket(captured(p), p.address.timestamp ?? Date.now(), p.address.originalLength);
      handle(p, sock, o, out, counts);
      if (o.count !== undefined && counts.received >= o.count) break;
    }
    await stop();
    status?.stop();
    io.stderr(`${formatSummary(counts, kernelAtEnd ?? status?.kernel)}\n`);
    return 0;
  } finally {
    status?.stop();
    await stop().catch((err: unknown) => io.stderr(`${NAME}: cleanup: ${(err as Error).message}\n`));
    if (pcapFd !== undefined) closeSync(pcapFd);
    pcapFd = undefined;
    offStopSignals();
    process.off('exit', onExit);
  }
}

/**
 * Runs `divert intercept` with argv after "intercept".
 * @returns the exit code: 0 ok, 1 runtime failure, 2 usage error.
 */
export async function interceptCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const o = parseInterceptArgs(argv);
    if (o === 'help') {
      io.stdout(INTERCEPT_HELP);
      return 0;
    }
    return await (o.sniff ? runSniff(o, io) : run(o, io));
  } catch (err) {
    return reportError(NAME, err, io);
  }
}
