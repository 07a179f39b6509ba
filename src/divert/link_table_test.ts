import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { LinkTable } from './link_table.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS } from '../testing/fixtures.js';
import { IffFlags } from '../rtnetlink/constants.js';

/** A fake host with HOST_LINKS and a link table read from it (closed after the test). */
function setup(t: TestContext): { kernel: FakeKernel; links: LinkTable } {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const links = new LinkTable();
  t.after(() => {
    links.close();
    kernel.uninstall();
  });
  return { kernel, links };
}

/** Makes performance.now() read `clock.now` (LinkTable rate-limits refreshes by it). */
function fakeClock(t: TestContext): { now: number } {
  const clock = { now: performance.now() };
  t.mock.method(performance, 'now', () => clock.now);
  return clock;
}

test('LinkTable.get() gives names, MTUs, MACs and flags from the link dump', (t) => {
  const { links } = setup(t);
  const eth0 = links.get(2);
  assert.deepEqual([eth0?.name, eth0?.mtu, eth0?.hwAddr], ['eth0', 1500, '02:00:5e:00:53:01']);
  assert.ok(((eth0?.flags ?? 0) & IffFlags.IFF_UP) !== 0);
  const lo = links.get(1);
  assert.deepEqual([lo?.name, lo?.mtu, lo?.hwAddr], ['lo', 65536, undefined]);
  assert.equal(links.get(0), undefined, 'ifindex 0 means "no interface"');
  assert.deepEqual(links.all().map((l) => l.index), [1, 2, 3]);
});

test('LinkTable lists IPv4 addresses in order and global IPv6 addresses before link-local ones', (t) => {
  const { links } = setup(t);
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.1']);
  assert.deepEqual(links.get(2)?.ipv6, ['2001:db8::1', 'fe80::1']); // the dump lists fe80::1 first
  assert.deepEqual(links.get(3)?.ipv4, ['198.51.100.1', '198.51.100.2']);
  assert.deepEqual(links.get(1)?.ipv6, ['::1']);
});

test('LinkTable.refresh() reads a dump spread over several datagrams', (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.rtnetlink.perDatagram = 1;
  kernel.setLinks(Array.from({ length: 9 }, (_, i) => ({ index: i + 1, name: `veth${i}`, ipv4: [`192.0.2.${i + 1}`] })));
  const links = new LinkTable();
  assert.equal(links.all().length, 9);
  assert.deepEqual(links.get(9)?.ipv4, ['192.0.2.9']);
  links.close();
});

test('LinkTable.get() refreshes once for an unknown ifindex, at most once a second', (t) => {
  const clock = fakeClock(t);
  const { kernel, links } = setup(t);
  assert.equal(kernel.rtnetlink.dumps, 2); // links, then addresses
  kernel.setLinks([...HOST_LINKS, { index: 7, name: 'veth7', ipv4: ['203.0.113.7/24'] }]);
  assert.equal(links.get(7), undefined, 'within a second of the last refresh: no new dump');
  assert.equal(kernel.rtnetlink.dumps, 2);
  clock.now += 1001;
  assert.deepEqual(links.get(7)?.ipv4, ['203.0.113.7']);
  assert.equal(kernel.rtnetlink.dumps, 4);
  assert.equal(links.get(7)?.name, 'veth7');
  assert.equal(kernel.rtnetlink.dumps, 4, 'a known index costs no dump');
});

test('LinkTable.byName() and byAddress() find links, refreshing for unknown ones', (t) => {
  const { kernel, links } = setup(t);
  assert.equal(links.byName('eth1')?.index, 3);
  assert.equal(links.byAddress('2001:db8::1')?.name, 'eth0');
  assert.equal(links.byAddress('198.51.100.2')?.name, 'eth1');
  kernel.setLinks([...HOST_LINKS, { index: 8, name: 'wg0', ipv6: ['2001:db8:8::1'] }]);
  assert.equal(links.byName('wg0')?.index, 8);
  assert.equal(links.byAddress('203.0.113.99'), undefined);
});

test('LinkTable.close() closes its NETLINK_ROUTE socket', (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks(HOST_LINKS);
  const links = new LinkTable('/run/netns/blue');
  const [sock] = kernel.openSockets();
  assert.equal(sock?.netnsPath, '/run/netns/blue');
  links.close();
  assert.equal(kernel.openSockets().length, 0);
  assert.deepEqual(kernel.problems, []);
});

test('LinkTable.get() re-reads a table older than five seconds, so changed addresses show up', (t) => {
  const clock = fakeClock(t);
  const { kernel, links } = setup(t);
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.1']);
  kernel.setLinks(HOST_LINKS.map((l) => (l.index === 2 ? { ...l, ipv4: ['192.0.2.99/24'] } : l)));
  clock.now += 4000;
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.1'], 'fresh enough: no dump per packet');
  clock.now += 1500;
  assert.deepEqual(links.get(2)?.ipv4, ['192.0.2.99']);
});
