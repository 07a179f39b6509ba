/**
 * Paced UDP traffic inside one namespace, for fault tests: a child sends numbered datagrams to
 * itself on 127.0.0.1 (through the output hook, where divert rules can take them) and records
 * when each one arrived. Bounded in count and time; no traffic leaves the namespace.
 * @module
 */
import type { Netns } from './netns.js';

export interface LoopResult {
  sent: number;
  /** Arrival time of datagram i in ms since the first send, or -1 when it never arrived. */
  arrivedAt: number[];
}

export interface UdpLoop {
  /** Ms since the first send, by the test's clock (the child started at `startedAt`). */
  now(): number;
  readonly result: Promise<LoopResult>;
}

/**
 * Sends `count` datagrams to 127.0.0.1:`port` in `ns`, one every `intervalMs`, from a pool of
 * sockets (a queued packet stays charged to its sender's buffer), and waits `drainMs` after the
 * last for late arrivals.
 */
export function udpLoop(ns: Netns, port: number, count: number, intervalMs: number, drainMs = 1500): UdpLoop {
  const script = `
    const dgram = require('node:dgram');
    const rx = dgram.createSocket('udp4');
    const arrivedAt = new Array(${count}).fill(-1);
    let t0 = 0;
    rx.on('message', (m) => { const i = m.readUInt32BE(0); if (i < ${count} && arrivedAt[i] < 0) arrivedAt[i] = Math.round(performance.now() - t0); });
    rx.bind(${port}, '127.0.0.1', () => {
      const pool = Array.from({ length: 64 }, () => dgram.createSocket('udp4'));
      t0 = performance.now();
      process.stdout.write('started\\n');
      let i = 0;
      const tick = () => {
        const due = Math.min(${count}, Math.floor((performance.now() - t0) / ${intervalMs}) + 1);
        for (; i < due; i++) { const b = Buffer.alloc(16); b.writeUInt32BE(i, 0); pool[i % 64].send(b, ${port}, '127.0.0.1', () => {}); }
        if (i < ${count}) setTimeout(tick, 1);
        else setTimeout(() => { process.stdout.write(JSON.stringify({ sent: i, arrivedAt }) + '\\n'); process.exit(0); }, ${drainMs});
      };
      tick();
    });`;
  const child = ns.spawn(process.execPath, ['-e', script]);
  let startedAt = Number.NaN;
  let out = '';
  let err = '';
  const limit = setTimeout(() => child.kill('SIGKILL'), count * intervalMs + drainMs + 20_000);
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<LoopResult>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (Number.isNaN(startedAt) && out.includes('started\n')) startedAt = performance.now();
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as LoopResult);
      else reject(new Error(`udp loop ended (${String(code)}) without a result: ${err.trim().slice(-300)}`));
    });
  });
  return { now: () => performance.now() - startedAt, result };
}

/** How many of `r`'s datagrams arrived within [fromMs, toMs). */
export function arrivedBetween(r: LoopResult, fromMs: number, toMs: number): number {
  return r.arrivedAt.filter((t) => t >= fromMs && t < toMs).length;
}

/** How many of the datagrams sent (by index and pace) within [fromMs, toMs) ever arrived. */
export function sentBetweenArrived(r: LoopResult, intervalMs: number, fromMs: number, toMs: number): { sent: number; arrived: number } {
  let sent = 0;
  let arrived = 0;
  r.arrivedAt.forEach((t, i) => {
    const at = i * intervalMs;
    if (at >= fromMs && at < toMs) {
      sent++;
      if (t >= 0) arrived++;
    }
  });
  return { sent, arrived };
}
