/**
 * `divert chaos`: clumsy for Linux. Impairs the packets a rule or filter selects (drop, lag,
 * duplicate, reorder, tamper, throttle) until Ctrl-C, then releases everything it holds, removes
 * its rules and prints a summary. See CHAOS_HELP for the flags and src/chaos/ for the engine.
 * @module
 */
import { createChaos, type Chaos } from '../../chaos/chaos.js';
import type { ChaosStats } from '../../chaos/engine.js';
import type { CliIo } from '../io.js';
import { reportError } from '../report_error.js';
import { StatusLine } from '../status_line.js';
import { CHAOS_HELP, parseChaosArgs, type ChaosCliOptions } from './chaos_args.js';
import { checkFirewallRule } from './intercept_rules.js';
import { formatChaosStatus, formatChaosSummary, formatSettings } from '../format/chaos.js';
import { onStopSignals } from '../stop_signals.js';

const NAME = 'divert chaos';

/** Runs until SIGINT, SIGTERM or SIGHUP (or a socket error), then cleans up. */
async function run(o: ChaosCliOptions, io: CliIo): Promise<number> {
  if (o.firewall !== undefined) checkFirewallRule(o.firewall, o.port ?? 0, o.passThrough);
  // Settings no timer or queue can honour throw here, before anything is opened.
  const chaos: Chaos = createChaos({
    port: o.port, netns: o.netns, filter: o.filter, priority: o.priority, passThrough: o.passThrough, defragment: o.defragment,
    ...(o.firewall === undefined ? {} : { rules: [o.firewall] }),
    handleSignals: false,
    ...o.impairment,
  });
  chaos.on('warning', (err: Error) => io.stderr(`${NAME}: ${err.message}\n`));
  // A crash or process.exit(): the socket still answers what it holds (its rules go with the process's table).
  const onExit = (): void => chaos.socket.exitSync();
  process.on('exit', onExit);
  let status: StatusLine<ChaosStats> | undefined;
  let stopSignal: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (stopSignal = resolve));
  const onSignal = (): void => stopSignal?.();
  const offStopSignals = onStopSignals(onSignal); // Ctrl-C, kill, a closed terminal: the same clean end
  try {
    await chaos.ready;
    const port = chaos.port!;
    const what = [o.firewall ? `rule "${o.firewall} -j DIVERT ${port}"` : '', o.filter ? `filter "${o.filter}"` : ''].filter(Boolean).join(', ');
    io.stderr(`${NAME}: impairing packets on divert port ${port}${o.netns ? ` in netns ${o.netns}` : ''}${what ? `, ${what}` : ''}: ${formatSettings(chaos.settings)}\n`);
    if (io.stderrIsTty) status = new StatusLine(io.stderr, () => chaos.stats, port, o.netns, formatChaosStatus);
    // The run ends on a signal, or when the socket ends by itself (an error: chaos.done rejects).
    await Promise.race([stopped, chaos.done]);
    status?.stop();
    await chaos.close();
    await chaos.done;
    io.stderr(`${formatChaosSummary(chaos.stats, chaos.settings.seed)}\n`);
    return 0;
  } finally {
    status?.stop();
    await chaos.close().catch((err: unknown) => io.stderr(`${NAME}: cleanup: ${(err as Error).message}\n`));
    offStopSignals();
    process.off('exit', onExit);
  }
}

/**
 * Runs `divert chaos` with argv after "chaos".
 * @returns the exit code: 0 ok (stopped by Ctrl-C), 1 runtime failure, 2 usage error.
 */
export async function chaosCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const o = parseChaosArgs(argv);
    if (o === 'help') {
      io.stdout(CHAOS_HELP);
      return 0;
    }
    return await run(o, io);
  } catch (err) {
    return reportError(NAME, err, io);
  }
}
