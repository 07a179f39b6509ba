/**
 * An overflow never kills a socket: a flood into a 100,000-packet queue whose consumer is too
 * slow overflows the netlink socket buffer (the kernel reports ENOBUFS through poll(2) as an
 * error); the socket counts it, says so with an 'overflow' event and goes on diverting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, requirePrivilege, type Netns } from '../_harness/netns.js';
import { createDivertSocket } from '../../src/mod.js';
import { countersAddUp } from '../../src/divert/counters.js';
import { readQueueCounters } from '../../src/cli/queue_proc.js';

const FLOOD = 60_000;

/**
 * Sends `count` small UDP datagrams to 127.0.0.1:`port` as fast as it can, from a child in `ns`.
 * Many sockets: a queued packet stays charged to its sender's send buffer until its verdict, so
 * one socket alone stops after a few hundred.
 */
function flood(ns: Netns, port: number, count: number, payload: string): Promise<void> {
  const script = `
    const dgram = require('node:dgram');
    const socks = Array.from({ length: 160 }, () => dgram.createSocket('udp4'));
    const buf = Buffer.from(${JSON.stringify(payload)});
    let sent = 0;
    const burst = () => {
      for (let i = 0; i < 512 && sent < ${count}; i++, sent++) socks[sent % socks.length].send(buf, ${port}, '127.0.0.1', () => {});
      if (sent < ${count}) setImmediate(burst); else setTimeout(() => process.exit(0), 300);
    };
    burst();`;
  const child = ns.spawn(process.execPath, ['-e', script]);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.on('exit', () => {
    clearTimeout(timer);
    resolve();
  }));
}

/** Keeps the event loop busy for `ms`: the consumer is "too slow" while the flood arrives. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a flood past the socket buffer into a 100,000-packet queue: counted, reported, still diverting', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const port = 5601;
  const sock = createDivertSocket({
    port: 41, netns: ns.name, rules: [`-A output -p udp -d 127.0.0.1 --dport ${port}`],
    maxQueueLength: 100_000, handleSignals: false, verdictTimeoutMs: 0,
  });
  t.after(() => sock.close().catch(() => {}));
  await sock.ready;
  let overflowEvents = 0;
  sock.on('overflow', () => overflowEvents++);
  const errors: Error[] = [];
  sock.on('error', (e: Error) => void errors.push(e));
  let marker = false;
  const reader = (async () => {
    for await (const p of sock) {
      if (new TextDecoder().decode(p.packet.subarray(28)) === 'after the flood') marker = true;
      p.reinject();
      if (marker) return;
    }
  })();
  const flooding = flood(ns, port, FLOOD, 'x'.repeat(32));
  // Let the flood start, then stop reading long enough for the socket buffer to overflow.
  await new Promise((r) => setTimeout(r, 150));
  busy(1500);
  await flooding;
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(errors, [], 'no error event');
  assert.equal(sock.closed, false, 'the socket is still open');
  assert.ok(sock.stats.overruns >= 1, `overruns counted (stats: ${JSON.stringify(sock.stats)})`);
  assert.ok(overflowEvents >= 1, 'overflow reported');
  // The marker must find room in the socket buffer: wait until the kernel holds no packet the
  // socket has not read (on a busy machine the backlog takes a while; sent earlier, the marker
  // would be one more overflow drop, rightly).
  const drained = Date.now() + 20_000;
  while (((await readQueueCounters(41, ns.name))?.waiting ?? 0) > 0 && Date.now() < drained) await new Promise((r) => setTimeout(r, 50));
  await flood(ns, port, 1, 'after the flood');
  const deadline = setTimeout(() => void sock.close(), 10_000);
  await reader;
  clearTimeout(deadline);
  assert.equal(marker, true, 'a packet sent after the overflow was diverted');
  const s = sock.stats;
  t.diagnostic(`received ${s.received} of ${FLOOD + 1} sent, overruns ${s.overruns}, overflow events ${overflowEvents}`);
  await sock.close();
  assert.ok(countersAddUp(sock.stats), JSON.stringify(sock.stats));
});
