/**
 * The rule lifecycle against the fake kernel's nf_tables: where rules go (a program's own table,
 * owned by its socket, or the shared persistent table), what they carry, how they are listed,
 * deleted, flushed and swept, and that a refusal installs nothing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { addRule, deleteRule, enableAlwaysDefragment, flushRules, listRules, sweepStaleRules } from './api.js';
import { currentOwner, ownerAlive, ownerTag, parseOwnerTag, procStat } from './owner.js';
import { installExitCleanup } from './cleanup.js';
import { decodeNote, encodeNote, ownedTable } from './layout.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { NFT_TABLE_F, NFT_MSG } from '../nftables/constants.js';
import type { Rule } from '../nftables/rule.js';
import { Errno } from '../_native/errno.js';
import { FirewallError } from '../errors.js';

const dead = { kind: 'process', pid: 999999, startTime: 1 } as const;
const OWN = ownedTable(process.pid);
let nsCounter = 0;

/** A fake kernel, and a namespace of its own for each test (capabilities are cached per namespace). */
function setup(t: TestContext, options: { queue?: boolean } = {}): { kernel: FakeKernel; netns: string; rules: (table: string) => Rule[] } {
  const kernel = FakeKernel.install();
  kernel.nftables.queueAvailable = options.queue ?? false;
  t.after(() => kernel.uninstall());
  const netns = `/run/netns/fw-api-${process.pid}-${++nsCounter}`;
  return { kernel, netns, rules: (table) => kernel.nftables.rules(table, undefined, undefined, netns) };
}

test('addRule() puts a program\'s rule in its own owner table; removing the last rule takes the table', async (t) => {
  const { kernel, netns, rules } = setup(t);
  const h = await addRule('-A input -p ICMP -j DIVERT 1234', { netns });
  const [table] = kernel.nftables.tables(netns);
  assert.equal(table?.name, OWN);
  assert.equal((table?.flags ?? 0) & NFT_TABLE_F.NFT_TABLE_F_OWNER, NFT_TABLE_F.NFT_TABLE_F_OWNER);
  const chains = kernel.nftables.chains(OWN, undefined, netns);
  assert.deepEqual(chains.map((c) => [c.name, c.hook?.hooknum, c.hook?.priority, c.type]), [['prerouting', 0, -150, 'filter'], ['queue-1234', undefined, undefined, undefined]]);
  const [r] = rules(OWN).filter((x) => decodeNote(x.userdata));
  assert.deepEqual(r?.exprs.slice(-2), [
    { type: 'counter', packets: 0, bytes: 0 },
    { type: 'immediate', dreg: 0, data: { verdict: { code: -3, chain: 'queue-1234' } } },
  ], 'this kernel has no queue expression: a jump to the chain holding the compat NFQUEUE target');
  const [target] = kernel.nftables.rules(OWN, 'queue-1234', undefined, netns);
  assert.deepEqual(target?.exprs.map((e) => e.type), ['target']);
  assert.deepEqual(decodeNote(r?.userdata), { kind: 'divert', text: '-A input -p icmp -j DIVERT 1234', owner: currentOwner() });
  assert.deepEqual(h.rules.map((x) => [x.id, x.hook, x.chain]), [[`${OWN}:${r?.handle}`, 'prerouting', 'prerouting']]);
  assert.equal(h.persistent, false);
  const listed = await listRules({ netns });
  assert.deepEqual(listed.map((l) => [l.id, l.persistent, l.seedChain, l.kind, l.family, l.text, l.stale]), [[h.rules[0]!.id, false, 'input', 'divert', 'ipv4', '-A input -p icmp -j DIVERT 1234', false]]);
  assert.equal(await h.remove(), 1);
  assert.equal(await h.remove(), 0);
  assert.deepEqual(kernel.nftables.tables(netns), [], 'the socket closed: the kernel deleted the table');
  assert.deepEqual(kernel.problems, []);
});

test('addRule() queues with the native queue expression where the kernel has it', async (t) => {
  const { netns, rules } = setup(t, { queue: true });
  await addRule('-A output -p udp -j DIVERT 10:13 --pass-through', { netns });
  const q = rules(OWN)[0]?.exprs.at(-1);
  assert.deepEqual(q, { type: 'queue', num: 10, total: 4, flags: 1 });
});

test('handles share the program\'s table: it goes only with the last of them, also by removeSync()', async (t) => {
  const { kernel, netns } = setup(t);
  const a = await addRule('-A input -p icmp -j DIVERT 1', { netns });
  const b = await addRule(['-A output -p tcp --dport 80 -j DIVERT 2', '-A forward -6 -j DIVERT 3'], { netns });
  assert.equal(kernel.nftables.tables(netns).length, 1);
  assert.equal((await listRules({ netns })).length, 3);
  await a.remove();
  assert.deepEqual((await listRules({ netns })).map((r) => r.text), ['-A output -p tcp --dport 80 -j DIVERT 2', '-A forward -6 -j DIVERT 3']);
  assert.equal(b.removeSync(), 2);
  assert.deepEqual(kernel.nftables.tables(netns), []);
});

test('persistent rules (owner cli) go into the shared table, with their label; deleting the last one deletes the table', async (t) => {
  const { kernel, netns, rules } = setup(t);
  const h = await addRule(['-A input -p udp -j DIVERT 1', '-A output -6 -j DIVERT 2'], { netns, owner: 'cli', label: 'web', alwaysDefragment: true });
  assert.equal(h.persistent, true);
  assert.deepEqual(h.rules.map((r) => `${r.kind} ${r.family} ${r.hook} ${r.table}`), [
    'divert ipv4 prerouting divert', 'divert ipv6 postrouting divert', 'defrag ipv4 prerouting divert', 'defrag ipv6 prerouting divert',
  ]);
  assert.equal(kernel.nftables.tables(netns)[0]?.flags ?? 0, 0, 'not owned: it outlives this process');
  assert.ok(rules('divert').filter((r) => !r.chain?.startsWith('queue-')).every((r) => decodeNote(r.userdata)?.owner.kind === 'cli' && decodeNote(r.userdata)?.owner.label === 'web'));
  assert.equal(await h.remove(), 4);
  assert.deepEqual(kernel.nftables.tables(netns), [], 'the emptied shared table is deleted');
  await assert.rejects(addRule('-A input -j DIVERT 1', { netns, label: 'bad label' }), TypeError);
  await assert.rejects(addRule('-D input -j DIVERT 1', { netns }), TypeError);
});

test('-I <chain> <pos> inserts before the rule at that position; beyond the end it appends', async (t) => {
  const { netns } = setup(t);
  await addRule('-A input -p udp -j DIVERT 1', { netns, owner: 'cli' });
  await addRule('-A input -p tcp -j DIVERT 2', { netns, owner: 'cli' });
  await addRule('-I input 2 -p icmp -j DIVERT 3', { netns, owner: 'cli' });
  await addRule('-I input 9 -p gre -j DIVERT 4', { netns, owner: 'cli' });
  const listed = await listRules({ netns });
  assert.deepEqual(listed.map((r) => [r.position, r.text]), [
    [1, '-A input -p udp -j DIVERT 1'], [2, '-A input -p icmp -j DIVERT 3'], [3, '-A input -p tcp -j DIVERT 2'], [4, '-A input -p gre -j DIVERT 4'],
  ]);
});

test('priority: chains named <hook>@<priority> at mangle - priority (higher sees packets first)', async (t) => {
  const { kernel, netns } = setup(t);
  await addRule('-A output -p udp -j DIVERT 1', { netns, priority: 10 });
  await addRule('-A output -p udp -j DIVERT 2', { netns, priority: -20 });
  const chains = kernel.nftables.chains(OWN, undefined, netns).filter((c) => c.hook).map((c) => [c.name, c.hook?.priority]);
  assert.deepEqual(chains, [['postrouting@10', -160], ['postrouting@-20', -130]]);
  assert.deepEqual((await listRules({ netns })).map((r) => r.priority), [10, -20]);
});

test('deleteRule(): an equal persistent rule (CLI first, then stale), or a row by ID; a running program\'s table is its own', async (t) => {
  const { netns } = setup(t);
  await addRule('-A input -p icmp -j DIVERT 7', { netns, owner: dead, persistent: true });
  const cli = await addRule('-A prerouting -p icmp -j DIVERT 7', { netns, owner: 'cli' });
  const mine = await addRule('-A input -p icmp -j DIVERT 7', { netns });
  assert.equal(await deleteRule('-D input -p icmp -j DIVERT 7', { netns }), true);
  let rows = await listRules({ netns });
  assert.ok(!rows.some((r) => r.id === cli.rules[0]!.id), 'the CLI rule went first (prerouting = input)');
  assert.equal(await deleteRule('-A input -p icmp -j DIVERT 7', { netns }), true, 'then the stale one');
  assert.equal(await deleteRule('-A input -p icmp -j DIVERT 7', { netns }), false, 'the program\'s own rule is not in the shared table');
  await assert.rejects(deleteRule(mine.rules[0]!.id, { netns }), { code: 'ERR_DIVERT_RULE_NOT_OURS', message: new RegExp(`table of running program ${process.pid}`) });
  const again = await addRule('-A input -p udp -j DIVERT 8', { netns, owner: 'cli' });
  assert.equal(await deleteRule(again.rules[0]!.id, { netns }), true);
  assert.equal(await deleteRule('divert:999', { netns }), false);
  rows = await listRules({ netns });
  assert.deepEqual(rows.map((r) => r.id), [mine.rules[0]!.id]);
});

test('flushRules() and sweepStaleRules() touch persistent rules only; sweep only those of dead owners', async (t) => {
  const { netns } = setup(t);
  await addRule('-A input -j DIVERT 1', { netns, owner: 'cli' });
  await addRule('-A input -j DIVERT 2', { netns, owner: dead, persistent: true });
  await addRule('-A input -j DIVERT 3', { netns, persistent: true });
  const own = await addRule('-A input -j DIVERT 4', { netns });
  const listed = await listRules({ netns });
  assert.deepEqual(listed.map((r) => [r.text.slice(-1), r.stale]), [['1', false], ['2', true], ['3', false], ['4', false]]);
  assert.equal(await sweepStaleRules({ netns }), 1);
  assert.equal(await flushRules({ netns, owner: currentOwner() }), 1);
  assert.equal(await flushRules({ netns }), 1);
  assert.deepEqual((await listRules({ netns })).map((r) => r.id), [own.rules[0]!.id], 'the program\'s own rule stays');
});

test('a refused batch installs nothing and says which message and why', async (t) => {
  const { kernel, netns } = setup(t);
  await addRule('-A input -j DIVERT 1', { netns }).then((h) => h.remove()); // probe done, capabilities cached
  kernel.nftables.refuseNext(NFT_MSG.NFT_MSG_NEWRULE, { errno: Errno.ENOENT });
  await assert.rejects(addRule('-A input -p tcp -j DIVERT 1', { netns }), (err: unknown) => {
    assert.ok(err instanceof FirewallError);
    assert.equal(err.code, 'ENOENT');
    assert.match(err.message, /^nf_tables refused NFT_MSG_NEWRULE for rule inet divert-\d+ queue-1: ENOENT/);
    return true;
  });
  assert.deepEqual(kernel.nftables.tables(netns), [], 'all or nothing: not even the table');
});

test('enableAlwaysDefragment() installs the ct rule of a family in the program\'s table', async (t) => {
  const { kernel, netns, rules } = setup(t);
  const h = await enableAlwaysDefragment({ netns, family: 'ipv6' });
  assert.deepEqual(h.rules.map((r) => [r.kind, r.family, r.text]), [['defrag', 'ipv6', 'always-defragment ipv6']]);
  assert.ok(rules(OWN)[0]?.exprs.some((e) => e.type === 'ct'));
  assert.deepEqual(kernel.nftables.chains(OWN, undefined, netns).map((c) => c.name), ['prerouting'], 'no queue chain for a defrag rule');
});

test('a rule note that cannot fit the kernel\'s 256 bytes is refused before anything is sent', () => {
  const owner = { kind: 'process', pid: 1, startTime: 2, label: 'x'.repeat(32) } as const;
  assert.throws(() => encodeNote({ kind: 'divert', text: `-A input -p tcp ${'-d 2001:db8::1/128 '.repeat(12)}-j DIVERT 1`, owner }), RangeError);
  assert.deepEqual(decodeNote(encodeNote({ kind: 'defrag', text: 'always-defragment ipv4', owner })), { kind: 'defrag', text: 'always-defragment ipv4', owner });
  assert.equal(decodeNote(new Uint8Array([0, 3, 0x61, 0x62, 0])), undefined, 'a comment alone is not ours');
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

test('installExitCleanup() registers listeners and handle.remove() unregisters them', async (t) => {
  const { netns } = setup(t);
  const before = process.listenerCount('SIGTERM');
  const h = await addRule('-A input -j DIVERT 1', { netns });
  installExitCleanup(h);
  assert.equal(process.listenerCount('SIGTERM'), before + 1);
  assert.equal(process.listenerCount('exit') > 0, true);
  await h.remove();
  assert.equal(process.listenerCount('SIGTERM'), before);
});

test('two rules to one port installed at once both land (changes to a table run one at a time)', async (t) => {
  const { netns, rules } = setup(t);
  const [a, b] = await Promise.all([
    addRule('-A input -p udp --dport 1 -j DIVERT 5', { netns }),
    addRule('-A input -p udp --dport 2 -j DIVERT 5', { netns }),
  ]);
  const texts = rules(OWN).map((r) => decodeNote(r.userdata)?.text).filter((x) => x !== undefined);
  assert.deepEqual(texts.sort(), ['-A input -p udp --dport 1 -j DIVERT 5', '-A input -p udp --dport 2 -j DIVERT 5']);
  await Promise.all([a.remove(), b.remove()]);
});
