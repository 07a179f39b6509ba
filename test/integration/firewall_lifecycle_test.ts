/**
 * Rule lifecycle against the real kernel: delete/flush touch only our rules, a SIGKILLed owner
 * leaves stale rules that sweep removes, exit cleanup runs on SIGINT/SIGTERM/crash, CLI codes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createNetns, requirePrivilege, waitFor, type Netns } from '../_harness/netns.js';
import { addRule, listRules, sweepStaleRules } from '../../src/firewall/mod.js';
import { rulesCommand } from '../../src/cli/commands/rules.js';

const MOD = new URL('../../src/firewall/mod.js', import.meta.url).href;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await rulesCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

/** `-S` lines of table mangle that are not ours (the host's own rules), in order. */
function foreignRules(ns: Netns, bin = 'iptables'): string[] {
  return ns.exec(bin, ['-t', 'mangle', '-S']).split('\n').filter((l) => l && !l.includes('DIVERT-') && !l.includes('divert:'));
}

function ourChains(ns: Netns, bin = 'iptables'): string[] {
  return ns.exec(bin, ['-t', 'mangle', '-S']).split('\n').filter((l) => l.startsWith('-N DIVERT-')).map((l) => l.slice(3));
}

type Mode = 'plain' | 'cleanup' | 'crash' | 'handler';

interface Owned {
  readonly child: ReturnType<typeof spawn>;
  /** Everything the child wrote to stdout and stderr so far. */
  readonly out: () => string;
  readonly err: () => string;
}

/**
 * Starts `node` that adds a rule in `ns` (with exit cleanup unless `plain`), prints "ready" and
 * waits. `crash`: throws from its SIGUSR2 listener (an uncaught exception on demand). `handler`:
 * has its own SIGINT listener that keeps running, and exits normally on the second SIGINT.
 */
async function ruleOwner(ns: Netns, mode: Mode): Promise<Owned> {
  const code = `
    import { addRule, installExitCleanup } from ${JSON.stringify(MOD)};
    const mode = ${JSON.stringify(mode)};
    if (mode === 'handler') {
      let n = 0;
      process.on('SIGINT', () => { process.stdout.write('sigint\\n'); if (++n === 2) process.exit(0); });
    }
    const h = await addRule('-A input -p udp -j DIVERT 3', { netns: ${JSON.stringify(ns.name)}, label: 'child' });
    if (mode !== 'plain') installExitCleanup(h);
    if (mode === 'crash') process.on('SIGUSR2', () => { throw new Error('boom on demand'); });
    process.stdout.write('ready\\n');
    setTimeout(() => {}, 20000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`rule owner exited early: ${err}`)));
  });
  return { child, out: () => out, err: () => err };
}

describe('DIVERT rule lifecycle (real kernel)', () => {
  test('delete and flush remove exactly ours; user rules stay as they were', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    ns.exec('iptables', ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '-j', 'MARK', '--set-mark', '1']);
    ns.exec('iptables', ['-t', 'mangle', '-A', 'POSTROUTING', '-p', 'icmp', '-j', 'DSCP', '--set-dscp', '1']);
    ns.exec('ip6tables', ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '-j', 'MARK', '--set-mark', '2']);
    const before4 = foreignRules(ns);
    const before6 = foreignRules(ns, 'ip6tables');
    assert.equal((await cli('add', '--netns', ns.name, 'input', '-p', 'icmp', '-j', 'DIVERT', '1')).code, 0);
    assert.equal((await cli('add', '--netns', ns.name, '-A', 'output', '-p', 'tcp', '--dport', '80', '-j', 'DIVERT', '2')).code, 0);
    assert.equal((await cli('insert', '--netns', ns.name, 'input', '1', '-p', 'udp', '-j', 'DIVERT', '3')).code, 0);
    assert.equal((await cli('add', '--netns', ns.name, '-A', 'input', '-6', '-p', 'udp', '-j', 'DIVERT', '4')).code, 0);
    const mine = await addRule('-A local-out -p icmp -j DIVERT 5', { netns: ns.name });
    // A running program's rule equal to the CLI's one, ahead of it in the chain.
    const live = await addRule('-A input -p icmp -j DIVERT 1', { netns: ns.name, position: 1 });
    assert.deepEqual(foreignRules(ns), before4);
    assert.equal(ns.exec('iptables', ['-t', 'mangle', '-S', 'PREROUTING']).split('\n')[1], '-A PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING');
    const listed = await listRules({ netns: ns.name });
    assert.deepEqual(listed.map((r) => `${r.family} ${r.chain} ${r.position} ${r.owner?.kind}`), [
      'ipv4 input 1 process', 'ipv4 input 2 cli', 'ipv4 input 3 cli', 'ipv4 local-out 1 process', 'ipv4 output 1 cli', 'ipv6 input 1 cli',
    ]);
    assert.equal((await cli('delete', '--netns', ns.name, '-D', 'input', '-p', 'ICMP', '-j', 'DIVERT', '1')).code, 0);
    const inputs = async (): Promise<string[]> => (await listRules({ netns: ns.name })).filter((r) => r.chain === 'input' && r.family === 'ipv4').map((r) => `${r.owner?.kind} ${r.rule?.port}`);
    assert.deepEqual(await inputs(), ['process 1', 'cli 3'], 'the CLI rule went, the running program\'s stayed');
    const missing = await cli('delete', '--netns', ns.name, 'input', '-p', 'icmp', '-j', 'DIVERT', '1');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^divert rules delete: no DIVERT rule equal to "-A input -p icmp -j DIVERT 1" owned by the CLI or stale .*--any-owner/);
    assert.equal((await cli('delete', '--netns', ns.name, '--any-owner', 'input', '-p', 'icmp', '-j', 'DIVERT', '1')).code, 0);
    assert.deepEqual(await inputs(), ['cli 3']);
    assert.equal(await live.remove(), 0, 'already deleted');
    assert.equal((await cli('add', '--netns', ns.name, '--label', 'web', 'input', '-p', 'tcp', '-j', 'DIVERT', '6')).code, 0);
    assert.equal((await cli('delete', '--netns', ns.name, '--label', 'other', 'input', '-p', 'tcp', '-j', 'DIVERT', '6')).code, 1, '--label must match');
    assert.equal((await cli('delete', '--netns', ns.name, '--label', 'web', 'input', '-p', 'tcp', '-j', 'DIVERT', '6')).code, 0);
    assert.deepEqual(foreignRules(ns), before4);
    assert.equal(await mine.remove(), 1);
    assert.deepEqual(ourChains(ns), ['DIVERT-POSTROUTING', 'DIVERT-PREROUTING']);
    assert.equal((await cli('flush', '--netns', ns.name)).out, 'flushed 3 rules\n');
    assert.deepEqual(ourChains(ns), []);
    assert.deepEqual(ourChains(ns, 'ip6tables'), []);
    assert.deepEqual(foreignRules(ns), before4);
    assert.deepEqual(foreignRules(ns, 'ip6tables'), before6);
  });

  test('a SIGKILLed owner leaves a stale rule that sweep removes; CLI rules survive sweep', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    await addRule('-A input -p icmp -j DIVERT 9', { netns: ns.name, owner: 'cli' });
    const { child } = await ruleOwner(ns, 'plain');
    const live = await listRules({ netns: ns.name });
    assert.deepEqual(live.map((r) => r.stale), [false, false]);
    assert.deepEqual(live[1]?.owner, { kind: 'process', pid: child.pid, startTime: (live[1]?.owner as { startTime: number }).startTime, label: 'child' });
    child.kill('SIGKILL');
    await once(child, 'exit');
    const after = await listRules({ netns: ns.name });
    assert.deepEqual(after.map((r) => r.stale), [false, true]);
    assert.match((await cli('list', '--netns', ns.name)).out, /stale\s+-A input -p udp -j DIVERT 3\n/);
    const json = JSON.parse((await cli('list', '--netns', ns.name, '--json')).out) as Array<{ stale: boolean; owner: string }>;
    assert.deepEqual(json.map((r) => [r.owner.replace(/^\d+:\d+/, 'P'), r.stale]), [['cli', false], ['P:child', true]]);
    assert.equal((await cli('sweep', '--netns', ns.name)).out, 'swept 1 rule\n');
    assert.equal(await sweepStaleRules({ netns: ns.name }), 0);
    assert.deepEqual((await listRules({ netns: ns.name })).map((r) => r.owner?.kind), ['cli']);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`exit cleanup removes the rules on ${signal} and the process still dies by it`, async (t) => {
      if (!requirePrivilege(t)) return;
      const ns = createNetns();
      const { child } = await ruleOwner(ns, 'cleanup');
      assert.equal((await listRules({ netns: ns.name })).length, 1);
      child.kill(signal);
      const [code, sig] = (await once(child, 'exit')) as [number | null, string | null];
      assert.deepEqual([code, sig], [null, signal]);
      assert.deepEqual(await listRules({ netns: ns.name }), []);
      assert.deepEqual(ourChains(ns), []);
    });
  }

  test('exit cleanup removes the rules on an uncaught exception (exit code 1)', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const { child, err } = await ruleOwner(ns, 'crash');
    assert.equal((await listRules({ netns: ns.name })).length, 1, 'the rule exists before the crash');
    child.kill('SIGUSR2');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(err(), /Error: boom on demand/, 'it died of the thrown error, nothing else');
    assert.deepEqual(await listRules({ netns: ns.name }), []);
    assert.deepEqual(ourChains(ns), []);
  });

  test('a program with its own SIGINT listener keeps running with its rules; exit removes them', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const { child, out } = await ruleOwner(ns, 'handler');
    child.kill('SIGINT');
    await waitFor(() => out().includes('sigint\n'));
    assert.equal(child.exitCode, null, 'still running');
    assert.equal((await listRules({ netns: ns.name })).length, 1, 'its rule stays while it runs');
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.deepEqual(await listRules({ netns: ns.name }), [], 'exit cleaned up');
  });

  test('CLI: help, usage errors (2) and runtime errors (1) are one line with a hint', async () => {
    const help = await cli('--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: divert rules <command>/);
    for (const argv of [['bogus'], ['add', 'input', '-j', 'DIVERT', '70000'], ['add', '-D', 'input', '-j', 'DIVERT', '1'], ['list', '--netns'], ['list', 'x'], ['add', '--netns', '../x', 'input', '-j', 'DIVERT', '1']]) {
      const r = await cli(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, /^divert rules[^\n]*\(see "divert rules --help"\)\n$/, argv.join(' '));
    }
    const gone = await cli('list', '--netns', 'dvt-no-such-ns');
    assert.equal(gone.code, 1);
    assert.match(gone.err, /^divert rules list: ip netns exec dvt-no-such-ns iptables -V failed \(exit 255\): Cannot open network namespace/);
  });
});
