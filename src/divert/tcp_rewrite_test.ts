import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createDivertSocket, type DivertSocket } from './divert_socket.js';
import type { DivertSocketOptions } from './options.js';
import { FakeKernel, type FakePacketMeta } from '../testing/fake_kernel.js';
import { HOST_LINKS, turn, waitFor } from '../testing/fixtures.js';
import { NF_VERDICT } from '../nfqueue/constants.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { parsePacket } from '../packet/parse.js';
import { verifyChecksums } from '../packet/checksum.js';
import { withTcpPayload } from '../packet/tcp_payload.js';
import { tcpSegment } from '../packet/_test_tcp.js';
import { TcpRewriteError } from '../seqadj/errors.js';
import type { TcpRewriteWarning } from '../seqadj/tracker.js';
import { AF_INET, SOCK_RAW } from '../_native/sockaddr.js';

const FWD: FakePacketMeta = { hook: NF_INET_HOOKS.NF_INET_FORWARD, indev: 2, outdev: 3 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function open(t: TestContext, options: DivertSocketOptions = {}): Promise<{ kernel: FakeKernel; sock: DivertSocket }> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const sock = createDivertSocket({ port: 7, handleSignals: false, tcpRewrite: true, ...options });
  t.after(async () => {
    await sock.close().catch(() => {});
    kernel.uninstall();
  });
  await sock.ready;
  sock.on('tcpRewriteWarning', () => {}); // flows here are one-sided on purpose: no process warning
  return { kernel, sock };
}

const client = (seq: number, ack: number, data: string): Uint8Array =>
  tcpSegment({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 40000, dstPort: 80, seq, ack, payload: data });
const server = (seq: number, ack: number, data: string): Uint8Array =>
  tcpSegment({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 80, dstPort: 40000, seq, ack, payload: data });

/** The verdict the fake kernel got for `id`: ACCEPT, and what it carried (seq, ack, data), or 'unchanged'. */
async function sent(kernel: FakeKernel, id: number): Promise<{ seq: number; ack: number; data: string } | 'unchanged'> {
  await turn();
  const v = kernel.verdicts.find((r) => r.id === id);
  assert.ok(v, `a verdict for packet ${id}`);
  assert.equal(v.verdict, NF_VERDICT.NF_ACCEPT);
  if (!v.payload) return 'unchanged';
  assert.equal(verifyChecksums(v.payload).tcp, true);
  const p = parsePacket(v.payload);
  return { seq: p.tcp!.seqNum, ack: p.tcp!.ackNum, data: new TextDecoder().decode(p.payload) };
}

test('tcpRewrite refuses options that would hide segments or bytes', () => {
  assert.throws(() => createDivertSocket({ tcpRewrite: true, gso: true }), /tcpRewrite needs TCP one segment at a time: leave gso out or false/);
  assert.throws(() => createDivertSocket({ tcpRewrite: true, copyMode: 'meta' }), /copyMode/);
  assert.throws(() => createDivertSocket({ tcpRewrite: true, copyRange: 100 }), /whole packets/);
  assert.throws(() => createDivertSocket({ tcpRewrite: 'yes' as unknown as boolean }), /Option tcpRewrite must be true or false/);
  assert.throws(() => createDivertSocket({ tcpRewrite: true, sniff: true }), /Option tcpRewrite is for diverting/);
});

test('tcpRewrite: p.reinject(longer bytes) and sendto(shorter bytes, address) just work; later segments are moved both ways', async (t) => {
  const { kernel, sock } = await open(t);
  const id1 = kernel.enqueuePacket(7, client(100, 500, 'GET /a HTTP/1.1\r\n'), FWD);
  const p1 = await sock.recvfrom();
  p1.reinject(withTcpPayload(p1.packet, enc('GET /a-longer HTTP/1.1\r\n'))); // +7
  assert.deepEqual(await sent(kernel, id1), { seq: 100, ack: 500, data: 'GET /a-longer HTTP/1.1\r\n' });
  // The client retransmits the request: the program gets the original bytes; reinjected
  // unchanged, they go out as the first time.
  const id2 = kernel.enqueuePacket(7, client(100, 500, 'GET /a HTTP/1.1\r\n'), FWD);
  const p2 = await sock.recvfrom();
  assert.equal(new TextDecoder().decode(parsePacket(p2.packet).payload), 'GET /a HTTP/1.1\r\n');
  p2.reinject();
  assert.deepEqual(await sent(kernel, id2), { seq: 100, ack: 500, data: 'GET /a-longer HTTP/1.1\r\n' });
  // Rewriting it otherwise is refused, and the packet stays held.
  const id3 = kernel.enqueuePacket(7, client(100, 500, 'GET /a HTTP/1.1\r\n'), FWD);
  const p3 = await sock.recvfrom();
  assert.throws(() => p3.reinject(withTcpPayload(p3.packet, enc('GET /b HTTP/1.1\r\n'))), (e: unknown) => e instanceof TcpRewriteError && e.code === 'ERR_DIVERT_TCP_REWRITE_CONFLICT');
  assert.equal(p3.verdict, undefined);
  assert.equal(sock.stats.held, 1);
  p3.reinject(withTcpPayload(p3.packet, enc('GET /a-longer HTTP/1.1\r\n')));
  assert.deepEqual(await sent(kernel, id3), { seq: 100, ack: 500, data: 'GET /a-longer HTTP/1.1\r\n' }, 'the same rewrite again is fine');
  // The server answers; the program shortens the answer with the seed's sendto(bytes, address).
  const id4 = kernel.enqueuePacket(7, server(500, 124, 'HTTP/1.1 200 OK\r\n'), FWD);
  const p4 = await sock.recvfrom();
  sock.sendto(withTcpPayload(p4.packet, enc('HTTP/1.1 200\r\n')), p4.address); // -3
  assert.deepEqual(await sent(kernel, id4), { seq: 500, ack: 117, data: 'HTTP/1.1 200\r\n' });
  // The program reinjects the rest unchanged: divert moves them.
  const id5 = kernel.enqueuePacket(7, client(117, 514, 'next'), FWD);
  (await sock.recvfrom()).reinject();
  assert.deepEqual(await sent(kernel, id5), { seq: 124, ack: 517, data: 'next' });
  const id6 = kernel.enqueuePacket(7, server(517, 128, 'more'), FWD);
  (await sock.recvfrom()).reinject();
  assert.deepEqual(await sent(kernel, id6), { seq: 514, ack: 121, data: 'more' });
  const s = sock.stats;
  assert.equal(s.received, s.accepted + s.changed + s.held);
  assert.equal(s.changed, 6, 'every verdict carried bytes: the program\'s, or moved by divert');
});

test('tcpRewrite: automatic verdicts (timeout) move the numbers too; untouched flows get a plain ACCEPT', async (t) => {
  const { kernel, sock } = await open(t, { verdictTimeoutMs: 40 });
  const id1 = kernel.enqueuePacket(7, client(1, 1, 'abc'), FWD);
  const p1 = await sock.recvfrom();
  p1.reinject(withTcpPayload(p1.packet, enc('abcdef')));
  const id2 = kernel.enqueuePacket(7, client(4, 1, 'x'), FWD);
  await sock.recvfrom(); // and left to time out
  await waitFor(() => sock.stats.timedOut === 1, "the timeout verdict");
  assert.deepEqual(await sent(kernel, id2), { seq: 7, ack: 1, data: 'x' });
  const other = tcpSegment({ src: '198.18.0.9', dst: '198.18.0.2', srcPort: 1, dstPort: 2, seq: 1, payload: 'p' });
  const id3 = kernel.enqueuePacket(7, other, FWD);
  (await sock.recvfrom()).reinject();
  assert.equal(await sent(kernel, id3), 'unchanged');
  assert.equal(await sent(kernel, id1).then((v) => v !== 'unchanged'), true);
});

test('tcpRewrite: a rewritten flow seen one way only raises tcpRewriteWarning once', async (t) => {
  const { kernel, sock } = await open(t);
  const warnings: TcpRewriteWarning[] = [];
  sock.on('tcpRewriteWarning', (w: TcpRewriteWarning) => warnings.push(w));
  const seg = client(1, 1, 'abc');
  kernel.enqueuePacket(7, seg, FWD);
  const p = await sock.recvfrom();
  p.reinject(withTcpPayload(p.packet, enc('abcdef')));
  for (let i = 0; i < 3; i++) {
    kernel.enqueuePacket(7, seg, FWD);
    (await sock.recvfrom()).reinject();
  }
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.code, 'ERR_DIVERT_TCP_ONE_DIRECTION');
  assert.match(warnings[0]!.message, /198\.18\.0\.1:40000 > 198\.18\.0\.2:80 is retransmitting rewritten data/);
});

test('tcpRewrite: data grown past the MSS leaves as the verdict plus injected segments, counted in stats.injected', async (t) => {
  const { kernel, sock } = await open(t);
  const OUT: FakePacketMeta = { hook: NF_INET_HOOKS.NF_INET_LOCAL_OUT, outdev: 3 };
  const mss = { kind: 2, data: new Uint8Array([0, 100]) };
  for (const [bytes, meta] of [
    [tcpSegment({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 40000, dstPort: 80, seq: 99, flags: 0x02 }), OUT],
    [tcpSegment({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 80, dstPort: 40000, seq: 499, ack: 100, flags: 0x12, options: [mss] }), FWD],
  ] as const) {
    kernel.enqueuePacket(7, bytes, meta);
    (await sock.recvfrom()).reinject();
  }
  const id = kernel.enqueuePacket(7, client(100, 500, 'GET /a HTTP/1.1\r\n'), OUT);
  const p = await sock.recvfrom();
  const grown = 'GET /' + 'a'.repeat(200) + ' HTTP/1.1\r\n';
  p.reinject(withTcpPayload(p.packet, enc(grown)));
  assert.deepEqual(await sent(kernel, id), { seq: 100, ack: 500, data: grown.slice(0, 100) });
  const raw = kernel.sockets.find((s) => s.domain === AF_INET && s.type === SOCK_RAW)!;
  const rest = raw.sent.map((s) => parsePacket(s.bytes));
  assert.deepEqual(rest.map((q) => [q.tcp!.seqNum, new TextDecoder().decode(q.payload)]), [[200, grown.slice(100, 200)], [300, grown.slice(200)]]);
  assert.ok(raw.sent.every((s) => verifyChecksums(s.bytes).tcp === true));
  assert.equal(sock.stats.injected, 2);
});
