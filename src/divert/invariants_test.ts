/**
 * The promises every later feature builds on, through the fake kernel: a verdict call that fails
 * records nothing (the packet stays held, timeout and close still cover it); an overflow never
 * ends the socket; bad options and arguments are refused up front with the option's name; the
 * counters add up after every test that moves packets.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createDivertSocket, type DivertSocket } from './divert_socket.js';
import type { DivertSocketOptions } from './options.js';
import type { DivertPacket } from './divert_packet.js';
import { countersAddUp } from './counters.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS, turn, udp4, udp6, waitFor } from '../testing/fixtures.js';
import { NF_VERDICT } from '../nfqueue/constants.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { verifyChecksums } from '../packet/checksum.js';
import { DivertClosedError, PacketError } from '../errors.js';

const IN = { hook: NF_INET_HOOKS.NF_INET_PRE_ROUTING, indev: 2 };

async function open(t: TestContext, options: DivertSocketOptions = {}): Promise<{ kernel: FakeKernel; sock: DivertSocket }> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const sock = createDivertSocket({ port: 7, handleSignals: false, ...options });
  t.after(async () => {
    await sock.close().catch(() => {});
    assert.ok(countersAddUp(sock.stats), `counters add up: ${JSON.stringify(sock.stats)}`);
    kernel.uninstall();
  });
  await sock.ready;
  return { kernel, sock };
}

async function divert(kernel: FakeKernel, sock: DivertSocket, bytes: Uint8Array): Promise<DivertPacket> {
  kernel.enqueuePacket(7, bytes, IN);
  return sock.recvfrom();
}

/** Bytes that are not a whole IP packet, each with what is wrong. */
const MALFORMED: Array<[string, Uint8Array]> = [
  ['empty', new Uint8Array(0)],
  ['version 5', Uint8Array.from([0x50, ...new Array<number>(27).fill(0)])],
  ['IPv4 total length larger than the bytes', (() => { const b = udp4(); b[3]! += 10; return b; })()],
  ['IPv4 cut short', udp4().subarray(0, 12)],
  ['IPv6 payload length too small', (() => { const b = udp6(); b[5]! -= 1; return b; })()],
];

for (const [what, bad] of MALFORMED) {
  test(`DivertPacket.reinject(bytes) with ${what}: throws, records nothing, the packet stays held`, async (t) => {
    const { kernel, sock } = await open(t);
    const p = await divert(kernel, sock, udp4());
    assert.throws(() => p.reinject(bad), PacketError);
    assert.equal(p.verdict, undefined);
    assert.equal(sock.stats.held, 1);
    await turn();
    assert.equal(kernel.verdicts.length, 0, "no verdict reached the kernel");
    // The caller may retry with good bytes.
    p.reinject(udp4('fixed'));
    await turn();
    assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[p.id, NF_VERDICT.NF_ACCEPT]]);
    assert.deepEqual(verifyChecksums(kernel.verdicts[0]!.payload!), { ip: true, udp: true });
    assert.equal(sock.stats.changed, 1);
  });
}

test('sendto(bad bytes, p.address) throws and leaves the packet held; drop() still works', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4());
  assert.throws(() => sock.sendto(new Uint8Array([0x45, 0, 0]), p.address), PacketError);
  assert.equal(sock.stats.held, 1);
  sock.drop(p.address);
  await turn();
  assert.deepEqual(kernel.verdicts.map((v) => v.verdict), [NF_VERDICT.NF_DROP]);
});

test('a packet corrupted in place is refused at reinject(), then covered by the timeout', async (t) => {
  const { kernel, sock } = await open(t, { verdictTimeoutMs: 30, timeoutVerdict: 'drop' });
  const p = await divert(kernel, sock, udp4());
  p.packet[0] = 0x75; // version 7
  assert.throws(() => p.reinject(), { name: 'PacketError', message: /version 7/ });
  await waitFor(() => kernel.verdicts.length === 1, 'the timeout verdict');
  assert.deepEqual([kernel.verdicts[0]!.verdict, sock.stats.timedOut, sock.stats.held], [NF_VERDICT.NF_DROP, 1, 0]);
});

test('a packet whose reinjection failed is released by close() with the close verdict', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4());
  assert.throws(() => p.reinject(new Uint8Array(10)));
  assert.throws(() => p.reinject(undefined, { mark: -1 }), RangeError);
  assert.throws(() => p.reinject('bytes' as unknown as Uint8Array), TypeError);
  assert.throws(() => p.reinject(undefined, 5 as unknown as object), TypeError);
  await sock.close();
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[p.id, NF_VERDICT.NF_ACCEPT]]);
  assert.equal(sock.stats.closedWithVerdict, 1);
});

test('a failed reinjection by interface records nothing: the packet stays held', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4());
  assert.throws(() => p.reinject(undefined, { interface: 'no-such-if' }), { code: 'ERR_DIVERT_NO_SUCH_INTERFACE' });
  assert.equal(p.verdict, undefined);
  p.reinject();
  await turn();
  assert.deepEqual(kernel.verdicts.map((v) => v.verdict), [NF_VERDICT.NF_ACCEPT]);
});

test('an overflow (POLLERR with ENOBUFS) is counted and reported; the socket keeps diverting', async (t) => {
  const { kernel, sock } = await open(t);
  const fd = kernel.openSockets().find((s) => s.protocol === NetlinkProtocol.NETLINK_NETFILTER)!.fd;
  const overflows: number[] = [];
  sock.on('overflow', (e: { overruns: number }) => void overflows.push(e.overruns));
  const errors: Error[] = [];
  sock.on('error', (e: Error) => void errors.push(e));
  const fake = kernel.socketByFd(fd);
  fake.rcvbuf = 200; // room for about one packet message
  for (let i = 0; i < 5; i++) kernel.enqueuePacket(7, udp4(`p${i}`), IN);
  await waitFor(() => sock.stats.overruns >= 1, 'the overrun');
  assert.deepEqual(errors, []);
  assert.equal(sock.closed, false);
  assert.ok(overflows.length >= 1);
  fake.rcvbuf = 1 << 20;
  const later = kernel.enqueuePacket(7, udp4('after'), IN);
  const seen: number[] = [];
  const deadline = AbortSignal.timeout(3000); // a packet that never comes fails the test, not hangs it
  for (let i = 0; i < 20 && !seen.includes(later); i++) {
    const p = await sock.recvfrom({ signal: deadline });
    seen.push(p.id);
    p.reinject();
  }
  assert.ok(seen.includes(later), `a packet after the overflow is still diverted (saw ${seen.join(', ')})`);
});

test('a receive error that is not an overflow ends the socket; held packets get the close verdict', async (t) => {
  const { kernel, sock } = await open(t);
  const p = await divert(kernel, sock, udp4());
  const errors: Error[] = [];
  sock.on('error', (e: Error) => void errors.push(e));
  const fd = kernel.openSockets().find((s) => s.protocol === NetlinkProtocol.NETLINK_NETFILTER)!.fd;
  kernel.failNextRecv(fd, 14); // EFAULT
  await waitFor(() => sock.closed, 'the socket to close');
  await sock.close().catch(() => {});
  assert.equal(errors.length, 1);
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]), [[p.id, NF_VERDICT.NF_ACCEPT]]);
});

const BAD_OPTIONS: Array<[DivertSocketOptions | unknown, RegExp, 'TypeError' | 'RangeError']> = [
  [{ highWaterMark: 0 }, /highWaterMark must be an integer from 1/, 'RangeError'],
  [{ highWaterMark: -5 }, /highWaterMark/, 'RangeError'],
  [{ coalesceMs: 5000 }, /coalesceMs must be an integer from 0 to 1000/, 'RangeError'],
  [{ coalesceMs: '5' }, /coalesceMs must be a number/, 'TypeError'],
  [{ timeoutVerdict: 'reject' }, /timeoutVerdict must be 'accept' or 'drop', got "reject"/, 'TypeError'],
  [{ closeVerdict: 'ACCEPT' }, /closeVerdict must be 'accept' or 'drop'/, 'TypeError'],
  [{ copyMode: 'full' }, /copyMode must be 'packet' or 'meta'/, 'TypeError'],
  [{ netns: 123 }, /netns must be a namespace name .* got 123/, 'TypeError'],
  [{ netns: 'bad*name' }, /Invalid network namespace name/, 'TypeError'],
  [{ netns: 'bad name' }, /no white space or control characters/, 'TypeError'],
  [{ port: 70000 }, /port must be an integer from 0 to 65535/, 'RangeError'],
  [{ port: '80' }, /port must be a number, got "80"/, 'TypeError'],
  [{ verdictTimeoutMs: -1 }, /verdictTimeoutMs must be from 0/, 'RangeError'],
  [{ verdictTimeoutMs: Infinity }, /verdictTimeoutMs/, 'RangeError'],
  [{ maxQueueLength: 0 }, /maxQueueLength/, 'RangeError'],
  [{ copyRange: 70000 }, /copyRange must be an integer from 0 to 65531/, 'RangeError'],
  [{ passThrough: 'yes' }, /passThrough must be true or false/, 'TypeError'],
  [{ rules: '-A input -p icmp' }, /rules must be an array/, 'TypeError'],
  [{ rules: [42] }, /rules\[0\] must be a rule text/, 'TypeError'],
  [{ signal: {} }, /signal must be an AbortSignal/, 'TypeError'],
  [{ prot: 7 }, /Unknown option "prot"; the options are: port, /, 'TypeError'],
  ['port 7', /takes an options object, got "port 7"/, 'TypeError'],
];

for (const [options, message, name] of BAD_OPTIONS) {
  test(`createDivertSocket(${JSON.stringify(options)}) throws ${name} naming the option`, () => {
    assert.throws(() => createDivertSocket(options as DivertSocketOptions), (err: unknown) => {
      assert.equal((err as Error).name, name);
      assert.match((err as Error).message, message);
      return true;
    });
  });
}

test('sendto() refuses a packet that is not bytes, and an address of the wrong type', async (t) => {
  const { kernel, sock } = await open(t);
  assert.throws(() => sock.sendto(42 as unknown as Uint8Array), { name: 'TypeError', message: /takes the packet as a Uint8Array .* got 42/ });
  assert.throws(() => sock.sendto(udp4(), 12345 as unknown as string), { name: 'TypeError', message: /DivertAddress, an address string/ });
  const raw = kernel.sockets.filter((s) => s.sent.length > 0 && s.domain !== 16); // not AF_NETLINK
  assert.deepEqual(raw, [], 'nothing was sent');
  assert.equal(sock.stats.injected, 0);
});

/** The fd of the socket's NFQUEUE netlink socket in the fake. */
function queueFd(kernel: FakeKernel): number {
  const s = kernel.openSockets().find((x) => x.protocol === NetlinkProtocol.NETLINK_NETFILTER);
  assert.ok(s, 'the queue socket is open');
  return s.fd;
}

test('a verdict send the kernel refuses for want of memory is retried until it goes through', async (t) => {
  const { kernel, sock } = await open(t, { verdictTimeoutMs: 0 });
  const p = await divert(kernel, sock, udp4());
  const fd = queueFd(kernel);
  for (let i = 0; i < 3; i++) kernel.failNextSend(fd, 12); // ENOMEM three times
  p.reinject();
  await waitFor(() => kernel.verdicts.some((v) => v.id === p.id), 'the verdict to reach the kernel after the retries', 3000);
  assert.equal(sock.closed, false, 'the socket lives on');
  assert.equal(sock.stats.held, 0);
});

test('close() settles and releases everything even when every verdict send fails', async (t) => {
  const { kernel, sock } = await open(t, { verdictTimeoutMs: 0 });
  const held = [await divert(kernel, sock, udp4()), await divert(kernel, sock, udp4())];
  const fd = queueFd(kernel);
  for (let i = 0; i < 1000; i++) kernel.failNextSend(fd, 1); // EPERM: not transient
  await assert.doesNotReject(sock.close().catch(() => undefined), 'close() settles');
  assert.equal(sock.closed, true);
  assert.equal(sock.stats.held, 0, 'no packet left held');
  assert.equal(kernel.openSockets().filter((s) => s.protocol === NetlinkProtocol.NETLINK_NETFILTER).length, 0, 'the queue socket is closed (the kernel drops what it still had)');
  assert.equal(held.length, 2);
});

test('closeSync() while a bind with rules is under way leaves no socket, rule or exit hook behind', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks(HOST_LINKS);
  const signalsBefore = process.listenerCount('SIGTERM');
  // Closed before the bind's first step is done, and as soon as the queue is bound (its rules
  // are being installed then).
  for (const when of ['at once', 'once the queue is bound'] as const) {
    const sock = createDivertSocket({ port: 7, rules: ['-A input -p udp --dport 9'] });
    if (when !== 'at once') {
      for (let i = 0; i < 100 && kernel.queueState(7)?.portId === undefined; i++) await turn();
      assert.ok(kernel.queueState(7)?.portId !== undefined, 'the queue got bound');
    }
    sock.closeSync();
    await assert.rejects(sock.ready, DivertClosedError, `${when}: the bind reports the close`);
    assert.deepEqual(kernel.openSockets().map((s) => s.protocol), [], `${when}: every socket closed`);
    assert.equal(kernel.nftables.tables().length, 0, `${when}: no table left (its rules with it)`);
    assert.equal(process.listenerCount('SIGTERM'), signalsBefore, `${when}: no exit hook left`);
  }
});
