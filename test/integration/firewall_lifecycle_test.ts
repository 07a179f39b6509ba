/**
 * Rule lifecycle against the real kernel: the CLI's persistent rules and a program's own rules
 * side by side; delete and flush touch only divert's persistent rules; a program's rules die
 * with it however it ends — SIGKILL included, with no sweep — and the ruleset is exactly as
 * before; a persistent rule of a dead program is stale until swept; CLI exit codes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createNetns, requirePrivilege, waitFor, type Netns } from '../_harness/netns.js';
import { divertTables, rulesetDump } from '../_harness/ruleset.js';
import { addRule, listRules, sweepStaleRules } from '../../src/firewall/mod.js';
import { rulesCommand } from '../../src/cli/commands/rules.js';
import { NftConnection } from '../../src/nftables/conn.js';
import { NFPROTO, hookNumber } from '../../src/netlink/netfilter.js';

const MOD = new URL('../../src/firewall/mod.js', import.meta.url).href;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await rulesCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

/** A table of the host's own (not divert's) with a counting rule, as an administrator might have. */
async function hostTable(ns: Netns): Promise<void> {
  const conn = NftConnection.open({ netnsPath: ns.path });
  try {
    const b = conn.batch();
    const family = NFPROTO.NFPROTO_INET;
    b.addTable({ family, name: 'host' });
    b.addChain({ family, table: 'host', name: 'pre', type: 'filter', hook: { hooknum: hookNumber('prerouting'), priority: -150 } });
    b.addRule({ family, table: 'host', chain: 'pre', exprs: [{ type: 'counter', packets: 0, bytes: 0 }] });
    await conn.commit(b);
  } finally {
    conn.close();
  }
}

type Mode = 'plain' | 'persistent' | 'crash' | 'handler';

interface Owner {
  readonly child: ReturnType<typeof spawn>;
  readonly out: () => string;
  readonly err: () => string;
}

/**
 * Starts `node` that adds a rule in `ns` (persistent ones too in mode `persistent`), prints
 * "ready" and waits. `crash`: throws from its SIGUSR2 listener. `handler`: has its own SIGINT
 * listener that keeps running, and exits normally on the second SIGINT.
 */
async function ruleOwner(ns: Netns, mode: Mode): Promise<Owner> {
  const code = `
    import { addRule } from ${JSON.stringify(MOD)};
    const mode = ${JSON.stringify(mode)};
    if (mode === 'handler') {
      let n = 0;
      process.on('SIGINT', () => { process.stdout.write('sigint\\n'); if (++n === 2) process.exit(0); });
    }
    await addRule(['-A input -p udp -j DIVERT 3', '-A output -6 -p tcp --dport 443 -j DIVERT 4'], { netns: ${JSON.stringify(ns.name)}, label: 'child', alwaysDefragment: true });
    if (mode === 'persistent') await addRule('-A forward -p icmp -j DIVERT 5', { netns: ${JSON.stringify(ns.name)}, label: 'child', persistent: true });
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
  setTimeout(() => child.kill('SIGKILL'), 25_000).unref();
  return { child, out: () => out, err: () => err };
}

describe('DIVERT rule lifecycle (real kernel)', () => {
  test('the CLI\'s persistent rules and a program\'s own side by side; delete and flush touch only persistent ones', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    await hostTable(ns);
    const before = await rulesetDump(ns);
    assert.equal((await cli('add', '--netns', ns.name, 'input', '-p', 'icmp', '-j', 'DIVERT', '1')).code, 0);
    assert.equal((await cli('add', '--netns', ns.name, '-A', 'output', '-p', 'tcp', '--dport', '80', '-j', 'DIVERT', '2')).code, 0);
    assert.equal((await cli('insert', '--netns', ns.name, 'input', '1', '-p', 'udp', '-j', 'DIVERT', '3')).code, 0);
    assert.equal((await cli('add', '--netns', ns.name, '-A', 'input', '-6', '-p', 'udp', '-j', 'DIVERT', '4')).code, 0);
    const mine = await addRule(['-A local-out -p icmp -j DIVERT 5', '-A input -p icmp -j DIVERT 1'], { netns: ns.name });
    assert.deepEqual(await divertTables(ns), ['divert', `divert-${process.pid}`]);
    const listed = await listRules({ netns: ns.name });
    assert.deepEqual(listed.map((r) => `${r.table === 'divert' ? 'shared' : 'own'} ${r.family} ${r.seedChain} ${r.position} ${r.owner?.kind}`), [
      'shared ipv4 input 1 cli', 'shared ipv4 input 2 cli', 'shared ipv6 input 3 cli', 'shared ipv4 output 1 cli', 'own ipv4 local-out 1 process', 'own ipv4 input 1 process',
    ]);
    const table = (await cli('list', '--netns', ns.name)).out;
    assert.match(table, /^ID\s+FAMILY\s+CHAIN\s+PRIO\s+PKTS\s+BYTES\s+OWNER\s+STATE\s+RULE\n/);
    assert.match(table, new RegExp(`divert-${process.pid}:\\d+\\s+ipv4\\s+local-out\\s+0\\s+0\\s+0\\s+${process.pid}:\\d+ \\(own table\\)\\s+ok\\s+-A local-out -p icmp -j DIVERT 5\\n`));
    // The CLI deletes the persistent rule; the program's equal rule is in its own table and stays.
    assert.equal((await cli('delete', '--netns', ns.name, '-D', 'input', '-p', 'ICMP', '-j', 'DIVERT', '1')).code, 0);
    const missing = await cli('delete', '--netns', ns.name, 'input', '-p', 'icmp', '-j', 'DIVERT', '1');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^divert rules delete: no persistent DIVERT rule equal to "-D input -p icmp -j DIVERT 1" \(see "divert rules list"\)/);
    const notOurs = await cli('delete', '--netns', ns.name, mine.rules[0]!.id);
    assert.equal(notOurs.code, 1);
    assert.match(notOurs.err, new RegExp(`in the table of running program ${process.pid}: it goes when that program`));
    assert.equal((await cli('delete', '--netns', ns.name, '--any-owner', 'input', '-j', 'DIVERT', '1')).code, 2, '--any-owner is gone');
    assert.equal((await cli('add', '--netns', ns.name, '--label', 'web', 'input', '-p', 'tcp', '-j', 'DIVERT', '6')).code, 0);
    assert.equal((await cli('delete', '--netns', ns.name, '--label', 'other', 'input', '-p', 'tcp', '-j', 'DIVERT', '6')).code, 1, '--label must match');
    const web = (await listRules({ netns: ns.name })).find((r) => r.owner?.label === 'web')!;
    assert.equal((await cli('delete', '--netns', ns.name, web.id)).out, `deleted ${web.id}\n`);
    assert.equal((await cli('flush', '--netns', ns.name)).out, 'flushed 3 rules; 2 rules in running programs\' own tables stay (they go when those programs end)\n');
    assert.deepEqual(await divertTables(ns), [`divert-${process.pid}`], 'the emptied shared table is gone');
    assert.equal(await mine.remove(), 2);
    assert.deepEqual(await rulesetDump(ns), before, 'exactly as before: the host\'s table untouched');
  });

  test('SIGKILL: a program\'s own rules vanish with it — ruleset exactly as before, no sweep', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    await hostTable(ns);
    const before = await rulesetDump(ns);
    const { child } = await ruleOwner(ns, 'plain');
    const during = await listRules({ netns: ns.name });
    assert.ok(during.every((r) => r.table === `divert-${child.pid}` && r.owner?.label === 'child' && !r.persistent));
    assert.deepEqual(during.map((r) => r.kind).sort(), ['defrag', 'defrag', 'divert', 'divert']);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.deepEqual(await rulesetDump(ns), before);
  });

  test('a persistent rule of a SIGKILLed program stays, marked stale, until sweep; CLI rules survive sweep', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    await addRule('-A input -p icmp -j DIVERT 9', { netns: ns.name, owner: 'cli' });
    const { child } = await ruleOwner(ns, 'persistent');
    const shared = async (): Promise<Array<[string | undefined, boolean]>> => (await listRules({ netns: ns.name })).filter((r) => r.persistent).map((r) => [r.owner?.kind, r.stale]);
    assert.deepEqual(await shared(), [['cli', false], ['process', false]]);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.deepEqual(await shared(), [['cli', false], ['process', true]]);
    assert.match((await cli('list', '--netns', ns.name)).out, /stale\s+-A forward -p icmp -j DIVERT 5\n/);
    const json = JSON.parse((await cli('list', '--netns', ns.name, '--json')).out) as Array<{ stale: boolean; owner: string }>;
    assert.deepEqual(json.map((r) => [r.owner.replace(/^\d+:\d+/, 'P'), r.stale]), [['cli', false], ['P:child', true]]);
    assert.equal((await cli('sweep', '--netns', ns.name)).out, 'swept 1 rule\n');
    assert.equal(await sweepStaleRules({ netns: ns.name }), 0);
    assert.deepEqual((await listRules({ netns: ns.name })).map((r) => r.owner?.kind), ['cli']);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal}: the program dies by it, its rules with it`, async (t) => {
      if (!requirePrivilege(t)) return;
      const ns = createNetns();
      const { child } = await ruleOwner(ns, 'plain');
      assert.equal((await listRules({ netns: ns.name })).length, 4);
      child.kill(signal);
      const [code, sig] = (await once(child, 'exit')) as [number | null, string | null];
      assert.deepEqual([code, sig], [null, signal]);
      assert.deepEqual(await divertTables(ns), []);
    });
  }

  test('an uncaught exception (exit code 1) takes the rules too', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const { child, err } = await ruleOwner(ns, 'crash');
    assert.equal((await listRules({ netns: ns.name })).length, 4, 'the rules exist before the crash');
    child.kill('SIGUSR2');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(err(), /Error: boom on demand/, 'it died of the thrown error, nothing else');
    assert.deepEqual(await divertTables(ns), []);
  });

  test('a program with its own SIGINT listener keeps running with its rules; its exit removes them', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const { child, out } = await ruleOwner(ns, 'handler');
    child.kill('SIGINT');
    await waitFor(() => out().includes('sigint\n'));
    assert.equal(child.exitCode, null, 'still running');
    assert.equal((await listRules({ netns: ns.name })).length, 4, 'its rules stay while it runs');
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.deepEqual(await divertTables(ns), [], 'gone with the process');
  });

  test('CLI: help, usage errors (2) and runtime errors (1) are one line with a hint', async () => {
    const help = await cli('--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: divert rules <command>/);
    for (const argv of [['bogus'], ['add', 'input', '-j', 'DIVERT', '70000'], ['add', '-D', 'input', '-j', 'DIVERT', '1'], ['list', '--netns'], ['list', 'x'], ['add', '--netns', '../x', 'input', '-j', 'DIVERT', '1'], ['add', '--priority', 'high', 'input', '-j', 'DIVERT', '1']]) {
      const r = await cli(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, /^divert rules[^\n]*\(see "divert rules[^"]*--help"\)\n$/, argv.join(' '));
    }
    const gone = await cli('list', '--netns', 'dvt-no-such-ns');
    assert.equal(gone.code, 1);
    assert.match(gone.err, /^divert rules list: Cannot open a netlink socket in \/run\/netns\/dvt-no-such-ns: no such network namespace/);
  });
});
