/**
 * Packets a socket holds survive what other parts of the same program do in the namespace. The
 * kernel drops every packet queued anywhere in a namespace when a base chain there is removed
 * (nfqnl_nf_hook_drop), so divert keeps its chains while any of its sockets there is bound.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createNetns, requirePrivilege, startPeer } from '../_harness/netns.js';
import { createDivertSocket, type DivertPacket } from '../../src/mod.js';
import { addRule, deleteRule } from '../../src/firewall/mod.js';
import { countersAddUp } from '../../src/divert/counters.js';

describe('held packets (real kernel)', () => {
  test("a held packet survives another socket's close and a persistent rule's removal in the same namespace", async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 46);
    // Socket A listens on port 60, fed by a persistent rule (no rules of its own in this process's table).
    const persistent = await addRule('-A input -p udp --dport 5801 -j DIVERT 60', { netns: b.name, owner: 'cli' });
    t.after(() => deleteRule(persistent.rules[0]!.id, { netns: b.name }).catch(() => undefined));
    const holder = createDivertSocket({ port: 60, netns: b.name, handleSignals: false, verdictTimeoutMs: 0 });
    t.after(() => holder.close());
    // Socket B has rules of its own: the first install makes this process's table and its hooks.
    const other = createDivertSocket({ port: 61, netns: b.name, rules: ['-A input -p udp --dport 5802'], handleSignals: false });
    t.after(() => other.close());
    await Promise.all([holder.ready, other.ready]);

    const recv = startPeer(b, ['udp-recv', '5801', '1', '5000', '4']);
    await recv.ready;
    await startPeer(a, ['udp-send', link.b4, '5801', 'held across']).result;
    const held: DivertPacket = await holder.recvfrom({ signal: AbortSignal.timeout(5000) });

    // While A holds it: B closes (its rules and, before the fix, the table and hooks went), and the
    // persistent rule goes (before the fix, with the shared table's chains).
    await other.close();
    assert.equal(await deleteRule(persistent.rules[0]!.id, { netns: b.name }), true);

    held.reinject();
    const got = (await recv.result) as { got: string[] };
    assert.deepEqual(got.got, ['held across'], 'the held packet was delivered after its reinjection');
    await new Promise((r) => setTimeout(r, 50)); // the verdict's send happens on the next turn
    assert.equal(holder.stats.verdictErrors, 0, 'the kernel still had the packet when the verdict came');
    await holder.close();
    assert.ok(countersAddUp(holder.stats), JSON.stringify(holder.stats));
  });
});
