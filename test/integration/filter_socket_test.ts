/**
 * Divert sockets with WinDivert filters against the real kernel: only matching packets reach
 * user space (the rest never leave the kernel), a residual filter is finished in user space, and
 * two programs at different priorities see the same traffic in priority order.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createNetns, requirePrivilege, startPeer, type Netns } from '../_harness/netns.js';
import { createDivertSocket, type DivertSocket } from '../../src/mod.js';
import { countersAddUp } from '../../src/divert/counters.js';
import { listRules } from '../../src/firewall/mod.js';

const MOD = new URL('../../src/mod.js', import.meta.url).href;

/** Reinjects every packet (changed by `edit` when given) until closed; returns the payloads seen. */
function serve(sock: DivertSocket, edit?: (payload: string) => string): { seen: string[]; done: Promise<void> } {
  const seen: string[] = [];
  const done = (async () => {
    for await (const p of sock) {
      const payload = new TextDecoder().decode(p.packet.subarray(28));
      seen.push(payload);
      if (edit) p.reinject(replacePayload(p.packet, edit(payload)));
      else p.reinject();
    }
  })();
  return { seen, done };
}

/** The same UDP/IPv4 datagram with another payload (lengths fixed; checksums are filled by divert). */
function replacePayload(packet: Uint8Array, payload: string): Uint8Array {
  const body = new TextEncoder().encode(payload);
  const out = new Uint8Array(28 + body.length);
  out.set(packet.subarray(0, 28));
  out.set(body, 28);
  new DataView(out.buffer).setUint16(2, out.length);
  new DataView(out.buffer).setUint16(24, 8 + body.length);
  return out;
}

/** Packets the IPv4 rule of the filter queued (its counter). */
async function ipv4FilterCount(ns: Netns): Promise<number> {
  return (await listRules({ netns: ns.name })).filter((r) => r.kind === 'filter' && r.family === 'ipv4').reduce((n, r) => n + r.packets, 0);
}

/** Sends `texts` from `a` to `to`:`port`, received in `b`; resolves with what arrived. */
async function udp(a: Netns, b: Netns, to: string, port: number, texts: string[]): Promise<string[]> {
  const recv = startPeer(b, ['udp-recv', String(port), String(texts.length), '3000', '4']);
  await recv.ready;
  await startPeer(a, ['udp-send', to, String(port), ...texts]).result;
  return ((await recv.result) as { got: string[] }).got;
}

describe('filters and priorities (real kernel)', () => {
  test('an exact filter: only matching packets are queued; the others never reach user space', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 60);
    const sock = createDivertSocket({ netns: b.name, filter: 'inbound and udp.DstPort == 5700', handleSignals: false, verdictTimeoutMs: 0 });
    t.after(() => sock.close());
    await sock.ready;
    assert.ok(sock.port !== undefined, 'a port was chosen');
    assert.deepEqual((await listRules({ netns: b.name })).map((r) => [r.kind, r.seedChain]).slice(0, 1), [['filter', 'input']]);
    const { seen } = serve(sock);
    assert.deepEqual((await udp(a, b, link.b4, 5700, ['m1', 'm2', 'm3'])).sort(), ['m1', 'm2', 'm3']);
    assert.deepEqual((await udp(a, b, link.b4, 5701, ['o1', 'o2', 'o3'])).sort(), ['o1', 'o2', 'o3'], 'other traffic flows');
    assert.deepEqual(seen.sort(), ['m1', 'm2', 'm3'], 'only the matching datagrams came through user space');
    // IPv4 is decided in the kernel: its rule queued exactly the three. (IPv6 packets with
    // extension headers, such as the MLD reports a new interface sends, go to the residue.)
    assert.equal(await ipv4FilterCount(b), 3, 'the kernel queued exactly the matching IPv4 datagrams');
    assert.equal(sock.stats.received - sock.stats.filtered, 3);
    await sock.close();
    assert.ok(countersAddUp(sock.stats));
  });

  test('a residual filter: the kernel queues a superset, user space lets the non-matching go at once', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 61);
    const sock = createDivertSocket({ netns: b.name, filter: 'inbound and udp and udp.Payload[-1] == 0x21', handleSignals: false, verdictTimeoutMs: 0 });
    t.after(() => sock.close());
    await sock.ready;
    const { seen } = serve(sock);
    assert.deepEqual((await udp(a, b, link.b4, 5710, ['quiet.', 'loud!', 'calm.'])).sort(), ['calm.', 'loud!', 'quiet.']);
    assert.deepEqual(seen, ['loud!']);
    assert.equal(await ipv4FilterCount(b), 3, 'the kernel queued all three (it cannot index from the end)');
    assert.equal(sock.stats.received - sock.stats.filtered, 1, 'user space let the other two go at once');
    await sock.close();
    assert.ok(countersAddUp(sock.stats));
  });

  test('two programs at different priorities see the same packets in priority order', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 62);
    // The low-priority program runs in a process of its own and reports what it saw.
    const script = `
      const { createDivertSocket } = await import(${JSON.stringify(MOD)});
      const sock = createDivertSocket({ port: 81, netns: ${JSON.stringify(b.name)}, rules: ['-A input -p udp --dport 5720'], priority: -10, verdictTimeoutMs: 0 });
      await sock.ready;
      console.log('ready');
      const seen = [];
      for await (const p of sock) {
        seen.push(new TextDecoder().decode(p.packet.subarray(28)));
        p.reinject();
        if (seen.length === 3) break;
      }
      await sock.close();
      console.log(JSON.stringify(seen));`;
    const child = a.spawn(process.execPath, ['--input-type=module', '-e', script]);
    let out = '';
    const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve();
      });
      void ended.then(() => reject(new Error(`low-priority program ended early: ${out}`)));
    });
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    const high = createDivertSocket({ port: 80, netns: b.name, rules: ['-A input -p udp --dport 5720'], priority: 10, handleSignals: false, verdictTimeoutMs: 0 });
    t.after(() => high.close());
    await high.ready;
    const { seen } = serve(high, (s) => `${s}>10`);
    const got = await udp(a, b, link.b4, 5720, ['p1', 'p2', 'p3']);
    await ended;
    assert.deepEqual(seen.sort(), ['p1', 'p2', 'p3'], 'priority 10 saw the originals first');
    assert.deepEqual((JSON.parse(out.trim().split('\n').pop()!) as string[]).sort(), ['p1>10', 'p2>10', 'p3>10'], 'priority -10 saw them after, as 10 reinjected them');
    assert.deepEqual(got.sort(), ['p1>10', 'p2>10', 'p3>10'], 'and they arrived');
  });
});
