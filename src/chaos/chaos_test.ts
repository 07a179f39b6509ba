/**
 * createChaos() through the fake kernel, with a fake clock and a scripted or seeded random
 * source: exact counts, verdicts and release times for every impairment.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createChaos, type Chaos, type ChaosOptions } from './chaos.js';
import { seededRandom, type RandomSource } from './random.js';
import { FakeKernel, type FakePacketMeta } from '../testing/fake_kernel.js';
import { FakeClock } from '../testing/fake_clock.js';
import { HOST_LINKS, turn, udp4, waitFor } from '../testing/fixtures.js';
import { NF_VERDICT, NFQA_CFG_F } from '../nfqueue/constants.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { AF_INET, SOCK_RAW } from '../_native/sockaddr.js';
import { verifyChecksums } from '../packet/checksum.js';
import { countersAddUp } from '../divert/counters.js';
import type { ChaosStats } from './engine.js';

const { NF_ACCEPT, NF_DROP } = NF_VERDICT;
const OUT: FakePacketMeta = { hook: NF_INET_HOOKS.NF_INET_LOCAL_OUT, outdev: 3 };

/** A random source that gives `values` in order and fails the test when it runs out. */
function scripted(...values: number[]): RandomSource & { left: () => number } {
  let i = 0;
  return {
    next() {
      if (i >= values.length) throw new Error(`scripted random source ran out after ${values.length} values`);
      return values[i++]!;
    },
    left: () => values.length - i,
  };
}

interface Run {
  kernel: FakeKernel;
  clock: FakeClock;
  chaos: Chaos;
  /** Queues packets on port 7 (outbound) and waits until the engine took them; returns their ids. */
  send(...payloads: string[]): Promise<number[]>;
  /** Runs the clock's timers up to `until`; returns every verdict with the clock time it was sent at. */
  releases(until: number): Promise<Array<[id: number, verdict: number, at: number]>>;
}

async function open(t: TestContext, options: Partial<ChaosOptions>): Promise<Run> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const clock = new FakeClock();
  const chaos = createChaos({ port: 7, handleSignals: false, clock, ...options });
  t.after(async () => {
    await chaos.close().catch(() => {});
    kernel.uninstall();
  });
  await chaos.ready;
  const log: Array<[number, number, number]> = [];
  let seen = 0;
  const collect = async (): Promise<void> => {
    await turn();
    for (const v of kernel.verdicts.slice(seen)) log.push([v.id, v.verdict, clock.now()]);
    seen = kernel.verdicts.length;
  };
  return {
    kernel,
    clock,
    chaos,
    async send(...payloads) {
      const before = chaos.stats.received;
      const ids = payloads.map((p) => kernel.enqueuePacket(7, udp4(p), OUT));
      await waitFor(() => chaos.stats.received === before + payloads.length, 'the engine to take the packets');
      await collect();
      return ids;
    },
    async releases(until) {
      await collect();
      while (clock.nextAt() !== undefined && clock.nextAt()! <= until) {
        clock.step();
        await collect();
      }
      clock.advanceTo(until);
      return log.slice();
    },
  };
}

/** Every packet the engine took is dropped, released or still held. */
function engineAddsUp(s: ChaosStats): boolean {
  return s.received === s.dropped + s.queueDrops + s.overflowDrops + s.released + s.held;
}

test('chaos drop: a packet whose draw is below the probability is dropped at once, the others pass at once', async (t) => {
  const r = await open(t, { drop: 0.5, random: scripted(0.3, 0.7, 0.49, 0.5) });
  const ids = await r.send('a', 'b', 'c', 'd');
  assert.deepEqual(await r.releases(0), [[ids[0], NF_DROP, 0], [ids[1], NF_ACCEPT, 0], [ids[2], NF_DROP, 0], [ids[3], NF_ACCEPT, 0]]);
  const s = r.chaos.stats;
  assert.deepEqual([s.received, s.dropped, s.released, s.held], [4, 2, 2, 0]);
  assert.ok(engineAddsUp(s));
});

test('chaos lag: each packet is released exactly lag ms after it arrived, not a millisecond sooner', async (t) => {
  const r = await open(t, { lag: 100, random: scripted() });
  const [a, b] = await r.send('a', 'b');
  r.clock.advanceTo(30);
  const [c] = await r.send('c');
  assert.deepEqual(await r.releases(99), []);
  assert.equal(r.chaos.stats.held, 3);
  assert.deepEqual(await r.releases(129), [[a, NF_ACCEPT, 100], [b, NF_ACCEPT, 100]]);
  assert.deepEqual(await r.releases(1000), [[a, NF_ACCEPT, 100], [b, NF_ACCEPT, 100], [c, NF_ACCEPT, 130]]);
  assert.deepEqual([r.chaos.stats.delayed, r.chaos.stats.released, r.chaos.stats.held], [3, 3, 0]);
});

test('chaos jitter: the delay is round(lag + (2u − 1) · jitter), so packets overtake each other', async (t) => {
  // u = 0.999 → 100 + 19.96 → 120; u = 0 → 80; u = 0.5 → 100; u = 0.1 → 100 − 16 = 84.
  const r = await open(t, { lag: 100, jitter: 20, random: scripted(0.999, 0, 0.5, 0.1) });
  const ids = await r.send('a', 'b', 'c', 'd');
  assert.deepEqual(await r.releases(500), [[ids[1], NF_ACCEPT, 80], [ids[3], NF_ACCEPT, 84], [ids[2], NF_ACCEPT, 100], [ids[0], NF_ACCEPT, 120]]);
});

test('chaos jitter larger than the lag never gives a negative delay', async (t) => {
  const r = await open(t, { lag: 10, jitter: 50, random: scripted(0, 0.3) });
  const ids = await r.send('a', 'b'); // 10 − 50 → 0 (at once); 10 − 20 → 0
  assert.deepEqual(await r.releases(0), [[ids[0], NF_ACCEPT, 0], [ids[1], NF_ACCEPT, 0]]);
  assert.equal(r.chaos.stats.delayed, 0);
});

test('chaos duplicate: a copy of the released packet is injected where it was taken, at the release time', async (t) => {
  const r = await open(t, { duplicate: 0.5, lag: 50, random: scripted(0.1, 0.9) });
  const [a, b] = await r.send('twice', 'once');
  const raw = (): Uint8Array[] => r.kernel.sockets.filter((s) => s.domain === AF_INET && s.type === SOCK_RAW).flatMap((s) => s.sent.map((d) => d.bytes));
  assert.deepEqual(await r.releases(49), []);
  assert.equal(raw().length, 0, 'nothing injected before the release');
  assert.deepEqual(await r.releases(50), [[a, NF_ACCEPT, 50], [b, NF_ACCEPT, 50]]);
  assert.deepEqual(raw(), [udp4('twice')], 'one copy, outbound (the packet was taken on its way out), checksums right');
  assert.deepEqual([r.chaos.stats.duplicated, r.chaos.stats.released], [1, 2]);
});

test('chaos reorder: a held-back packet goes right after the next one, or after reorderWait when none comes', async (t) => {
  const r = await open(t, { reorder: 0.5, reorderWait: 100, random: scripted(0.1, 0.9, 0.2) });
  const [a] = await r.send('first');
  assert.deepEqual(await r.releases(9), []);
  r.clock.advanceTo(10);
  const [b] = await r.send('second');
  assert.deepEqual(await r.releases(10), [[b, NF_ACCEPT, 10], [a, NF_ACCEPT, 10]], 'the second overtook the first');
  r.clock.advanceTo(200);
  const [c] = await r.send('alone');
  assert.deepEqual((await r.releases(299)).length, 2);
  assert.deepEqual((await r.releases(300)).at(-1), [c, NF_ACCEPT, 300], 'nobody overtook it: released after reorderWait');
  const s = r.chaos.stats;
  assert.deepEqual([s.reordered, s.overtaken, s.released], [2, 1, 3]);
});

test('chaos tamper: one payload bit flipped, checksums made right', async (t) => {
  // tamper draw 0 (< 1), byte floor(0.5 · 5) = 2, bit floor(0.25 · 8) = 2: "hello" → 'l' ^ 4 = 'h'.
  const r = await open(t, { tamper: 1, random: scripted(0, 0.5, 0.25) });
  const [id] = await r.send('hello');
  assert.deepEqual(await r.releases(0), [[id, NF_ACCEPT, 0]]);
  const sent = r.kernel.verdicts[0]!.payload!;
  assert.equal(new TextDecoder().decode(sent.subarray(28)), 'hehlo');
  assert.deepEqual(verifyChecksums(sent), { ip: true, udp: true });
  assert.equal(r.chaos.stats.tampered, 1);
});

test('chaos tamper with tamperKeepChecksums: the bit is flipped and the old, now wrong, UDP checksum kept', async (t) => {
  const r = await open(t, { tamper: 1, tamperKeepChecksums: true, random: scripted(0, 0.5, 0.25) });
  await r.send('hello');
  await r.releases(0);
  const sent = r.kernel.verdicts[0]!.payload!;
  assert.equal(new TextDecoder().decode(sent.subarray(28)), 'hehlo');
  assert.deepEqual(sent.subarray(26, 28), udp4('hello').subarray(26, 28), 'the checksum of "hello"');
  assert.deepEqual(verifyChecksums(sent), { ip: true, udp: false });
});

test('chaos tamper leaves a packet without payload alone (and draws nothing more for it)', async (t) => {
  const r = await open(t, { tamper: 1, random: scripted(0) });
  const [id] = await r.send('');
  assert.deepEqual(await r.releases(0), [[id, NF_ACCEPT, 0]]);
  assert.equal(r.kernel.verdicts[0]!.payload, undefined, 'unchanged: a plain accept');
  assert.equal(r.chaos.stats.tampered, 0);
});

test('chaos throttle: token bucket release times, a FIFO of queueLimit, drops at a full queue', async (t) => {
  // 8000 bit/s = 1 byte per ms; 100-byte packets (28 header bytes + 72); a 100-byte bucket, full at start.
  const payload = 'x'.repeat(72);
  const r = await open(t, { throttle: '8kbit', burst: 100, queueLimit: 2, random: scripted() });
  const ids = await r.send(payload, payload, payload, payload);
  assert.deepEqual(r.chaos.stats.queued, 2);
  assert.deepEqual(await r.releases(0), [[ids[0], NF_ACCEPT, 0], [ids[3], NF_DROP, 0]], 'the first goes at once; the fourth finds the queue full');
  assert.deepEqual((await r.releases(99)).length, 2);
  assert.deepEqual((await r.releases(300)).slice(2), [[ids[1], NF_ACCEPT, 100], [ids[2], NF_ACCEPT, 200]]);
  // After 300 ms idle the bucket is full again (capped at 100): one goes at once, the next 100 ms later.
  r.clock.advanceTo(600);
  const more = await r.send(payload, payload);
  assert.deepEqual((await r.releases(2000)).slice(4), [[more[0], NF_ACCEPT, 600], [more[1], NF_ACCEPT, 700]]);
  const s = r.chaos.stats;
  assert.deepEqual([s.throttled, s.queueDrops, s.released, s.queued, s.held], [3, 1, 5, 0, 0]);
  assert.ok(engineAddsUp(s));
});

test('chaos throttle after lag: the bucket paces packets as they leave the lag stage', async (t) => {
  const payload = 'x'.repeat(72);
  const r = await open(t, { lag: 50, throttle: 8000, burst: 100, random: scripted() });
  const ids = await r.send(payload, payload, payload);
  assert.deepEqual(await r.releases(1000), [[ids[0], NF_ACCEPT, 50], [ids[1], NF_ACCEPT, 150], [ids[2], NF_ACCEPT, 250]]);
});

test('chaos maxHeld: a packet arriving when maxHeld are held is dropped and counted', async (t) => {
  const r = await open(t, { lag: 100, maxHeld: 2, random: scripted() });
  const warnings: string[] = [];
  r.chaos.on('warning', (err: Error) => warnings.push(err.message));
  const ids = await r.send('a', 'b', 'c', 'd');
  assert.deepEqual(await r.releases(100), [[ids[2], NF_DROP, 0], [ids[3], NF_DROP, 0], [ids[0], NF_ACCEPT, 100], [ids[1], NF_ACCEPT, 100]]);
  assert.equal(r.chaos.stats.overflowDrops, 2);
  assert.deepEqual(warnings, ['2 packets are held (maxHeld): more are dropped until some are released; raise maxHeld (--max-held) or shorten the lag'], 'said once');
});

test('chaos close(): every held packet, in every stage, is reinjected at once; the queue is unbound', async (t) => {
  const payload = 'x'.repeat(72);
  const r = await open(t, { lag: 1000, throttle: 8000, burst: 100, reorder: 0.5, random: scripted(0.9, 0.9, 0.9, 0.9, 0.9, 0.9) });
  const ids = await r.send(payload, payload, payload);
  r.clock.advanceTo(1000); // a went, b and c wait in the throttle queue
  await turn();
  r.clock.advanceTo(1001);
  const late = await r.send(payload, payload, payload); // in the lag stage
  assert.deepEqual(r.chaos.stats.held, 5);
  await r.chaos.close();
  const verdicts = r.kernel.verdicts.map((v) => [v.id, v.verdict]);
  assert.deepEqual(verdicts, [ids[0], ids[1], ids[2], ...late].map((id) => [id, NF_ACCEPT]), 'in arrival order, all accepted');
  const s = r.chaos.stats;
  assert.deepEqual([s.released, s.held, s.queued], [6, 0, 0]);
  assert.ok(engineAddsUp(s));
  const sock = r.chaos.socket.stats;
  assert.ok(countersAddUp(sock));
  assert.deepEqual([sock.accepted, sock.timedOut, sock.closedWithVerdict, sock.held], [6, 0, 0, 0]);
  assert.equal(r.kernel.queueState(7), undefined, 'unbound');
  assert.equal(r.clock.nextAt(), undefined, 'no timer left');
});

test('chaos: a socket that closes by itself (signal, error) reinjects what the engine held, and the engine stops', async (t) => {
  const r = await open(t, { lag: 1000, random: scripted() });
  const ids = await r.send('a', 'b');
  await r.chaos.socket.close();
  assert.deepEqual(r.kernel.verdicts.map((v) => [v.id, v.verdict]), ids.map((id) => [id, NF_ACCEPT]));
  assert.deepEqual([r.chaos.stats.released, r.chaos.stats.held, r.chaos.engine.stopped], [2, 0, true]);
  assert.equal(r.clock.nextAt(), undefined);
});

test('chaos socket sizing: per-segment delivery (GSO off), a kernel queue of maxHeld + 1024, a verdict timeout past the longest hold', async (t) => {
  const r = await open(t, { lag: 200, jitter: 50, maxHeld: 3000, random: scripted(1) });
  const cfg = r.kernel.configLog.filter((c) => c.queue === 7);
  assert.equal(cfg.find((c) => c.maxLen !== undefined)?.maxLen, 4024);
  const flags = cfg.find((c) => c.mask !== undefined)!;
  assert.ok((flags.mask! & NFQA_CFG_F.NFQA_CFG_F_GSO) !== 0 && (flags.flags! & NFQA_CFG_F.NFQA_CFG_F_GSO) === 0, 'GSO asked off');
  // Held for 250 ms of fake time, yet the real-time verdict timeout (250 + 10000 ms) never fires.
  const [id] = await r.send('a');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(await r.releases(250), [[id, NF_ACCEPT, 250]]);
  assert.equal(r.chaos.socket.stats.timedOut, 0);
});

test('createChaos() refuses settings it cannot honour, and bad options, before opening anything', (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  assert.throws(() => createChaos({ port: 7, throttle: '100bit' }), { name: 'RangeError', message: /longer than divert can wait.*full throttle queue \(1000 packets.*lower queueLimit, raise throttle/ });
  assert.throws(() => createChaos({ port: 7, throttle: '1mbit', queueLimit: 20_000 }), { name: 'RangeError', message: /queueLimit 20000 is more than maxHeld 10000/ });
  assert.throws(() => createChaos({ port: 7, drop: 5 }), { name: 'RangeError', message: /drop must be a probability from 0 to 1 \(0.05 for 5 %\), got 5/ });
  assert.throws(() => createChaos({ port: 7, lag: -1 }), { name: 'RangeError', message: /lag must be from 0/ });
  assert.throws(() => createChaos({ port: 7, throttle: 'fast' }), { name: 'RangeError', message: /1mbit/ });
  assert.throws(() => createChaos({ port: 7, seed: 1.5 }), { name: 'RangeError', message: /seed must be an integer/ });
  assert.throws(() => createChaos({ port: 7, dorp: 0.1 } as ChaosOptions), { name: 'TypeError', message: /Unknown option "dorp"/ });
  assert.deepEqual(kernel.openSockets(), []);
});

test('chaos handler: packets it gives a verdict to skip the impairments; the rest are impaired', async (t) => {
  const handled: string[] = [];
  const r = await open(t, {
    drop: 1,
    random: scripted(0),
    handler: (p) => {
      const text = new TextDecoder().decode(p.packet.subarray(28));
      handled.push(text);
      if (text === 'mine') p.reinject();
    },
  });
  const [mine, other] = [r.kernel.enqueuePacket(7, udp4('mine'), OUT), r.kernel.enqueuePacket(7, udp4('other'), OUT)];
  await waitFor(() => r.kernel.verdicts.length === 2, 'both verdicts');
  assert.deepEqual(handled, ['mine', 'other']);
  assert.deepEqual(r.kernel.verdicts.map((v) => [v.id, v.verdict]), [[mine, NF_ACCEPT], [other, NF_DROP]]);
  assert.deepEqual([r.chaos.stats.received, r.chaos.stats.dropped], [1, 1], 'the engine saw only the packet the handler left');
});

test('chaos with a seed: the same seed gives the same decisions and times; the drop count is what the seed draws', async (t) => {
  const options = { drop: 0.3, lag: 10, jitter: 5, seed: 42 };
  const run = async (seed: number): Promise<Array<[number, number, number]>> => {
    const kernel = FakeKernel.install();
    kernel.setLinks(HOST_LINKS);
    const clock = new FakeClock();
    const chaos = createChaos({ port: 7, handleSignals: false, clock, ...options, seed });
    try {
      await chaos.ready;
      for (let i = 0; i < 200; i++) kernel.enqueuePacket(7, udp4(`p${i}`), OUT);
      await waitFor(() => chaos.stats.received === 200, 'all taken');
      const out: Array<[number, number, number]> = [];
      let seen = 0;
      for (;;) {
        await turn();
        for (const v of kernel.verdicts.slice(seen)) out.push([v.id, v.verdict, clock.now()]);
        seen = kernel.verdicts.length;
        if (!clock.step()) break;
      }
      return out;
    } finally {
      await chaos.close();
      kernel.uninstall();
    }
  };
  const a = await run(42);
  const b = await run(42);
  const c = await run(43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // The model: per packet one drop draw, and for a kept packet one jitter draw.
  const r = seededRandom(42);
  const expected = new Map<number, [number, number]>();
  for (let id = 1; id <= 200; id++) {
    if (r.next() < 0.3) expected.set(id, [NF_DROP, 0]);
    else expected.set(id, [NF_ACCEPT, Math.round(10 + (2 * r.next() - 1) * 5)]);
  }
  assert.equal(a.length, 200);
  for (const [id, verdict, at] of a) assert.deepEqual([verdict, at], expected.get(id), `packet ${id}`);
  const drops = a.filter((v) => v[1] === NF_DROP).length;
  assert.ok(drops > 40 && drops < 80, `${drops} of 200 dropped at 30 %`);
});

test('chaos holds 5000 packets at once with one timer, and releases each at its own time, in order', async (t) => {
  const r = await open(t, { lag: 1000, random: scripted() });
  const ids: number[] = [];
  for (let ms = 0; ms < 5; ms++) {
    r.clock.advanceTo(ms);
    for (let i = 0; i < 1000; i++) ids.push(r.kernel.enqueuePacket(7, udp4(`p${i}`), OUT));
    await waitFor(() => r.chaos.stats.received === ids.length, 'the engine to take the packets', 10_000);
  }
  assert.deepEqual([r.chaos.stats.held, r.kernel.verdicts.length, r.kernel.autoVerdicts.length], [5000, 0, 0], 'all held, none refused by the kernel queue');
  const released = await r.releases(2000);
  assert.equal(released.length, 5000);
  assert.deepEqual(released.map(([id]) => id), ids, 'in arrival order');
  assert.deepEqual(released.map(([, v, at]) => [v, at]), ids.map((_, i) => [NF_ACCEPT, 1000 + Math.floor(i / 1000)]));
  assert.ok(countersAddUp(r.chaos.socket.stats));
});
