/**
 * `divert intercept <port>:<last>`: a multi-queue socket (one worker thread per port, see
 * src/divert/workers.ts) runs intercept_worker.ts on each port's packets; this thread prints what
 * they send, writes the capture, counts, and stops after -c, on a signal or an error.
 * @module
 */
import { closeSync, writeSync } from 'node:fs';
import { createDivertSocket } from '../../mod.js';
import { PcapWriter } from '../../pcap/pcap_writer.js';
import type { CliIo } from '../io.js';
import { formatSummary, type InterceptCounts } from '../format/status.js';
import { LENGTH_LEGEND, type InterceptOptions } from './intercept_args.js';
import { StatusLine } from '../status_line.js';
import { readRangeCounters, type QueueCounters } from '../queue_proc.js';
import type { InterceptWorkerData, InterceptWorkerRecord } from './intercept_worker.js';
import { onStopSignals } from '../stop_signals.js';

const NAME = 'divert intercept';

/** Runs the command over ports `o.port`…`o.lastPort`; `pcapFd` is the -w file, already open. */
export async function runWorkers(o: InterceptOptions, io: CliIo, pcapFd: number | undefined): Promise<number> {
  const counts: InterceptCounts = { received: 0, reinjected: 0, dropped: 0 };
  const [first, last] = [o.port!, o.lastPort!]; // a range: both given (see intercept_args)
  const data: InterceptWorkerData = { verdict: o.verdict, format: o.format === 'classic' ? 'line' : o.format, hex: o.hex, capture: pcapFd !== undefined };
  const sock = createDivertSocket({
    port: `${o.port}:${o.lastPort}`,
    worker: new URL('./intercept_worker.js', import.meta.url),
    workerData: data,
    netns: o.netns, handleSignals: false, passThrough: o.passThrough, defragment: o.defragment, priority: o.priority,
    ...(o.filter === undefined ? {} : { filter: o.filter }),
    ...(o.firewall === undefined ? {} : { rules: [o.firewall] }),
  });
  const pcap = pcapFd === undefined ? undefined : new PcapWriter((c) => void writeSync(pcapFd, c));
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let failure: Error | undefined;
  let status: StatusLine | undefined;
  sock.on('message', (m) => {
    if (o.count !== undefined && counts.received >= o.count) return; // answered by its worker; past -c, not shown
    const r = m as InterceptWorkerRecord;
    counts.received++;
    if (o.verdict === 'drop') counts.dropped++;
    else counts.reinjected++;
    if (r.capture) pcap?.writePacket(r.capture.bytes, r.capture.timestamp, r.capture.originalLength);
    if (r.text) {
      status?.hide();
      io.stdout(r.text);
    }
    if (o.count !== undefined && counts.received >= o.count) done();
  });
  sock.on('error', (err) => {
    failure = err;
    done();
  });
  const onSignal = (): void => done();
  const offStopSignals = onStopSignals(onSignal); // Ctrl-C, kill, a closed terminal: the same clean end
  const onExit = (): void => sock.exitSync();
  process.on('exit', onExit);
  try {
    await sock.ready;
    const ports = `${o.port}-${o.lastPort}`;
    io.stderr(`${NAME}: listening on divert ports ${ports} (a worker thread each)${o.netns ? ` in netns ${o.netns}` : ''}${o.firewall ? `, rule "${o.firewall} -j DIVERT ${o.port}:${o.lastPort}"` : ''}${o.filter ? `, filter "${o.filter}"` : ''}${o.format === 'line' ? `; ${LENGTH_LEGEND}` : ''}\n`);
    // The live line and the summary add up the kernel's counters of every port of the range.
    if (io.stderrIsTty) status = new StatusLine(io.stderr, () => counts, [first, last], o.netns);
    await finished;
    // Read while the queues are still bound: closing unbinds them and their counters go.
    const kernel: QueueCounters | undefined = (await readRangeCounters(first, last, o.netns)) ?? status?.kernel;
    status?.stop();
    await sock.close();
    if (failure) throw failure;
    io.stderr(`${formatSummary(counts, kernel)}\n`);
    return 0;
  } finally {
    status?.stop();
    await sock.close().catch((err: unknown) => io.stderr(`${NAME}: cleanup: ${(err as Error).message}\n`));
    if (pcapFd !== undefined) closeSync(pcapFd);
    offStopSignals();
    process.off('exit', onExit);
  }
}
