import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { putU32ne } from '../netlink/bytes.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { Errno } from '../_native/errno.js';
import { PacketError } from '../errors.js';
import { FakeKernel, type FakeSocket } from '../testing/fake_kernel.js';
import { HOST_LINKS, turn, waitFor } from '../testing/fixtures.js';
import { IFINFOMSG_LEN, IflaAttr, RtmType, RtnlGroup } from './constants.js';
import { LinkTable } from './link_table.js';

/** A fake host with HOST_LINKS, an open table, and the table's socket as the fake sees it. */
async function setup(t: TestContext, onError?: (err: Error) => void): Promise<{ kernel: FakeKernel; links: LinkTable; sock: FakeSocket }> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const links = await LinkTable.open(undefined, { onError });
  const sock = kernel.openSockets().find((s) => s.protocol === NetlinkProtocol.NETLINK_ROUTE)!;
  t.after(() => {
    links.close();
    assert.deepEqual(kernel.problems, []);
    kernel.uninstall();
  });
  return { kernel, links, sock };
}

test('LinkTable.open() joins the link and address groups, then reads links and addresses', async (t) => {
  const { kernel, links, sock } = await setup(t);
  assert.deepEqual(kernel.rtnetlink.groupsOf(sock), [RtnlGroup.RTNLGRP_LINK, RtnlGroup.RTNLGRP_IPV4_IFADDR, RtnlGroup.RTNLGRP_IPV6_IFADDR]);
  assert.equal(kernel.rtnetlink.dumps, 2);
  assert.deepEqual(links.get(2), { index: 2, name: 'eth0', mtu: 1500, hwAddr: '02:00:5e:00:53:01', flags: 0x10041, ipv4: ['192.0.2.1'], ipv6: ['2001:db8::1', 'fe80::1'] });
  assert.deepEqual(links.get(3)?.ipv4, ['198.51.100.1', '198.51.100.2'], 'primary first');
  assert.equal(links.get(0), undefined);
  assert.equal(links.byName('eth1')?.index, 3);
  assert.equal(links.byAddress('2001:0db8:0:0::1')?.name, 'eth0', 'any spelling of the address');
  assert.equal(links.byAddress('198.51.100.2')?.index, 3);
  assert.deepEqual(links.all().map((l) => l.name), ['lo', 'eth0', 'eth1']);
  assert.equal(sock.poll?.ref, false, 'the table alone does not keep the process alive');
});

test('LinkTable applies address notifications as they arrive, without a dump', async (t) => {
  const { kernel, links } = await setup(t);
  kernel.rtnetlink.addAddress(2, '192.0.2.7/24');
  kernel.rtnetlink.addAddress(2, 'fe80::7');
  kernel.rtnetlink.addAddress(2, '2001:db8::7', { seq: 1_700_000_000, pid: 31337 }); // as `ip addr add` causes it
  await turn();
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.1', '192.0.2.7']);
  assert.deepEqual(links.get(2)?.ipv6, ['2001:db8::1', '2001:db8::7', 'fe80::1', 'fe80::7']);
  assert.equal(links.byAddress('2001:db8::7')?.index, 2);
  kernel.rtnetlink.removeAddress(2, '192.0.2.1/24');
  await turn();
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.7']);
  assert.equal(links.byAddress('192.0.2.1'), undefined);
  assert.equal(kernel.rtnetlink.dumps, 2, 'no re-dump');
  assert.equal(links.notifications, 4);
});

test('LinkTable lookups read queued notifications on a miss: a link made a moment ago is found at once', async (t) => {
  const { kernel, links, sock } = await setup(t);
  const sent = sock.sent.length;
  kernel.rtnetlink.addLink({ index: 9, name: 'veth9', mac: '02:00:5e:00:53:09', ipv4: ['203.0.113.9/24'] });
  // No turn of the event loop: the lookup itself reads what is queued.
  assert.deepEqual(links.byName('veth9')?.ipv4, ['203.0.113.9']);
  kernel.rtnetlink.addLink({ index: 10, name: 'veth10' });
  assert.equal(links.get(10)?.name, 'veth10');
  kernel.rtnetlink.addAddress(10, '203.0.113.10');
  assert.equal(links.byAddress('203.0.113.10')?.index, 10);
  for (let i = 0; i < 100; i++) assert.equal(links.get(77), undefined);
  assert.equal(links.byName('nope'), undefined);
  assert.equal(sock.sent.length, sent, 'lookups sent nothing: no dump, hits or misses');
  assert.equal(kernel.rtnetlink.dumps, 2);
});

test('LinkTable forgets deleted links and their addresses', async (t) => {
  const { kernel, links } = await setup(t);
  kernel.rtnetlink.removeLink(3);
  await turn();
  assert.equal(links.get(3), undefined);
  assert.equal(links.byName('eth1'), undefined);
  assert.equal(links.byAddress('198.51.100.1'), undefined);
  assert.deepEqual(links.all().map((l) => l.index), [1, 2]);
});

test('LinkTable snapshots: a change makes a new Link, one already handed out stays as it was', async (t) => {
  const { kernel, links } = await setup(t);
  const before = links.get(2)!;
  assert.equal(links.get(2), before, 'no change: the same object');
  kernel.rtnetlink.updateLink(2, { name: 'wan0', mtu: 9000 });
  await turn();
  assert.deepEqual([before.name, before.mtu], ['eth0', 1500]);
  assert.deepEqual([links.get(2)?.name, links.get(2)?.mtu], ['wan0', 9000]);
  assert.equal(links.byName('eth0'), undefined);
  assert.equal(links.byName('wan0')?.index, 2);
});

test('LinkTable ignores RTM_DELLINK of family AF_BRIDGE (a port leaving a bridge lives on)', async (t) => {
  const { kernel, links, sock } = await setup(t);
  const b = new MessageBuilder();
  b.begin(RtmType.RTM_DELLINK, 0, 0);
  const off = b.reserve(IFINFOMSG_LEN);
  b.buffer[off] = 7; // AF_BRIDGE
  putU32ne(b.buffer, off + 4, 2);
  b.putAttrString(IflaAttr.IFLA_IFNAME, 'eth0');
  b.end();
  kernel.deliver(sock.fd, b.bytes());
  await turn();
  assert.equal(links.get(2)?.name, 'eth0');
});

test('LinkTable reads everything again after ENOBUFS (lost notifications)', async (t) => {
  const { kernel, links, sock } = await setup(t);
  kernel.rtnetlink.addAddress(2, '192.0.2.50/24', { notify: false });
  kernel.rtnetlink.removeLink(3, { notify: false });
  kernel.failNextRecv(sock.fd, Errno.ENOBUFS);
  await waitFor(() => links.resyncs === 1, 'the re-dump');
  await links.settled();
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.1', '192.0.2.50']);
  assert.equal(links.get(3), undefined);
  assert.equal(kernel.rtnetlink.dumps, 4);
});

test('LinkTable recovers from a real overflow of its receive buffer', async (t) => {
  const { kernel, links, sock } = await setup(t);
  sock.rcvbuf = 1000; // room for a few notifications only
  for (let i = 10; i < 60; i++) kernel.rtnetlink.addAddress(2, `192.0.2.${i}/24`);
  assert.ok(sock.error === Errno.ENOBUFS, 'the fake dropped notifications');
  sock.rcvbuf = 1 << 20; // the re-dump must fit
  await waitFor(() => links.resyncs >= 1, 'the re-dump');
  await links.settled();
  assert.equal(links.get(2)?.ipv4.length, 51);
  assert.equal(links.byAddress('192.0.2.59')?.index, 2);
});

test('LinkTable reports a malformed notification and reads everything again', async (t) => {
  const errors: Error[] = [];
  const { kernel, links, sock } = await setup(t, (err) => errors.push(err));
  const b = new MessageBuilder();
  b.begin(RtmType.RTM_NEWADDR, 0, 0);
  b.reserve(4); // ifaddrmsg needs 8
  b.end();
  kernel.deliver(sock.fd, b.bytes());
  await waitFor(() => links.resyncs === 1, 'the re-dump');
  assert.ok(errors[0] instanceof PacketError);
  assert.equal(links.get(2)?.name, 'eth0');
});

test('LinkTable.close() stops listening; lookups answer from the last state', async (t) => {
  const { kernel, links, sock } = await setup(t);
  links.close();
  assert.ok(sock.closed);
  kernel.rtnetlink.addAddress(2, '192.0.2.99/24');
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.1']);
  await links.resync(); // a no-op once closed
});

test('LinkTable.open() opens its socket in the namespace it is given', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks(HOST_LINKS);
  const links = await LinkTable.open('/run/netns/blue');
  assert.equal(kernel.sockets.at(-1)?.netnsPath, '/run/netns/blue');
  links.close();
  kernel.failSocket(Errno.ENOENT, { netnsPath: '/run/netns/gone' });
  await assert.rejects(LinkTable.open('/run/netns/gone'), /no such network namespace/);
});
