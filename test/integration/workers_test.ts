/**
 * Multi-queue divert sockets against the real kernel: `-j DIVERT a:b` spreads flows over the
 * ports, one worker thread per port runs the handler module; every port is served, a flow's
 * packets stay in order, nothing is lost at close, and the rules go with the socket.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, connect, requirePrivilege, startPeer, waitFor, type Netns } from '../_harness/netns.js';
import { divertRules } from '../_harness/ruleset.js';
import { createDivertSocket, DivertWorkers, type DivertSocket } from '../../src/mod.js';
import { buildUdpPacket } from '../../src/packet/build.js';
import { countersAddUp } from '../../src/divert/counters.js';

const REINJECT = new URL('../_harness/worker_reinject.js', import.meta.url);
const HOLD = new URL('../_harness/worker_hold.js', import.meta.url);
const NO_HANDLER = new URL('../_harness/worker_no_handler.js', import.meta.url);
const DPORT = 7300;

function twoHosts(): { a: Netns; b: Netns; link: ReturnType<typeof connect> } {
  const a = createNetns();
  const b = createNetns();
  return { a, b, link: connect(a, b, 31) };
}

/**
 * Sends `perFlow` datagrams on each of `flows` flows from `a` to `dst`, injected outbound in `a`,
 * a few at a time so no buffer on the way overflows. Each flow has a source address of its own,
 * 198.18.31.(100 + flow): the kernel picks a flow's queue by hashing the addresses and protocol
 * (nfqueue_hash: ports play no part, and both directions land on the same queue). Payloads are
 * "f<flow>:<seq>" (or "DROP f…" for those `drop` picks).
 */
async function sendFlows(inject: DivertSocket, dst: string, flows: number, perFlow: number, drop: (f: number, i: number) => boolean = () => false): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < perFlow; i++) {
    for (let f = 0; f < flows; f++) {
      const text = `${drop(f, i) ? 'DROP ' : ''}f${f}:${i}`;
      inject.sendto(buildUdpPacket({ src: `198.18.31.${100 + f}`, dst, srcPort: 20000, dstPort: DPORT, payload: text }));
      sent.push(text);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return sent;
}

/** Asserts that each flow's datagrams arrived in the order they were sent. */
function assertFlowOrder(got: readonly string[]): void {
  const last = new Map<string, number>();
  for (const g of got) {
    const [flow, seq] = g.split(':') as [string, string];
    const before = last.get(flow) ?? -1;
    assert.ok(Number(seq) > before, `flow ${flow}: ${seq} after ${before}`);
    last.set(flow, Number(seq));
  }
}

describe('multi-queue divert socket (real kernel)', () => {
  test('four ports, four worker threads: every port served, flows in order, drops honoured, stats merged, rules gone at close', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    // 64 address pairs over 4 queues: that one queue gets none has a chance of 4 × (3/4)^64 ≈ 4e-8.
    const flows = 64;
    const perFlow = 10;
    const sock = createDivertSocket({ port: '300:303', worker: REINJECT, netns: b.name, rules: [`-A input -p udp --dport ${DPORT}`] });
    t.after(() => sock.close());
    assert.ok(sock instanceof DivertWorkers);
    await sock.ready;
    assert.deepEqual(sock.ports, [300, 301, 302, 303]);
    assert.ok((await divertRules(b)).some((r) => r.includes('DIVERT 300:303')), 'one rule diverts to the range');
    const expected = flows * perFlow - flows; // each flow's seq 5 says DROP
    const recv = startPeer(b, ['udp-recv', String(DPORT), String(expected), '15000', '4']);
    await recv.ready;
    await using inject = createDivertSocket({ netns: a.name });
    const sent = await sendFlows(inject, link.b4, flows, perFlow, (_f, i) => i === 5);
    const { got } = (await recv.result) as { got: string[] };
    assert.equal(got.length, expected, 'every datagram not dropped arrived');
    assert.deepEqual(new Set(got), new Set(sent.filter((s) => !s.startsWith('DROP'))));
    assertFlowOrder(got);
    await waitFor(() => sock.stats.received === sent.length, 3000);
    const per = sock.workerStats;
    assert.equal(per.length, 4);
    assert.ok(per.every((w) => w.stats.received > 0), `every port served: ${per.map((w) => `${w.port}=${w.stats.received}`).join(' ')}`);
    await sock.close();
    const s = sock.stats;
    assert.deepEqual([s.received, s.accepted, s.dropped, s.held], [sent.length, expected, flows, 0]);
    assert.equal(per.reduce((n, w) => n + w.stats.received, 0), s.received, 'merged stats are the sum of the workers');
    assert.ok(countersAddUp(s));
    assert.deepEqual(await divertRules(b), [], 'the rules went with the socket');
  });

  test('close() answers what every worker holds: nothing lost', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const sock = createDivertSocket({ port: '310:311', worker: HOLD, netns: b.name, rules: [`-A input -p udp --dport ${DPORT}`], verdictTimeoutMs: 0 });
    t.after(() => sock.close());
    await sock.ready;
    const total = 8 * 10;
    const recv = startPeer(b, ['udp-recv', String(DPORT), String(total), '15000', '4']);
    await recv.ready;
    await using inject = createDivertSocket({ netns: a.name });
    await sendFlows(inject, link.b4, 8, 10);
    assert.ok(await waitFor(() => sock.stats.held === total, 5000), `all held (${JSON.stringify(sock.stats)})`);
    await sock.close();
    const { got } = (await recv.result) as { got: string[] };
    assert.equal(got.length, total, 'every held packet was reinjected at close');
    assertFlowOrder(got);
    assert.equal(sock.stats.closedWithVerdict, total);
    assert.ok(countersAddUp(sock.stats));
  });

  test('cpuFanout: the rule queues by CPU (--queue-cpu-fanout), every packet is answered', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const sock = createDivertSocket({ port: '330:331', worker: REINJECT, netns: b.name, rules: [`-A input -p udp --dport ${DPORT}`], cpuFanout: true });
    t.after(() => sock.close());
    await sock.ready;
    assert.ok((await divertRules(b)).some((r) => r.includes('DIVERT 330:331 --queue-cpu-fanout')), 'the fanout rule is in the kernel');
    const recv = startPeer(b, ['udp-recv', String(DPORT), '80', '15000', '4']);
    await recv.ready;
    await using inject = createDivertSocket({ netns: a.name });
    const sent = await sendFlows(inject, link.b4, 8, 10);
    const { got } = (await recv.result) as { got: string[] };
    assert.equal(got.length, sent.length);
    await sock.close();
    assert.equal(sock.stats.received, sent.length);
    assert.equal(sock.stats.accepted, sent.length);
    assert.ok(countersAddUp(sock.stats));
  });

  test('bad ranges and modules are refused clearly; a module without a handler fails ready and leaves nothing', async (t) => {
    assert.throws(() => createDivertSocket({ port: '13:10', worker: REINJECT }), /first ≤ last/);
    assert.throws(() => createDivertSocket({ port: '0:99', worker: REINJECT }), /at most 64 ports/);
    assert.throws(() => createDivertSocket({ port: '10:13', worker: './handler.js' }), /URL .* or an absolute path/);
    assert.throws(() => createDivertSocket({ port: '10:13' as unknown as number }), /give the worker option too/);
    assert.throws(() => createDivertSocket({ port: '10:13', worker: REINJECT, filter: 'udp', cpuFanout: true }), /cpuFanout works with rules, not with a filter/);
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const sock = createDivertSocket({ port: '320:321', worker: NO_HANDLER, netns: ns.name, rules: ['-A input -p udp'] });
    await assert.rejects(sock.ready, (err: Error & { code?: string }) => {
      assert.match(err.message, /divert port 32[01] could not start: .*must export its packet handler/);
      return true;
    });
    await sock.close();
    assert.deepEqual(await divertRules(ns), []);
  });
});
