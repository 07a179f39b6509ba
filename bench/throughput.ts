/**
 * `npm run bench`'s throughput comparison: C libnetfilter_queue loops and divert's listeners on
 * one namespace testbed (bench/testbed.ts), in one run, sender and listener pinned, for 64-byte
 * UDP, 1400-byte UDP and a TCP bulk flow forwarded through a router namespace; then multi-queue
 * at a fixed offered rate, and filters in the kernel.
 *
 * Every repetition runs every row once, in list order on even repetitions and reversed on odd
 * ones (so C and divert alternate who goes first); a row's ratio to its C reference is taken per
 * repetition, then its median and spread (min–max). Knobs: BENCH_REPS (5), BENCH_SECONDS (1.5, the
 * measured window), BENCH_WARMUP (0.5 s before it), BENCH_SCENARIOS (udp64,udp64fixed,udp1400,tcp,mq,filtered), BENCH_FIXED_RATE (udp64fixed's open-loop rate, 200000).
 * Needs root, gcc, libnetfilter-queue-dev, libmnl-dev.
 */
import { buildC } from './build_c.js';
import { filteredReport, runFiltered, type FilteredRep } from './filtered.js';
import { machineLine } from './machine.js';
import { MQ_RATE, runMq, type MqSample } from './mq_check.js';
import { TCP_ROWS, UDP_ROWS, type Row } from './programs.js';
import { scenarioTable, summaryTable, type ScenarioResult } from './report.js';
import { clearRules, runTcp, runUdp, type Outcome, type RunContext } from './run_row.js';
import { showSpread } from './stats.js';
import { FLOW_SOURCES, LISTENER_CPU, SENDER_CPU, setup, teardown } from './testbed.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 5);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 1.5);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 0.5);
const SCENARIOS = (process.env['BENCH_SCENARIOS'] ?? 'udp64,udp64fixed,udp1400,tcp,mq,filtered').split(',');
/** The open-loop rate of udp64fixed: near what the sender can make, so "carried with zero loss" means something. */
const FIXED_RATE = Number(process.env['BENCH_FIXED_RATE'] ?? 200_000);

const LEGEND = `Throughput is a closed-loop measure (not the highest zero-loss open-loop rate): the UDP flood sends as fast as sendmmsg goes,
from 16 flows; a UDP row's rate is the packets its listener verdicted per second, its loss the queue's kernel + user drops
(/proc/net/netfilter/nfnetlink_queue, listener namespace) over the packets offered to the queue (queued or dropped for a full
one). Where loss is ~0 the sender, not the listener, set the rate: compare CPU per packet there. The TCP flow's rate is what
its receiver read per second. Listener busy: its CPU time over the window (loss while well below 100 % busy: the listener was
waiting to be woken or scheduled, not computing). Ratios are taken per repetition (same run, adjacent in time), then their
median (min–max); TCP's CPU ratio is per byte received (a packet there is a segment or a super-packet by the GSO setting).`;

function scenario(title: string, unit: 'pps' | 'bps', rows: readonly Row[]): ScenarioResult {
  return { title, unit, rows, samples: new Map(rows.map((r) => [r.id, []])), skipped: new Map() };
}

/** Runs every row of `s` once (in `order`), recording repetition `rep`'s samples. */
async function repetition(s: ScenarioResult, rep: number, runOne: (row: Row) => Promise<Outcome>): Promise<string> {
  const order = rep % 2 === 0 ? [...s.rows] : [...s.rows].reverse();
  const parts: string[] = [];
  for (const row of order) {
    if (s.skipped.has(row.id)) continue;
    let outcome: Outcome;
    try {
      outcome = await runOne(row);
    } catch (err) {
      parts.push(`${row.id} failed (${(err as Error).message.split('\n')[0]})`);
      s.samples.get(row.id)![rep] = undefined;
      continue;
    }
    if ('skipped' in outcome) {
      s.skipped.set(row.id, outcome.skipped);
      parts.push(`${row.id} skipped`);
      continue;
    }
    s.samples.get(row.id)![rep] = outcome.sample;
    const r = outcome.sample.rate;
    parts.push(`${row.id} ${s.unit === 'pps' ? `${Math.round(r / 1000)}k` : `${(r / 1e9).toFixed(2)}G`}`);
  }
  return parts.join(', ');
}

export async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('throughput: skipped (needs root to build the namespace testbed)');
    return;
  }
  const t0 = performance.now();
  const ctx: RunContext = { bins: buildC(), distBench: new URL('./', import.meta.url).pathname, warmupS: WARMUP, seconds: SECONDS };
  console.log(machineLine());
  console.log(`${REPS} repetitions of ${SECONDS} s windows after ${WARMUP} s of warm-up; sender on CPU ${SENDER_CPU}, listener on CPU ${LISTENER_CPU}; median (min–max)`);
  console.log(LEGEND);
  const udp64 = scenario('udp64: 64-byte UDP, packets/s verdicted', 'pps', UDP_ROWS);
  const udp64fixed = scenario(`udp64fixed: 64-byte UDP offered open-loop at ${FIXED_RATE.toLocaleString('en-US')} packets/s, packets/s verdicted (zero loss: carried whole)`, 'pps', UDP_ROWS);
  const udp1400 = scenario('udp1400: 1400-byte UDP, packets/s verdicted', 'pps', UDP_ROWS);
  const tcp = scenario('tcp: one TCP bulk flow via a router whose FORWARD traffic is all diverted, bits/s at the receiver', 'bps', TCP_ROWS);
  const mq: { one: (MqSample | undefined)[]; four: (MqSample | undefined)[]; skipped?: string } = { one: [], four: [] };
  const filtered: FilteredRep[] = [];
  const want = (name: string): boolean => SCENARIOS.includes(name);
  setup();
  try {
    for (let rep = 0; rep < REPS; rep++) {
      console.log(`repetition ${rep + 1}/${REPS} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      if (want('udp64')) console.log(`  udp64: ${await repetition(udp64, rep, (row) => runUdp(row, ctx, 64))}`);
      if (want('udp64fixed')) console.log(`  udp64fixed: ${await repetition(udp64fixed, rep, (row) => runUdp(row, ctx, 64, FIXED_RATE))}`);
      if (want('udp1400')) console.log(`  udp1400: ${await repetition(udp1400, rep, (row) => runUdp(row, ctx, 1400))}`);
      if (want('tcp')) console.log(`  tcp: ${await repetition(tcp, rep, (row) => runTcp(row, ctx))}`);
      if (want('mq') && mq.skipped === undefined) {
        for (const [ports, into] of [['10:10', mq.one], ['10:13', mq.four]] as const) {
          const r = await runMq(ctx, ports).catch((err: Error) => ({ skipped: `failed: ${err.message.split('\n')[0]}` }));
          if ('skipped' in r && !r.skipped.startsWith('failed')) mq.skipped = r.skipped;
          into[rep] = 'skipped' in r ? undefined : r;
          if ('skipped' in r) console.log(`  mq ${ports}: ${r.skipped}`);
          else console.log(`  mq ${ports}: sent ${r.sent}, received ${r.received}, reordered ${r.reordered}, ${r.cpuUsPerPacket.toFixed(2)} µs/packet, queued per queue ${r.served}`);
          if (mq.skipped !== undefined) break;
        }
      }
      if (want('filtered')) {
        await clearRules();
        filtered.push(await runFiltered(ctx));
      }
    }
  } finally {
    await clearRules().catch(() => undefined);
    teardown();
  }
  const results = [udp64, udp64fixed, udp1400, tcp].filter((s) => want(s.title.split(':')[0]!));
  for (const s of results) console.log(`\n${scenarioTable(s)}`);
  if (want('mq')) console.log(`\n${mqReport(mq)}`);
  for (const s of results.filter((r) => r.unit === 'pps')) {
    // Under the flood every worker reads full batches: what four queues cost per packet when wake-ups are amortized.
    const one = s.samples.get('d-mq1') ?? [];
    const four = s.samples.get('d-mq') ?? [];
    const ratios = four.map((x, i) => (x?.cpuUsPerPacket && one[i]?.cpuUsPerPacket ? x.cpuUsPerPacket / one[i]!.cpuUsPerPacket! : undefined)).filter((x): x is number => x !== undefined);
    if (ratios.length > 0) console.log(`${s.title.split(':')[0]}: CPU per packet, 4 workers / 1 worker under the flood, per repetition: ${showSpread(ratios, (x) => `${x.toFixed(2)}x`)}`);
  }
  if (want('filtered') && filtered.length > 0) console.log(`\n${filteredReport(filtered, udp64.samples.get('d-iter') ?? [], udp64.samples.get('c-pp') ?? [])}`);
  console.log(`\nsummary (medians; ×ref, CPU×ref: paired ratios of rate and of CPU per packet (TCP: per byte) to the row's C reference):\n${summaryTable(results)}`);
  console.log(`\nthroughput bench: ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
}

function mqReport(mq: { one: (MqSample | undefined)[]; four: (MqSample | undefined)[]; skipped?: string }): string {
  const head = `multi-queue: the worker handler on 1 queue (DIVERT 10) and on 4 (DIVERT 10:13), ${FLOW_SOURCES.length} flows of 64-byte UDP offered at ${MQ_RATE.toLocaleString('en-US')} packets/s (open loop)`;
  if (mq.skipped !== undefined) return `${head}\n  skipped: ${mq.skipped}`;
  const lines = [head];
  for (const [name, xs] of [['1 queue ', mq.one], ['4 queues', mq.four]] as const) {
    const ok = xs.filter((x): x is MqSample => x !== undefined);
    if (ok.length === 0) {
      lines.push(`  ${name}: no result`);
      continue;
    }
    lines.push(`  ${name}: lost ${showSpread(ok.map((x) => x.sent - x.received), String)} of ${showSpread(ok.map((x) => x.sent), String)} sent, reordered ${showSpread(ok.map((x) => x.reordered), String)}, µs CPU/packet ${showSpread(ok.map((x) => x.cpuUsPerPacket), (x) => x.toFixed(2))}, queued per queue (last run) ${ok.at(-1)!.served}`);
  }
  const four = mq.four.filter((x): x is MqSample => x !== undefined);
  const allServed = four.every((x) => x.served.split(',').every((q) => Number(q.split(':')[1]) > 0));
  if (four.length > 0) lines.push(`  every one of the 4 queues got packets in every repetition: ${allServed ? 'yes' : 'NO'}`);
  const ratios = mq.four.map((x, i) => (x && mq.one[i] ? x.cpuUsPerPacket / mq.one[i]!.cpuUsPerPacket : undefined)).filter((x): x is number => x !== undefined);
  lines.push(`  CPU per packet, 4 queues / 1 queue per repetition: ${showSpread(ratios, (x) => `${x.toFixed(2)}x`)}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
