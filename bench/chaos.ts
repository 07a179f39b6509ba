/**
 * What `divert chaos` does to traffic, measured on a veth testbed: the delay distribution of
 * `lag ± jitter` (a histogram of ping RTTs, the lag on the requests only), the loss rate of
 * `drop` against the setting, and TCP goodput against `throttle`. The tests assert bounds; this
 * prints the distributions themselves.
 *
 * Testbed: namespaces "a" and "b" joined by a veth pair (198.18.201.0/24); createChaos() runs in
 * this process on b's input (its `netns` option), the traffic comes from divert's own ping and
 * the demo's peer (src/cli/demo/peer.ts), bounded in count and time. Needs root.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createChaos, type ChaosOptions } from '../src/chaos/mod.js';
import { ping } from '../src/cli/demo/ping.js';
import { machineLine } from './machine.js';
import { spread } from './stats.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const PEER = `${ROOT}dist/src/cli/demo/peer.js`;
const tag = `dvc${process.pid}`;
const A = `${tag}a`;
const B = `${tag}b`;
const A4 = '198.18.201.1';
const B4 = '198.18.201.2';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function setup(): void {
  sh('ip', ['netns', 'add', A]);
  sh('ip', ['netns', 'add', B]);
  sh('ip', ['link', 'add', 'eth0', 'netns', A, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', B]);
  for (const [ns, addr] of [[A, A4], [B, B4]] as const) {
    sh('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

function teardown(): void {
  for (const ns of [A, B]) {
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // not created
    }
  }
}

/** Runs the demo peer in `ns`; resolves with its JSON result (killed after `limitMs`). */
function peer(ns: string, args: string[], limitMs: number): { ready: Promise<void>; result: Promise<Record<string, unknown>> } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const result = new Promise<Record<string, unknown>>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) onReady();
    });
    child.on('close', () => {
      clearTimeout(timer);
      onReady();
      resolve(JSON.parse(out.split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as Record<string, unknown>);
    });
  });
  return { ready, result };
}

/** Runs `body` while a chaos run with `options` impairs b's input. */
async function withChaos<T>(options: ChaosOptions, body: () => Promise<T>): Promise<{ value: T; stats: ReturnType<typeof statsOf> }> {
  const chaos = createChaos({ netns: `/run/netns/${B}`, handleSignals: false, ...options });
  await chaos.ready;
  try {
    const value = await body();
    return { value, stats: statsOf(chaos) };
  } finally {
    await chaos.close();
  }
}

function statsOf(chaos: { stats: { received: number; dropped: number; released: number } }): { received: number; dropped: number; released: number } {
  const { received, dropped, released } = chaos.stats;
  return { received, dropped, released };
}

/** RTTs of 400 pings 10 ms apart, the requests held lag ± jitter. */
async function delayHistogram(lag: number, jitter: number): Promise<void> {
  const { value: r } = await withChaos({ rules: [`-A input -p icmp -s ${A4}`], lag, jitter, seed: 1 }, () =>
    ping(B4, { count: 400, intervalMs: 10, timeoutMs: 2000, deadlineMs: 15_000, netns: `/run/netns/${A}` }));
  const rtts = r.rtts;
  const s = spread(rtts);
  const sorted = [...rtts].sort((x, y) => x - y);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
  const mean = rtts.reduce((x, y) => x + y, 0) / Math.max(1, rtts.length);
  console.log(`delay, --lag ${lag}ms±${jitter}ms (uniform ${lag - jitter}..${lag + jitter} ms asked): ${rtts.length} of 400 replies, RTT mean ${mean.toFixed(1)} ms, median ${s.median.toFixed(1)}, min ${s.min.toFixed(1)}, p99 ${p99.toFixed(1)}, max ${s.max.toFixed(1)}`);
  const width = 5;
  const lo = Math.floor((lag - jitter) / width) * width - width;
  const hi = lag + jitter + 2 * width;
  const bins = new Map<number, number>();
  for (const x of rtts) {
    const b = Math.min(hi, Math.max(lo, Math.floor(x / width) * width));
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  for (let b = lo; b <= hi; b += width) {
    const n = bins.get(b) ?? 0;
    console.log(`  ${b === lo ? '≤' : b === hi ? '≥' : ' '}${String(b).padStart(4)} ms ${String(n).padStart(4)} ${'#'.repeat(Math.round(n / 2))}`);
  }
}

/** 2000 datagrams through `drop`: the loss seen by the receiver against the setting. */
async function lossRate(drop: number, port: number): Promise<void> {
  const { value: got, stats } = await withChaos({ rules: [`-A input -p udp --dport ${port}`], drop }, async () => {
    const recv = peer(B, ['udp-recv', String(port), '2000', '8000', '4'], 20_000);
    await recv.ready;
    await peer(A, ['udp-burst', B4, String(port), '2000', '0'], 20_000).result;
    return ((await recv.result)['got'] as string[] | undefined)?.length ?? 0;
  });
  console.log(`loss, --drop ${(drop * 100).toFixed(0)}%: ${2000 - got} of 2000 lost (${((1 - got / 2000) * 100).toFixed(1)}%); the engine dropped ${stats.dropped} of ${stats.received}`);
}

/** TCP goodput of about 3 s worth of data at `rate` bit/s (data and ACKs share the bucket). */
async function goodput(rate: number, port: number): Promise<void> {
  const bytes = Math.round((rate / 8) * 3);
  const { value } = await withChaos({ filter: `inbound and tcp.DstPort == ${port}`, throttle: rate }, async () => {
    const server = peer(B, ['tcp-count-server', String(port), '30000', '4'], 35_000);
    await server.ready;
    const start = performance.now();
    const r = await peer(A, ['tcp-count-client', B4, String(port), String(bytes), '30000'], 35_000).result;
    return { seconds: (performance.now() - start) / 1000, ok: typeof r['reply'] === 'string' && (r['reply'] as string).startsWith(`${bytes} `) };
  });
  const bps = (bytes * 8) / value.seconds;
  console.log(`throughput, --throttle ${rate / 1e6}mbit: ${(bytes / 1e6).toFixed(2)} MB in ${value.seconds.toFixed(2)} s = ${(bps / 1e6).toFixed(2)} mbit/s of TCP payload (${((100 * bps) / rate).toFixed(0)}% of the rate; headers count against it)${value.ok ? '' : ' — TRANSFER INCOMPLETE'}`);
}

export async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('chaos: skipped (needs root to build the veth testbed)');
    return;
  }
  console.log(machineLine());
  setup();
  try {
    await delayHistogram(100, 20);
    for (const [i, drop] of [0.01, 0.1, 0.5].entries()) await lossRate(drop, 7000 + i);
    for (const [i, rate] of [1e6, 10e6, 50e6].entries()) await goodput(rate, 7100 + i);
  } finally {
    teardown();
  }
}
