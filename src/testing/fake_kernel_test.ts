import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKernel } from './fake_kernel.js';
import { udp4 } from './fixtures.js';
import { AF_NETLINK, SOCK_RAW, sockaddrNl } from '../_native/sockaddr.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { NetlinkProtocol, NlmsgType } from '../netlink/constants.js';
import { parseNlmsgerr } from '../netlink/netlink_error.js';
import { putBind, putFlags, putParams, putQueueMaxLen, putUnbind } from '../nfqueue/config.js';
import { putVerdict, putVerdictBatch } from '../nfqueue/verdict.js';
import { decodePacketMessage } from '../nfqueue/packet_msg.js';
import { NFQA_CFG_F, NFQNL_COPY, NF_VERDICT } from '../nfqueue/constants.js';
import { Errno } from '../_native/errno.js';

/** A bound NETLINK_NETFILTER fd of `k`, and a helper returning the errno of each answer to a request. */
function netfilter(k: FakeKernel): { fd: number; ask: (put: (b: MessageBuilder) => void) => number[] } {
  const fd = k.socket(AF_NETLINK, SOCK_RAW, NetlinkProtocol.NETLINK_NETFILTER);
  assert.equal(k.bind(fd, sockaddrNl()), 0);
  const ask = (put: (b: MessageBuilder) => void): number[] => {
    const b = new MessageBuilder();
    put(b);
    k.sendto(fd, b.bytes(), null, 0);
    return answers(k, fd);
  };
  return { fd, ask };
}

/** Reads every queued datagram of `fd` and returns the errno of each NLMSG_ERROR in it. */
function answers(k: FakeKernel, fd: number): number[] {
  const arena = new Uint8Array(65536 * 4);
  const lengths = new Uint32Array(4);
  const out: number[] = [];
  for (let n; (n = k.recvmmsg(fd, arena, 65536, 4, lengths)) > 0; ) {
    for (let i = 0; i < n; i++) {
      const it = new MessageIter().reset(arena, i * 65536, lengths[i]!);
      while (it.next()) if (it.type === NlmsgType.NLMSG_ERROR) out.push(parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags).errno);
    }
  }
  return out;
}

/** A netfilter fd that bound `queue` in packet copy mode, plus any `extra` config requests. */
function bound(k: FakeKernel, queue: number, ...extra: Array<(b: MessageBuilder) => void>): ReturnType<typeof netfilter> {
  const nf = netfilter(k);
  const acks = nf.ask((b) => {
    putBind(b, 1, queue);
    putParams(b, 2, queue, NFQNL_COPY.NFQNL_COPY_PACKET, 0);
    for (const put of extra) put(b);
  });
  assert.deepEqual(acks, new Array<number>(2 + extra.length).fill(0));
  return nf;
}

test('FakeKernel answers config requests with the errnos the kernel uses', () => {
  const k = new FakeKernel();
  const a = netfilter(k);
  const b = netfilter(k);
  assert.deepEqual(a.ask((m) => putParams(m, 1, 7, NFQNL_COPY.NFQNL_COPY_PACKET, 0)), [Errno.ENODEV]);
  assert.deepEqual(a.ask((m) => putBind(m, 2, 7)), [0]);
  assert.deepEqual(a.ask((m) => putBind(m, 3, 7)), [Errno.EBUSY]);
  assert.deepEqual(b.ask((m) => putBind(m, 4, 7)), [Errno.EPERM]);
  assert.deepEqual(a.ask((m) => putFlags(m, 5, 7, NFQA_CFG_F.NFQA_CFG_F_MAX, NFQA_CFG_F.NFQA_CFG_F_MAX)), [Errno.EOPNOTSUPP]);
  assert.deepEqual(b.ask((m) => putUnbind(m, 6, 7)), [Errno.EPERM]);
  assert.deepEqual(a.ask((m) => putUnbind(m, 7, 7)), [0]);
  assert.deepEqual(a.ask((m) => putUnbind(m, 8, 7)), [Errno.ENODEV]);
});

test('FakeKernel.enqueuePacket() builds an unpadded packet message the decoder reads', () => {
  const k = new FakeKernel();
  const { fd } = bound(k, 7);
  const bytes = udp4('abc'); // 31 bytes: NFQA_PAYLOAD would need one byte of padding
  const id = k.enqueuePacket(7, bytes, { indev: 2, mark: 3 });
  const [d] = k.socketByFd(fd).rx;
  assert.ok(d);
  const it = new MessageIter().reset(d);
  assert.ok(it.next());
  assert.equal(it.length, d.length);
  assert.equal(d.length % 4, 3, 'nlmsg_len = skb->len, without the final padding');
  const meta = decodePacketMessage(it.buffer, it.payloadOffset, it.end);
  assert.deepEqual([meta.id, meta.indev, meta.mark, meta.family], [id, 2, 3, 2]);
  assert.deepEqual(d.subarray(meta.payloadOffset, meta.payloadOffset + meta.payloadLength), bytes);
});

test('FakeKernel records verdict batches and refuses verdicts from another socket', () => {
  const k = new FakeKernel();
  const { fd, ask } = bound(k, 7);
  for (let i = 0; i < 4; i++) k.enqueuePacket(7, udp4());
  answers(k, fd); // read the packets
  assert.deepEqual(ask((b) => putVerdictBatch(b, 0, 7, 3, NF_VERDICT.NF_ACCEPT, 9)), []);
  assert.deepEqual(k.verdicts.map((v) => [v.id, v.mark, v.batch]), [[1, 9, true], [2, 9, true], [3, 9, true]]);
  assert.deepEqual(k.queueState(7)?.pending, [4]);
  const other = netfilter(k);
  assert.deepEqual(other.ask((b) => putVerdict(b, 0, 7, 4, NF_VERDICT.NF_DROP)), [Errno.EPERM]);
  assert.deepEqual(ask((b) => putVerdictBatch(b, 0, 7, 3, NF_VERDICT.NF_ACCEPT)), [Errno.ENOENT]);
  assert.deepEqual(ask((b) => putVerdict(b, 0, 7, 4, NF_VERDICT.NF_STOLEN)), [Errno.EINVAL]);
});

test('FakeKernel drops (or with fail-open accepts) packets beyond the queue length', () => {
  const { NFQA_CFG_F_FAIL_OPEN: FAIL_OPEN } = NFQA_CFG_F;
  for (const failOpen of [false, true]) {
    const k = new FakeKernel();
    bound(k, 7, (b) => putQueueMaxLen(b, 3, 7, 2), (b) => putFlags(b, 4, 7, failOpen ? FAIL_OPEN : 0, FAIL_OPEN));
    for (let i = 0; i < 3; i++) k.enqueuePacket(7, udp4());
    assert.deepEqual(k.queueState(7)?.pending, [1, 2]);
    assert.deepEqual(k.autoVerdicts, [{ queue: 7, id: 3, verdict: failOpen ? NF_VERDICT.NF_ACCEPT : NF_VERDICT.NF_DROP, reason: 'queue full' }]);
  }
});

test('FakeKernel flushes pending packets when their queue is unbound or its socket closes', () => {
  const k = new FakeKernel();
  const a = bound(k, 7);
  const b = bound(k, 8);
  k.enqueuePacket(7, udp4());
  k.enqueuePacket(8, udp4());
  a.ask((m) => putUnbind(m, 9, 7));
  k.close(b.fd);
  assert.deepEqual(k.autoVerdicts.map((v) => [v.queue, v.reason]), [[7, 'unbind'], [8, 'close']]);
  assert.throws(() => k.enqueuePacket(8, udp4()), /no socket is bound to queue 8/);
  assert.equal(k.close(b.fd), -Errno.EBADF);
});

test('FakeKernel.recvmmsg() flags a datagram larger than its slot and returns 0 when empty', () => {
  const k = new FakeKernel();
  const { fd } = netfilter(k);
  k.deliver(fd, new Uint8Array(100));
  const lengths = new Uint32Array(2);
  assert.equal(k.recvmmsg(fd, new Uint8Array(128), 64, 2, lengths), 1);
  assert.equal(lengths[0], (0x8000_0000 | 64) >>> 0);
  assert.equal(k.recvmmsg(fd, new Uint8Array(128), 64, 2, lengths), 0);
});
