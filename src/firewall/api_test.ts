import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addRule, deleteRule, enableAlwaysDefragment, flushRules, listRules, sweepStaleRules } from './api.js';
import { RecordingBackend, RecordingRunner } from './recording.js';
import { currentOwner, ownerAlive, ownerTag, parseOwnerTag, procStat } from './owner.js';
import { installExitCleanup } from './cleanup.js';
import { detectBackend, parseIptablesVersion } from './detect.js';

const dead = { kind: 'process', pid: 999999, startTime: 1 } as const;

test('addRule() installs through the backend and the handle removes once', async () => {
  const backend = new RecordingBackend();
  const h = await addRule('-A input -p ICMP -j DIVERT 1234', { backend });
  assert.equal(backend.rules.length, 1);
  assert.deepEqual(h.owner, currentOwner());
  assert.match(h.rules[0]?.spec ?? '', new RegExp(`--comment "divert:owner=${process.pid}:\\d+"`));
  assert.equal(await h.remove(), 1);
  assert.equal(await h.remove(), 0);
  assert.equal(h.removed, true);
  assert.deepEqual(backend.calls, ['install 1', 'remove 1', 'tidy']);
});

test('addRule() takes several rules, a label, cli owner and always-defragment', async () => {
  const backend = new RecordingBackend();
  const h = await addRule(['-A input -p udp -j DIVERT 1', '-A output -6 -j DIVERT 2'], { backend, owner: 'cli', label: 'web', alwaysDefragment: true });
  assert.deepEqual(h.rules.map((r) => `${r.kind} ${r.family} ${r.hook}`), ['divert ipv4 PREROUTING', 'divert ipv6 POSTROUTING', 'defrag ipv4 PREROUTING', 'defrag ipv6 PREROUTING']);
  assert.ok(h.rules.every((r) => r.spec.includes('"divert:owner=cli:web"')));
  assert.equal(h.removeSync(), 4);
  await assert.rejects(addRule('-A input -j DIVERT 1', { backend, label: 'bad label' }), TypeError);
  await assert.rejects(addRule('-D input -j DIVERT 1', { backend }), TypeError);
  const d = await enableAlwaysDefragment({ backend, family: 'ipv6' });
  assert.deepEqual(d.rules.map((r) => r.kind + r.family), ['defragipv6']);
});

test('deleteRule() removes an equal rule: CLI first, then stale, then live as allowed; false when none', async () => {
  const backend = new RecordingBackend((o) => ownerAlive(o));
  await addRule('-A input -p icmp -j DIVERT 1', { backend });
  await addRule('-A input -p icmp -j DIVERT 1', { backend, owner: dead });
  await addRule('-A input -p icmp -j DIVERT 1', { backend, owner: 'cli', label: 'web' });
  await addRule('-A input -p icmp -j DIVERT 2', { backend, owner: 'cli' });
  const owners = (): string[] => backend.rules.map((r) => /owner=([^"]*)/.exec(r.spec)?.[1] ?? '');
  const cliOnly = { backend, owners: ['cli', 'stale'] } as const;
  assert.equal(await deleteRule('-D prerouting -p ICMP -j DIVERT 1', { ...cliOnly, label: 'other' }), false, 'label must match');
  assert.equal(await deleteRule('-D prerouting -p ICMP -j DIVERT 1', { ...cliOnly, label: 'web' }), true);
  assert.deepEqual(owners().slice(1), ['999999:1', 'cli']);
  assert.equal(await deleteRule('-D input -p icmp -j DIVERT 1', cliOnly), true, 'then the stale one');
  assert.equal(owners().length, 2);
  assert.equal(await deleteRule('-D input -p icmp -j DIVERT 1', cliOnly), false, 'never a live process\'s rule');
  assert.equal(await deleteRule('-D input -p icmp -j DIVERT 1', { backend }), true, 'by default (any owner) it may go');
  assert.deepEqual(owners(), ['cli']);
});

test('listRules(), sweepStaleRules() and flushRules() act on owners', async () => {
  const backend = new RecordingBackend((o) => ownerAlive(o));
  await addRule('-A input -j DIVERT 1', { backend, owner: dead });
  await addRule('-A input -j DIVERT 2', { backend, owner: 'cli' });
  await addRule('-A input -j DIVERT 3', { backend });
  assert.deepEqual((await listRules({ backend })).map((r) => r.stale), [true, false, false]);
  assert.equal(await sweepStaleRules({ backend }), 1);
  assert.equal(await flushRules({ backend, owner: currentOwner() }), 1);
  assert.equal(await flushRules({ backend }), 1);
  assert.equal(backend.rules.length, 0);
});

test('owner tags round-trip and stale detection uses the start time', () => {
  for (const o of [{ kind: 'cli' } as const, { kind: 'cli', label: 'x' } as const, { kind: 'process', pid: 12, startTime: 34, label: 'a.b-c' } as const]) {
    assert.deepEqual(parseOwnerTag(ownerTag(o)), o);
  }
  assert.equal(parseOwnerTag('divert:jump'), undefined);
  assert.equal(parseOwnerTag('divert:owner=12'), undefined);
  const me = currentOwner();
  assert.ok(me.kind === 'process');
  assert.equal(me.startTime, procStat(process.pid)?.startTime);
  assert.equal(ownerAlive(me), true);
  assert.equal(ownerAlive({ ...me, startTime: me.startTime + 1 }), false, 'recycled pid');
  assert.equal(ownerAlive(dead), false);
  assert.equal(ownerAlive({ kind: 'cli' }), true);
  assert.throws(() => ownerTag({ kind: 'cli', label: 'a b' }), TypeError);
});

test('installExitCleanup() registers listeners and handle.remove() unregisters them', async () => {
  const before = process.listenerCount('SIGTERM');
  const backend = new RecordingBackend();
  const h = await addRule('-A input -j DIVERT 1', { backend });
  installExitCleanup(h);
  assert.equal(process.listenerCount('SIGTERM'), before + 1);
  assert.equal(process.listenerCount('exit') > 0, true);
  await h.remove();
  assert.equal(process.listenerCount('SIGTERM'), before);
});

test('detectBackend() reports the flavour and whether nft queue works', async () => {
  assert.equal(parseIptablesVersion('iptables v1.8.9 (nf_tables)'), 'nf_tables');
  assert.equal(parseIptablesVersion('iptables v1.8.9 (legacy)'), 'legacy');
  assert.equal(parseIptablesVersion('iptables v1.4.21'), 'unknown');
  const runner = new RecordingRunner((c) => (c.file === 'nft' ? { fail: 'Error: Could not process rule: No such file or directory' } : 'iptables v1.8.9 (nf_tables)\n'));
  assert.deepEqual(await detectBackend({ runner }), { name: 'iptables', flavour: 'nf_tables', version: 'iptables v1.8.9 (nf_tables)', nftQueue: false });
  assert.deepEqual(runner.commands.map((c) => [c.file, ...c.args].join(' ')), ['iptables -V', 'nft -c -f -']);
});
