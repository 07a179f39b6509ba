import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openOnFakeKernel } from './_test_socket.js';
import type { DivertPacket } from './divert_packet.js';
import { countersAddUp } from './counters.js';
import { turn, udp4, waitFor } from '../testing/fixtures.js';
import { NF_VERDICT, NFQA_CFG_F } from '../nfqueue/constants.js';

const open = openOnFakeKernel;

test('onPacket(): each packet reaches the handler as it is read, and its verdict reaches the kernel', async (t) => {
  const { kernel, sock } = await open(t);
  const seen: number[] = [];
  sock.onPacket((p) => {
    seen.push(p.id);
    if (p.id % 2) p.reinject();
    else p.drop();
  });
  for (let i = 0; i < 6; i++) kernel.enqueuePacket(7, udp4(`p${i}`));
  await waitFor(() => kernel.verdicts.length === 6, 'six verdicts');
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[1, 1], [2, 0], [3, 1], [4, 0], [5, 1], [6, 0]]);
  assert.equal(new Set(kernel.verdicts.map((v) => v.datagram)).size, 1, 'one read, one verdict datagram');
  const s = sock.stats;
  assert.deepEqual([s.received, s.accepted, s.dropped, s.held], [6, 3, 3, 0]);
  assert.ok(countersAddUp(s));
});

test('onPacket(): packets read before the handler was set go to it at once', async (t) => {
  const { kernel, sock } = await open(t);
  kernel.enqueuePacket(7, udp4('early 1'));
  kernel.enqueuePacket(7, udp4('early 2'));
  await waitFor(() => sock.stats.received === 2, 'two packets read with no reader');
  const got: number[] = [];
  sock.onPacket((p) => {
    got.push(p.id);
    p.reinject();
  });
  assert.deepEqual(got, [1, 2], 'delivered inside onPacket()');
  await waitFor(() => kernel.verdicts.length === 2, 'both verdicts');
  assert.ok(countersAddUp(sock.stats));
});

test('onPacket(): a waiting recvfrom() is refused, and so are later recvfrom(), iteration and a second handler', async (t) => {
  const { kernel, sock } = await open(t);
  const waiting = sock.recvfrom();
  await turn();
  const got: DivertPacket[] = [];
  sock.onPacket((p) => void got.push(p));
  await assert.rejects(waiting, { code: 'ERR_DIVERT_HANDLER' });
  kernel.enqueuePacket(7, udp4('to the handler'));
  await waitFor(() => got.length === 1, 'the packet, given to the handler');
  await assert.rejects(sock.recvfrom(), { code: 'ERR_DIVERT_HANDLER' });
  await assert.rejects((async () => {
    for await (const p of sock) p.drop();
  })(), { code: 'ERR_DIVERT_HANDLER' });
  assert.throws(() => sock.onPacket(() => {}), { code: 'ERR_DIVERT_HANDLER' });
  assert.throws(() => sock.onPacket('nope' as never), TypeError);
  got[0]!.drop();
  await waitFor(() => kernel.verdicts.length === 1, 'its verdict');
  assert.ok(countersAddUp(sock.stats));
});

test('onPacket(): a verdict given later works; an unanswered packet gets the timeout verdict', async (t) => {
  const { kernel, sock } = await open(t, { verdictTimeoutMs: 40, timeoutVerdict: 'drop' });
  sock.onPacket((p) => {
    if (p.id === 1) setTimeout(() => p.reinject(), 5);
  });
  kernel.enqueuePacket(7, udp4('answered later'));
  kernel.enqueuePacket(7, udp4('never answered'));
  await waitFor(() => kernel.verdicts.length === 2, 'two verdicts', 3000);
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[1, NF_VERDICT.NF_ACCEPT], [2, NF_VERDICT.NF_DROP]]);
  const s = sock.stats;
  assert.deepEqual([s.accepted, s.timedOut, s.held], [1, 1, 0]);
  assert.ok(countersAddUp(s));
});

test('onPacket(): a handler that throws: the packet gets the timeout verdict at once, the error is emitted, reading goes on', async (t) => {
  const { kernel, sock } = await open(t, { timeoutVerdict: 'drop' });
  const errors: unknown[] = [];
  sock.on('error', (err) => errors.push(err));
  sock.onPacket((p) => {
    if (p.id === 1) throw new Error('handler bug');
    p.reinject();
  });
  kernel.enqueuePacket(7, udp4('one'));
  kernel.enqueuePacket(7, udp4('two'));
  await waitFor(() => kernel.verdicts.length === 2, 'two verdicts');
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[1, NF_VERDICT.NF_DROP], [2, NF_VERDICT.NF_ACCEPT]]);
  assert.equal(errors.length, 1);
  assert.match((errors[0] as Error).message, /handler bug/);
  assert.equal(sock.stats.timedOut, 1);
  assert.equal(sock.closed, false);
  assert.ok(countersAddUp(sock.stats));
});

test('onPacket(): packets still held at close get the close verdict', async (t) => {
  const { kernel, sock } = await open(t);
  const held: DivertPacket[] = [];
  sock.onPacket((p) => void held.push(p));
  for (let i = 0; i < 3; i++) kernel.enqueuePacket(7, udp4(`held ${i}`));
  await waitFor(() => held.length === 3, 'three held packets');
  await sock.close();
  assert.deepEqual(kernel.verdicts.map((v) => v.verdict), [1, 1, 1]);
  assert.equal(sock.stats.closedWithVerdict, 3);
  assert.ok(countersAddUp(sock.stats));
  assert.throws(() => held[0]!.reinject(), { code: 'ERR_DIVERT_VERDICT_TWICE' });
});

test('packet copies cut from a shared slab never overlap: each packet, and its original, stay its own', async (t) => {
  const { kernel, sock } = await open(t);
  const held: DivertPacket[] = [];
  sock.onPacket((p) => void held.push(p));
  // Lengths that are not multiples of 8, enough of them to fill more than one 64 KiB slab.
  for (let i = 0; i < 600; i++) kernel.enqueuePacket(7, udp4('x'.repeat(60 + (i % 13))));
  kernel.enqueuePacket(7, udp4('big'.repeat(3000)));
  await waitFor(() => held.length === 601, 'all packets', 5000);
  const originals = held.map((p) => p.packet.slice());
  for (const p of held) p.packet.fill(p.id & 0xff);
  for (const [i, p] of held.entries()) {
    assert.ok(p.packet.every((b) => b === (p.id & 0xff)), `packet ${p.id} kept what was written into it`);
    assert.deepEqual(p.original, originals[i], `packet ${p.id}'s original is untouched`);
    assert.equal(p.changed, true);
  }
  const slabs = new Set(held.slice(0, 600).map((p) => p.packet.buffer)).size;
  assert.ok(slabs >= 2 && slabs <= 4, `600 small packets share 2 to 4 slabs (${slabs})`);
  const big = held[600]!;
  assert.equal(big.packet.buffer.byteLength, big.packet.length, 'a large packet has a buffer of its own (its original was borrowed from the arena, then copied before the next read)');
  for (const p of held) p.drop();
  await waitFor(() => kernel.verdicts.length === 601, 'every verdict');
  assert.ok(countersAddUp(sock.stats));
});

test('GSO super-packets are asked for by default (NFQA_CFG_F_GSO); gso: false, and tcpRewrite, ask for one packet per segment', async (t) => {
  const { kernel } = await open(t);
  assert.equal((kernel.queueState(7)!.flags & NFQA_CFG_F.NFQA_CFG_F_GSO) !== 0, true, 'the default');
  kernel.uninstall();
  const perSegment = await open(t, { gso: false, port: 8 });
  assert.equal((perSegment.kernel.queueState(8)!.flags & NFQA_CFG_F.NFQA_CFG_F_GSO) !== 0, false, 'gso: false');
  perSegment.kernel.uninstall();
  const rewriting = await open(t, { tcpRewrite: true, port: 9 });
  assert.equal((rewriting.kernel.queueState(9)!.flags & NFQA_CFG_F.NFQA_CFG_F_GSO) !== 0, false, 'per segment by default with tcpRewrite');
});

test('a large packet borrows its original from the receive arena: held across later reads it keeps it; answered, it keeps whether it had changed', async (t) => {
  const { kernel, sock } = await open(t);
  const got: DivertPacket[] = [];
  sock.onPacket((p) => void got.push(p));
  const big = (text: string): Uint8Array => udp4(text.repeat(2000)); // 28 + 2000 × len bytes: over BORROW_MIN
  kernel.enqueuePacket(7, big('a'));
  kernel.enqueuePacket(7, big('b'));
  await waitFor(() => got.length === 2, 'two large packets');
  const [held, answered] = got as [DivertPacket, DivertPacket];
  const heldBytes = held.packet.slice();
  answered.packet[30] = 0x5a; // changed, then answered
  answered.reinject();
  // Later reads overwrite the arena the two originals were views into.
  for (let i = 0; i < 3; i++) kernel.enqueuePacket(7, big(`later ${i} `));
  await waitFor(() => got.length === 5, 'three later packets');
  assert.deepEqual(held.original, heldBytes, 'the held packet kept its original');
  assert.equal(held.changed, false);
  held.packet[40] = 0x01;
  assert.equal(held.changed, true, 'and still tells a change');
  assert.equal(answered.changed, true, 'the answered one remembers it had changed');
  assert.equal(kernel.verdicts[0]!.payload?.[30], 0x5a, 'its verdict carried the change');
  for (const p of got.slice(2)) p.drop();
  held.reinject();
  await waitFor(() => kernel.verdicts.length === 5, 'every verdict');
  assert.equal(kernel.verdicts.find((v) => v.id === held.id)?.payload?.[40], 0x01);
  assert.ok(countersAddUp(sock.stats));
});
