import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { MessageIter } from '../netlink/message_iter.js';
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS } from '../testing/fixtures.js';
import { NetlinkError } from '../errors.js';
import { markMatchProgram } from './cbpf.js';
import { RtmTcType } from './tc_constants.js';
import { parseFilterMessage, type TcFilter } from './tc_filter.js';
import { KERNEL_FILTER_DUMP_EGRESS } from './testdata/tc_dumps.js';
import { addClsact, deleteClsact, deleteClsactSync, deleteFilter, hasClsact, listFilters, listFiltersSync, listQdiscs, listQdiscsSync, replaceBpfFilter } from './tc_ops.js';
import { probeTc } from './tc_probe.js';
import { installRedirect, installRedirectNow, isRedirectFilter, listRedirectFilters, redirectFilterSpec, removeRedirect, removeRedirectSync, sweepRedirectFilters } from './tc_redirect.js';

const PRIO = 49152;
const OPS = markMatchProgram(0x40d1_0001);
const MATCH = { prio: PRIO, ops: OPS };

/** A fake host (lo, eth0 = 2, eth1 = 3) and a NETLINK_ROUTE socket on it. */
function setup(t: TestContext): { kernel: FakeKernel; sock: NetlinkSocket } {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const sock = NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE);
  t.after(() => {
    sock.close();
    assert.deepEqual(kernel.problems, []);
    kernel.uninstall();
  });
  return { kernel, sock };
}

test('addClsact() says whether it added the qdisc; deleteClsact() whether it removed one', async (t) => {
  const { kernel, sock } = setup(t);
  assert.equal(await addClsact(sock, 2), true);
  assert.equal(await addClsact(sock, 2), false, 'EEXIST means "already there"');
  assert.equal(await hasClsact(sock, 2), true);
  assert.equal(await hasClsact(sock, 3), false);
  await addClsact(sock, 3);
  assert.deepEqual((await listQdiscs(sock, 3)).map((q) => [q.ifindex, q.kind]), [[3, 'clsact']], 'the dump covers every interface: listQdiscs filters');
  assert.equal((await listQdiscs(sock)).length, 2);
  assert.equal(await deleteClsact(sock, 2), true);
  assert.equal(await deleteClsact(sock, 2), false, 'EINVAL "Invalid handle" means "none there"');
  assert.equal(deleteClsactSync(sock, 3), true);
  assert.deepEqual(listQdiscsSync(sock), []);
  assert.deepEqual([...kernel.rtnetlink.tc.clsact], []);
});

test('addClsact() and replaceBpfFilter() throw NetlinkError naming the operation on other refusals', async (t) => {
  const { sock } = setup(t);
  await assert.rejects(addClsact(sock, 99), (e: NetlinkError) => e.code === 'ENODEV' && /add clsact qdisc to interface 99/.test(e.message));
  const spec = redirectFilterSpec({ ifindex: 2, pid: 4242, ...MATCH });
  await assert.rejects(replaceBpfFilter(sock, spec), (e: NetlinkError) => {
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.extackMessage, "Parent Qdisc doesn't exists");
    assert.match(e.message, /replace tc bpf filter 4242 prio 49152 on egress of interface 2/);
    return true;
  });
});

test('replaceBpfFilter() replaces, exclusive refuses with EEXIST, and listFilters() reads it back', async (t) => {
  const { sock } = setup(t);
  await addClsact(sock, 2);
  const spec = redirectFilterSpec({ ifindex: 2, pid: 4242, ...MATCH });
  await replaceBpfFilter(sock, spec);
  await replaceBpfFilter(sock, spec);
  await assert.rejects(replaceBpfFilter(sock, spec, true), (e: NetlinkError) => e.code === 'EEXIST');
  const [f, ...rest] = await listFilters(sock, 2, 'egress');
  assert.deepEqual(rest, [], 'one filter; the group header entry (handle 0) is left out');
  assert.equal(f?.handle, 4242);
  assert.ok(f && isRedirectFilter(f, MATCH));
  assert.ok(f && !isRedirectFilter(f, { prio: PRIO, ops: markMatchProgram(1) }), 'another program is not ours');
  assert.deepEqual(await listFilters(sock, 2, 'ingress'), []);
  assert.deepEqual(listFiltersSync(sock, 3, 'egress'), [], 'no clsact: an empty list, as the kernel answers');
});

test('deleteFilter() is false for a filter that is not there, and throws for other refusals', async (t) => {
  const { sock } = setup(t);
  const key = { ifindex: 2, direction: 'egress' as const, prio: PRIO, handle: 4242 };
  assert.equal(await deleteFilter(sock, key), false, 'no clsact at all (EINVAL)');
  await assert.rejects(deleteFilter(sock, { ...key, ifindex: 99 }), (e: NetlinkError) => e.code === 'ENODEV');
  await addClsact(sock, 2);
  assert.equal(await deleteFilter(sock, key), false);
  await replaceBpfFilter(sock, redirectFilterSpec({ ifindex: 2, pid: 4242, ...MATCH }));
  assert.equal(await deleteFilter(sock, { ...key, handle: 4243 }), false);
  assert.equal(await deleteFilter(sock, key), true);
});

test('installRedirectNow() / removeRedirect(): the qdisc goes with the last filter, only if the remover added it', async (t) => {
  const { kernel, sock } = setup(t);
  const a = { ifindex: 2, pid: 100, ...MATCH };
  const b = { ifindex: 2, pid: 200, ...MATCH };
  assert.deepEqual(installRedirectNow(sock, a), { addedQdisc: true });
  assert.deepEqual(installRedirectNow(sock, b), { addedQdisc: false });
  assert.deepEqual(await removeRedirect(sock, a, true), { filter: true, qdisc: false }, "b's filter keeps the qdisc");
  assert.deepEqual(await removeRedirect(sock, b, false), { filter: true, qdisc: false }, 'b did not add it');
  assert.ok(kernel.rtnetlink.tc.clsact.has(2));
  installRedirectNow(sock, a);
  assert.deepEqual(removeRedirectSync(sock, a, true), { filter: true, qdisc: true });
  assert.ok(!kernel.rtnetlink.tc.clsact.has(2));
  assert.deepEqual(await removeRedirect(sock, a, true), { filter: false, qdisc: false }, 'nothing left to remove');
  assert.deepEqual(removeRedirectSync(sock, a, true), { filter: false, qdisc: false }, 'nor for the blocking form');
});

test('removeRedirect() keeps a qdisc it added while a filter of another kind or hook is on it', async (t) => {
  const { kernel, sock } = setup(t);
  const a = { ifindex: 2, pid: 100, ...MATCH };
  installRedirectNow(sock, a);
  await replaceBpfFilter(sock, { ...redirectFilterSpec({ ifindex: 2, pid: 300, ...MATCH }), direction: 'ingress', actions: [] });
  assert.deepEqual(removeRedirectSync(sock, a, true), { filter: true, qdisc: false }, 'an ingress filter counts');
  assert.ok(kernel.rtnetlink.tc.clsact.has(2));
});

test('installRedirect() is installRedirectNow() without blocking: same requests, same answer', async (t) => {
  const { kernel, sock } = setup(t);
  assert.deepEqual(await installRedirect(sock, { ifindex: 2, pid: 100, ...MATCH }), { addedQdisc: true });
  assert.deepEqual(await installRedirect(sock, { ifindex: 2, pid: 200, ...MATCH }), { addedQdisc: false });
  assert.deepEqual((await listFilters(sock, 2, 'egress')).map((f) => f.handle), [100, 200]);
  kernel.rtnetlink.tc.failNext(RtmTcType.RTM_NEWTFILTER, { errno: 2, message: 'TC classifier not found' });
  await assert.rejects(installRedirect(sock, { ifindex: 3, pid: 1, ...MATCH }), (e: NetlinkError) => e.code === 'ENOENT');
  assert.ok(!kernel.rtnetlink.tc.clsact.has(3));
});

test('installRedirectNow() removes the qdisc it added when the filter is refused, and keeps one it found', async (t) => {
  const { kernel, sock } = setup(t);
  kernel.rtnetlink.tc.failNext(RtmTcType.RTM_NEWTFILTER, { errno: 2, message: 'TC classifier not found' });
  assert.throws(() => installRedirectNow(sock, { ifindex: 3, pid: 1, ...MATCH }), (e: NetlinkError) => e.code === 'ENOENT');
  assert.ok(!kernel.rtnetlink.tc.clsact.has(3));
  assert.throws(() => installRedirectNow(sock, { ifindex: 3, pid: 1, ...MATCH, ops: [] }), RangeError, 'an invalid spec: nothing sent, the qdisc removed');
  assert.ok(!kernel.rtnetlink.tc.clsact.has(3));
  await addClsact(sock, 3);
  kernel.rtnetlink.tc.failNext(RtmTcType.RTM_NEWTFILTER, { errno: 2 });
  assert.throws(() => installRedirectNow(sock, { ifindex: 3, pid: 1, ...MATCH }));
  assert.ok(kernel.rtnetlink.tc.clsact.has(3));
});

test('listRedirectFilters() finds divert filters on every interface with name and owner pid', async (t) => {
  const { sock } = setup(t);
  installRedirectNow(sock, { ifindex: 2, pid: 100, ...MATCH });
  installRedirectNow(sock, { ifindex: 3, pid: 200, ...MATCH });
  installRedirectNow(sock, { ifindex: 3, pid: 300, prio: PRIO + 1, ops: OPS }); // another prio: not ours
  await replaceBpfFilter(sock, { ...redirectFilterSpec({ ifindex: 3, pid: 400, ...MATCH }), actions: [] }); // no redirect
  assert.deepEqual(await listRedirectFilters(sock, MATCH), [
    { ifindex: 2, ifname: 'eth0', pid: 100 },
    { ifindex: 3, ifname: 'eth1', pid: 200 },
  ]);
});

test('listRedirectFilters() dumps the filters of interfaces with a clsact qdisc only', async (t) => {
  const { kernel, sock } = setup(t);
  let before = kernel.rtnetlink.dumps;
  assert.deepEqual(await listRedirectFilters(sock, MATCH), []);
  assert.equal(kernel.rtnetlink.dumps - before, 1, 'no clsact anywhere: the qdisc dump alone');
  installRedirectNow(sock, { ifindex: 3, pid: 200, ...MATCH });
  before = kernel.rtnetlink.dumps;
  assert.deepEqual(await listRedirectFilters(sock, MATCH), [{ ifindex: 3, ifname: 'eth1', pid: 200 }]);
  assert.equal(kernel.rtnetlink.dumps - before, 3, 'qdiscs, links, and the egress filters of eth1 (not of lo or eth0)');
});

test('sweepRedirectFilters() removes dead owners\' filters and the qdiscs it emptied', async (t) => {
  const { kernel, sock } = setup(t);
  installRedirectNow(sock, { ifindex: 2, pid: 100, ...MATCH });
  installRedirectNow(sock, { ifindex: 3, pid: 200, ...MATCH });
  installRedirectNow(sock, { ifindex: 3, pid: 300, ...MATCH });
  const r = await sweepRedirectFilters(sock, { ...MATCH, alive: (pid) => pid === 300 });
  assert.deepEqual(r.removed.map((f) => f.pid), [100, 200]);
  assert.deepEqual(r.qdiscs, [2], 'eth1 keeps its qdisc for the live owner');
  assert.deepEqual([...kernel.rtnetlink.tc.clsact], [3]);
  assert.deepEqual((await listRedirectFilters(sock, MATCH)).map((f) => f.pid), [300]);
});

test('probeTc() finds clsact, cls_bpf and act_mirred and leaves nothing behind', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks([{ index: 1, name: 'lo' }]);
  assert.deepEqual(await probeTc('/run/netns/probe'), { clsact: { ok: true }, clsBpf: { ok: true }, actMirred: { ok: true } });
  assert.deepEqual([...kernel.rtnetlink.tc.clsact], []);
  assert.deepEqual(kernel.openSockets(), []);
  assert.equal(kernel.sockets.at(-1)?.netnsPath, '/run/netns/probe');
});

test('probeTc() reports a missing classifier or action with the kernel\'s errno and text', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks([{ index: 1, name: 'lo' }]);
  const tc = kernel.rtnetlink.tc;
  tc.missing.add('bpf');
  let p = await probeTc('/run/netns/probe');
  assert.deepEqual(p, {
    clsact: { ok: true },
    clsBpf: { ok: false, code: 'ENOENT', detail: 'TC classifier not found' },
    actMirred: { ok: false, code: 'SKIPPED', detail: 'needs cls_bpf' },
  });
  tc.missing.clear();
  tc.missing.add('mirred');
  p = await probeTc('/run/netns/probe');
  assert.deepEqual([p.clsBpf, p.actMirred], [{ ok: true }, { ok: false, code: 'ENOENT', detail: 'Failed to load TC action module' }]);
  tc.missing.add('clsact');
  p = await probeTc('/run/netns/probe');
  assert.deepEqual(p.clsact, { ok: false, code: 'ENOENT', detail: 'Specified qdisc kind is unknown' });
  assert.deepEqual([...tc.clsact], []);
  assert.deepEqual(tc.filters, []);
  await assert.rejects(probeTc(''), TypeError);
});

test('probeTc() keeps a clsact qdisc it found and removes only its own filters', async (t) => {
  const { kernel, sock } = setup(t);
  await addClsact(sock, 1);
  assert.deepEqual(await probeTc('/run/netns/probe'), { clsact: { ok: true }, clsBpf: { ok: true }, actMirred: { ok: true } });
  assert.deepEqual([...kernel.rtnetlink.tc.clsact], [1]);
  assert.deepEqual(kernel.rtnetlink.tc.filters, []);
});

test('the fake dumps a filter as the kernel does (decoded, it equals the golden kernel dump)', { skip: !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian' }, async (t) => {
  const { sock } = setup(t);
  installRedirectNow(sock, { ifindex: 3, pid: 4242, ...MATCH });
  const fromFake = await listFilters(sock, 3, 'egress');
  const it = new MessageIter().reset(KERNEL_FILTER_DUMP_EGRESS);
  const fromKernel: TcFilter[] = [];
  while (it.next()) {
    const f = parseFilterMessage(it.buffer, it.payloadOffset, it.end);
    if (f.handle !== 0) fromKernel.push(f);
  }
  assert.deepEqual(fromFake, fromKernel);
});
