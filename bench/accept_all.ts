/**
 * The divert side of the throughput bench: an accept-all listener, the same job as
 * bench/c/nfq_accept.c, through the public API (`for await` + `reinject()`).
 * usage: node dist/bench/accept_all.js <port> <seconds>   (run inside the bench namespace)
 * Measures a window of <seconds> from the first packet; prints "packets=… seconds=… cpu_us=…".
 */
import { createDivertSocket } from '../src/mod.js';

const port = Number(process.argv[2]);
const seconds = Number(process.argv[3] ?? 3);
const sock = createDivertSocket({ port, verdictTimeoutMs: 0, handleSignals: false });
let packets = 0;
let first = 0;
let cpu0 = 0;
let finished = false;

const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

function finish(): void {
  if (finished) return;
  finished = true;
  const elapsed = first ? (performance.now() - first) / 1000 : 0;
  process.stdout.write(`packets=${packets} seconds=${elapsed.toFixed(3)} cpu_us=${first ? cpuUs() - cpu0 : 0}\n`);
  void sock.close();
}

const idle = setTimeout(finish, 10_000);
process.stdout.write('ready\n');
for await (const p of sock) {
  p.reinject();
  if (finished) continue;
  if (first === 0) {
    first = performance.now();
    cpu0 = cpuUs();
    clearTimeout(idle);
    setTimeout(finish, seconds * 1000);
  } else {
    packets++;
  }
}
