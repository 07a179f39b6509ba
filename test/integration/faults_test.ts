/**
 * Faults under traffic, against the real kernel in namespaces of the test's own: a listener
 * killed or stopped while paced UDP flows through its rule, the kernel queue overflowing at
 * several sizes with and without fail-open, a listener restarted under load, and an interface or
 * the namespace removed while packets are held. Each ends with the listener's counters adding up
 * and the namespace's ruleset as it was before.
 *
 * Covered elsewhere (not repeated here): an uncaught exception ending the program (lifecycle_test),
 * one packet left without a verdict (divert_core_test "a packet left without a verdict gets the
 * timeout verdict"), a verdict send failing (src/divert/invariants_test.ts, fake kernel: ENOBUFS retried,
 * close() settles when every send fails), SIGKILL without traffic (firewall_lifecycle_test), an
 * overflow of the netlink socket buffer (overflow_test).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createNetns, requirePrivilege, sleep, startPeer, type Netns } from '../_harness/netns.js';
import { divertTables, rulesetDump } from '../_harness/ruleset.js';
import { startListener } from '../_harness/listener.js';
import { sentBetweenArrived, udpLoop, type UdpLoop } from '../_harness/traffic.js';
import { createDivertSocket, type DivertPacket, type DivertSocket, type DivertStats } from '../../src/mod.js';
import { addRule, deleteRule } from '../../src/firewall/mod.js';
import { countersAddUp } from '../../src/divert/counters.js';
import { readQueueCounters } from '../../src/cli/queue_proc.js';
import type { Watched } from '../_harness/netns.js';

const INTERVAL = 10;

/** Waits until the loop's clock reaches `ms`. */
async function until(loop: UdpLoop, ms: number): Promise<void> {
  while (!(loop.now() >= ms)) await sleep(5);
}

/** A persistent rule sending the loop's datagrams to `queue`; deleted after the test. */
async function persistentRule(t: { after: (fn: () => Promise<unknown>) => void }, ns: Netns, port: number, queue: number, passThrough: boolean): Promise<() => Promise<boolean>> {
  const h = await addRule(`-A output -p udp -d 127.0.0.1 --dport ${port} -j DIVERT ${queue}${passThrough ? ' --pass-through' : ''}`, { netns: ns.name, owner: 'cli' });
  const id = h.rules[0]!.id;
  const remove = (): Promise<boolean> => deleteRule(id, { netns: ns.name }).catch(() => false);
  t.after(remove);
  return remove;
}

/** Ends a listener with SIGTERM and returns the stats it printed. */
async function stopListener(l: Watched): Promise<DivertStats> {
  l.child.kill('SIGTERM');
  await l.exit;
  const line = l.stdout().split('\n').filter((x) => x.startsWith('{')).pop();
  assert.ok(line, `listener printed no stats: ${l.stderr().slice(-300)}`);
  return JSON.parse(line) as DivertStats;
}

function assertAddsUp(s: DivertStats, who: string): void {
  assert.ok(countersAddUp(s), `${who}: counters do not add up: ${JSON.stringify(s)}`);
  assert.equal(s.held, 0, `${who}: packets still held after close`);
}

describe('faults (real kernel)', () => {
  for (const passThrough of [false, true]) {
    test(`persistent rule${passThrough ? ' --pass-through' : ''}: listener SIGKILLed mid-traffic → ${passThrough ? 'traffic flows' : 'DENY'}; a new listener picks up`, async (t) => {
      if (!requirePrivilege(t)) return;
      const ns = createNetns();
      const before = await rulesetDump(ns);
      const remove = await persistentRule(t, ns, 6101, 71, passThrough);
      const l1 = await startListener({ port: 71, netns: ns.name }, ns);
      t.after(() => void l1.child.kill('SIGKILL'));
      const loop = udpLoop(ns, 6101, 300, INTERVAL);
      await until(loop, 800);
      l1.child.kill('SIGKILL');
      const killedAt = loop.now();
      await l1.exit;
      await until(loop, 1700);
      const l2 = await startListener({ port: 71, netns: ns.name }, ns);
      t.after(() => void l2.child.kill('SIGKILL'));
      const pickedUpAt = loop.now();
      const r = await loop.result;
      const stats = await stopListener(l2);

      const beforeKill = sentBetweenArrived(r, INTERVAL, 0, killedAt - 50);
      const dead = sentBetweenArrived(r, INTERVAL, killedAt + 100, pickedUpAt - 50);
      const after = sentBetweenArrived(r, INTERVAL, pickedUpAt + 200, 3000);
      t.diagnostic(`killed at ${Math.round(killedAt)} ms, picked up at ${Math.round(pickedUpAt)} ms: before ${JSON.stringify(beforeKill)}, dead ${JSON.stringify(dead)}, after ${JSON.stringify(after)}`);
      assert.equal(beforeKill.arrived, beforeKill.sent, 'all through the first listener');
      assert.ok(dead.sent > 20, 'the listener was dead a while');
      assert.equal(dead.arrived, passThrough ? dead.sent : 0, passThrough ? 'pass-through: flowing without a listener' : 'DENY without a listener');
      assert.equal(after.arrived, after.sent, 'all through the new listener');
      assert.ok(stats.received >= after.sent, `the new listener saw them (${stats.received})`);
      assertAddsUp(stats, 'second listener');
      assert.equal(await remove(), true);
      assert.deepEqual(await rulesetDump(ns), before);
    });
  }

  for (const maxQueueLength of [8, 64]) {
    for (const failOpen of [false, true]) {
      test(`listener SIGSTOPped with a ${maxQueueLength}-packet queue${failOpen ? ', fail-open' : ''}: ${failOpen ? 'the overflow flows' : 'the overflow is dropped'}, the held ones go on at SIGCONT`, async (t) => {
        if (!requirePrivilege(t)) return;
        const ns = createNetns();
        const before = await rulesetDump(ns);
        const queue = 80 + maxQueueLength + (failOpen ? 1 : 0);
        const remove = await persistentRule(t, ns, 6102, queue, false);
        const l = await startListener({ port: queue, netns: ns.name, maxQueueLength, failOpen }, ns);
        t.after(() => void l.child.kill('SIGKILL'));
        const loop = udpLoop(ns, 6102, 200, INTERVAL);
        await until(loop, 500);
        l.child.kill('SIGSTOP');
        const stoppedAt = loop.now();
        await until(loop, 1500);
        const kernel = await readQueueCounters(queue, ns.name);
        l.child.kill('SIGCONT');
        const contAt = loop.now();
        const r = await loop.result;
        const stats = await stopListener(l);

        // Datagrams sent while the listener was stopped (with margins for the signals' delivery).
        const from = stoppedAt + 50;
        const to = contAt - 50;
        const window = sentBetweenArrived(r, INTERVAL, from, to);
        const duringStop = r.arrivedAt.filter((at, i) => i * INTERVAL >= from && i * INTERVAL < to && at >= 0 && at < contAt).length;
        t.diagnostic(`stopped ${Math.round(stoppedAt)}–${Math.round(contAt)} ms: ${JSON.stringify(window)}, ${duringStop} during the stop; kernel ${JSON.stringify(kernel)}; listener ${JSON.stringify(stats)}`);
        assert.ok(window.sent > maxQueueLength + 10, `the stop outlasted the queue (${window.sent} sent)`);
        assert.equal(kernel?.waiting, maxQueueLength, 'the kernel queue is full while the listener is stopped');
        if (failOpen) {
          assert.ok(duringStop >= window.sent - maxQueueLength - 2, `fail-open: past the full queue packets flow (${duringStop} of ${window.sent})`);
          assert.equal(kernel?.queueDropped, 0, 'fail-open accepts, the kernel drops none');
        } else {
          assert.equal(duringStop, 0, 'nothing passes a stopped listener');
          assert.ok(window.arrived <= maxQueueLength + 2, `only held ones arrive (${window.arrived})`);
          assert.ok((kernel?.queueDropped ?? 0) >= window.sent - maxQueueLength - 12, `the kernel dropped the rest (${kernel?.queueDropped})`);
        }
        // The held ones (the full queue, some sent just before the window) go on at SIGCONT.
        const late = r.arrivedAt.filter((at, i) => i * INTERVAL < contAt && at >= contAt).length;
        assert.ok(late >= maxQueueLength - 2 && late <= maxQueueLength + 4, `the ${maxQueueLength} held went on at SIGCONT (${late} arrived late)`);
        assert.equal(sentBetweenArrived(r, INTERVAL, contAt + 200, 2000).arrived, sentBetweenArrived(r, INTERVAL, contAt + 200, 2000).sent, 'flowing again after SIGCONT');
        assertAddsUp(stats, 'listener');
        assert.equal(await remove(), true);
        assert.deepEqual(await rulesetDump(ns), before);
      });
    }
  }

  test('a program\'s own rules: its listener SIGKILLed mid-flood takes them along; traffic flows on', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const before = await rulesetDump(ns);
    const l = await startListener({ port: 72, netns: ns.name, rules: ['-A output -p udp -d 127.0.0.1 --dport 6103'] }, ns);
    t.after(() => void l.child.kill('SIGKILL'));
    assert.equal((await divertTables(ns)).length, 1, 'the listener\'s own table');
    const loop = udpLoop(ns, 6103, 300, INTERVAL);
    await until(loop, 1000);
    l.child.kill('SIGKILL');
    const killedAt = loop.now();
    await l.exit;
    const r = await loop.result;
    assert.deepEqual(await divertTables(ns), [], 'its table went with it');
    const through = sentBetweenArrived(r, INTERVAL, 0, killedAt - 50);
    const afterKill = sentBetweenArrived(r, INTERVAL, killedAt + 200, 3000);
    t.diagnostic(`killed at ${Math.round(killedAt)} ms: before ${JSON.stringify(through)}, after ${JSON.stringify(afterKill)}`);
    assert.equal(through.arrived, through.sent);
    assert.equal(afterKill.arrived, afterKill.sent, 'no rule left: everything flows');
    assert.deepEqual(await rulesetDump(ns), before);
  });

  test('listener restarted under load: the first one\'s counters add up, the second picks up within the gap', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const before = await rulesetDump(ns);
    const remove = await persistentRule(t, ns, 6104, 73, false);
    const serve = (s: DivertSocket): Promise<void> => (async () => {
      for await (const p of s) p.reinject();
    })();
    const s1 = createDivertSocket({ port: 73, netns: ns.name, handleSignals: false });
    t.after(() => s1.close());
    await s1.ready;
    const served1 = serve(s1);
    const loop = udpLoop(ns, 6104, 300, INTERVAL);
    await until(loop, 1000);
    const closingAt = loop.now();
    await s1.close();
    await served1;
    const s2 = createDivertSocket({ port: 73, netns: ns.name, handleSignals: false });
    t.after(() => s2.close());
    await s2.ready;
    const readyAt = loop.now();
    const served2 = serve(s2);
    const r = await loop.result;
    await s2.close();
    await served2;
    const gap = sentBetweenArrived(r, INTERVAL, closingAt, readyAt);
    t.diagnostic(`restart ${Math.round(closingAt)}–${Math.round(readyAt)} ms: gap ${JSON.stringify(gap)}; first ${JSON.stringify(s1.stats)}; second ${JSON.stringify(s2.stats)}`);
    assert.equal(sentBetweenArrived(r, INTERVAL, 0, closingAt - 20).arrived, sentBetweenArrived(r, INTERVAL, 0, closingAt - 20).sent, 'all through the first');
    const after = sentBetweenArrived(r, INTERVAL, readyAt + 100, 3000);
    assert.equal(after.arrived, after.sent, 'all through the second');
    assert.ok(readyAt - closingAt < 1000, `the restart took ${Math.round(readyAt - closingAt)} ms`);
    assertAddsUp(s1.stats, 'first');
    assertAddsUp(s2.stats, 'second');
    assert.equal(s1.stats.received + s2.stats.received >= r.arrivedAt.filter((x) => x >= 0).length, true, 'every arrival went through a listener');
    assert.equal(await remove(), true);
    assert.deepEqual(await rulesetDump(ns), before);
  });

  for (const timeoutVerdict of ['accept', 'drop'] as const) {
    test(`onPacket() handler throwing on some packets and never answering others under traffic (timeoutVerdict ${timeoutVerdict})`, async (t) => {
      if (!requirePrivilege(t)) return;
      const ns = createNetns();
      const before = await rulesetDump(ns);
      const sock = createDivertSocket({ port: 75, netns: ns.name, rules: ['-A output -p udp -d 127.0.0.1 --dport 6106'], handleSignals: false, verdictTimeoutMs: 300, timeoutVerdict });
      t.after(() => sock.close().catch(() => {}));
      await sock.ready;
      const errors: Error[] = [];
      sock.on('error', (e: Error) => void errors.push(e));
      const seqOf = (p: DivertPacket): number => new DataView(p.packet.buffer, p.packet.byteOffset).getUint32(28);
      sock.onPacket((p) => {
        const seq = seqOf(p);
        if (seq % 10 === 3) throw new Error(`handler failed on ${seq}`);
        if (seq % 10 === 7) return; // never answered
        p.reinject();
      });
      const loop = udpLoop(ns, 6106, 200, INTERVAL);
      const r = await loop.result;
      await sock.close();
      const s = sock.stats;
      t.diagnostic(JSON.stringify(s));
      const arrived = (k: number): number => r.arrivedAt.filter((at, i) => i % 10 === k && at >= 0).length;
      assert.equal(errors.length, 20, 'each throw is emitted as an error');
      assert.match(errors[0]!.message, /handler failed on 3/);
      assert.equal(s.timedOut, 40, 'the thrown and the unanswered packets got the timeout verdict');
      assert.equal(s.accepted, 160);
      assertAddsUp(s, 'socket');
      assert.equal(arrived(0) + arrived(1), 40, 'answered packets arrive');
      assert.deepEqual([arrived(3), arrived(7)], timeoutVerdict === 'accept' ? [20, 20] : [0, 0]);
      // A thrown packet gets its verdict at once, an unanswered one after the 300 ms timeout.
      const delay = (k: number): number => Math.max(...r.arrivedAt.filter((at, i) => i % 10 === k && at >= 0).map((at, j) => at - (j * 10 + k) * INTERVAL));
      if (timeoutVerdict === 'accept') {
        assert.ok(delay(3) < 250, `thrown: at once (${delay(3)} ms at most)`);
        assert.ok(delay(7) >= 250, `unanswered: after the timeout (${delay(7)} ms)`);
      }
      assert.deepEqual(await rulesetDump(ns), before);
    });
  }

  /** Five datagrams from a to b's socket, held (no verdict yet). */
  async function holdFive(t: { after: (fn: () => unknown) => void }): Promise<{ a: Netns; b: Netns; ifb: string; sock: DivertSocket; held: DivertPacket[]; errors: Error[] }> {
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 61);
    const sock = createDivertSocket({ port: 74, netns: b.name, rules: ['-A input -p udp --dport 6105'], handleSignals: false, verdictTimeoutMs: 0 });
    t.after(() => sock.close().catch(() => {}));
    const errors: Error[] = [];
    sock.on('error', (e: Error) => void errors.push(e));
    await sock.ready;
    await startPeer(a, ['udp-send', link.b4, '6105', '1', '2', '3', '4', '5']).result;
    const held: DivertPacket[] = [];
    for (let i = 0; i < 5; i++) held.push(await sock.recvfrom({ signal: AbortSignal.timeout(5000) }));
    assert.equal(sock.stats.held, 5);
    return { a, b, ifb: link.b, sock, held, errors };
  }

  test('the input interface removed while packets are held: verdicts still count, the socket goes on, its rules go at close', async (t) => {
    if (!requirePrivilege(t)) return;
    const { b, ifb, sock, held, errors } = await holdFive(t);
    const before = (await rulesetDump(b)).filter((l) => !/divert/.test(l));
    b.exec('ip', ['link', 'del', ifb]);
    for (const p of held.slice(0, 3)) p.reinject();
    held[3]!.drop();
    await sleep(200);
    assert.deepEqual(errors, [], 'no error event');
    assert.equal(sock.closed, false);
    assert.deepEqual([sock.stats.accepted, sock.stats.dropped, sock.stats.held], [3, 1, 1]);
    await sock.close();
    assert.deepEqual([sock.stats.closedWithVerdict, sock.stats.held], [1, 0], 'the last one got the close verdict');
    assertAddsUp(sock.stats, 'socket');
    assert.deepEqual(await rulesetDump(b), before, 'its rules and table are gone');
  });

  test('the namespace deleted while packets are held: verdicts and close still work, counters add up', async (t) => {
    if (!requirePrivilege(t)) return;
    const { b, sock, held, errors } = await holdFive(t);
    b.delete(); // the socket keeps the namespace alive; its name is gone
    for (const p of held.slice(0, 4)) p.reinject();
    await sleep(200);
    assert.deepEqual(errors, [], 'no error event');
    assert.deepEqual([sock.stats.accepted, sock.stats.held], [4, 1]);
    await sock.close();
    assertAddsUp(sock.stats, 'socket');
    assert.equal(sock.stats.closedWithVerdict, 1);
  });
});
