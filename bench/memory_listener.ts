/**
 * The listener of `npm run bench:memory`: divert accept-all (`for await` + `reinject()`, or
 * `sock.onPacket` with api "handler") until <packets> packets got their verdict, printing the
 * process's resident set size once a second.
 * usage: node dist/bench/memory_listener.js <port> <packets> [iterator|handler]
 * Prints "ready", then "sample t=<s> packets=<n> rss=<bytes>" each second, then "done packets=<n>".
 */
import { createDivertSocket, type DivertPacket } from '../src/mod.js';

const port = Number(process.argv[2]);
const target = Number(process.argv[3] ?? 10_000_000);
const api = process.argv[4] ?? 'iterator';
const sock = createDivertSocket({ port, verdictTimeoutMs: 0, handleSignals: false });
await sock.ready;
const verdicted = (): number => sock.stats.accepted;
const t0 = performance.now();
process.stdout.write('ready\n');

const timer = setInterval(() => {
  const packets = verdicted();
  process.stdout.write(`sample t=${((performance.now() - t0) / 1000).toFixed(1)} packets=${packets} rss=${process.memoryUsage.rss()}\n`);
  if (packets >= target) {
    clearInterval(timer);
    process.stdout.write(`done packets=${packets}\n`);
    void sock.close().then(() => process.exit(0));
  }
}, 1000);

if (api === 'handler') {
  const onPacket = (sock as unknown as { onPacket?: (h: (p: DivertPacket) => void) => void }).onPacket;
  if (typeof onPacket !== 'function') {
    process.stdout.write('skipped: sock.onPacket() not available yet (DivertSocket has no onPacket method)\n');
    process.exit(0);
  }
  onPacket.call(sock, (p) => p.reinject());
} else {
  for await (const p of sock) p.reinject();
}
