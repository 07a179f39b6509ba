/**
 * Filters in the kernel: the filter "udp.DstPort == 9999" over a flood spread across 100 ports
 * (1 in 100 matches). Per repetition: divert's filtered listener (bench/filtered_listener.ts),
 * the C per-packet listener behind the kernel rule the filter compiles to (UDP to port 9999
 * queued, the rest decided in the kernel), and divert with coalesceMs. Their CPU per offered
 * packet is set against the same repetition's accept-all CPU per packet (64-byte UDP).
 */
import { useRule, type RunContext, type Sample } from './run_row.js';
import { QUEUE } from './programs.js';
import { parseListenerResult } from './listener_result.js';
import { LISTENER_CPU, SENDER_CPU, UDP_TARGET, run, sleep, start } from './testbed.js';
import { pairedRatios, showSpread } from './stats.js';

export const FILTER = 'udp.DstPort == 9999';
const SPREAD = 100;
/** The coalescing run: sparse packets read in batches, each waiting up to this long. */
export const COALESCE_MS = Number(process.env['BENCH_COALESCE_MS'] ?? 5);

export interface FilteredRep {
  /** divert, divert with coalesceMs, C, a plain Node UDP socket: CPU µs over the flood, packets offered and matched. */
  divert: { offered: number; matched: number; filtered: number; cpuUs: number };
  coalesced: { offered: number; matched: number; filtered: number; cpuUs: number };
  c: { offered: number; matched: number; cpuUs: number };
  /** No queue at all: node:dgram bound to the matched port (what a Node wake-up costs). */
  nodeFloor: { offered: number; matched: number; filtered: number; cpuUs: number };
}

const flood = (ctx: RunContext, seconds: number, spread: number): string =>
  run('sender', SENDER_CPU, [ctx.bins.flood, UDP_TARGET, '9999', '64', String(seconds), '1000000000', String(spread)]);
const sentOf = (out: string): number => Number(/sent=(\d+)/.exec(out)?.[1] ?? 0);

const divertRun = (ctx: RunContext, coalesceMs: number): Promise<FilteredRep['divert']> =>
  sparseRun(ctx, [`${ctx.distBench}filtered_listener.js`, FILTER, String(ctx.seconds), String(coalesceMs)]);
const nodeFloorRun = (ctx: RunContext): Promise<FilteredRep['nodeFloor']> =>
  sparseRun(ctx, [`${ctx.distBench}udp_floor_listener.js`, '9999', String(ctx.seconds)]);

/** Runs the listener script `args` (node) under the sparse flood, warmed up first; what it printed. */
async function sparseRun(ctx: RunContext, args: string[]): Promise<FilteredRep['divert']> {
  await useRule('listener', '');
  const l = start('listener', LISTENER_CPU, [process.execPath, ...args], ctx.seconds + 30);
  await l.ready;
  flood(ctx, 1, 1); // warm-up with matching traffic: the JIT compiles the packet path
  // …then with the measured traffic itself, as every other row warms up on its own: the sparse
  // path (a wake-up or a timer per few packets) has code of its own to compile.
  flood(ctx, 1, SPREAD);
  await sleep(300);
  l.write('go');
  const offered = sentOf(flood(ctx, ctx.seconds, SPREAD));
  const out = await l.done;
  const m = /packets=(\d+) filtered=(\d+) seconds=[\d.]+ cpu_us=(\d+)/.exec(out);
  if (!m || offered === 0) throw new Error(`${args[0]} printed no result: ${out}`);
  return { offered, matched: Number(m[1]), filtered: Number(m[2]), cpuUs: Number(m[3]) };
}

async function cRun(ctx: RunContext): Promise<FilteredRep['c']> {
  await useRule('listener', `-A input -p udp --dport 9999 -j DIVERT ${QUEUE}`);
  const l = start('listener', LISTENER_CPU, [ctx.bins.nfq, 'per-packet', String(QUEUE), '0', '0', String(ctx.seconds + 1)], ctx.seconds + 30);
  await l.ready;
  await sleep(300);
  const offered = sentOf(flood(ctx, ctx.seconds, SPREAD));
  const r = parseListenerResult(await l.done);
  if (!r || offered === 0) throw new Error('C filtered listener printed no result');
  return { offered, matched: r.packets, cpuUs: r.cpuUs };
}

export async function runFiltered(ctx: RunContext): Promise<FilteredRep> {
  return { divert: await divertRun(ctx, 0), c: await cRun(ctx), coalesced: await divertRun(ctx, COALESCE_MS), nodeFloor: await nodeFloorRun(ctx) };
}

/** The filtered runs' report, against the same repetitions' accept-all CPU per packet (divert iterator, C per-packet). */
export function filteredReport(reps: readonly FilteredRep[], divertAll: readonly (Sample | undefined)[], cAll: readonly (Sample | undefined)[]): string {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  const us = (x: number): string => `${x.toFixed(2)} µs`;
  const perOffered = (x: { cpuUs: number; offered: number }): number => x.cpuUs / x.offered;
  const d = reps.map((r) => perOffered(r.divert));
  const k = reps.map((r) => perOffered(r.coalesced));
  const c = reps.map((r) => perOffered(r.c));
  const dAll = divertAll.map((s) => s?.cpuUsPerPacket);
  const cAllCpu = cAll.map((s) => s?.cpuUsPerPacket);
  return [
    `filter "${FILTER}" over a flood spread across ${SPREAD} ports (1 in ${SPREAD} matches), ${reps.length} repetitions:`,
    `  decided in the kernel: ${showSpread(reps.map((r) => 1 - (r.divert.matched + r.divert.filtered) / r.divert.offered), pct)} of offered packets`,
    `  divert CPU per offered packet: ${showSpread(pairedRatios(d, dAll), pct)} of the same repetition's divert accept-all CPU per packet`,
    `  C behind the same kernel rule:  ${showSpread(pairedRatios(c, cAllCpu), pct)} of the same repetition's C per-packet accept-all CPU per packet`,
    `  CPU per packet that reached the listener: divert ${showSpread(reps.map((r) => r.divert.cpuUs / Math.max(r.divert.matched, 1)), us)}, C ${showSpread(reps.map((r) => r.c.cpuUs / Math.max(r.c.matched, 1)), us)}; divert/C per repetition ${showSpread(pairedRatios(d, c), (x) => `${x.toFixed(2)}x`)}`,
    `  a plain Node UDP socket (node:dgram, no queue) on the matched port, same traffic: ${showSpread(reps.map((r) => r.nodeFloor.cpuUs / Math.max(r.nodeFloor.matched, 1)), us)} per packet (a wake-up each: Node's own floor)`,
    `  divert with coalesceMs: ${COALESCE_MS}: ${showSpread(pairedRatios(k, dAll), pct)} of its accept-all CPU per packet; ${showSpread(reps.map((r) => r.coalesced.cpuUs / Math.max(r.coalesced.matched, 1)), us)} per packet that reached it`,
  ].join('\n');
}
