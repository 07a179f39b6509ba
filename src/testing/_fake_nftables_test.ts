import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AF_NETLINK, SOCK_RAW, sockaddrNl } from '../_native/sockaddr.js';
import { NetlinkProtocol, NlmsgType } from '../netlink/constants.js';
import { MessageIter } from '../netlink/message_iter.js';
import { parseNlmsgerr } from '../netlink/netlink_error.js';
import { NftBatch } from '../nftables/batch.js';
import { NFPROTO, NFT_TABLE_F, nftMsgName } from '../nftables/constants.js';
import { FakeKernel } from './fake_kernel.js';

const INET = NFPROTO.NFPROTO_INET;

/** A bound NETLINK_NETFILTER fd of `k`. */
function socket(k: FakeKernel): number {
  const fd = k.socket(AF_NETLINK, SOCK_RAW, NetlinkProtocol.NETLINK_NETFILTER);
  assert.equal(k.bind(fd, sockaddrNl()), 0);
  return fd;
}

/** Every answer queued on `fd`, one string per message, datagrams separated by "|". */
function answers(k: FakeKernel, fd: number, b: NftBatch): string[] {
  const arena = new Uint8Array(65536 * 8);
  const lengths = new Uint32Array(8);
  const out: string[] = [];
  for (let n; (n = k.recvmmsg(fd, arena, 65536, 8, lengths)) > 0; ) {
    for (let i = 0; i < n; i++) {
      const it = new MessageIter().reset(arena, i * 65536, lengths[i]!);
      const words: string[] = [];
      while (it.next()) {
        const who = it.seq === b.beginSeq ? 'BEGIN' : `m${b.find(it.seq)?.index ?? '?'}`;
        if (it.type === NlmsgType.NLMSG_ERROR) words.push(`ERROR ${parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags).errno} ${who}`);
        else words.push(`${nftMsgName(it.type & 0xff)} ${who}`);
      }
      out.push(words.join(' + '));
    }
  }
  return out;
}

function ownedTableBatch(): NftBatch {
  const b = new NftBatch();
  b.addTable({ family: INET, name: 't', flags: NFT_TABLE_F.NFT_TABLE_F_OWNER });
  b.addChain({ family: INET, table: 't', name: 'c', type: 'filter', hook: { hooknum: 0, priority: -150 } });
  b.addRule({ family: INET, table: 't', chain: 'c', exprs: [{ type: 'counter' }] });
  return b;
}

test('FakeNftables answers a commit as Linux 6.18 does: the echoes, NEWGEN, then one ACK each', () => {
  const k = new FakeKernel();
  const fd = socket(k);
  const b = ownedTableBatch();
  k.sendto(fd, b.bytes(), null, 0);
  assert.deepEqual(answers(k, fd, b), [
    'NFT_MSG_NEWTABLE m0 + NFT_MSG_NEWCHAIN m1 + NFT_MSG_NEWRULE m2',
    'NFT_MSG_NEWGEN m0',
    'ERROR 0 m0',
    'ERROR 0 m1',
    'ERROR 0 m2',
  ]);
  assert.equal(k.nftables.rules('t').length, 1);
  assert.deepEqual(k.problems, []);
});

test('FakeNftables answers a refused batch with a NACK for the culprit and ACKs for the rest, applying nothing', () => {
  const k = new FakeKernel();
  const fd = socket(k);
  const b = ownedTableBatch();
  b.addRule({ family: INET, table: 't', chain: 'nosuch', exprs: [] });
  k.sendto(fd, b.bytes(), null, 0);
  assert.deepEqual(answers(k, fd, b), ['ERROR 0 m0', 'ERROR 0 m1', 'ERROR 0 m2', 'ERROR 2 m3']);
  assert.deepEqual(k.nftables.tables(), []);
  assert.deepEqual(k.nftables.batches.map((x) => [x.committed, x.dryRun]), [[false, false]]);
});

test('FakeNftables treats a batch without BATCH_END as a dry run', () => {
  const k = new FakeKernel();
  const fd = socket(k);
  const b = ownedTableBatch();
  k.sendto(fd, b.dryRunBytes(), null, 0);
  assert.deepEqual(answers(k, fd, b), ['ERROR 0 m0', 'ERROR 0 m1', 'ERROR 0 m2']);
  assert.deepEqual(k.nftables.tables(), []);
  assert.equal(k.nftables.generation(), 1);
});

test('FakeNftables echoes only what asked, and sends NEWGEN only when the first message asked', () => {
  const k = new FakeKernel();
  const fd = socket(k);
  const b = new NftBatch();
  b.addTable({ family: INET, name: 'x8' }, { echo: false });
  b.addTable({ family: INET, name: 'x9' });
  k.sendto(fd, b.bytes(), null, 0);
  assert.deepEqual(answers(k, fd, b), ['NFT_MSG_NEWTABLE m1', 'ERROR 0 m0', 'ERROR 0 m1']);
});

test('FakeNftables refuses a batch built against another generation (ERESTART on BATCH_BEGIN)', () => {
  const k = new FakeKernel();
  const fd = socket(k);
  const b = new NftBatch(undefined, { genId: 41 });
  b.addTable({ family: INET, name: 't' });
  k.sendto(fd, b.bytes(), null, 0);
  assert.deepEqual(answers(k, fd, b), ['ERROR 85 BEGIN']);
});

test('FakeNftables keeps one ruleset per network namespace and drops owner tables with their socket', () => {
  const k = new FakeKernel();
  const host = socket(k);
  const fd = k.socket(AF_NETLINK, SOCK_RAW, NetlinkProtocol.NETLINK_NETFILTER, '/run/netns/lab');
  k.bind(fd, sockaddrNl());
  k.sendto(fd, ownedTableBatch().bytes(), null, 0);
  assert.deepEqual(k.nftables.tables(), []);
  assert.deepEqual(k.nftables.tables('/run/netns/lab').map((t) => t.name), ['t']);
  k.close(host);
  assert.equal(k.nftables.tables('/run/netns/lab').length, 1, 'another socket closing changes nothing');
  k.close(fd);
  assert.deepEqual(k.nftables.tables('/run/netns/lab'), []);
});
