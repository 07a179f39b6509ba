/**
 * Closing never stalls the event loop. close(2) of a netlink socket can wait in the kernel: an
 * nf_tables socket flushes the kernel's destroy work (an RCU grace period) after rule changes,
 * an owner table takes its hooks with it, and a queue socket's release waits too — 10 to 35 ms
 * each here when done on the loop's thread. divert closes those fds on the threadpool.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, requirePrivilege, sleep, watchLoopGaps } from '../_harness/netns.js';
import { createDivertSocket } from '../../src/mod.js';
import { addRule, deleteRule, listRules } from '../../src/firewall/mod.js';
import { divertTables } from '../_harness/ruleset.js';

const ROUNDS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('closing without stalling the event loop (real kernel)', () => {
  test('a socket with rules closes, and a persistent rule is deleted, with the loop ticking on', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const closeGaps: number[] = [];
    const deleteGaps: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const sock = createDivertSocket({ port: 300 + i, netns: ns.name, rules: ['-A input -p udp --dport 7'], filter: 'outbound and udp.DstPort == 8', handleSignals: false });
      t.after(() => sock.close());
      await sock.ready;
      await sleep(5);
      let stop = watchLoopGaps();
      await sock.close();
      await sleep(40); // what the kernel does after close must not stall the loop either
      closeGaps.push(stop());
      assert.deepEqual(await divertTables(ns), [], 'close() resolved after the owned table was gone');

      const h = await addRule('-A input -p udp --dport 9 -j DIVERT 3', { netns: ns.name, owner: 'cli' });
      await sleep(5);
      stop = watchLoopGaps();
      assert.equal(await deleteRule(h.rules[0]!.id, { netns: ns.name }), true);
      await sleep(40);
      deleteGaps.push(stop());
      assert.deepEqual(await listRules({ netns: ns.name }), []);
    }
    t.diagnostic(`longest gap between 1 ms ticks: close ${closeGaps.map((g) => g.toFixed(1)).join(', ')} ms; persistent delete ${deleteGaps.map((g) => g.toFixed(1)).join(', ')} ms`);
    // Closing on the loop's thread gave medians of 20–35 ms here; on the threadpool, 1–4 ms.
    assert.ok(median(closeGaps) < 10, `closing stalled the loop: ${closeGaps.join(', ')} ms`);
    assert.ok(median(deleteGaps) < 10, `deleting a rule stalled the loop: ${deleteGaps.join(', ')} ms`);
  });
});
