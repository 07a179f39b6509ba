/**
 * Multi-queue at a fixed offered rate (open loop, below what one queue carries): the same worker
 * handler on one queue (`DIVERT 10`, port '10:10') and on four (`DIVERT 10:13`), traffic from
 * sixteen flows (one per source address) to a sink (bench/c/udp_sink.c) that counts what arrived and checks each flow's
 * order. On two cores four queues cannot carry more packets than one: what this shows is that
 * every queue is served, nothing is lost or reordered, and what a packet costs in CPU with four.
 */
import { parseListenerResult, skippedReason } from './listener_result.js';
import { useRule, type RunContext } from './run_row.js';
import { FLOW_SOURCES, LISTENER_CPU, SENDER_CPU, UDP_TARGET, run, sleep, start } from './testbed.js';

export interface MqSample {
  sent: number;
  received: number;
  reordered: number;
  cpuUsPerPacket: number;
  /** Packets queued per queue ("10:123,11:98,…"). */
  served: string;
}

export const MQ_RATE = Number(process.env['BENCH_MQ_RATE'] ?? 50_000);

export async function runMq(ctx: RunContext, ports: '10:10' | '10:13', payload = 64): Promise<MqSample | { skipped: string }> {
  const target = ports === '10:10' ? '10' : ports;
  await useRule('listener', `-A input -p udp --dport 9999 -j DIVERT ${target}`);
  const l = start('listener', LISTENER_CPU, [process.execPath, `${ctx.distBench}divert_listener.js`, 'workers', 'accept', ports, '-', String(ctx.warmupS), String(ctx.seconds)], ctx.warmupS + ctx.seconds + 30);
  await l.ready;
  const why = skippedReason(l.out());
  if (why !== undefined) return { skipped: why };
  const sink = start('listener', SENDER_CPU, [ctx.bins.sink, '9999', String(ctx.warmupS + ctx.seconds + 10)], ctx.warmupS + ctx.seconds + 20);
  await sink.ready;
  await sleep(200);
  // Ends before the listener's window does: every packet sent is answered before it closes.
  const sent = run('sender', SENDER_CPU, [ctx.bins.flood, UDP_TARGET, '9999', String(payload), String(ctx.warmupS + ctx.seconds - 0.2), '1000000000', '1', String(MQ_RATE), FLOW_SOURCES.join(',')]);
  const [lout, sout] = await Promise.all([l.done, sink.done]);
  const r = parseListenerResult(lout);
  const s = /received=(\d+) reordered=(\d+)/.exec(sout);
  const n = /sent=(\d+)/.exec(sent);
  if (!r || !s || !n) throw new Error(`multi-queue run printed no result: ${lout} ${sout} ${sent}`);
  return { sent: Number(n[1]), received: Number(s[1]), reordered: Number(s[2]), cpuUsPerPacket: r.cpuUs / Math.max(r.packets, 1), served: r.extra['served'] ?? '' };
}
