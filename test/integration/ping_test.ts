/**
 * divert's own ping (src/cli/demo/ping.ts) against the real kernel, without any ping binary:
 * raw sockets opened inside throwaway namespaces, TTL and hop limit read across a router, ICMP
 * errors quoting our requests, concurrent pings kept apart, and every run bounded in time.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createNetns, enableForwarding, pingFrom, requirePrivilege, startPeer, type Netns } from '../_harness/netns.js';
import { ping, type PingResult } from '../../src/cli/demo/ping.js';

/** a ── r ── b, with routes through r; the r–b link has MTU 1280. */
function routed(first: number): { a: Netns; b: Netns; b4: string; b6: string; r4: string; r6: string } {
  const a = createNetns();
  const r = createNetns();
  const b = createNetns();
  const left = connect(a, r, first);
  const right = connect(r, b, first + 1, { mtu: 1280 });
  enableForwarding(r);
  a.exec('ip', ['route', 'add', `198.18.${first + 1}.0/24`, 'via', left.b4]);
  a.exec('ip', ['-6', 'route', 'add', `2001:db8:${first + 1}::/64`, 'via', left.b6]);
  b.exec('ip', ['route', 'add', `198.18.${first}.0/24`, 'via', right.a4]);
  b.exec('ip', ['-6', 'route', 'add', `2001:db8:${first}::/64`, 'via', right.a6]);
  return { a, b, b4: right.b4, b6: right.b6, r4: left.b4, r6: left.b6 };
}

describe('divert ping (real kernel, no ping binary)', () => {
  test('IPv4 and IPv6 across a router: every reply, TTL and hop limit one less than 64', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b4, b6 } = routed(40);
    for (const addr of [b4, b6]) {
      const r = await pingFrom(a, addr, { count: 3, intervalMs: 50, deadlineMs: 2000 });
      assert.equal(r.sent, 3, addr);
      assert.equal(r.received, 3, JSON.stringify(r));
      assert.deepEqual(r.ttls, [63, 63, 63], `${addr}: TTL / hop limit after one router`);
      assert.equal(r.rtts.length, 3);
      assert.ok(r.rtts.every((ms) => ms >= 0 && ms < 2000));
      assert.deepEqual(r.errors, []);
    }
  });

  test('a request too big for the next hop with DF: "fragmentation needed" / "packet too big" with MTU 1280', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b4, b6, r4 } = routed(42);
    const v4 = await pingFrom(a, b4, { dontFragment: true, size: 1400, deadlineMs: 1000 });
    assert.equal(v4.received, 0);
    assert.deepEqual(v4.errors, [{ kind: 'icmp', seq: 1, type: 3, code: 4, mtu: 1280, from: r4 }]);
    const v6 = await pingFrom(a, b6, { dontFragment: true, size: 1400, deadlineMs: 1000 });
    assert.equal(v6.received, 0);
    assert.deepEqual(v6.errors, [{ kind: 'icmp', seq: 1, type: 2, code: 0, mtu: 1280 }]);
    // Without DF the kernel fragments the request locally and the reply comes back whole.
    const big = await pingFrom(a, b4, { size: 3000, deadlineMs: 1000 });
    assert.equal(big.received, 1, JSON.stringify(big));
  });

  test('pings running side by side, in this process and in a peer process, never take each other\'s replies', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b4, b6 } = routed(44);
    const other = startPeer(a, ['ping', b4, '5', '3000']);
    const here = await Promise.all([
      pingFrom(a, b4, { count: 5, intervalMs: 20 }),
      pingFrom(a, b4, { count: 4, intervalMs: 20 }),
      pingFrom(a, b6, { count: 3, intervalMs: 20 }),
    ]);
    assert.deepEqual(here.map((r) => [r.sent, r.received, r.rtts.length, r.ttls.length]), [[5, 5, 5, 5], [4, 4, 4, 4], [3, 3, 3, 3]]);
    const there = (await other.result) as PingResult;
    assert.deepEqual([there.sent, there.received, there.ttls, there.errors], [5, 5, [63, 63, 63, 63, 63], []]);
  });

  test('no answer: the run ends at the per-reply timeout, not later; untilReplies keeps trying to the deadline', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a } = routed(46);
    // Routed to the router, which has no route for it: nothing comes back in time (or an ICMP error).
    a.exec('ip', ['route', 'add', '198.18.99.0/24', 'via', '198.18.46.2']);
    let start = Date.now();
    const r = await pingFrom(a, '198.18.99.1', { count: 2, intervalMs: 50, timeoutMs: 300, deadlineMs: 5000 });
    assert.ok(Date.now() - start < 1500, `ended after ${Date.now() - start} ms`);
    assert.equal(r.received, 0);
    assert.equal(r.sent, 2);
    start = Date.now();
    const u = await pingFrom(a, '198.18.99.1', { count: 1, untilReplies: true, intervalMs: 100, timeoutMs: 300, deadlineMs: 800 });
    const took = Date.now() - start;
    assert.ok(took >= 700 && took < 2000, `ran ${took} ms for an 800 ms deadline`);
    assert.ok(u.sent >= 5 && u.sent <= 9, `${u.sent} requests 100 ms apart in 800 ms`);
    assert.equal(u.received, 0);
  });

  test('misuse is refused before any socket is opened', async () => {
    await assert.rejects(ping('198.18.0.1', { count: 0 }), /count must be an integer 1–1000, got 0/);
    await assert.rejects(ping('198.18.0.1', { intervalMs: 1 }), RangeError);
    await assert.rejects(ping('198.18.0.1', { deadlineMs: 10 ** 9 }), RangeError);
    await assert.rejects(ping('198.18.0.1', { size: -1 }), RangeError);
    await assert.rejects(ping('example.com'), SyntaxError);
    await assert.rejects(ping('198.18.0.1', { netns: '/nonexistent/netns' }), (e: Error & { code?: string }) => e.code === 'ENOENT');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(ping('198.18.0.1', { signal: ac.signal }), { name: 'AbortError' });
  });
});
