/**
 * `npm run bench:memory`: BENCH_MEMORY_PACKETS (10 million) packets through a divert accept-all
 * listener on the namespace testbed (64-byte UDP flood, sent in 5-second bursts until the
 * listener has answered them all), its RSS sampled every second. Prints every sample and the
 * spread of RSS after the warm-up (BENCH_MEMORY_WARMUP_S, 10 s): the target is ±5 % around the mean.
 * BENCH_MEMORY_API=handler uses sock.onPacket instead of the iterator. Bounded by 900 s.
 */
import { buildC } from './build_c.js';
import { machineLine } from './machine.js';
import { QUEUE } from './programs.js';
import { clearRules, useRule } from './run_row.js';
import { relativeSpread, spread } from './stats.js';
import { FLOW_SOURCES, LISTENER_CPU, SENDER_CPU, UDP_TARGET, run, setup, start, teardown } from './testbed.js';

const PACKETS = Number(process.env['BENCH_MEMORY_PACKETS'] ?? 10_000_000);
const WARMUP_S = Number(process.env['BENCH_MEMORY_WARMUP_S'] ?? 10);
const API = process.env['BENCH_MEMORY_API'] ?? 'iterator';
const LIMIT_S = 900;

interface RssSample { t: number; packets: number; rss: number }

export function parseSamples(out: string): RssSample[] {
  return [...out.matchAll(/^sample t=([\d.]+) packets=(\d+) rss=(\d+)$/gm)].map((m) => ({ t: Number(m[1]), packets: Number(m[2]), rss: Number(m[3]) }));
}

export async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('memory: skipped (needs root to build the namespace testbed)');
    return;
  }
  const bins = buildC();
  console.log(machineLine());
  console.log(`memory: ${PACKETS.toLocaleString('en-US')} packets through divert accept-all (${API}), RSS every second`);
  const t0 = performance.now();
  setup();
  try {
    await useRule('listener', `-A input -p udp --dport 9999 -j DIVERT ${QUEUE}`);
    const l = start('listener', LISTENER_CPU, [process.execPath, new URL('./memory_listener.js', import.meta.url).pathname, String(QUEUE), String(PACKETS), API], LIMIT_S);
    await l.ready;
    let ended = false;
    void l.done.then(() => (ended = true));
    while (!ended && !l.out().includes('done') && performance.now() - t0 < LIMIT_S * 1000) {
      run('sender', SENDER_CPU, [bins.flood, UDP_TARGET, '9999', '64', '5', String(PACKETS), '1', '0', FLOW_SOURCES.join(',')]);
      await new Promise((r) => setImmediate(r)); // let the listener's output and end be seen
    }
    const out = await l.done;
    if (out.includes('skipped:')) {
      console.log(out.trim());
      return;
    }
    const samples = parseSamples(out);
    for (const s of samples) console.log(`  t=${s.t.toFixed(0).padStart(4)} s  packets ${s.packets.toLocaleString('en-US').padStart(11)}  RSS ${(s.rss / 2 ** 20).toFixed(1)} MiB`);
    const after = samples.filter((s) => s.t >= WARMUP_S).map((s) => s.rss);
    const last = samples.at(-1);
    if (!last || last.packets < PACKETS) console.log(`  only ${last?.packets ?? 0} packets in ${LIMIT_S} s: the run is incomplete`);
    if (after.length === 0) {
      console.log('  no samples after the warm-up');
      return;
    }
    const { median, min, max } = spread(after);
    const mib = (x: number): string => `${(x / 2 ** 20).toFixed(1)} MiB`;
    const rel = relativeSpread(after);
    console.log(`after ${WARMUP_S} s of warm-up (${after.length} samples): RSS median ${mib(median)} (${mib(min)}–${mib(max)}), ±${(100 * rel).toFixed(1)} % around the mean: ${rel <= 0.05 ? 'within' : 'OUTSIDE'} the ±5 % target`);
  } finally {
    await clearRules().catch(() => undefined);
    teardown();
    console.log(`memory bench: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
