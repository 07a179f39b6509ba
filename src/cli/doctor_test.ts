import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKernelConfig } from './doctor/kernel_config.js';
import { formatReport, reportExitCode } from './doctor/report.js';
import { parseCapEff } from '../_native/capability.js';

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
