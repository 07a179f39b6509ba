/**
 * rtnetlink against the real kernel, each test in throwaway namespaces: tc objects made by
 * netlink messages (clsact, bpf + mirred redirect), read back and cross-checked with iproute2's
 * tc; and the LinkTable following `ip` changes through notifications without blocking the loop.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, createNetns, execAsync, ifindexOf, requirePrivilege, sleep, waitFor, type Netns } from '../_harness/netns.js';
import { NetlinkProtocol } from '../../src/netlink/constants.js';
import { NetlinkSocket } from '../../src/socket/netlink_socket.js';
import { formatTcBytecode, markMatchProgram, parseTcBytecode, sameProgram } from '../../src/rtnetlink/cbpf.js';
import { LinkTable } from '../../src/rtnetlink/link_table.js';
import { MirredEaction, TcAct } from '../../src/rtnetlink/tc_constants.js';
import { addClsact, deleteClsact, hasClsact, listFilters, listQdiscs, replaceBpfFilter } from '../../src/rtnetlink/tc_ops.js';
import { probeTc } from '../../src/rtnetlink/tc_probe.js';
import { installRedirect, isRedirectFilter, listRedirectFilters, redirectFilterSpec, removeRedirect, removeRedirectSync, sweepRedirectFilters } from '../../src/rtnetlink/tc_redirect.js';
import { INJECT_MARK, INJECT_TC_PRIO } from '../../src/firewall/mark.js';
import { NetlinkError } from '../../src/errors.js';

const MATCH = { prio: INJECT_TC_PRIO, ops: markMatchProgram(INJECT_MARK) };

function haveTc(ns: Netns): boolean {
  return ns.tryExec('tc', ['-V']).ok;
}

function rtnl(ns: Netns): NetlinkSocket {
  return NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE, { netnsPath: ns.path, slotSize: 32768, batch: 4 });
}

describe('rtnetlink tc (real kernel)', () => {
  test('clsact and the redirect filter, added by netlink, read back by the decoder, agree with tc, and go away', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const link = connect(a, createNetns(), 40);
    const ifindex = ifindexOf(a, link.a);
    const sock = rtnl(a);
    t.after(() => sock.close());
    const mine = { ...MATCH, ifindex, pid: process.pid };

    assert.deepEqual(await installRedirect(sock, mine), { addedQdisc: true });
    assert.ok(await hasClsact(sock, ifindex));
    assert.deepEqual((await listQdiscs(sock, ifindex)).filter((q) => q.kind === 'clsact').map((q) => [q.handle, q.parent]), [[0xffff_0000, 0xffff_fff1]]);
    const [f, ...others] = await listFilters(sock, ifindex, 'egress');
    assert.deepEqual(others, []);
    assert.ok(f && isRedirectFilter(f, MATCH));
    assert.deepEqual([f.handle, f.prio, f.chain, f.bpf?.actions.length], [process.pid, INJECT_TC_PRIO, 0, 1]);
    assert.deepEqual(f.bpf?.actions[0]?.mirred && { ...f.bpf.actions[0].mirred, index: 0 }, {
      index: 0, capab: 0, action: TcAct.TC_ACT_STOLEN, refcnt: 1, bindcnt: 1, eaction: MirredEaction.TCA_INGRESS_REDIR, ifindex,
    });
    assert.deepEqual(await listRedirectFilters(sock, MATCH), [{ ifindex, ifname: link.a, pid: process.pid }]);
    // The program is the one the earlier tc-based injector installed.
    const tcBytecode = `4,32 0 0 ${0xfffff000 + 20},21 0 1 ${INJECT_MARK},6 0 0 4294967295,6 0 0 0`;
    assert.ok(sameProgram(parseTcBytecode(tcBytecode), MATCH.ops));

    const otherPid = 0x7ffe_0001;
    if (haveTc(a)) {
      const shown = a.exec('tc', ['filter', 'show', 'dev', link.a, 'egress']);
      assert.match(shown, new RegExp(`pref ${INJECT_TC_PRIO} bpf chain 0 handle 0x${process.pid.toString(16)} .*bytecode '${formatTcBytecode(MATCH.ops)}'`));
      assert.match(shown, new RegExp(`mirred \\(Ingress Redirect to device ${link.a}\\) stolen`));
      // And the other way round: a filter made by tc, as the earlier injector did, is one of ours.
      a.exec('tc', ['filter', 'replace', 'dev', link.a, 'egress', 'prio', String(INJECT_TC_PRIO), 'handle', String(otherPid), 'protocol', 'all',
        'bpf', 'bytecode', tcBytecode, 'action', 'mirred', 'ingress', 'redirect', 'dev', link.a]);
      assert.deepEqual((await listRedirectFilters(sock, MATCH)).map((r) => r.pid).sort(), [process.pid, otherPid].sort());
    } else {
      t.diagnostic('tc not installed: cross-check skipped');
      await replaceBpfFilter(sock, redirectFilterSpec({ ...mine, pid: otherPid }));
    }

    assert.deepEqual(await removeRedirect(sock, mine, true), { filter: true, qdisc: false }, 'another filter keeps the qdisc');
    assert.deepEqual(removeRedirectSync(sock, { ...mine, pid: otherPid }, true), { filter: true, qdisc: true });
    assert.equal(await hasClsact(sock, ifindex), false);
    if (haveTc(a)) assert.doesNotMatch(a.exec('tc', ['qdisc', 'show', 'dev', link.a]), /clsact/);
    assert.equal(await deleteClsact(sock, ifindex), false);
    await assert.rejects(replaceBpfFilter(sock, redirectFilterSpec(mine)), (e: NetlinkError) => e.code === 'EINVAL');
    assert.equal(await addClsact(sock, ifindex), true);
    assert.equal(await addClsact(sock, ifindex), false, 'EEXIST is "already there"');
    assert.equal(await deleteClsact(sock, ifindex), true);
  });

  test('sweep removes the filters of owners that are gone and the qdisc it emptied', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const link = connect(a, createNetns(), 41);
    const ifindex = ifindexOf(a, link.a);
    const sock = rtnl(a);
    t.after(() => sock.close());
    await installRedirect(sock, { ...MATCH, ifindex, pid: 0x7ffe_0002 });
    await installRedirect(sock, { ...MATCH, ifindex: 1, pid: 0x7ffe_0003 });
    await installRedirect(sock, { ...MATCH, ifindex: 1, pid: process.pid });
    const r = await sweepRedirectFilters(sock, { ...MATCH, alive: (pid) => pid === process.pid });
    assert.deepEqual(r.removed.map((f) => f.pid).sort(), [0x7ffe_0002, 0x7ffe_0003]);
    assert.deepEqual(r.qdiscs, [ifindex]);
    assert.deepEqual(await listRedirectFilters(sock, MATCH), [{ ifindex: 1, ifname: 'lo', pid: process.pid }]);
  });

  test('probeTc() finds clsact, cls_bpf and act_mirred and leaves lo as it was', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const p = await probeTc(ns.path);
    assert.deepEqual(p, { clsact: { ok: true }, clsBpf: { ok: true }, actMirred: { ok: true } });
    const sock = rtnl(ns);
    t.after(() => sock.close());
    assert.equal(await hasClsact(sock, 1), false);
  });
});

describe('LinkTable over notifications (real kernel)', () => {
  test('sees `ip link add`, `ip addr add` and `ip link del` made while it is open', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const links = await LinkTable.open(ns.path);
    t.after(() => links.close());
    assert.equal(links.byName('lo')?.index, 1);
    assert.ok((await execAsync(ns, 'ip', ['link', 'add', 'dvt0', 'type', 'veth', 'peer', 'name', 'dvt1'])).ok);
    // The notification is queued before `ip` got its answer: the next lookup finds the link at once.
    const dvt0 = links.byName('dvt0');
    assert.ok(dvt0, 'found without waiting');
    assert.equal(links.get(dvt0.index)?.mtu, 1500);
    assert.ok((await execAsync(ns, 'ip', ['addr', 'add', '198.18.60.1/24', 'dev', 'dvt0'])).ok);
    assert.ok((await execAsync(ns, 'ip', ['-6', 'addr', 'add', '2001:db8:60::1/64', 'dev', 'dvt0', 'nodad'])).ok);
    assert.ok(await waitFor(() => links.byAddress('2001:db8:60::1')?.index === dvt0.index, 1000));
    assert.deepEqual(links.get(dvt0.index)?.ipv4, ['198.18.60.1']);
    assert.ok((await execAsync(ns, 'ip', ['link', 'set', 'dvt0', 'up'])).ok);
    assert.ok(await waitFor(() => ((links.get(dvt0.index)?.flags ?? 0) & 1) === 1, 1000), 'IFF_UP');
    assert.ok((await execAsync(ns, 'ip', ['link', 'del', 'dvt0'])).ok);
    assert.ok(await waitFor(() => links.get(dvt0.index) === undefined && links.byName('dvt1') === undefined, 1000));
    assert.equal(links.byAddress('198.18.60.1'), undefined);
    assert.equal(links.resyncs, 0, 'no notification was lost');
  });

  test('an address added mid-flow, during a refresh, is seen by the next lookups without pausing the event loop', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const link = connect(ns, createNetns(), 42);
    const ifindex = ifindexOf(ns, link.a);
    const links = await LinkTable.open(ns.path);
    t.after(() => links.close());
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    // "Packets": a lookup of the receiving interface's addresses every millisecond.
    let lookups = 0;
    let seenAt = -1;
    const flow = setInterval(() => {
      lookups++;
      if (seenAt < 0 && links.get(ifindex)?.ipv4.includes('198.18.43.7')) seenAt = lookups;
    }, 1);
    flow.unref();
    t.after(() => clearInterval(flow)); // a failure before the clearInterval below must not keep the file running
    await sleep(100);
    const before = lookups;
    const refresh = links.resync(); // a full re-read in flight while the address arrives
    const added = await execAsync(ns, 'ip', ['addr', 'add', '198.18.43.7/24', 'dev', link.a]);
    const seenWithoutTurn = links.get(ifindex)?.ipv4.includes('198.18.43.7') === true;
    await refresh;
    const ok = await waitFor(() => seenAt >= 0, 2000, 5);
    await sleep(100);
    clearInterval(flow);
    delay.disable();
    assert.ok(added.ok, added.stderr);
    assert.ok(ok && seenWithoutTurn, 'the first lookup after `ip addr add` returned sees the address');
    assert.ok(seenAt > before, 'no lookup saw it before it was added');
    assert.deepEqual(links.get(ifindex)?.ipv4, [link.a4, '198.18.43.7']);
    assert.equal(links.resyncs, 1);
    const maxMs = delay.max / 1e6;
    t.diagnostic(`${lookups} lookups (${before} before the change); event-loop delay max ${maxMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`);
    assert.ok(maxMs < 50, `the event loop paused for ${maxMs.toFixed(1)} ms`);
  });
});
