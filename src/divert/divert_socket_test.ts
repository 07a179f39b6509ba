import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openOnFakeKernel } from './_test_socket.js';
import { createDivertSocket, type DivertSocket } from './divert_socket.js';
import type { DivertPacket } from './divert_packet.js';
import { FakeKernel, type FakePacketMeta } from '../testing/fake_kernel.js';
import { HOST_LINKS, turn, udp4, udp6, waitFor } from '../testing/fixtures.js';
import { NF_QUEUE_NR, NF_VERDICT, NFQNL_CFG_CMD, NFQA_SKB } from '../nfqueue/constants.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { verifyChecksums } from '../packet/checksum.js';
import { AF_INET, SOCK_RAW } from '../_native/sockaddr.js';
import { Errno } from '../_native/errno.js';
import { DIVERT_MARK } from '../firewall/mark.js';

const { NF_ACCEPT, NF_DROP, NF_REPEAT } = NF_VERDICT;
const IN: FakePacketMeta = { hook: NF_INET_HOOKS.NF_INET_PRE_ROUTING, indev: 2 };
const OUT: FakePacketMeta = { hook: NF_INET_HOOKS.NF_INET_LOCAL_OUT, outdev: 3 };

/** A fake host with HOST_LINKS and a divert socket bound to port 7 on it. */
const open = openOnFakeKernel;

/** Queues `bytes` on port 7 and resolves with the packet recvfrom() gives for it. */
async function divert(kernel: FakeKernel, sock: DivertSocket, bytes: Uint8Array, meta: FakePacketMeta = IN): Promise<DivertPacket> {
  const id = kernel.enqueuePacket(7, bytes, meta);
  const p = await sock.recvfrom();
  assert.equal(p.id, id);
  return p;
}

/** Verdicts the fake received, as [id, verdict] pairs, after the pending flush. */
async function verdicts(kernel: FakeKernel): Promise<Array<[number, number]>> {
  await turn();
  return kernel.verdicts.map((v) => [v.id, v.verdict]);
}

test('DivertSocket.recvfrom() gives an inbound packet the receiving interface address', async (t) => {
  const { kernel, sock } = await open(t);
  const bytes = udp4();
  const p = await divert(kernel, sock, bytes, { ...IN, mark: 5, hwAddr: '02:00:5e:00:53:77', timestamp: 1_700_000_000_000 });
  assert.deepEqual(p.packet, bytes);
  const a = p.address;
  assert.deepEqual(
    [a.family, a.address, a.port, a.ifindex, a.ifname, a.outIfindex, a.direction, a.hook, a.outbound, a.mark, a.hwAddr, a.timestamp],
    [4, '192.0.2.1', 7, 2, 'eth0', 0, 'inbound', 'prerouting', false, 5, '02:00:5e:00:53:77', 1_700_000_000_000],
  );
  assert.equal(sock.stats.received, 1);
  assert.equal(sock.stats.held, 1);
  p.reinject();
});

test('DivertSocket.recvfrom() reports outbound packets as 0.0.0.0 and ::', async (t) => {
  const { kernel, sock } = await open(t);
  const v4 = await divert(kernel, sock, udp4(), OUT);
  assert.deepEqual([v4.address.address, v4.address.ifindex, v4.address.outIfindex, v4.address.outIfname, v4.address.direction, v4.address.outbound], ['0.0.0.0', 0, 3, 'eth1', 'outbound', true]);
  const v6 = await divert(kernel, sock, udp6(), { hook: NF_INET_HOOKS.NF_INET_POST_ROUTING, outdev: 2 });
  assert.deepEqual([v6.address.family, v6.address.address, v6.address.hook, v6.address.direction], [6, '::', 'postrouting', 'outbound']);
});

test('DivertSocket.recvfrom() uses the global IPv6 address; forward keeps the input address', async (t) => {
  const { kernel, sock } = await open(t);
  const v6 = await divert(kernel, sock, udp6(), IN);
  assert.equal(v6.address.address, '2001:db8::1'); // eth0 lists fe80::1 first
  const fwd = await divert(kernel, sock, udp4(), { hook: NF_INET_HOOKS.NF_INET_FORWARD, indev: 3, outdev: 2 });
  assert.deepEqual([fwd.address.address, fwd.address.ifname, fwd.address.outIfname, fwd.address.direction], ['198.51.100.1', 'eth1', 'eth0', 'forward']);
});

test('DivertPacket.reinject() of unchanged bytes sends ACCEPT without a payload', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4());
  p.reinject();
  assert.deepEqual(await verdicts(kernel), [[p.id, NF_ACCEPT]]);
  assert.equal(kernel.verdicts[0]?.payload, undefined);
  assert.deepEqual([sock.stats.accepted, sock.stats.changed, sock.stats.held], [1, 0, 0]);
});

test('DivertPacket.reinject() of changed bytes sends them with valid IPv4 and UDP checksums', async (t) => {
  const { kernel, sock } = await open(t);
  const edited = await divert(kernel, sock, udp4('hello'));
  edited.packet[edited.packet.length - 1] = 0x21; // "hell!"
  edited.reinject();
  const other = await divert(kernel, sock, udp4());
  const replacement = udp4('bye');
  replacement.fill(0, 10, 12); // IPv4 header checksum zeroed: divert refills it
  other.reinject(replacement);
  await turn();
  const [a, b] = kernel.verdicts;
  assert.equal(a?.verdict, NF_ACCEPT);
  assert.equal(new TextDecoder().decode(a?.payload?.subarray(28)), 'hell!');
  assert.deepEqual(verifyChecksums(a!.payload!), { ip: true, udp: true });
  assert.deepEqual(verifyChecksums(b!.payload!), { ip: true, udp: true });
  assert.equal(sock.stats.changed, 2);
});

test('DivertPacket drop(), queue(), repeat() and the mark option become their NFQUEUE verdicts', async (t) => {
  const { kernel, sock } = await open(t);
  const [a, b, c, d] = [await divert(kernel, sock, udp4()), await divert(kernel, sock, udp4()), await divert(kernel, sock, udp4()), await divert(kernel, sock, udp4())];
  a!.drop();
  b!.queue(5);
  c!.repeat({ mark: 9 });
  d!.reinject(undefined, { mark: 0x42 });
  assert.deepEqual(await verdicts(kernel), [[a!.id, NF_DROP], [b!.id, NF_QUEUE_NR(5)], [c!.id, NF_REPEAT], [d!.id, NF_ACCEPT]]);
  assert.deepEqual(kernel.verdicts.map((v) => v.mark), [undefined, undefined, 9, 0x42]);
  assert.equal(NF_QUEUE_NR(5), 0x0005_0003);
  const s = sock.stats;
  assert.deepEqual([s.dropped, s.requeued, s.repeated, s.accepted, s.verdictSends], [1, 1, 1, 1, 1]);
});

test('DivertPacket takes exactly one verdict: a second one throws ERR_DIVERT_VERDICT_TWICE', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4());
  p.drop();
  assert.throws(() => p.reinject(), { code: 'ERR_DIVERT_VERDICT_TWICE' });
  assert.throws(() => sock.drop(p), { code: 'ERR_DIVERT_VERDICT_TWICE' });
  assert.deepEqual(await verdicts(kernel), [[p.id, NF_DROP]]);
});

for (const timeoutVerdict of ['accept', 'drop'] as const) {
  test(`DivertSocket gives packets left without a verdict the timeoutVerdict (${timeoutVerdict})`, async (t) => {
    const { kernel, sock } = await open(t, { verdictTimeoutMs: 20, timeoutVerdict });
    const timedOut: DivertPacket[] = [];
    sock.on('timeout', (p: DivertPacket) => void timedOut.push(p));
    const p = await divert(kernel, sock, udp4());
    await waitFor(() => kernel.verdicts.length === 1, 'the timeout verdict');
    assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[p.id, timeoutVerdict === 'accept' ? NF_ACCEPT : NF_DROP]]);
    assert.deepEqual(timedOut, [p]);
    assert.equal(sock.stats.timedOut, 1);
    assert.throws(() => p.reinject(), { code: 'ERR_DIVERT_VERDICT_TWICE' });
  });
}

test('DivertSocket never hands out a packet that timed out while waiting to be read', async (t) => {
  const { kernel, sock } = await open(t, { verdictTimeoutMs: 20 });
  kernel.enqueuePacket(7, udp4('old'));
  await waitFor(() => sock.stats.timedOut === 1, 'the timeout');
  const fresh = kernel.enqueuePacket(7, udp4('new'));
  assert.equal((await sock.recvfrom()).id, fresh);
});

for (const closeVerdict of ['accept', 'drop'] as const) {
  test(`DivertSocket.close() gives held and still-queued packets the closeVerdict (${closeVerdict}), then unbinds`, async (t) => {
    const { kernel, sock } = await open(t, { closeVerdict });
    const held = [await divert(kernel, sock, udp4()), await divert(kernel, sock, udp4())];
    const queued = [kernel.enqueuePacket(7, udp4()), kernel.enqueuePacket(7, udp4())]; // not read yet
    const waiting = sock.recvfrom(); // a reader waiting at close gets ERR_DIVERT_CLOSED, not drained packets
    await sock.close();
    await sock.close(); // idempotent
    const ids = [...held.map((p) => p.id), ...queued];
    const expected = closeVerdict === 'accept' ? NF_ACCEPT : NF_DROP;
    assert.deepEqual(kernel.verdicts.map((v) => v.id).sort(), ids.sort());
    assert.ok(kernel.verdicts.every((v) => v.verdict === expected));
    assert.equal(sock.stats.closedWithVerdict, 4);
    await assert.rejects(waiting, { code: 'ERR_DIVERT_CLOSED' });
    assert.equal(kernel.configLog.at(-1)?.command, NFQNL_CFG_CMD.NFQNL_CFG_CMD_UNBIND);
    assert.deepEqual([kernel.queueState(7), kernel.autoVerdicts.length, kernel.openSockets().length], [undefined, 0, 0]);
    assert.deepEqual(kernel.problems, []);
    await assert.rejects(sock.recvfrom(), { code: 'ERR_DIVERT_CLOSED' });
  });
}

test('DivertSocket highWaterMark pauses reading from the kernel and resumes below half', async (t) => {
  const { kernel, sock } = await open(t, { highWaterMark: 4 });
  const fd = kernel.openSockets().find((s) => s.protocol === NetlinkProtocol.NETLINK_NETFILTER)!.fd;
  for (let i = 0; i < 6; i++) kernel.enqueuePacket(7, udp4());
  await waitFor(() => sock.stats.received === 6, 'six packets read');
  for (let i = 0; i < 3; i++) kernel.enqueuePacket(7, udp4());
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(sock.stats.received, 6, 'paused: the kernel keeps the rest');
  assert.equal(kernel.socketByFd(fd).rx.length, 3);
  assert.equal(kernel.socketByFd(fd).poll?.active, false);
  const ids: number[] = [];
  for (let i = 0; i < 9; i++) {
    const p = await sock.recvfrom();
    ids.push(p.id);
    p.reinject();
  }
  assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('DivertSocket coalesceMs: packets arriving while it waits are read together, every one answered, and close() leaves no timer', async (t) => {
  const { kernel, sock } = await open(t, { coalesceMs: 20 });
  kernel.enqueuePacket(7, udp4('one'));
  (await sock.recvfrom()).reinject();
  for (let i = 0; i < 3; i++) kernel.enqueuePacket(7, udp4(`more ${i}`));
  for (let i = 0; i < 3; i++) await turn();
  assert.equal(sock.stats.received, 1, 'the three wait for the coalescing timer');
  for (let i = 0; i < 3; i++) (await sock.recvfrom()).drop();
  await turn();
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[1, 1], [2, 0], [3, 0], [4, 0]]);
  assert.equal(new Set(kernel.verdicts.slice(1).map((v) => v.datagram)).size, 1, 'the batch was answered in one datagram');
  kernel.enqueuePacket(7, udp4('held at close'));
  await waitFor(() => sock.stats.held === 1, 'a held packet');
  await sock.close();
  assert.equal(sock.stats.closedWithVerdict, 1);
  assert.deepEqual(kernel.problems, []);
});

test('DivertSocket iteration ends when its AbortSignal aborts', async (t) => {
  const ac = new AbortController();
  const { kernel, sock } = await open(t, { signal: ac.signal });
  kernel.enqueuePacket(7, udp4());
  const seen: number[] = [];
  for await (const p of sock) {
    seen.push(p.id);
    p.reinject();
    ac.abort();
  }
  assert.deepEqual(seen, [1]);
  assert.equal(sock.closed, true);
  await waitFor(() => kernel.openSockets().length === 0, 'the sockets to close');
});

test('DivertSocket.recvfrom() rejects with the reason when its own signal aborts', async (t) => {
  const { sock } = await open(t);
  const ac = new AbortController();
  const pending = sock.recvfrom({ signal: ac.signal });
  ac.abort(new Error('enough'));
  await assert.rejects(pending, /enough/);
  assert.equal(sock.closed, false);
});

test('createDivertSocket() reports a kernel without NETLINK_NETFILTER as ERR_DIVERT_NO_KERNEL_SUPPORT', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.failSocket(Errno.EPROTONOSUPPORT, { protocol: NetlinkProtocol.NETLINK_NETFILTER });
  const sock = createDivertSocket({ port: 7, handleSignals: false });
  await assert.rejects(sock.ready, { code: 'ERR_DIVERT_NO_KERNEL_SUPPORT', message: /nfnetlink/ });
});

test('DivertSocket.ready rejects, and the queue is closed, when the link table cannot be read', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.failSocket(Errno.EPROTONOSUPPORT, { protocol: NetlinkProtocol.NETLINK_ROUTE });
  const sock = createDivertSocket({ port: 7, handleSignals: false });
  await assert.rejects(sock.ready, { code: 'EPROTONOSUPPORT' });
  assert.deepEqual([kernel.openSockets().length, kernel.queueState(7)], [0, undefined]);
});

test('DivertSocket.ready rejects, and the queue is closed, when a rule does not parse', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks(HOST_LINKS);
  // Rejected by the rule parser inside addRule(), before any firewall tool runs.
  const sock = createDivertSocket({ port: 7, handleSignals: false, rules: ['-A input -p nonsense-proto'] });
  const outcome = await Promise.race([
    sock.ready.then(() => 'ready', (err: Error) => err.name),
    new Promise((resolve) => setTimeout(resolve, 300, 'still pending')),
  ]);
  assert.equal(outcome, 'FilterSyntaxError');
  assert.deepEqual([kernel.openSockets().length, kernel.queueState(7)], [0, undefined]);
});

test('DivertSocket with an already-aborted signal closes at once', async (t) => {
  const { sock } = await open(t, { signal: AbortSignal.abort() });
  await turn();
  assert.equal(sock.closed, true);
});

test('DivertSocket.sendto() reinjects a held packet by its address and injects others outbound', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4());
  assert.equal(sock.sendto(p.packet, p.address), p.packet.length);
  assert.deepEqual(await verdicts(kernel), [[p.id, NF_ACCEPT]]);
  const fresh = udp4('new');
  fresh.fill(0, 26, 28); // UDP checksum zeroed: filled on the way out
  assert.equal(sock.sendto(fresh), fresh.length);
  const raw = kernel.sockets.find((s) => s.domain === AF_INET && s.type === SOCK_RAW)!;
  assert.equal(raw.sockopts.get('1:36'), DIVERT_MARK | 0); // SOL_SOCKET, SO_MARK
  assert.equal(raw.sent.length, 1);
  assert.deepEqual(verifyChecksums(raw.sent[0]!.bytes), { ip: true, udp: true });
  assert.deepEqual([...raw.sent[0]!.sockaddr!.subarray(4, 8)], [192, 0, 2, 1]);
  assert.equal(sock.stats.injected, 1);
  await sock.close();
  assert.equal(raw.closed, true);
});

test('a packet\'s address is made when first read, once; read while held it leads sendto() back to the packet, read after the verdict it does not', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4('first'));
  const a = p.address;
  assert.equal(p.address, a, 'the same object every time');
  assert.equal(a.ifname, 'eth0');
  assert.equal(sock.sendto(p.packet, a), p.packet.length);
  assert.deepEqual(await verdicts(kernel), [[p.id, NF_ACCEPT]], 'reinjected by its address: a verdict, not an injection');
  const q = await divert(kernel, sock, udp4('second'));
  q.drop();
  const late = q.address; // made only now, after the verdict
  assert.equal(sock.stats.injected, 0);
  sock.sendto(q.packet, late);
  assert.equal(sock.stats.injected, 1, 'injected anew (inbound, by its interface): the answered packet is not found by it');
  assert.deepEqual(await verdicts(kernel), [[p.id, NF_ACCEPT], [q.id, NF_VERDICT.NF_DROP]], 'no second verdict for it');
});

test('a packet the kernel left with partial checksums (CSUMNOTREADY, with gso), reinjected unchanged by another interface, leaves with its checksums filled', async (t) => {
  const { kernel, sock } = await open(t);
  const bytes = udp4('offloaded');
  bytes[26] = 0x12; // a partial UDP checksum (pseudo-header only), as checksum offload leaves it
  bytes[27] = 0x34;
  const p = await divert(kernel, sock, bytes, { ...OUT, skbInfo: NFQA_SKB.NFQA_SKB_CSUMNOTREADY });
  assert.equal(p.address.checksumNotReady, true);
  p.reinject(undefined, { interface: 'eth0' });
  assert.deepEqual(await verdicts(kernel), [[p.id, NF_VERDICT.NF_DROP]], 'the original is dropped: its copy went by eth0');
  const raw = kernel.sockets.find((s) => s.domain === AF_INET && s.type === SOCK_RAW)!;
  assert.equal(raw.sent.length, 1);
  assert.deepEqual(verifyChecksums(raw.sent[0]!.bytes), { ip: true, udp: true });
  assert.deepEqual([...p.packet.subarray(26, 28)], [0x12, 0x34], "the program's bytes are left as they were");
});

test('iteration: breaking out ends that iterator only; packets already read stay for the next reader, in order, none handed out twice', async (t) => {
  const { kernel, sock } = await open(t);
  for (let i = 0; i < 4; i++) kernel.enqueuePacket(7, udp4(`p${i}`));
  await waitFor(() => sock.stats.received === 4, 'four packets read');
  const seen: number[] = [];
  const it = sock[Symbol.asyncIterator]();
  for await (const p of { [Symbol.asyncIterator]: () => it }) {
    seen.push(p.id);
    p.reinject();
    break;
  }
  assert.deepEqual(await it.next(), { value: undefined, done: true }, 'a finished iterator stays finished');
  const next = await sock.recvfrom();
  seen.push(next.id);
  next.drop();
  for await (const p of sock) {
    seen.push(p.id);
    p.reinject();
    if (seen.length === 4) break;
  }
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await waitFor(() => kernel.verdicts.length === 4, 'four verdicts');
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[1, NF_VERDICT.NF_ACCEPT], [2, NF_VERDICT.NF_DROP], [3, NF_VERDICT.NF_ACCEPT], [4, NF_VERDICT.NF_ACCEPT]]);
});
