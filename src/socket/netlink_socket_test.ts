import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkSocket } from './netlink_socket.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { turn, waitFor } from '../testing/fixtures.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol, NetlinkSockopt, NlmsgType, SOL_NETLINK } from '../netlink/constants.js';
import { putGetLinkDump } from '../rtnetlink/link_addr.js';
import { RtmType } from '../rtnetlink/constants.js';
import { putBind } from '../nfqueue/config.js';
import { Errno } from '../_native/errno.js';
import { NetlinkError, SystemCallError } from '../errors.js';

const { NETLINK_NETFILTER, NETLINK_ROUTE } = NetlinkProtocol;
const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;
const SO_RCVBUF = 8;

function install(t: TestContext): FakeKernel {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  return kernel;
}

/** A bind request for `queue`, with its seq. */
function bindRequest(sock: NetlinkSocket, queue: number): { bytes: Uint8Array; seq: number } {
  const seq = sock.nextSeq();
  return { bytes: putBind(new MessageBuilder(), seq, queue).bytes(), seq };
}

/** One datagram holding a message of each type (payload: 4 zero bytes). */
function datagram(types: number[], seq = 0): Uint8Array {
  const b = new MessageBuilder();
  for (const type of types) {
    b.begin(type, 0, seq, 0);
    b.reserve(4);
    b.end();
  }
  return b.bytes().slice();
}

test('NetlinkSocket.open() binds, reads its port id back and asks for extended ACKs', (t) => {
  const kernel = install(t);
  const a = NetlinkSocket.open(NETLINK_NETFILTER, { receiveBufferBytes: 1 << 20 });
  const b = NetlinkSocket.open(NETLINK_ROUTE);
  const c = NetlinkSocket.open(NETLINK_ROUTE);
  assert.equal(a.portId, 4242); // the first socket gets the tgid, later ones -4096, -4097… as u32
  assert.equal(b.portId, 4242); // port ids are per protocol
  assert.equal(c.portId, 0xffff_f000);
  const fa = kernel.socketByFd(a.fd);
  assert.ok(fa.option(SOL_NETLINK, NetlinkSockopt.NETLINK_EXT_ACK));
  assert.ok(fa.option(SOL_NETLINK, NetlinkSockopt.NETLINK_CAP_ACK));
  assert.equal(fa.sockopts.get(`${SOL_SOCKET}:${SO_RCVBUFFORCE}`), 1 << 20);
  for (const s of [a, b, c]) s.close();
  assert.equal(kernel.openSockets().length, 0);
  assert.deepEqual(kernel.problems, []);
});

test('NetlinkSocket.open() falls back to SO_RCVBUF without CAP_NET_ADMIN', (t) => {
  const kernel = install(t);
  kernel.failSetsockopt(SOL_SOCKET, SO_RCVBUFFORCE, Errno.EPERM);
  const s = NetlinkSocket.open(NETLINK_NETFILTER, { receiveBufferBytes: 4096 });
  assert.equal(kernel.socketByFd(s.fd).sockopts.get(`${SOL_SOCKET}:${SO_RCVBUF}`), 4096);
  s.close();
});

test('NetlinkSocket.open() explains EPROTONOSUPPORT and a missing network namespace', (t) => {
  const kernel = install(t);
  kernel.failSocket(Errno.EPROTONOSUPPORT, { protocol: NETLINK_NETFILTER });
  kernel.failSocket(Errno.ENOENT, { netnsPath: '/run/netns/absent' });
  assert.throws(() => NetlinkSocket.open(NETLINK_NETFILTER), (err: unknown) => {
    assert.ok(err instanceof SystemCallError);
    assert.equal(err.code, 'EPROTONOSUPPORT');
    assert.match(err.message, /kernel does not support it/);
    return true;
  });
  assert.throws(() => NetlinkSocket.open(NETLINK_ROUTE, { netnsPath: '/run/netns/absent' }), /\/run\/netns\/absent: no such network namespace/);
  assert.equal(kernel.openSockets().length, 0);
});

test('NetlinkSocket.requestSync() returns on the kernel ACK', (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const { bytes, seq } = bindRequest(s, 7);
  s.requestSync(bytes, seq, 'bind 7');
  assert.equal(kernel.queueState(7)?.portId, s.portId);
  assert.equal(kernel.configLog[0]?.seq, seq);
  s.close();
});

test('NetlinkSocket.requestSync() throws a NetlinkError on a NACK, with the extack message', (t) => {
  const kernel = install(t);
  kernel.failBind(7, Errno.EPERM, 'queue 7 is taken');
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const { bytes, seq } = bindRequest(s, 7);
  assert.throws(() => s.requestSync(bytes, seq, 'bind 7'), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.errno, Errno.EPERM);
    assert.equal(err.code, 'EPERM');
    assert.equal(err.op, 'bind 7');
    assert.equal(err.seq, seq);
    assert.equal(err.extackMessage, 'queue 7 is taken');
    assert.match(err.message, /bind 7 refused by the kernel: EPERM \(queue 7 is taken\)/);
    return true;
  });
  s.close();
});

test('NetlinkSocket.requestSync() decodes a NACK that echoes the whole request (no CAP_ACK)', (t) => {
  const kernel = install(t);
  kernel.failSetsockopt(SOL_NETLINK, NetlinkSockopt.NETLINK_CAP_ACK, Errno.EINVAL);
  kernel.failBind(7, Errno.EBUSY, 'busy');
  kernel.failBind(8, Errno.EINVAL);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const r7 = bindRequest(s, 7);
  assert.throws(() => s.requestSync(r7.bytes, r7.seq, 'bind 7'), { name: 'NetlinkError', code: 'EBUSY', extackMessage: 'busy' });
  const r8 = bindRequest(s, 8);
  assert.throws(() => s.requestSync(r8.bytes, r8.seq, 'bind 8'), { name: 'NetlinkError', code: 'EINVAL', extackMessage: undefined });
  s.close();
});

test('NetlinkSocket.start() dispatches the messages of a datagram in order, control messages aside', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const seen: number[] = [];
  s.start((it) => void seen.push(it.type), (err) => assert.fail(err));
  kernel.deliver(s.fd, datagram([0x20, 0x21, NlmsgType.NLMSG_NOOP, 0x22]));
  kernel.deliver(s.fd, datagram([0x23]));
  await waitFor(() => seen.length === 4, 'four messages');
  assert.deepEqual(seen, [0x20, 0x21, 0x22, 0x23]);
  s.close();
  assert.deepEqual(kernel.problems, []);
});

test('NetlinkSocket.receiveOnce() counts a datagram cut short by its slot', (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER, { slotSize: 64, batch: 4 });
  const seen: number[] = [];
  s.start((it) => void seen.push(it.type), (err) => assert.fail(err));
  const big = new MessageBuilder();
  big.begin(0x30, 0, 0, 0);
  big.reserve(100);
  big.end();
  kernel.deliver(s.fd, big.bytes());
  kernel.deliver(s.fd, datagram([0x31]));
  assert.equal(s.receiveOnce(), 2);
  assert.equal(s.truncatedDatagrams, 1);
  assert.deepEqual(seen, [0x31]); // the cut message is not dispatched
  s.close();
});

test('NetlinkSocket counts ENOBUFS in overruns and keeps reading', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const seen: number[] = [];
  s.start((it) => void seen.push(it.type), (err) => assert.fail(err));
  kernel.failNextRecv(s.fd, Errno.ENOBUFS);
  kernel.deliver(s.fd, datagram([0x20]));
  await waitFor(() => seen.length === 1, 'the message after the overrun');
  assert.equal(s.overruns, 1);
  s.close();
});

test('NetlinkSocket counts an overflow of its receive buffer as an overrun', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER, { receiveBufferBytes: 20 }); // kernel doubles: 40 bytes, two datagrams of 20
  const seen: number[] = [];
  s.start((it) => void seen.push(it.type), (err) => assert.fail(err));
  assert.equal(kernel.deliver(s.fd, datagram([0x20])), true);
  assert.equal(kernel.deliver(s.fd, datagram([0x21])), true);
  assert.equal(kernel.deliver(s.fd, datagram([0x22])), false); // dropped: ENOBUFS on the next read
  await waitFor(() => seen.length === 2 && s.overruns === 1, 'two messages and an overrun');
  s.close();
});

test('NetlinkSocket.close() rejects a request still waiting for its answer', (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  s.start(() => s.close(), (err) => assert.fail(err)); // a message read before the ACK closes the socket
  kernel.deliver(s.fd, datagram([0x20]));
  const { bytes, seq } = bindRequest(s, 7);
  assert.throws(() => s.requestSync(bytes, seq, 'bind 7'), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, 'EBADF');
    assert.match(err.message, /bind 7: socket closed/);
    return true;
  });
  assert.equal(s.closed, true);
  assert.equal(kernel.socketByFd(s.fd).closed, true);
  assert.deepEqual(kernel.problems, []);
});

test('NetlinkSocket.send() retries EAGAIN and throws other errors', (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_ROUTE);
  kernel.failNextSend(s.fd, Errno.EAGAIN);
  s.send(datagram([0x20]));
  assert.equal(kernel.socketByFd(s.fd).sent.length, 1);
  kernel.failNextSend(s.fd, Errno.EPERM);
  assert.throws(() => s.send(datagram([0x20])), { name: 'SystemCallError', code: 'EPERM', syscall: 'sendto' });
  s.close();
  assert.throws(() => s.send(datagram([0x20])), { code: 'ERR_DIVERT_CLOSED' });
});

test('NetlinkSocket.dumpSync() collects a multi-part dump until NLMSG_DONE', (t) => {
  const kernel = install(t);
  kernel.setLinks([1, 2, 3, 4, 5].map((index) => ({ index, name: `if${index}` })));
  const s = NetlinkSocket.open(NETLINK_ROUTE);
  const seq = s.nextSeq();
  const names: number[] = [];
  s.dumpSync(putGetLinkDump(new MessageBuilder(), seq).bytes(), seq, 'list links', (it) => {
    assert.equal(it.type, RtmType.RTM_NEWLINK);
    assert.equal(it.seq, seq);
    names.push(it.pid);
  });
  assert.equal(names.length, 5);
  assert.ok(names.every((pid) => pid === s.portId));
  s.close();
});

test('NetlinkSocket.pause() stops reading until resume(); ref() reaches the poller', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const seen: number[] = [];
  s.start((it) => void seen.push(it.type), (err) => assert.fail(err));
  assert.equal(kernel.refedPolls, 1);
  s.ref(false);
  assert.equal(kernel.refedPolls, 0);
  s.pause();
  kernel.deliver(s.fd, datagram([0x20]));
  for (let i = 0; i < 5; i++) await turn();
  assert.deepEqual(seen, []);
  assert.equal(kernel.socketByFd(s.fd).rx.length, 1);
  s.resume();
  await waitFor(() => seen.length === 1, 'the message after resume');
  s.close();
  assert.deepEqual(kernel.problems, []);
});
