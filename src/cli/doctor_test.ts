import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKernelConfig } from './doctor/kernel_config.js';
import { formatReport, reportExitCode } from './doctor/report.js';
import { parseCapEff } from '../_native/capability.js';
import { Errno } from '../_native/errno.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { checkLive, checkNative, probeInjection } from './doctor/checks.js';
import { resolveNativeAddon } from '../_native/binding.js';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

test('checkNative(): a missing addon is a FAIL saying it was not built and what a source build needs, not the kernel', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'divert-doctor-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const savedPath = process.env['PATH'];
  process.env['PATH'] = empty; // nothing to build with on this PATH
  let row;
  try {
    row = checkNative(empty);
  } finally {
    process.env['PATH'] = savedPath;
  }
  assert.equal(row.status, 'fail');
  assert.equal(row.name, 'native addon');
  assert.match(row.detail, new RegExp(`^The divert native addon was not built, and no prebuilt one fits linux-${process.arch} \\(divert ships prebuilt addons for linux-x64 \\(glibc\\) and linux-arm64 \\(glibc\\)`));
  assert.match(row.fix ?? '', /^a source build needs python3, make and a C compiler .*not found on PATH here: python3, make, cc; build with "npm rebuild divert --build-from-source"/);
  assert.doesNotMatch(`${row.detail} ${row.fix}`, /nfnetlink_queue|modprobe/);
  const live = await checkLive(true, false);
  assert.deepEqual(live.map((r) => r.status), new Array(live.length).fill('warn'), 'the kernel rows are not probed, and not blamed');
  for (const r of live) assert.match(r.detail, /not probed: the native addon is not loaded/);
});

test('checkNative(): a prebuilt addon in prebuilds/<platform>-<arch>/ is found and loaded', (t) => {
  let built: string;
  try {
    built = resolveNativeAddon();
  } catch (err) {
    t.skip(`no addon here to copy: ${(err as Error).message}`);
    return;
  }
  assert.deepEqual(checkNative().status, 'ok');
  const root = mkdtempSync(join(tmpdir(), 'divert-doctor-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'prebuilds', `linux-${process.arch}`), { recursive: true });
  copyFileSync(built, join(root, 'prebuilds', `linux-${process.arch}`, 'node.napi.glibc.node'));
  assert.deepEqual(checkNative(root), { name: 'native addon', status: 'ok', detail: `prebuilt: prebuilds/linux-${process.arch}/node.napi.glibc.node` });
  // A file that is not an addon (another root: require caches by path): found, but loading it fails with the build instructions.
  const other = mkdtempSync(join(tmpdir(), 'divert-doctor-'));
  t.after(() => rmSync(other, { recursive: true, force: true }));
  mkdirSync(join(other, 'prebuilds', `linux-${process.arch}`), { recursive: true });
  writeFileSync(join(other, 'prebuilds', `linux-${process.arch}`, 'node.napi.glibc.node'), 'not an ELF file');
  const bad = checkNative(other);
  assert.equal(bad.status, 'fail');
  assert.match(bad.detail, /^Cannot load the divert native addon .*node\.napi\.glibc\.node: .*build one for this machine$/);
  assert.match(bad.fix ?? '', /^a source build needs python3/);
});
