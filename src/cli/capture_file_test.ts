import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureForWrite, readCaptureFile } from './capture_file.js';
import { collectingIo, UsageError } from './io.js';
import { main } from './main.js';
import { DivertError } from '../errors.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS } from '../testing/fixtures.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'divert-capture-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('openCaptureForWrite() refuses a symbolic link (even a dangling one) and leaves its target alone', (t) => {
  const dir = tmp(t);
  const target = join(dir, 'precious');
  writeFileSync(target, 'keep me');
  symlinkSync(target, join(dir, 'x.pcap'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.pcap'));
  for (const name of ['x.pcap', 'dangling.pcap']) {
    assert.throws(() => openCaptureForWrite(join(dir, name)), (e: unknown) =>
      e instanceof DivertError && e.code === 'ERR_DIVERT_PCAP_OPEN' && /ELOOP: it is a symbolic link, which divert does not follow: name the file it points to, or remove the link/.test(e.message));
  }
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
  assert.throws(() => readFileSync(join(dir, 'nowhere')), { code: 'ENOENT' }, 'the dangling link created nothing');
});

test('openCaptureForWrite() creates a new file, truncates an existing one, follows directories on the way', (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'real'));
  symlinkSync(join(dir, 'real'), join(dir, 'linkdir'));
  const existing = join(dir, 'real', 'old.pcap');
  writeFileSync(existing, 'old contents, longer than what is written');
  for (const path of [join(dir, 'new.pcap'), join(dir, 'linkdir', 'old.pcap')]) {
    const fd = openCaptureForWrite(path);
    writeSync(fd, 'pcap');
    closeSync(fd);
  }
  assert.equal(readFileSync(join(dir, 'new.pcap'), 'utf8'), 'pcap');
  assert.equal(readFileSync(existing, 'utf8'), 'pcap', 'truncated through the linked directory the user named');
});

test('openCaptureForWrite() and readCaptureFile() name the file and the fix', (t) => {
  const dir = tmp(t);
  assert.throws(() => openCaptureForWrite(''), UsageError);
  assert.throws(() => readCaptureFile(''), UsageError);
  assert.throws(() => openCaptureForWrite(join(dir, 'no', 'x.pcap')), /cannot write the pcap file ".*\/no\/x.pcap": ENOENT: the directory ".*\/no" does not exist: create it first \(nothing was installed\)/);
  assert.throws(() => openCaptureForWrite(dir), /is a directory: name a file in it/);
  assert.throws(() => readCaptureFile(join(dir, 'absent.pcap')), /cannot read the pcap file ".*absent.pcap": ENOENT: no such file: check the name$/);
});

test('divert intercept -w <symlink> exits 1 before binding or installing anything', async (t) => {
  const dir = tmp(t);
  const target = join(dir, 'precious');
  writeFileSync(target, 'keep me');
  symlinkSync(target, join(dir, 'x.pcap'));
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks(HOST_LINKS);
  const io = collectingIo();
  assert.equal(await main(['intercept', '7', '--firewall', '-A input -p icmp', '-w', join(dir, 'x.pcap')], io), 1);
  assert.match(io.err.join(''), /^divert intercept: cannot write the pcap file ".*x.pcap": ELOOP: it is a symbolic link/);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
  assert.deepEqual([kernel.nftables.tables(), kernel.openSockets().length, kernel.configLog.length], [[], 0, 0], 'no table, no socket, no queue bind');
});
