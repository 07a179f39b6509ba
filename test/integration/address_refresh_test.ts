/**
 * The receiving interface's address stays current while packets flow: an address added to the
 * interface mid-flow is the address of every packet read after `ip addr add` returned, with no
 * pause of the event loop (the interface table follows rtnetlink notifications; nothing on the
 * packet's path re-reads it or waits).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, createNetns, execAsync, requirePrivilege, spawnWatched, watchLoopGaps } from '../_harness/netns.js';
import { createDivertSocket } from '../../src/mod.js';
import { countersAddUp } from '../../src/divert/counters.js';

const PORT = 5600;
const COUNT = 3000; // datagrams, one per millisecond at most: the flow lasts about 3 s

describe('interface table under traffic (real kernel)', () => {
  test('an address added mid-flow is the address of every packet read after it, without pausing the loop', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 44);
    // b's end starts without an IPv4 address; a still sends to it (its neighbour entry is permanent)
    // and the input chain (prerouting) takes the datagrams before routing asks whose they are.
    b.exec('ip', ['addr', 'del', `${link.b4}/24`, 'dev', link.b]);
    const sock = createDivertSocket({ port: 91, netns: b.name, rules: [`-A input -p udp --dport ${PORT}`], handleSignals: false, verdictTimeoutMs: 0 });
    t.after(() => sock.close());
    await sock.ready;

    const delay = monitorEventLoopDelay({ resolution: 1 });
    const seen: Array<{ seq: number; address: string; afterAdd: boolean }> = [];
    let added = false;
    let stopGaps: (() => number) | undefined;
    let adding: Promise<{ ok: boolean; stderr: string }> | undefined;
    const reader = (async () => {
      for await (const p of sock) {
        const seq = new DataView(p.packet.buffer, p.packet.byteOffset).getUint32(28);
        seen.push({ seq, address: p.address.address, afterAdd: added });
        p.drop();
        if (seen.length === 200) {
          delay.enable();
          stopGaps = watchLoopGaps();
          adding = execAsync(b, 'ip', ['addr', 'add', `${link.b4}/24`, 'dev', link.b]).then((r) => {
            added = true;
            return r;
          });
        }
        if (seq === COUNT - 1) break;
      }
    })();
    const sender = spawnWatched(a, process.execPath, ['-e', `
      const s = require('dgram').createSocket('udp4');
      const b = Buffer.alloc(8);
      let i = 0;
      const go = () => {
        b.writeUInt32BE(i, 0);
        s.send(b, ${PORT}, '${link.b4}', () => { if (++i < ${COUNT}) setTimeout(go, 1); else setTimeout(() => process.exit(0), 100); });
      };
      go();`], 15_000);
    const stop = setTimeout(() => void sock.close(), 15_000);
    await reader;
    clearTimeout(stop);
    delay.disable();
    const gapMs = stopGaps?.() ?? 0;
    await sender.exit;
    const result = await adding;

    assert.ok(result?.ok, `ip addr add: ${result?.stderr}`);
    const before = seen.filter((s) => !s.afterAdd);
    const after = seen.filter((s) => s.afterAdd);
    t.diagnostic(`${seen.length} packets read, ${before.length} before the address came, ${after.length} after; event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, longest gap between 1 ms ticks ${gapMs.toFixed(1)} ms`);
    assert.ok(before.length >= 200 && after.length >= 100, 'packets on both sides of the change');
    assert.deepEqual([...new Set(before.slice(0, 200).map((s) => s.address))], ['0.0.0.0'], 'no IPv4 address yet: 0.0.0.0');
    assert.deepEqual([...new Set(after.map((s) => s.address))], [link.b4], 'every packet read after `ip addr add` returned carries the new address');
    const firstNew = seen.findIndex((s) => s.address === link.b4);
    assert.ok(seen.slice(firstNew).every((s) => s.address === link.b4), 'once seen, the address stays');
    assert.ok(delay.max / 1e6 < 50, `the event loop paused for ${(delay.max / 1e6).toFixed(1)} ms`);
    assert.ok(gapMs < 50, `the event loop paused for ${gapMs.toFixed(1)} ms`);
    assert.ok(countersAddUp(sock.stats), JSON.stringify(sock.stats));
    assert.equal(sock.stats.held, 0);
  });
});
