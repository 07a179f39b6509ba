/**
 * Sniff mode against the fake kernel: the socket binds an NFLOG group (no queue), its rules end
 * in `log group <port>`, copies arrive with the same addresses as diverted packets, verdict calls
 * are refused, and the counters add up with `sniffed`.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createDivertSocket, DivertSocket } from './divert_socket.js';
import { SniffSocket } from './sniff_socket.js';
import { SniffedPacket } from './sniffed_packet.js';
import { countersAddUp } from './counters.js';
import type { DivertSocketOptions } from './options.js';
import { FakeKernel, type FakeLogMeta } from '../testing/fake_kernel.js';
import { HOST_LINKS, turn, udp4, udp6, waitFor } from '../testing/fixtures.js';
import { NFULNL_CFG_CMD, NFULNL_COPY } from '../nflog/constants.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { decodeNote, ownedTable } from '../firewall/layout.js';
import { buildUdpPacket } from '../packet/build.js';
import { DivertError } from '../errors.js';

const IN: FakeLogMeta = { hook: NF_INET_HOOKS.NF_INET_PRE_ROUTING, indev: 2 };
const OUT: FakeLogMeta = { hook: NF_INET_HOOKS.NF_INET_POST_ROUTING, outdev: 3 };

/** A fake host with HOST_LINKS and a sniffing socket on port 7. */
async function open(t: TestContext, options: DivertSocketOptions = {}): Promise<{ kernel: FakeKernel; sock: SniffSocket }> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const sock = createDivertSocket({ port: 7, handleSignals: false, ...options, sniff: true });
  t.after(async () => {
    await sock.close().catch(() => {});
    kernel.uninstall();
  });
  await sock.ready;
  return { kernel, sock };
}

test('createDivertSocket({ sniff: true }) binds NFLOG group <port>, copies each packet at once, binds no queue', async (t) => {
  const { kernel, sock } = await open(t);
  assert.ok(sock instanceof SniffSocket);
  const port = kernel.nflog.state(7)?.portId;
  assert.deepEqual(kernel.nflog.config.map(({ portId: _p, ...r }) => r), [
    { group: 7, command: NFULNL_CFG_CMD.NFULNL_CFG_CMD_BIND },
    { group: 7, copyMode: NFULNL_COPY.NFULNL_COPY_PACKET, copyRange: 65531 },
    { group: 7, qthreshold: 1 },
    { group: 7, timeout: 1 },
  ]);
  assert.ok(port !== undefined);
  assert.equal(kernel.queueState(7), undefined, 'no NFQUEUE: nothing is held');
  assert.deepEqual(kernel.configLog, []);
});

test('SniffSocket.recvfrom() gives copies the addresses diverted packets get: receiving interface inbound, 0.0.0.0 and :: outbound', async (t) => {
  const { kernel, sock } = await open(t);
  const bytes = udp4();
  assert.ok(kernel.logPacket(7, bytes, { ...IN, mark: 5, hwAddr: '02:00:5e:00:53:77', timestamp: 1_700_000_000_000 }));
  const p = await sock.recvfrom();
  assert.ok(p instanceof SniffedPacket);
  assert.deepEqual(p.packet, bytes);
  const a = p.address;
  assert.deepEqual(
    [a.family, a.address, a.port, a.ifindex, a.ifname, a.direction, a.hook, a.outbound, a.mark, a.hwAddr, a.timestamp, a.truncated],
    [4, '192.0.2.1', 7, 2, 'eth0', 'inbound', 'prerouting', false, 5, '02:00:5e:00:53:77', 1_700_000_000_000, false],
  );
  kernel.logPacket(7, udp4(), OUT);
  kernel.logPacket(7, udp6(), { hook: NF_INET_HOOKS.NF_INET_POST_ROUTING, outdev: 2 });
  kernel.logPacket(7, udp6(), IN);
  const [v4, v6, in6] = [await sock.recvfrom(), await sock.recvfrom(), await sock.recvfrom()];
  assert.deepEqual([v4.address.address, v4.address.outIfname, v4.address.direction, v4.address.timestamp], ['0.0.0.0', 'eth1', 'outbound', undefined]);
  assert.deepEqual([v6.address.family, v6.address.address, v6.address.hook], [6, '::', 'postrouting']);
  assert.equal(in6.address.address, '2001:db8::1');
  assert.deepEqual([p.id, v4.id, v6.id, in6.id], [1, 2, 3, 4], 'numbered by the socket (NFLOG has no packet ids)');
  const s = sock.stats;
  assert.deepEqual([s.received, s.sniffed, s.held, s.accepted, s.filtered], [4, 4, 0, 0, 0]);
  assert.ok(countersAddUp(s));
});

test('verdict calls on a sniffed copy throw ERR_DIVERT_SNIFFED and send nothing', async (t) => {
  const { kernel, sock } = await open(t);
  kernel.logPacket(7, udp4(), IN);
  const p = await sock.recvfrom();
  for (const call of [() => p.reinject(), () => p.drop(), () => p.repeat(), () => p.queue(9)]) {
    assert.throws(call, (e: unknown) => e instanceof DivertError && e.code === 'ERR_DIVERT_SNIFFED' && /original already went on/.test(e.message));
  }
  assert.equal(p.verdict, undefined);
  assert.equal(p.sniffed, true);
  await turn();
  assert.deepEqual(kernel.verdicts, []);
  assert.ok(countersAddUp(sock.stats));
});

test('a batch of copies in one datagram (queue threshold above 1, NLMSG_DONE at its end) gives every copy', async (t) => {
  const { kernel, sock } = await open(t);
  kernel.nflog.state(7)!.qthreshold = 3;
  for (const payload of ['a', 'bb', 'ccc']) kernel.logPacket(7, udp4(payload), IN);
  const got = [await sock.recvfrom(), await sock.recvfrom(), await sock.recvfrom()];
  assert.deepEqual(got.map((p) => p.packet.length - 28), [1, 2, 3]);
  assert.equal(sock.stats.decodeErrors, 0);
});

test('coalesceMs becomes NFLOG batching: queue threshold 256, flush timeout in 1/100 s, the largest buffer', async (t) => {
  const { kernel } = await open(t, { coalesceMs: 25 });
  assert.deepEqual(kernel.nflog.config.slice(2).map(({ portId: _p, group: _g, ...r }) => r), [{ qthreshold: 256 }, { timeout: 3 }, { nlbufsiz: 131072 }]);
});

test('a copy cut by copyRange says so: truncated, with the length from its IP header', async (t) => {
  const { kernel, sock } = await open(t, { copyRange: 40 });
  assert.equal(kernel.nflog.state(7)?.copyRange, 40);
  kernel.logPacket(7, udp4('x'.repeat(100)), IN);
  const p = await sock.recvfrom();
  assert.deepEqual([p.packet.length, p.address.truncated, p.address.originalLength], [40, true, 128]);
});

test('rules and filter log to the group: installed in the owned table, gone at close with the group', async (t) => {
  const { kernel, sock } = await open(t, { rules: ['-A input -p udp'], filter: 'udp.DstPort == 53' });
  const rules = kernel.nftables.rules(ownedTable(process.pid)).filter((r) => decodeNote(r.userdata));
  assert.deepEqual(rules.map((r) => [decodeNote(r.userdata)?.kind, decodeNote(r.userdata)?.text, r.exprs.at(-1)]), [
    ['sniff', '-A input -p udp -j SNIFF 7', { type: 'log', group: 7 }],
  ]);
  kernel.logPacket(7, udp4(), IN);
  kernel.logPacket(7, buildUdpPacket({ src: '203.0.113.5', dst: '192.0.2.1', srcPort: 4000, dstPort: 54, payload: 'x' }), IN);
  kernel.logPacket(7, udp4('second'), IN);
  assert.equal((await sock.recvfrom()).packet.length, 33);
  assert.equal((await sock.recvfrom()).packet.length, 34, 'the port-54 copy is filtered in user space');
  assert.deepEqual([sock.stats.received, sock.stats.sniffed, sock.stats.filtered], [3, 2, 1]);
  assert.ok(countersAddUp(sock.stats));
  await sock.close();
  assert.deepEqual(kernel.nftables.tables(), [], 'rules gone, and the owned table with them');
  assert.equal(kernel.nflog.state(7), undefined, 'group unbound');
});

test('copies the kernel sent before close are still given after it; then the iterator ends', async (t) => {
  const { kernel, sock } = await open(t);
  kernel.logPacket(7, udp4('one'), IN);
  kernel.logPacket(7, udp4('two'), IN);
  await sock.close();
  const seen: number[] = [];
  for await (const p of sock) seen.push(p.packet.length);
  assert.deepEqual(seen, [31, 31]);
  await assert.rejects(() => sock.recvfrom(), { name: 'DivertClosedError' });
});

test('a full socket buffer loses copies, never packets: overflow event and overruns, the socket reads on', async (t) => {
  const { kernel, sock } = await open(t);
  const overflows: unknown[] = [];
  sock.on('overflow', (e) => overflows.push(e));
  kernel.openSockets().find((s) => s.portId === kernel.nflog.state(7)?.portId)!.rcvbuf = 400;
  for (let i = 0; i < 10; i++) kernel.logPacket(7, udp4(), IN);
  assert.ok(kernel.nflog.lost > 0, 'the fake refused copies for a full buffer');
  await waitFor(() => sock.stats.overruns > 0, 'an overrun');
  assert.ok(overflows.length > 0);
  const got = await sock.recvfrom();
  assert.ok(got instanceof SniffedPacket);
  assert.equal(sock.stats.received + kernel.nflog.lost, 10, 'each copy either arrived or was counted lost by the kernel');
  kernel.logPacket(7, udp4(), IN);
  await waitFor(() => sock.stats.received === 10 - kernel.nflog.lost + 1, 'reading goes on');
});

test('options only diverting has are refused with sniff; a DivertSocket refuses sniff', () => {
  for (const [name, value] of [['passThrough', true], ['verdictTimeoutMs', 10], ['closeVerdict', 'drop'], ['failOpen', true], ['maxQueueLength', 5], ['gso', true]] as const) {
    assert.throws(() => new SniffSocket({ [name]: value }), new RegExp(`Option ${name} is for diverting`));
  }
  assert.throws(() => new DivertSocket({ sniff: true }), /for sniff: true use createDivertSocket\(\{ sniff: true \}\)/);
  assert.throws(() => createDivertSocket({ sniff: 'yes' as unknown as true }), /Option sniff must be true or false/);
});
