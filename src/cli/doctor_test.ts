import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKernelConfig } from './doctor/kernel_config.js';
import { formatReport, reportExitCode } from './doctor/report.js';
import { parseCapEff } from '../_native/capability.js';
import { Errno } from '../_native/errno.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { probeInjection } from './doctor/checks.js';

test('parseKernelConfig() keeps y/m options and skips unset ones', () => {
  const cfg = parseKernelConfig('CONFIG_NETFILTER_NETLINK_QUEUE=y\n# CONFIG_NFT_QUEUE is not set\nCONFIG_NF_CONNTRACK=m\nCONFIG_HZ=250\n');
  assert.deepEqual([...cfg], [['CONFIG_NETFILTER_NETLINK_QUEUE', 'y'], ['CONFIG_NF_CONNTRACK', 'm']]);
});

test('parseCapEff() reads the CapEff mask', () => {
  assert.equal(parseCapEff('Name:\tnode\nCapEff:\t000001ffffffffff\n'), 0x1ffffffffffn);
  assert.equal(parseCapEff('nothing'), 0n);
});

test('formatReport() prints a fix under each problem; exit code follows FAIL', () => {
  const ok = [{ name: 'ip', status: 'ok' as const, detail: '/usr/sbin/ip' }];
  const warn = [...ok, { name: 'nft queue', status: 'warn' as const, detail: 'not available', fix: 'modprobe nft_queue' }];
  const fail = [...warn, { name: 'iptables', status: 'fail' as const, detail: 'not found', fix: 'apt-get install iptables' }];
  assert.equal(reportExitCode(ok), 0);
  assert.equal(reportExitCode(warn), 0);
  assert.equal(reportExitCode(fail), 1);
  assert.equal(
    formatReport(fail),
    'ok    ip         /usr/sbin/ip\n' +
      'warn  nft queue  not available\n' +
      '                 fix: modprobe nft_queue\n' +
      'FAIL  iptables   not found\n' +
      '                 fix: apt-get install iptables\n' +
      '\ndivert is not usable here yet: 1 problem to fix.\n',
  );
  assert.match(formatReport(warn), /divert is usable here \(1 warning\)\.\n$/);
});

test('probeInjection(): the three tc rows, each FAIL with the error when the probe cannot run', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks([{ index: 1, name: 'lo' }]);
  assert.deepEqual((await probeInjection('/run/netns/probe')).map((r) => [r.name, r.status]), [['clsact qdisc', 'ok'], ['cls_bpf', 'ok'], ['act_mirred', 'ok']]);
  kernel.rtnetlink.tc.missing.add('mirred');
  const missing = await probeInjection('/run/netns/probe');
  assert.deepEqual(missing.map((r) => r.status), ['ok', 'ok', 'warn']);
  assert.equal(missing[2]?.fix, 'kernel CONFIG_NET_ACT_MIRRED');
  kernel.failSocket(Errno.EPERM, { netnsPath: '/run/netns/probe' });
  const rows = await probeInjection('/run/netns/probe');
  assert.deepEqual(rows.map((r) => [r.name, r.status]), [['clsact qdisc', 'fail'], ['cls_bpf', 'fail'], ['act_mirred', 'fail']]);
  for (const r of rows) assert.match(r.detail, /^cannot probe tc over rtnetlink: .*EPERM/);
});
