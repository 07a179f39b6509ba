/**
 * `divert chaos` against the real kernel, in throwaway namespaces: bounds (never exact
 * distributions) on what the impairments do to bounded UDP, ICMP and TCP flows, and the clean
 * end on Ctrl-C: every held packet delivered, the ruleset as it was.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createNetns, connect, pingFrom, requirePrivilege, sleep, spawnWatched, startPeer, type Netns, type Watched } from '../_harness/netns.js';
import { rulesetDump } from '../_harness/ruleset.js';

const BIN = new URL('../../../bin/divert.js', import.meta.url).pathname;

function pair(subnet: number): { a: Netns; b: Netns; link: ReturnType<typeof connect> } {
  const a = createNetns();
  const b = createNetns();
  return { a, b, link: connect(a, b, subnet) };
}

/** Runs `divert chaos …` inside `ns`; resolves once it impairs. Killed after `timeoutMs`. */
async function chaos(ns: Netns, args: string[], timeoutMs = 60_000): Promise<Watched> {
  const w = spawnWatched(ns, process.execPath, [BIN, 'chaos', ...args], timeoutMs);
  assert.ok(await w.waitForOutput(/impairing packets/), `chaos did not start: ${w.stderr()}`);
  return w;
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/** Ctrl-C, then the exit code and the summary line. */
async function stop(w: Watched): Promise<{ code: number | null; summary: string }> {
  w.child.kill('SIGINT');
  const { code } = await w.exit;
  return { code, summary: w.stderr().trim().split('\n').at(-1) ?? '' };
}

describe('divert chaos (real kernel)', () => {
  test('--drop 50% over 400 UDP datagrams delivers between 140 and 260, and counts what it did', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(61);
    const w = await chaos(b, ['--filter', 'inbound and udp.DstPort == 5600', '--drop', '50%']);
    const recv = startPeer(b, ['udp-recv', '5600', '400', '8000', '4'], 20_000);
    await recv.ready;
    await startPeer(a, ['udp-burst', link.b4, '5600', '400', '2'], 20_000).result;
    const { got } = (await recv.result) as { got: string[] };
    const { code, summary } = await stop(w);
    t.diagnostic(`${got.length} of 400 delivered; ${summary}`);
    assert.equal(code, 0, w.stderr());
    assert.ok(got.length >= 140 && got.length <= 260, `${got.length} of 400 delivered`);
    const m = /^(\d+) packets received: dropped (\d+), .* released (\d+); 0 still held; seed \d+$/.exec(summary);
    assert.ok(m, summary);
    assert.deepEqual([Number(m[1]), Number(m[2]) + Number(m[3]), Number(m[3])], [400, 400, got.length], 'every datagram dropped or delivered');
  });

  test('--lag 100ms puts the mean ping RTT between 90 and 200 ms', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(62);
    const w = await chaos(b, ['--firewall', `-A input -p icmp -s ${link.a4}`, '--lag', '100ms']);
    const r = await pingFrom(a, link.b4, { count: 10, intervalMs: 50, deadlineMs: 5000 });
    const { code, summary } = await stop(w);
    assert.equal(code, 0, w.stderr());
    assert.equal(r.received, 10, JSON.stringify(r));
    const mean = r.rtts.reduce((x, y) => x + y, 0) / r.rtts.length;
    t.diagnostic(`mean RTT ${mean.toFixed(1)} ms`);
    assert.ok(mean >= 90 && mean <= 200, `mean RTT ${mean.toFixed(1)} ms (${r.rtts.map((x) => x.toFixed(1)).join(' ')})`);
    assert.match(summary, /^10 packets received: dropped 0, delayed 10, .* released 10; 0 still held/);
  });

  test('TCP survives 5 % loss and 5 % reordering: 300 kB arrive whole', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(63);
    // Both directions: the data on its way in, the ACKs on their way out.
    const w = await chaos(b, ['--filter', 'tcp.DstPort == 6100 or tcp.SrcPort == 6100', '--drop', '5%', '--reorder', '5%', '--seed', '11']);
    const server = startPeer(b, ['tcp-count-server', '6100', '40000', '4'], 45_000);
    await server.ready;
    const bytes = 300_000;
    const client = (await startPeer(a, ['tcp-count-client', link.b4, '6100', String(bytes), '40000'], 45_000).result) as { reply: string | null };
    const { code, summary } = await stop(w);
    assert.equal(code, 0, w.stderr());
    const data = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) data[i] = i & 255;
    assert.equal(client.reply, `${bytes} ${createHash('sha256').update(data).digest('hex')}`);
    t.diagnostic(summary);
    const m = /dropped (\d+), delayed \d+, reordered (\d+),/.exec(summary);
    assert.ok(m && Number(m[1]) > 0 && Number(m[2]) > 0, `some packets were dropped and some reordered: ${summary}`);
  });

  test('Ctrl-C releases every held packet at once and leaves the ruleset as it was', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(64);
    const before = await rulesetDump(b);
    const w = await chaos(b, ['--firewall', '-A input -p udp --dport 5700', '--lag', '20s']);
    assert.notDeepEqual(await rulesetDump(b), before, 'the run installed its rule');
    const recv = startPeer(b, ['udp-recv', '5700', '20', '15000', '4'], 20_000);
    await recv.ready;
    await startPeer(a, ['udp-burst', link.b4, '5700', '20', '5'], 10_000).result;
    await sleep(300); // all 20 now held (for 20 s)
    const sigint = performance.now();
    const { code, summary } = await stop(w);
    const { got } = (await recv.result) as { got: string[] };
    const waited = performance.now() - sigint;
    assert.equal(code, 0, w.stderr());
    t.diagnostic(`delivered ${waited.toFixed(0)} ms after Ctrl-C`);
    assert.equal(got.length, 20, 'all delivered');
    assert.ok(waited < 5000, `delivered ${waited.toFixed(0)} ms after Ctrl-C, not after the 20 s lag`);
    assert.match(summary, /^20 packets received: dropped 0, delayed 20, .* released 20; 0 still held/);
    assert.deepEqual(await rulesetDump(b), before, 'the ruleset is as before');
  });

  test('thousands held at once: 3000 datagrams each held 5 s all arrive, none refused by the kernel queue', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(65);
    const w = await chaos(b, ['--firewall', '-A input -p udp --dport 5800', '--lag', '5s']);
    const recv = startPeer(b, ['udp-recv', '5800', '3000', '25000', '4'], 30_000);
    await recv.ready;
    const sent = performance.now();
    await startPeer(a, ['udp-burst', link.b4, '5800', '3000', '0'], 20_000).result;
    const burstMs = performance.now() - sent;
    const { got } = (await recv.result) as { got: string[] };
    const { code, summary } = await stop(w);
    // Sent faster than the lag: the first was still held when the last came, so all were held at once.
    t.diagnostic(`sent in ${burstMs.toFixed(0)} ms${burstMs < 5000 ? ' (all 3000 held at once)' : ''}; ${got.length} delivered; ${summary}`);
    assert.equal(code, 0, w.stderr());
    assert.equal(got.length, 3000);
    assert.match(summary, /^3000 packets received: dropped 0, delayed 3000, .* released 3000; 0 still held/);
  });

  test('--duplicate 100% delivers every inbound datagram twice; --tamper 100% corrupts one bit, --tamper-keep-checksums makes the kernel drop them', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(66);
    const burst = async (port: number, args: string[]): Promise<{ got: string[]; summary: string }> => {
      const w = await chaos(b, ['--firewall', `-A input -p udp --dport ${port}`, ...args]);
      const recv = startPeer(b, ['udp-recv', String(port), '40', '3000', '4'], 10_000);
      await recv.ready;
      await startPeer(a, ['udp-burst', link.b4, String(port), '20', '5'], 10_000).result;
      const { got } = (await recv.result) as { got: string[] };
      const { code, summary } = await stop(w);
      assert.equal(code, 0, w.stderr());
      return { got, summary };
    };
    const dup = await burst(5901, ['--duplicate', '100%']);
    t.diagnostic(dup.summary);
    assert.deepEqual([...dup.got].sort(), Array.from({ length: 20 }, (_, i) => [String(i), String(i)]).flat().sort(), 'each datagram twice');
    assert.match(dup.summary, /duplicated 20,/);
    // One bit of each payload ("0".."19", in order: nothing delays them) flipped, checksums made right.
    const tampered = await burst(5902, ['--tamper', '100%']);
    assert.equal(tampered.got.length, 20);
    // The peer reads them as UTF-8: a flipped top bit shows as U+FFFD, any other as one ASCII bit.
    tampered.got.forEach((g, i) => {
      const sentText = String(i);
      const diff = [...sentText].map((c, j) => (g[j] === '\ufffd' ? 1 : popcount(c.charCodeAt(0) ^ (g.charCodeAt(j) || 0x100))));
      assert.deepEqual([g.length, diff.reduce((x, y) => x + y, 0)], [sentText.length, 1], `datagram ${i} arrived as ${JSON.stringify(g)}`);
    });
    assert.match(tampered.summary, /tampered 20,/);
    const broken = await burst(5903, ['--tamper', '100%', '--tamper-keep-checksums']);
    assert.equal(broken.got.length, 0, 'wrong UDP checksums: the kernel dropped them all');
    assert.match(broken.summary, /tampered 20, .* released 20;/);
  });
});
