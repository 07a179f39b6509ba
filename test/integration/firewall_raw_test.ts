/**
 * Rules that iptables prints differently from how we wrote them (`-p 3` saved as `-p ggp`), and
 * owner-tagged rules we cannot rebuild at all: listed, and removed by every path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, requirePrivilege, type Netns } from '../_harness/netns.js';
import { addRule, listRules } from '../../src/firewall/mod.js';
import { rulesCommand } from '../../src/cli/commands/rules.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await rulesCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

function chain(ns: Netns, bin = 'iptables'): string[] {
  return ns.exec(bin, ['-t', 'mangle', '-S']).split('\n').filter((l) => l.startsWith('-A DIVERT-'));
}

test('-p <number> that iptables saves under an /etc/protocols name: listed, deleted, removed by handle', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const added = await cli('add', '--netns', ns.name, 'input', '-p', '3', '-j', 'DIVERT', '3');
  assert.equal(added.code, 0, added.err);
  assert.match(chain(ns)[0] ?? '', /-p ggp /, 'iptables printed the /etc/protocols name');
  assert.match((await cli('list', '--netns', ns.name)).out, /cli\s+ok\s+-A input -p 3 -j DIVERT 3\n/);
  assert.equal((await cli('delete', '--netns', ns.name, 'input', '-p', '3', '-j', 'DIVERT', '3')).code, 0);
  assert.deepEqual(chain(ns), []);
  const h = await addRule(['-A input -p 143 -j DIVERT 4', '-A input -6 -p 135 -j DIVERT 5'], { netns: ns.name });
  assert.equal((await listRules({ netns: ns.name })).filter((r) => r.rule).length, 2);
  assert.equal(await h.remove(), 2);
  assert.deepEqual([...chain(ns), ...chain(ns, 'ip6tables')], []);
  for (const bad of [['-p', 'icmp', '--icmp-type', '255'], ['-i', '+']]) {
    const r = await cli('add', '--netns', ns.name, 'input', ...bad, '-j', 'DIVERT', '3');
    assert.equal(r.code, 2, `${bad.join(' ')} is refused: ${r.err}`);
  }
});

test('owner-tagged rules we cannot rebuild are listed; sweep and flush remove them; untagged rules stay', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const ipt = (...args: string[]): string => ns.exec('iptables', ['-t', 'mangle', ...args]);
  ipt('-N', 'DIVERT-PREROUTING');
  ipt('-I', 'PREROUTING', '1', '-m', 'comment', '--comment', 'divert:jump', '-j', 'DIVERT-PREROUTING');
  ipt('-A', 'DIVERT-PREROUTING', '-m', 'length', '--length', '100', '-m', 'comment', '--comment', 'divert:owner=cli', '-j', 'NFQUEUE', '--queue-num', '3');
  ipt('-A', 'DIVERT-PREROUTING', '-p', 'icmp', '-m', 'icmp', '--icmp-type', '255', '-m', 'mark', '!', '--mark', '0x40000000/0x40000000', '-m', 'comment', '--comment', 'divert:owner=cli:old', '-j', 'NFQUEUE', '--queue-num', '3');
  ipt('-A', 'DIVERT-PREROUTING', '-p', 'icmp', '-m', 'comment', '--comment', 'divert:owner=999999:5', '-j', 'ACCEPT');
  ipt('-A', 'DIVERT-PREROUTING', '-p', 'udp', '-j', 'ACCEPT');
  const listed = await listRules({ netns: ns.name });
  assert.deepEqual(listed.map((r) => [r.position, r.owner?.kind, r.stale, r.rule !== undefined]), [
    [1, 'cli', false, false], [2, 'cli', false, true], [3, 'process', true, false],
  ]);
  assert.match((await cli('list', '--netns', ns.name)).out, /cli\s+ok\s+\(not rebuilt\) -m length --length 100 /);
  assert.equal((await cli('sweep', '--netns', ns.name)).out, 'swept 1 rule\n');
  assert.equal((await cli('flush', '--netns', ns.name)).out, 'flushed 2 rules\n');
  assert.deepEqual(chain(ns), ['-A DIVERT-PREROUTING -p udp -j ACCEPT'], 'the untagged rule is not ours');
});

test('-I <chain> <pos> beyond the end of our chain appends (as with nftables)', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const r = await cli('insert', '--netns', ns.name, 'input', '5', '-p', 'udp', '-j', 'DIVERT', '1');
  assert.equal(r.code, 0, r.err);
  assert.equal((await cli('insert', '--netns', ns.name, 'input', '3', '-p', 'tcp', '-j', 'DIVERT', '2')).code, 0);
  assert.equal((await cli('insert', '--netns', ns.name, 'input', '1', '-p', 'sctp', '-j', 'DIVERT', '3')).code, 0);
  assert.deepEqual((await listRules({ netns: ns.name })).map((l) => l.rule?.port), [3, 1, 2]);
});
