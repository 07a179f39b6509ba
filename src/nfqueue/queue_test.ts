import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { NfQueue } from './queue.js';
import type { PacketMeta } from './packet_msg.js';
import { NFQA_CFG_F, NFQNL_CFG_CMD, NFQNL_COPY, NF_VERDICT } from './constants.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { turn, udp4, waitFor } from '../testing/fixtures.js';
import { Errno } from '../_native/errno.js';
import { DivertError, NetlinkError } from '../errors.js';
import { AF_NETLINK, SOCK_RAW, sockaddrNl } from '../_native/sockaddr.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { putBind } from './config.js';

function install(t: TestContext): FakeKernel {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  return kernel;
}

/** Opens queue `n` and collects what it receives (metadata plus a copy of the bytes). */
async function openCollecting(n: number, options = {}): Promise<{ q: NfQueue; got: Array<{ meta: PacketMeta; bytes: Uint8Array }> }> {
  const q = await NfQueue.open(n, options);
  const got: Array<{ meta: PacketMeta; bytes: Uint8Array }> = [];
  q.start((meta, buf) => void got.push({ meta, bytes: buf.slice(meta.payloadOffset, meta.payloadOffset + meta.payloadLength) }), (err) => assert.fail(err));
  return { q, got };
}

test('NfQueue.open() sends bind, params, maxlen and flags in that order', async (t) => {
  const kernel = install(t);
  const q = await NfQueue.open(7, { copyRange: 1500, maxLen: 100, failOpen: true, gso: true });
  const port = q.socket.portId;
  const { NFQA_CFG_F_FAIL_OPEN: FAIL_OPEN, NFQA_CFG_F_GSO: GSO, NFQA_CFG_F_UID_GID: UID_GID } = NFQA_CFG_F;
  assert.deepEqual(
    kernel.configLog.map(({ seq: _seq, ...rest }) => rest),
    [
      { queue: 7, portId: port, command: NFQNL_CFG_CMD.NFQNL_CFG_CMD_BIND, pf: 0 },
      { queue: 7, portId: port, copyMode: NFQNL_COPY.NFQNL_COPY_PACKET, copyRange: 1500 },
      { queue: 7, portId: port, maxLen: 100 },
      { queue: 7, portId: port, flags: FAIL_OPEN | GSO, mask: FAIL_OPEN | GSO | UID_GID },
    ],
  );
  const seqs = kernel.configLog.map((r) => r.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'sequence numbers increase');
  assert.deepEqual(kernel.queueState(7), {
    queue: 7, portId: port, copyMode: NFQNL_COPY.NFQNL_COPY_PACKET, copyRange: 1500, maxLen: 100, flags: FAIL_OPEN | GSO, pending: [], idSequence: 0,
  });
  await q.close();
});

test('NfQueue.open() explains EPERM: a port another process holds (nfnetlink serves this socket)', async (t) => {
  const kernel = install(t);
  // Another process's socket, as far as this process knows: bound straight on the fake, not through NfQueue.
  const fd = kernel.socket(AF_NETLINK, SOCK_RAW, NetlinkProtocol.NETLINK_NETFILTER);
  assert.equal(kernel.bind(fd, sockaddrNl(9999)), 0);
  const b = new MessageBuilder();
  putBind(b, 1, 7);
  kernel.sendto(fd, b.bytes(), null, 0);
  assert.equal(kernel.queueState(7)?.portId, 9999);
  // A second socket binding an owned queue gets EPERM from the kernel, as a socket without
  // CAP_NET_ADMIN does for every request; the obsolete PF_UNBIND, which only the latter
  // refuses, tells them apart (whatever this process's CapEff says).
  await assert.rejects(() => NfQueue.open(7), (err: unknown) => {
    assert.ok(err instanceof DivertError);
    assert.ok(err.cause instanceof NetlinkError && err.cause.errno === Errno.EPERM);
    assert.equal(err.code, 'ERR_DIVERT_PORT_IN_USE');
    assert.match(err.message, /^Cannot bind divert port 7: it is bound by another process/);
    return true;
  });
  assert.equal(kernel.openSockets().length, 1, 'the failed socket is closed');
  assert.equal(kernel.queueState(7)?.portId, 9999, 'the owner keeps its queue');
});

test('NfQueue.open() says "this process" when another socket of this process holds the port, until it closes', async (t) => {
  const kernel = install(t);
  const first = await NfQueue.open(7);
  await assert.rejects(() => NfQueue.open(7), (err: unknown) => {
    assert.ok(err instanceof DivertError);
    assert.equal(err.code, 'ERR_DIVERT_PORT_IN_USE');
    assert.ok(err.cause instanceof NetlinkError && err.cause.errno === Errno.EPERM);
    assert.match(err.message, /^Cannot bind divert port 7: this process already has it bound, on another socket \(.*close that socket first/);
    assert.doesNotMatch(err.message, /another process/);
    return true;
  });
  assert.equal(kernel.queueState(7)?.portId, first.socket.portId, 'the owner keeps its queue');
  await first.close();
  const again = await NfQueue.open(7);
  await again.close();
});

test('NfQueue.open() without CAP_NET_ADMIN (EPERM for every request): names the capability, even as root elsewhere', async (t) => {
  const kernel = install(t);
  kernel.capNetAdmin = false;
  await assert.rejects(() => NfQueue.open(7), (err: unknown) => {
    assert.ok(err instanceof DivertError);
    assert.equal(err.code, 'EPERM');
    assert.match(err.message, /^Cannot bind divert port 7: operation requires CAP_NET_ADMIN in this network namespace/);
    assert.match(err.message, /unshare --user --map-root-user --net/);
    return true;
  });
  assert.equal(kernel.configLog.length, 0, 'nfnetlink refuses before the queue code sees it');
  assert.equal(kernel.openSockets().length, 0, 'the failed socket is closed');
});

for (const errno of [Errno.EOPNOTSUPP, Errno.EPROTONOSUPPORT]) {
  test(`NfQueue.open() reports ${errno === Errno.EOPNOTSUPP ? 'EOPNOTSUPP' : 'EPROTONOSUPPORT'} as a kernel without nfnetlink_queue`, async (t) => {
    const kernel = install(t);
    kernel.failBind(3, errno);
    await assert.rejects(() => NfQueue.open(3), (err: unknown) => {
      assert.ok(err instanceof DivertError);
      assert.equal(err.code, 'ERR_DIVERT_NO_KERNEL_SUPPORT');
      assert.match(err.message, /the kernel has no nfnetlink_queue support/);
      assert.match(err.message, /modprobe nfnetlink_queue/);
      assert.equal((err.cause as NetlinkError).errno, errno);
      return true;
    });
    assert.equal(kernel.openSockets().length, 0);
  });
}

test('NfQueue.open() reports EBUSY as a port this socket already holds', async (t) => {
  const kernel = install(t);
  kernel.failBind(4, Errno.EBUSY);
  await assert.rejects(() => NfQueue.open(4), { code: 'ERR_DIVERT_PORT_IN_USE', message: /this socket already has it bound/ });
});

test('NfQueue.open() closes the socket, and so frees the queue, when a later step fails', async (t) => {
  const kernel = install(t);
  kernel.failConfig(7, 'flags', Errno.EOPNOTSUPP, 'unknown flag');
  await assert.rejects(() => NfQueue.open(7, { uidGid: true }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.op, 'Cannot set flags on divert port 7');
    assert.equal(err.extackMessage, 'unknown flag');
    return true;
  });
  assert.equal(kernel.openSockets().length, 0);
  assert.equal(kernel.queueState(7), undefined);
});

test('NfQueue.open() rejects a queue number outside 0–65535', async (t) => {
  const kernel = install(t);
  await assert.rejects(() => NfQueue.open(65536), RangeError);
  assert.equal(kernel.sockets.length, 0);
});

test('NfQueue.start() decodes queued packets with their metadata', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7);
  const bytes = udp4();
  const id = kernel.enqueuePacket(7, bytes, {
    hook: NF_INET_HOOKS.NF_INET_LOCAL_IN, indev: 2, mark: 0x42, timestamp: 1_700_000_000_123.5, hwAddr: '02:00:5e:00:53:09', skbInfo: 1,
  });
  await waitFor(() => got.length === 1, 'the packet');
  const { meta, bytes: copy } = got[0]!;
  assert.equal(meta.id, id);
  assert.deepEqual(
    [meta.queue, meta.hook, meta.indev, meta.outdev, meta.mark, meta.hwProtocol, meta.hwAddr, meta.skbInfo, meta.truncated],
    [7, NF_INET_HOOKS.NF_INET_LOCAL_IN, 2, 0, 0x42, 0x0800, '02:00:5e:00:53:09', 1, false],
  );
  assert.equal(meta.timestampSec, 1_700_000_000);
  assert.equal(meta.timestampUsec, 123_500);
  assert.deepEqual(copy, bytes);
  await q.close();
});

test('NfQueue copyRange cuts the copy and reports the original length', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7, { copyRange: 20 });
  kernel.enqueuePacket(7, udp4('a longer payload'));
  await waitFor(() => got.length === 1, 'the packet');
  assert.equal(got[0]!.meta.payloadLength, 20);
  assert.equal(got[0]!.meta.capLen, udp4('a longer payload').length);
  assert.equal(got[0]!.meta.truncated, true);
  await q.close();
});

test('NfQueue.verdict(): verdicts given across a chain of microtasks leave in one datagram, in the same turn of the event loop', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7);
  for (let i = 0; i < 4; i++) kernel.enqueuePacket(7, udp4(`p${i}`));
  await waitFor(() => got.length === 4, 'four packets');
  const sock = kernel.socketByFd(q.socket.fd);
  const before = sock.sent.length;
  // An immediate queued first runs after the flush only if the flush needs no turn of its own
  // (an async iterator's consumer answers in microtasks like these).
  let seenByImmediate = -1;
  setImmediate(() => (seenByImmediate = sock.sent.length));
  await (async () => {
    for (const { meta } of got) {
      await Promise.resolve();
      q.verdict(meta.id, NF_VERDICT.NF_ACCEPT);
    }
  })();
  await new Promise((r) => setImmediate(r));
  assert.equal(seenByImmediate, before + 1);
  assert.equal(q.verdictSends, 1);
  assert.deepEqual(kernel.verdicts.map((v) => v.id), [1, 2, 3, 4]);
  await q.close();
});

test('NfQueue.verdict() sends the verdicts given in one tick in ONE datagram', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7);
  for (let i = 0; i < 5; i++) kernel.enqueuePacket(7, udp4(`p${i}`));
  await waitFor(() => got.length === 5, 'five packets');
  const sock = kernel.socketByFd(q.socket.fd);
  const before = sock.sent.length;
  for (const { meta } of got) q.verdict(meta.id, meta.id % 2 ? NF_VERDICT.NF_ACCEPT : NF_VERDICT.NF_DROP);
  assert.equal(sock.sent.length, before, 'nothing leaves before the tick ends');
  await turn();
  assert.equal(sock.sent.length, before + 1);
  assert.equal(q.verdictSends, 1);
  assert.equal(q.verdictsSent, 5);
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[1, 1], [2, 0], [3, 1], [4, 0], [5, 1]]);
  assert.equal(new Set(kernel.verdicts.map((v) => v.datagram)).size, 1);
  assert.deepEqual(kernel.queueState(7)?.pending, []);
  await q.close();
});

test('NfQueue.start() with coalesceMs: after a read, the fd is not watched; a timer reads what came meanwhile as one batch, then watching resumes', async (t) => {
  const kernel = install(t);
  const q = await NfQueue.open(7);
  const got: number[] = [];
  q.start((meta) => {
    got.push(meta.id);
    q.verdict(meta.id, NF_VERDICT.NF_ACCEPT);
  }, (err) => assert.fail(err), undefined, 30);
  const sock = kernel.socketByFd(q.socket.fd);
  kernel.enqueuePacket(7, udp4('first'));
  await waitFor(() => got.length === 1, 'the first packet, read on arrival');
  assert.equal(sock.poll?.active, false, 'after a read the fd is not watched');
  for (let i = 0; i < 3; i++) kernel.enqueuePacket(7, udp4(`later ${i}`));
  for (let i = 0; i < 5; i++) await turn();
  assert.deepEqual(got, [1], 'packets arriving while coalescing wait for the timer');
  const sendsBefore = q.verdictSends;
  await waitFor(() => got.length === 4, 'the three later packets');
  await turn();
  assert.equal(q.verdictSends, sendsBefore + 1, 'the batch is answered in one verdict datagram');
  // The timer's next read finds nothing: the fd is watched again, and a packet is read on arrival.
  await waitFor(() => sock.poll?.active === true, 'watching again');
  const fires = sock.poll!.fires;
  kernel.enqueuePacket(7, udp4('after'));
  await waitFor(() => got.length === 5, 'a packet after the quiet spell');
  assert.equal(sock.poll!.fires, fires + 1, 'read on arrival, by the watch');
  assert.deepEqual(kernel.queueState(7)?.pending, []);
  await q.close();
  assert.deepEqual(kernel.problems, []);
});

test('NfQueue: pause() while coalescing stops the timer from reading; resume() reads again', async (t) => {
  const kernel = install(t);
  const q = await NfQueue.open(7);
  const got: number[] = [];
  q.start((meta) => {
    got.push(meta.id);
    q.verdict(meta.id, NF_VERDICT.NF_ACCEPT);
  }, (err) => assert.fail(err), undefined, 10);
  kernel.enqueuePacket(7, udp4('first'));
  await waitFor(() => got.length === 1, 'the first packet');
  q.pause();
  kernel.enqueuePacket(7, udp4('while paused'));
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(got, [1], 'nothing read while paused');
  q.resume();
  await waitFor(() => got.length === 2, 'the packet after resume()');
  await q.close();
  assert.deepEqual(kernel.problems, []);
});

test('NfQueue.verdict(): a run of plain accepts from the oldest waiting packet goes as ONE VERDICT_BATCH; others, and a packet still waiting below, are never covered by it', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7);
  for (let i = 0; i < 8; i++) kernel.enqueuePacket(7, udp4(`p${i}`));
  await waitFor(() => got.length === 8, 'eight packets');
  // 1-3 accepted in order: one batch. 5 dropped while 4 waits; 6 accepted while 4 waits (not a
  // batch: it would answer 4 too); 7 marked; then 4 accepted: a batch covering 4 alone (5, 6, 7
  // were answered before it in the same datagram); 8 accepted: another batch.
  for (const id of [1, 2, 3]) q.verdict(id, NF_VERDICT.NF_ACCEPT);
  q.verdict(5, NF_VERDICT.NF_DROP);
  q.verdict(6, NF_VERDICT.NF_ACCEPT);
  q.verdict(7, NF_VERDICT.NF_ACCEPT, { mark: 9 });
  q.verdict(4, NF_VERDICT.NF_ACCEPT);
  q.verdict(8, NF_VERDICT.NF_ACCEPT);
  await turn();
  assert.deepEqual(
    kernel.verdicts.map((v) => [v.id, v.verdict, v.batch]),
    [[1, 1, true], [2, 1, true], [3, 1, true], [5, 0, false], [6, 1, false], [7, 1, false], [4, 1, true], [8, 1, true]],
  );
  assert.equal(kernel.verdicts.find((v) => v.id === 7)?.mark, 9);
  assert.equal(new Set(kernel.verdicts.map((v) => v.datagram)).size, 1);
  assert.equal(q.verdictsSent, 8);
  assert.equal(q.verdictErrors, 0);
  assert.deepEqual(kernel.queueState(7)?.pending, []);
  await q.close();
});

test('NfQueue.verdict(): a packet the program still holds is never answered by a later batch', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7);
  for (let i = 0; i < 3; i++) kernel.enqueuePacket(7, udp4(`p${i}`));
  await waitFor(() => got.length === 3, 'three packets');
  q.verdict(2, NF_VERDICT.NF_ACCEPT);
  q.verdict(3, NF_VERDICT.NF_ACCEPT);
  await turn();
  assert.deepEqual(kernel.queueState(7)?.pending, [1], 'packet 1 still waits');
  assert.ok(kernel.verdicts.every((v) => !v.batch));
  q.verdict(1, NF_VERDICT.NF_DROP);
  await turn();
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[2, 1], [3, 1], [1, 0]]);
  await q.close();
});

test('NfQueue.verdict() carries a mark and a replacement payload', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7);
  kernel.enqueuePacket(7, udp4());
  kernel.enqueuePacket(7, udp4());
  await waitFor(() => got.length === 2, 'two packets');
  const replacement = udp4('changed');
  q.verdict(1, NF_VERDICT.NF_ACCEPT, { mark: 0x10, payload: replacement });
  q.verdict(2, NF_VERDICT.NF_ACCEPT);
  q.flush();
  const [a, b] = kernel.verdicts;
  assert.equal(a?.mark, 0x10);
  assert.deepEqual(a?.payload, replacement);
  assert.equal(b?.mark, undefined);
  assert.equal(b?.payload, undefined);
  await q.close();
});

test('NfQueue.verdictErrors counts a verdict the kernel refuses with ENOENT', async (t) => {
  const kernel = install(t);
  const { q } = await openCollecting(7);
  q.verdict(999, NF_VERDICT.NF_ACCEPT);
  await waitFor(() => q.verdictErrors === 1, 'the ENOENT NACK');
  assert.deepEqual(kernel.verdicts, []);
  await q.close();
});

test('NfQueue.close() flushes queued verdicts, then unbinds and closes', async (t) => {
  const kernel = install(t);
  const { q, got } = await openCollecting(7);
  kernel.enqueuePacket(7, udp4());
  await waitFor(() => got.length === 1, 'the packet');
  q.verdict(1, NF_VERDICT.NF_DROP);
  await q.close();
  await q.close(); // idempotent
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[1, NF_VERDICT.NF_DROP]]);
  assert.equal(kernel.configLog.at(-1)?.command, NFQNL_CFG_CMD.NFQNL_CFG_CMD_UNBIND);
  assert.equal(kernel.queueState(7), undefined);
  assert.deepEqual(kernel.autoVerdicts, []);
  assert.equal(kernel.openSockets().length, 0);
  assert.deepEqual(kernel.problems, []);
});
