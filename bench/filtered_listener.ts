/**
 * The filtered side of the throughput bench: a divert socket whose WinDivert filter matches one
 * destination port, reinjecting what reaches it, while a flood spreads over a hundred ports.
 * usage: node dist/bench/filtered_listener.js '<filter>' <seconds> [coalesceMs]   (inside the bench namespace)
 * Prints "ready"; measures from a "go" line on stdin (after the bench warmed it up with matching
 * traffic) for <seconds>, then prints "packets=… filtered=… seconds=… cpu_us=…".
 */
import { createInterface } from 'node:readline';
import { createDivertSocket } from '../src/mod.js';

const filter = process.argv[2] ?? 'udp.DstPort == 9999';
const seconds = Number(process.argv[3] ?? 3);
const coalesceMs = Number(process.argv[4] ?? 0);
const sock = createDivertSocket({ filter, verdictTimeoutMs: 0, handleSignals: false, coalesceMs });
await sock.ready;
const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
createInterface({ input: process.stdin }).once('line', () => {
  const before = sock.stats;
  const cpu0 = cpuUs();
  const t0 = performance.now();
  setTimeout(() => {
    const s = sock.stats;
    const packets = s.received - s.filtered - (before.received - before.filtered);
    process.stdout.write(`packets=${packets} filtered=${s.filtered - before.filtered} seconds=${((performance.now() - t0) / 1000).toFixed(3)} cpu_us=${cpuUs() - cpu0}\n`);
    process.exit(0);
  }, seconds * 1000);
});
process.stdout.write('ready\n');
for await (const p of sock) p.reinject();
