/**
 * One run of one row on the testbed: its rule installed, its listener started and ready, the
 * traffic sent, the listener's and the traffic's results read back as a Sample.
 *
 * Throughput is a closed-loop measure: the UDP flood sends as fast as sendmmsg goes (it does not
 * slow down for drops), the TCP flow as fast as its congestion control lets it; a UDP row's rate
 * is the packets its listener verdicted per second, the rest of the offer being the loss.
 */
import { addRule, flushRules } from '../src/firewall/mod.js';
import type { CPrograms } from './build_c.js';
import { parseListenerResult, skippedReason, type ListenerResult } from './listener_result.js';
import { listenerArgv, type Row } from './programs.js';
import { FLOW_SOURCES, LISTENER_CPU, NS, SENDER_CPU, TCP_TARGET, UDP_TARGET, run, sleep, start, type NsName } from './testbed.js';

export interface RunContext {
  bins: CPrograms;
  /** dist/bench/ with a trailing slash. */
  distBench: string;
  warmupS: number;
  seconds: number;
}

export interface Sample {
  /** Packets per second (UDP) or bits per second (TCP). */
  rate: number;
  /** Packets per second that reached the queue (the listener's rate plus what the queue dropped). */
  offered?: number;
  /** Listener CPU microseconds per verdicted packet (undefined without a listener). */
  cpuUsPerPacket?: number;
  /**
   * The listener's CPU for the ratio to its C reference: µs per packet for UDP; µs per megabyte
   * received for TCP, where a packet is a segment or a super-packet of up to 64 KiB by the
   * listener's GSO setting, so per packet would compare different things.
   */
  cpuForRatio?: number;
  /** Share of the window the listener spent on a CPU (its CPU time over the window's length). */
  busy?: number;
  /** Kernel queue drops plus user drops, as a share of the packets queued in the window. */
  loss?: number;
  listener?: ListenerResult;
}

export type Outcome = { sample: Sample } | { skipped: string };

const UDP_PORT = 9999;
const TCP_PORT = 5001;

let installed = '';

/** Makes `rule` the namespace's only DIVERT rule (kept across runs while it stays the same). */
export async function useRule(ns: NsName, rule: string): Promise<void> {
  const key = `${ns} ${rule}`;
  if (installed === key) return;
  for (const n of ['listener', 'router'] as const) await flushRules({ netns: NS[n] });
  installed = '';
  if (rule === '') return;
  await addRule(rule, { netns: NS[ns], owner: 'cli' });
  installed = key;
}

export async function clearRules(): Promise<void> {
  await useRule('listener', '');
}

function sampleOf(l: ListenerResult, rate: number, perMegabyte = false): Sample {
  const lost = l.queueDropped + l.userDropped;
  const busy = l.cpuUs / 1e6 / Math.max(l.seconds, 1e-9);
  return { rate, offered: l.offered / Math.max(l.seconds, 1e-9), cpuUsPerPacket: l.cpuUs / Math.max(l.packets, 1), busy, cpuForRatio: perMegabyte ? (busy * 1e6) / (rate / 8 / 1e6) : l.cpuUs / Math.max(l.packets, 1), loss: lost / Math.max(l.packets + lost, 1), listener: l };
}

/** Starts the row's listener in `ns` and waits until it is ready (or skipped). */
async function startListener(row: Row, ctx: RunContext, ns: NsName): Promise<ReturnType<typeof start> | { skipped: string }> {
  const argv = listenerArgv(row, ctx.bins, ctx.distBench, ctx.warmupS, ctx.seconds)!;
  const l = start(ns, LISTENER_CPU, argv, ctx.warmupS + ctx.seconds + 30);
  await l.ready;
  const why = skippedReason(l.out());
  if (why !== undefined) return { skipped: why };
  await sleep(200);
  return l;
}

/** UDP datagrams with `payload` bytes from the sender's FLOW_SOURCES to the listener namespace. */
export async function runUdp(row: Row, ctx: RunContext, payload: number, rate = 0): Promise<Outcome> {
  // rate 0: closed loop (as fast as sendmmsg goes); else open loop at `rate` datagrams/s.
  const flood = (seconds: number): string => run('sender', SENDER_CPU, [ctx.bins.flood, UDP_TARGET, String(UDP_PORT), String(payload), String(seconds), '1000000000', '1', String(rate), FLOW_SOURCES.join(',')]);
  if (row.program.kind === 'none') {
    await useRule('listener', '');
    const out = flood(ctx.warmupS + ctx.seconds);
    const m = /sent=(\d+) seconds=([\d.]+)/.exec(out);
    if (!m) throw new Error(`udp_flood printed no result: ${out}`);
    return { sample: { rate: Number(m[1]) / Number(m[2]) } };
  }
  await useRule('listener', `-A input -p udp --dport ${UDP_PORT} -j DIVERT ${row.ports}`);
  const l = await startListener(row, ctx, 'listener');
  if ('skipped' in l) return l;
  // Longer than the listener's warm-up and window, so it is saturated for all of it.
  flood(ctx.warmupS + ctx.seconds + 0.4);
  const out = await l.done;
  const r = parseListenerResult(out);
  if (!r || r.packets === 0) throw new Error(`${row.label} printed no result: ${out}`);
  return { sample: sampleOf(r, r.packets / r.seconds) };
}

/** One TCP bulk flow, sender → router → receiver, all FORWARD traffic of the router diverted. */
export async function runTcp(row: Row, ctx: RunContext): Promise<Outcome> {
  let l: ReturnType<typeof start> | undefined;
  if (row.program.kind === 'none') await useRule('router', '');
  else {
    await useRule('router', `-A forward -j DIVERT ${row.ports}`);
    const started = await startListener(row, ctx, 'router');
    if ('skipped' in started) return started;
    l = started;
  }
  const recv = start('receiver', SENDER_CPU, [ctx.bins.tcp, 'recv', String(TCP_PORT), String(ctx.warmupS), String(ctx.seconds)], ctx.warmupS + ctx.seconds + 30);
  await recv.ready;
  run('sender', SENDER_CPU, [ctx.bins.tcp, 'send', TCP_TARGET, String(TCP_PORT), String(ctx.warmupS + ctx.seconds + 0.4)]);
  const got = await recv.done;
  const m = /bytes=(\d+) seconds=([\d.]+)/.exec(got);
  if (!m || Number(m[2]) === 0) throw new Error(`${row.label}: the TCP receiver printed no result: ${got}`);
  const bps = (8 * Number(m[1])) / Number(m[2]);
  if (!l) return { sample: { rate: bps } };
  const out = await l.done;
  const r = parseListenerResult(out);
  if (!r) throw new Error(`${row.label} printed no result: ${out}`);
  return { sample: sampleOf(r, bps, true) };
}
