/**
 * Accept-all throughput on a veth testbed: divert (TypeScript) beside a minimal C
 * libnetfilter_queue listener, same kernel, same namespaces, same traffic, same run.
 *
 * Testbed: namespace "sender" floods 64-byte UDP datagrams (bench/c/udp_flood.c, bounded in time
 * and count) over a veth pair to namespace "listener", where a DIVERT rule on input queues them.
 * Each listener measures a window from its first packet: packets verdicted per second and its
 * own CPU microseconds per packet. Repeated BENCH_REPS times (default 5), C and divert in
 * alternating order; medians and spreads are printed with the machine. The DIVERT rule is
 * persistent (the listeners are other processes), made over divert's own netlink.
 * Needs root, gcc, libnetfilter-queue-dev, libmnl-dev.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { addRule, flushRules } from '../src/firewall/mod.js';
import { machineLine, spread } from './machine.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const OUT = `${ROOT}bench/out`;
const WINDOW_S = Number(process.env['BENCH_SECONDS'] ?? 3);
const PAYLOAD = 64;
const QUEUE = 4242;
const SENDER_CPU = '0';
const LISTENER_CPU = '1';
const tag = `dvb${process.pid}`;
const sender = `${tag}s`;
const listener = `${tag}l`;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function build(): { nfq: string; flood: string } {
  mkdirSync(OUT, { recursive: true });
  const libs = sh('pkg-config', ['--cflags', '--libs', 'libnetfilter_queue', 'libmnl']).trim().split(/\s+/);
  sh('gcc', ['-O2', '-o', `${OUT}/nfq_accept`, `${ROOT}bench/c/nfq_accept.c`, ...libs]);
  sh('gcc', ['-O2', '-o', `${OUT}/udp_flood`, `${ROOT}bench/c/udp_flood.c`]);
  return { nfq: `${OUT}/nfq_accept`, flood: `${OUT}/udp_flood` };
}

async function setup(): Promise<void> {
  sh('ip', ['netns', 'add', sender]);
  sh('ip', ['netns', 'add', listener]);
  sh('ip', ['link', 'add', `${tag}a`, 'netns', sender, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', listener]);
  sh('ip', ['-n', sender, 'addr', 'add', '198.18.200.1/24', 'dev', `${tag}a`]);
  sh('ip', ['-n', listener, 'addr', 'add', '198.18.200.2/24', 'dev', `${tag}b`]);
  for (const [ns, dev] of [[sender, `${tag}a`], [listener, `${tag}b`]] as const) {
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

function teardown(): void {
  for (const ns of [sender, listener]) {
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // not created
    }
  }
}

interface Result { name: string; pps: number; cpuUsPerPacket: number; packets: number }

interface Started {
  /** Everything it printed so far. */
  out(): string;
  /** Resolves when it said "ready", or (so the bench never hangs) when it died before saying so. */
  ready: Promise<void>;
  /** Resolves when it ended (SIGKILLed after `limitS`). */
  done: Promise<void>;
  stdin: NodeJS.WritableStream | null;
}

/**
 * Starts a listener in the listener namespace, pinned to CPU 1 (the sender and the softirq work
 * it triggers run on CPU 0, for every listener alike; unpinned runs wander and vary by half).
 */
function startListener(argv: string[], limitS: number): Started {
  const child = spawn('ip', ['netns', 'exec', listener, 'taskset', '-c', LISTENER_CPU, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const kill = setTimeout(() => child.kill('SIGKILL'), limitS * 1000);
  const done = new Promise<void>((resolve) => child.on('close', () => {
    clearTimeout(kill);
    resolve();
  }));
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    void done.then(resolve);
  });
  return { out: () => out, ready, done, stdin: child.stdin };
}

/** Floods `seconds` of 64-byte datagrams to port 9999 (spread over `spread` ports); returns the flood's report. */
function flood(bin: string, seconds: number, spread = 1): string {
  return sh('ip', ['netns', 'exec', sender, 'taskset', '-c', SENDER_CPU, bin, '198.18.200.2', '9999', String(PAYLOAD), String(seconds), '50000000', String(spread)]);
}

async function runListener(name: string, argv: string[], floodBin: string): Promise<Result> {
  const l = startListener(argv, WINDOW_S + 20);
  await l.ready;
  await new Promise((r) => setTimeout(r, 300));
  // Flood a little longer than the window so the listener is saturated for all of it.
  flood(floodBin, WINDOW_S + 1.5);
  await l.done;
  const m = /packets=(\d+) seconds=([\d.]+) cpu_us=(\d+)/.exec(l.out());
  if (!m) throw new Error(`${name} printed no result: ${l.out()}`);
  const packets = Number(m[1]);
  const seconds = Number(m[2]);
  return { name, packets, pps: packets / seconds, cpuUsPerPacket: Number(m[3]) / Math.max(packets, 1) };
}

const FILTER = 'udp.DstPort == 9999';
/** The filtered listener's second run: sparse packets read in batches, each waiting up to this long. */
const COALESCE_MS = Number(process.env['BENCH_COALESCE_MS'] ?? 5);
const SPREAD = 100;

/** The filtered listener over a spread flood: what it received, and its CPU over the flood. */
async function runFiltered(floodBin: string, coalesceMs = 0): Promise<{ offered: number; matched: number; filtered: number; cpuUs: number }> {
  const l = startListener([process.execPath, `${ROOT}dist/bench/filtered_listener.js`, FILTER, String(WINDOW_S + 1), String(coalesceMs)], WINDOW_S + 25);
  await l.ready;
  // Warm up with matching traffic (the JIT compiles the packet path), then measure the spread flood.
  flood(floodBin, 1);
  await new Promise((r) => setTimeout(r, 300));
  l.stdin?.write('go\n');
  const sent = flood(floodBin, WINDOW_S, SPREAD);
  await l.done;
  const m = /packets=(\d+) filtered=(\d+) seconds=[\d.]+ cpu_us=(\d+)/.exec(l.out());
  const offered = Number(/sent=(\d+)/.exec(sent)?.[1] ?? 0);
  if (!m || offered === 0) throw new Error(`filtered listener printed no result: ${l.out()} ${sent}`);
  return { offered, matched: Number(m[1]), filtered: Number(m[2]), cpuUs: Number(m[3]) };
}

/**
 * The C reference for the filtered run: the C listener behind the kernel rule the filter compiles
 * to (UDP to port 9999 queued, the rest decided in the kernel), over the same spread flood. What
 * one sparse packet costs a listener that wakes for it, in C: the floor for divert's filtered figure.
 */
async function runFilteredC(bins: { nfq: string; flood: string }): Promise<{ offered: number; matched: number; cpuUs: number }> {
  await addRule(`-A input -p udp --dport 9999 -j DIVERT ${QUEUE}`, { netns: listener, owner: 'cli' });
  try {
    const l = startListener([bins.nfq, String(QUEUE), String(WINDOW_S + 1)], WINDOW_S + 20);
    await l.ready;
    await new Promise((r) => setTimeout(r, 300));
    const sent = flood(bins.flood, WINDOW_S, SPREAD);
    await l.done;
    const m = /packets=(\d+) seconds=[\d.]+ cpu_us=(\d+)/.exec(l.out());
    const offered = Number(/sent=(\d+)/.exec(sent)?.[1] ?? 0);
    if (!m || offered === 0) throw new Error(`C filtered listener printed no result: ${l.out()} ${sent}`);
    return { offered, matched: Number(m[1]), cpuUs: Number(m[2]) };
  } finally {
    await flushRules({ netns: listener });
  }
}

const REPS = Number(process.env['BENCH_REPS'] ?? 5);

/** `median (min–max)` of a sample, each value printed by `f`. */
function show(xs: readonly number[], f: (x: number) => string): string {
  const { median, min, max } = spread(xs);
  return `${f(median)} (${f(min)}–${f(max)})`;
}

export async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('throughput: skipped (needs root to build the veth testbed)');
    return;
  }
  const bins = build();
  console.log(machineLine());
  console.log(`${REPS} repetitions, each: the C listener and divert's on the same flood (order alternating), then the filtered listener; median (min–max)`);
  const C_NAME = 'C libnetfilter_queue (per-packet recv + verdict)';
  const JS_NAME = 'divert (TypeScript, for await + reinject)';
  const runs: Array<{ c: Result; js: Result; share: number; kernelShare: number; cpuPerOffered: number; cCpuPerOffered: number; cShare: number; cPerMatched: number; jsPerMatched: number; coalescedShare: number; coalescedPerMatched: number }> = [];
  await setup();
  try {
    for (let rep = 0; rep < REPS; rep++) {
      await flushRules({ netns: listener });
      await addRule(`-A input -p udp --dport 9999 -j DIVERT ${QUEUE}`, { netns: listener, owner: 'cli' });
      const runC = (): Promise<Result> => runListener(C_NAME, [bins.nfq, String(QUEUE), String(WINDOW_S)], bins.flood);
      const runJs = (): Promise<Result> => runListener(JS_NAME, [process.execPath, `${ROOT}dist/bench/accept_all.js`, String(QUEUE), String(WINDOW_S)], bins.flood);
      let c: Result;
      let js: Result;
      if (rep % 2 === 0) {
        c = await runC();
        js = await runJs();
      } else {
        js = await runJs();
        c = await runC();
      }
      await flushRules({ netns: listener });
      const f = await runFiltered(bins.flood);
      const fc = await runFilteredC(bins);
      const fk = await runFiltered(bins.flood, COALESCE_MS);
      const cpuPerOffered = f.cpuUs / f.offered;
      const cCpuPerOffered = fc.cpuUs / fc.offered;
      runs.push({
        c, js, share: cpuPerOffered / js.cpuUsPerPacket, kernelShare: 1 - (f.matched + f.filtered) / f.offered, cpuPerOffered,
        cCpuPerOffered, cShare: cCpuPerOffered / c.cpuUsPerPacket, cPerMatched: fc.cpuUs / Math.max(fc.matched, 1), jsPerMatched: f.cpuUs / Math.max(f.matched, 1),
        coalescedShare: fk.cpuUs / fk.offered / js.cpuUsPerPacket, coalescedPerMatched: fk.cpuUs / Math.max(fk.matched, 1),
      });
      console.log(`  run ${rep + 1}: C ${Math.round(c.pps).toLocaleString('en-US')} p/s ${c.cpuUsPerPacket.toFixed(2)} µs, divert ${Math.round(js.pps).toLocaleString('en-US')} p/s ${js.cpuUsPerPacket.toFixed(2)} µs; filtered: divert ${(100 * runs.at(-1)!.share).toFixed(2)}% of its accept-all CPU (${f.matched} of ${f.offered} reached it), C ${(100 * runs.at(-1)!.cShare).toFixed(2)}% of its own (${fc.matched} of ${fc.offered}), divert with coalesceMs ${COALESCE_MS} ${(100 * runs.at(-1)!.coalescedShare).toFixed(2)}% (${fk.matched} of ${fk.offered})`);
    }
  } finally {
    teardown();
  }
  const pps = (x: number): string => `${Math.round(x).toLocaleString('en-US')}`;
  const us = (x: number): string => x.toFixed(2);
  const ratio = (x: number): string => `${x.toFixed(2)}x`;
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  console.log(`\naccept-all, ${PAYLOAD}-byte UDP payloads, ${WINDOW_S} s windows, veth, listener pinned to CPU ${LISTENER_CPU}, sender to CPU ${SENDER_CPU}:`);
  for (const [name, rs] of [[C_NAME, runs.map((r) => r.c)], [JS_NAME, runs.map((r) => r.js)]] as const) {
    console.log(`  ${name.padEnd(50)} packets/s ${show(rs.map((r) => r.pps), pps)}   µs CPU/packet ${show(rs.map((r) => r.cpuUsPerPacket), us)}`);
  }
  console.log(`  ratio divert/C per run: packets/s ${show(runs.map((r) => r.js.pps / r.c.pps), ratio)}, CPU per packet ${show(runs.map((r) => r.js.cpuUsPerPacket / r.c.cpuUsPerPacket), ratio)}`);
  console.log(`\nfilter "${FILTER}" over a flood spread across ${SPREAD} ports (1 in ${SPREAD} matches):`);
  console.log(`  decided in the kernel: ${show(runs.map((r) => r.kernelShare), pct)} of offered packets`);
  const perOffered = (x: number): string => `${x.toFixed(4)} µs`;
  console.log(`  divert listener CPU per offered packet: ${show(runs.map((r) => r.cpuPerOffered), perOffered)} = ${show(runs.map((r) => r.share), pct)} of the same run's divert accept-all CPU per packet`);
  console.log(`  C listener behind the same kernel rule:  ${show(runs.map((r) => r.cCpuPerOffered), perOffered)} = ${show(runs.map((r) => r.cShare), pct)} of the same run's C accept-all CPU per packet`);
  console.log(`  CPU per packet that reached the listener: divert ${show(runs.map((r) => r.jsPerMatched), us)} µs, C ${show(runs.map((r) => r.cPerMatched), us)} µs (each sparse packet is a wake-up of its own); divert/C per run ${show(runs.map((r) => r.cpuPerOffered / r.cCpuPerOffered), ratio)}`);
  console.log(`  divert with coalesceMs: ${COALESCE_MS} (sparse packets read in batches, each waiting up to ${COALESCE_MS} ms): ${show(runs.map((r) => r.coalescedShare), pct)} of the same run's divert accept-all CPU per packet; ${show(runs.map((r) => r.coalescedPerMatched), us)} µs per packet that reached it`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
