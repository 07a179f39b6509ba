import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NfLog } from './log_group.js';
import type { LogMeta } from './packet_msg.js';
import { NFULNL_CFG_CMD, NFULNL_CFG_F, NFULNL_COPY } from './constants.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { udp4, waitFor } from '../testing/fixtures.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { DivertError, NetlinkError, SystemCallError } from '../errors.js';
import { Errno } from '../_native/errno.js';

function install(t: TestContext): FakeKernel {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  return kernel;
}

/** Whether this process holds CAP_NET_ADMIN, read the way log_group.ts reads it. */
function hasNetAdmin(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n : false;
}

test('NfLog.open() sends bind, mode, threshold and timeout (buffer size and flags when asked) in that order', async (t) => {
  const kernel = install(t);
  const log = await NfLog.open(7, { copyRange: 200, qthreshold: 8, timeoutCentiseconds: 5, nlbufsiz: 65536, flags: NFULNL_CFG_F.NFULNL_CFG_F_SEQ });
  const portId = log.socket.portId;
  assert.deepEqual(kernel.nflog.config, [
    { group: 7, portId, command: NFULNL_CFG_CMD.NFULNL_CFG_CMD_BIND },
    { group: 7, portId, copyMode: NFULNL_COPY.NFULNL_COPY_PACKET, copyRange: 200 },
    { group: 7, portId, qthreshold: 8 },
    { group: 7, portId, timeout: 5 },
    { group: 7, portId, nlbufsiz: 65536 },
    { group: 7, portId, flags: NFULNL_CFG_F.NFULNL_CFG_F_SEQ },
  ]);
  assert.deepEqual(kernel.nflog.state(7), { group: 7, portId, copyMode: 2, copyRange: 200, qthreshold: 8, timeout: 5, flags: 1, seq: 0, batch: [] });
  await log.close();
  assert.equal(kernel.nflog.config.at(-1)?.command, NFULNL_CFG_CMD.NFULNL_CFG_CMD_UNBIND);
  assert.equal(kernel.nflog.state(7), undefined);
  assert.deepEqual(kernel.openSockets(), []);
});

test('NfLog delivers copies with their metadata; copy mode meta sends none of the bytes', async (t) => {
  const kernel = install(t);
  const log = await NfLog.open(3, { copyMode: 'meta', flags: NFULNL_CFG_F.NFULNL_CFG_F_SEQ });
  const got: LogMeta[] = [];
  log.start((m) => void got.push({ ...m }), (e) => assert.fail(e));
  kernel.logPacket(3, udp4(), { hook: 3, outdev: 2, uid: 1000, gid: 1000, prefix: 'p' });
  kernel.logPacket(3, udp4(), { hook: 3, outdev: 2 });
  await waitFor(() => got.length === 2, 'two copies');
  assert.deepEqual(got.map((m) => [m.group, m.hook, m.outdev, m.uid, m.prefix, m.seq, m.payloadLength, m.timestamp]), [
    [3, 3, 2, 1000, 'p', 0, 0, undefined],
    [3, 3, 2, undefined, '', 1, 0, undefined],
  ]);
  await log.close();
});

test('NfLog.open() explains EPERM from a group another socket has, and keeps the owner\'s group', async (t) => {
  const kernel = install(t);
  const first = await NfLog.open(7);
  await assert.rejects(() => NfLog.open(7), (err: unknown) => {
    assert.ok(err instanceof DivertError);
    assert.ok(err.cause instanceof NetlinkError && err.cause.errno === Errno.EPERM);
    assert.equal(err.code, hasNetAdmin() ? 'ERR_DIVERT_PORT_IN_USE' : 'EPERM');
    assert.match(err.message, hasNetAdmin() ? /^Cannot bind NFLOG group 7: another socket has it/ : /requires CAP_NET_ADMIN/);
    return true;
  });
  assert.equal(kernel.openSockets().length, 1, 'the failed socket is closed');
  assert.equal(kernel.nflog.state(7)?.portId, first.socket.portId);
  await first.close();
});

test('NfLog.open() reports a kernel without nfnetlink_log, and refuses bad options before opening anything', async (t) => {
  const kernel = install(t);
  kernel.failSocket(Errno.EPROTONOSUPPORT, { protocol: NetlinkProtocol.NETLINK_NETFILTER });
  await assert.rejects(() => NfLog.open(1), (err: unknown) => err instanceof DivertError && err.code === 'ERR_DIVERT_NO_KERNEL_SUPPORT' && err.cause instanceof SystemCallError && /CONFIG_NETFILTER_NETLINK_LOG/.test(err.message));
  await assert.rejects(() => NfLog.open(65536), /NFLOG group must be an integer from 0 to 65535/);
  await assert.rejects(() => NfLog.open(1, { qthreshold: 0 }), /queue threshold must be an integer from 1/);
  await assert.rejects(() => NfLog.open(1, { copyRange: 70000 }), /copy range must be an integer from 0 to 65531/);
  await assert.rejects(() => NfLog.open(1, { nlbufsiz: 100 }), /buffer size/);
  assert.deepEqual(kernel.nflog.config, []);
});

test('NfLog counts a packet message it cannot decode and reads on', async (t) => {
  const kernel = install(t);
  const log = await NfLog.open(5);
  const got: number[] = [];
  log.start((m) => void got.push(m.payloadLength), (e) => assert.fail(e));
  const bad = new MessageBuilder();
  bad.begin(0x0400, 0, 0).putNfgenmsg(2, 0, 5).putAttrU32be(2, 1).end(); // no NFULA_PACKET_HDR
  kernel.deliver(log.socket.fd, bad.bytes());
  kernel.logPacket(5, udp4(), {});
  await waitFor(() => got.length === 1, 'the good copy');
  assert.equal(log.decodeErrors, 1);
  log.closeSync();
  assert.equal(kernel.nflog.state(5), undefined, 'closing the socket destroys the instance (NETLINK_URELEASE)');
});
