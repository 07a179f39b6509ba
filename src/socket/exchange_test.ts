import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkSocket } from './netlink_socket.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { turn, waitFor } from '../testing/fixtures.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol, NlmsgType } from '../netlink/constants.js';
import { putBind } from '../nfqueue/config.js';
import { Errno } from '../_native/errno.js';
import { NetlinkError } from '../errors.js';

const { NETLINK_NETFILTER } = NetlinkProtocol;
/** The fake gives the first netlink socket of a test the port id 4242. */
const PORT = 4242;

function install(t: TestContext): FakeKernel {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  return kernel;
}

/** A datagram of one message of `type` with `seq` and sender/receiver port `pid` (4 zero bytes of payload). */
function message(type: number, seq: number, pid = PORT): Uint8Array {
  const b = new MessageBuilder();
  b.begin(type, 0, seq, pid);
  b.reserve(4);
  b.end();
  return b.bytes().slice();
}

test('NetlinkSocket.request() resolves on the ACK without blocking, and polls only while waiting', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const seq = s.nextSeq();
  await s.request(putBind(new MessageBuilder(), seq, 7).bytes(), seq, 'bind 7');
  assert.equal(kernel.queueState(7)?.portId, s.portId);
  assert.equal(kernel.refedPolls, 0, 'no poller once nothing waits');
  s.close();
});

test('NetlinkSocket.request() rejects with the NACK as a NetlinkError', async (t) => {
  const kernel = install(t);
  kernel.failBind(7, Errno.EPERM, 'taken');
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const seq = s.nextSeq();
  await assert.rejects(s.request(putBind(new MessageBuilder(), seq, 7).bytes(), seq, 'bind 7'), { name: 'NetlinkError', code: 'EPERM', extackMessage: 'taken' });
  s.close();
});

test('NetlinkSocket.exchange() hands every message of its seqs to the handler, others to start()', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const other: number[] = [];
  s.start((it) => void other.push(it.seq), (err) => assert.fail(err));
  const seen: Array<[number, number]> = [];
  const done = s.exchange([], [100, 101], (it) => {
    seen.push([it.type, it.seq]);
    return it.seq === 101;
  }, 'two answers', 1000);
  kernel.deliver(s.fd, message(0x20, 100));
  kernel.deliver(s.fd, message(0x21, 55)); // not ours
  kernel.deliver(s.fd, message(0x23, 101, 777)); // another process's notification that happens to carry our seq
  kernel.deliver(s.fd, message(0x22, 101));
  await done;
  assert.deepEqual(seen, [[0x20, 100], [0x22, 101]]);
  await waitFor(() => other.length === 2, 'the other messages');
  assert.deepEqual(other, [55, 101]);
  s.close();
});

test('NetlinkSocket.exchange() rejects with ETIMEDOUT when the answer never comes, and with what the handler throws', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  await assert.rejects(s.exchange([], [9], () => true, 'silent', 20), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, 'ETIMEDOUT');
    assert.match(err.message, /silent: no answer from the kernel within 20 ms/);
    return true;
  });
  const failing = s.exchange([], [10], () => {
    throw new RangeError('bad answer');
  }, 'picky');
  kernel.deliver(s.fd, message(0x20, 10));
  await assert.rejects(failing, { name: 'RangeError', message: 'bad answer' });
  s.close();
});

test('NetlinkSocket.close() rejects an exchange still waiting, with EBADF', async (t) => {
  install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const waiting = s.exchange([], [3], () => true, 'pending');
  await turn();
  s.close();
  await assert.rejects(waiting, { code: 'EBADF', message: /pending: socket closed/ });
});

test('NetlinkSocket survives POLLERR from an overflow: counts the overrun, tells onOverrun, reads on', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER, { receiveBufferBytes: 20 }); // room for two 20-byte datagrams
  const seen: number[] = [];
  let overruns = 0;
  s.start((it) => void seen.push(it.type), { onError: (err) => assert.fail(err), onOverrun: () => overruns++ });
  s.ref(false);
  for (const type of [0x20, 0x21, 0x22, 0x23]) kernel.deliver(s.fd, message(type, 0));
  await waitFor(() => overruns === 1 && seen.length === 2, 'the overrun and the messages that fit');
  kernel.deliver(s.fd, message(0x24, 0));
  await waitFor(() => seen.length === 3, 'a message after the overflow');
  assert.deepEqual(seen, [0x20, 0x21, 0x24]);
  assert.equal(s.overruns, 1);
  assert.equal(kernel.socketByFd(s.fd).poll?.active, true, 'watching again');
  assert.equal(kernel.socketByFd(s.fd).poll?.ref, false, 'and still not keeping the process alive');
  s.close();
  assert.deepEqual(kernel.problems, []);
});

test('NetlinkSocket ends on a receive error that is not an overflow, failing waiting requests too', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const errors: Error[] = [];
  s.start(() => {}, (err) => void errors.push(err));
  const waiting = s.exchange([], [5], () => true, 'pending', 1000);
  kernel.failNextRecv(s.fd, 14); // EFAULT
  await assert.rejects(waiting, { name: 'SystemCallError', code: 'EFAULT' });
  assert.equal(errors.length, 1);
  s.close();
});

test('NetlinkSocket.dump() collects until NLMSG_DONE and ignores a trailing ACK of nobody', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const got: number[] = [];
  const done = s.dump(new Uint8Array(0), 42, 'list', (it) => void got.push(it.type));
  kernel.deliver(s.fd, message(0x30, 42));
  kernel.deliver(s.fd, message(0x31, 42));
  kernel.deliver(s.fd, message(NlmsgType.NLMSG_DONE, 42));
  await done;
  assert.deepEqual(got, [0x30, 0x31]);
  s.close();
});

test('NetlinkSocket.dump() rejects when NLMSG_DONE carries an errno: the dump stopped part way', async (t) => {
  const kernel = install(t);
  const s = NetlinkSocket.open(NETLINK_NETFILTER);
  const got: number[] = [];
  const done = s.dump(new Uint8Array(0), 43, 'list sets', (it) => void got.push(it.type));
  kernel.deliver(s.fd, message(0x30, 43));
  const stop = message(NlmsgType.NLMSG_DONE, 43);
  new Int32Array(stop.buffer, stop.byteOffset + 16, 1)[0] = -Errno.ENOENT; // NLMSG_DONE's int, host order
  kernel.deliver(s.fd, stop);
  await assert.rejects(done, (e: unknown) => e instanceof NetlinkError && e.errno === Errno.ENOENT && /list sets/.test(e.message));
  assert.deepEqual(got, [0x30]);
  s.close();
});
