/**
 * The nftables backend against the real nft, in throwaway namespaces.
 *
 * This machine's kernel has CONFIG_NFT_QUEUE unset: the native `queue` statement is refused, so
 * the DENY test skips (with the kernel's reason) and iptables stays selected. Everything that does
 * not need `queue` runs here: the backend's own code path with `queue` replaced by `accept` (the
 * internal `_verdict` seam), listing, counters, removal by handle, and tidy's atomic guard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createNetns, requirePrivilege, type Netns } from '../_harness/netns.js';
import { addRule, detectBackend, drive, execRunner, flushRules, listRules, nftRuleText, nftTableText, parseRule, type DivertRule } from '../../src/firewall/mod.js';
import { NftablesBackend, specId } from '../../src/firewall/nftables_backend.js';
import { parseNftExpr, parseNftTable } from '../../src/firewall/nftables_json.js';
import { ruleKey } from '../../src/firewall/iptables_text.js';
import { CHAIN_HOOK, portBounds } from '../../src/firewall/rule.js';

/** `nft -c -f -` (check only, nothing committed) with `text` on stdin. */
function nftCheck(ns: Netns, text: string): { ok: boolean; stderr: string } {
  try {
    ns.exec('nft', ['-c', '-f', '-'], text);
    return { ok: true, stderr: '' };
  } catch (err) {
    return { ok: false, stderr: (err as Error).message };
  }
}

const QUEUE_RULE = 'table inet dvt_q {\n chain c { type filter hook output priority 0; queue to 1; }\n}\n';

test('detectBackend() in a namespace reports the iptables flavour and nft queue support', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const info = await detectBackend({ netns: ns.name });
  const v = ns.exec('iptables', ['-V']).trim();
  assert.equal(info.version, v);
  assert.equal(info.flavour, v.includes('(nf_tables)') ? 'nf_tables' : 'legacy');
  const direct = nftCheck(ns, QUEUE_RULE);
  assert.equal(info.nftQueue, direct.ok, 'detection agrees with a direct nft -c of a queue rule');
  assert.equal(info.name, info.nftQueue ? 'nftables' : 'iptables', 'nftables only where the kernel has queue');
  t.diagnostic(`nft queue statement: ${info.nftQueue ? 'supported' : `refused (${direct.stderr.split('\n')[0] ?? ''})`}`);
});

test('nftRuleText() output parses with nft -c; only the queue statement may be refused', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const rules = [
    '-A input -p ICMP -j DIVERT 1234',
    '-A output -p TCP -s 198.18.0.1 -d ! 198.19.0.0/16 1024:65535 -o veth+ -j DIVERT 4321:4323 --pass-through',
    '-A local-in -6 -p icmpv6 --icmp-type 128/0 -i ! lo -j DIVERT 3',
  ].map((r) => nftRuleText(parseRule(r), 'divert:owner=cli'));
  const info = await detectBackend({ netns: ns.name });
  const withQueue = `${nftTableText()}${rules.join('\n')}\n`;
  const r = nftCheck(ns, withQueue);
  if (info.nftQueue) {
    assert.equal(r.ok, true, r.stderr);
  } else {
    assert.equal(r.ok, false);
    const errors = r.stderr.split('\n').filter((l) => /Error:/.test(l));
    assert.ok(errors.length > 0 && errors.every((l) => /No such file or directory/.test(l)), r.stderr);
    assert.ok(r.stderr.split('\n').filter((l) => /^\s*\^+\s*$/.test(l)).length > 0, 'nft points at the refused statement');
  }
  const noQueue = withQueue.replace(/queue (flags bypass )?to [\d-]+/g, 'accept');
  const ok = nftCheck(ns, noQueue);
  assert.equal(ok.ok, true, `matches must be valid nft: ${ok.stderr}`);
});

const RULES = [
  '-A input -p ICMP -j DIVERT 1234',
  '-A output -p TCP -s 198.18.0.1 -d ! 198.19.0.0/16 1024:65535 -o veth+ -j DIVERT 4321:4323 --pass-through',
  '-A local-in -6 -p icmpv6 --icmp-type 128/0 -i ! lo -j DIVERT 3',
  '-A forward -i eth0 -p udp ! --sport 53 -j DIVERT 7',
  '-A local-out -p ! tcp -j DIVERT 8',
  '-A local-in -p icmp --icmp-type echo-request -j DIVERT 9',
  '-A local-in -p icmp ! --icmp-type 3/1 -j DIVERT 10',
];

/** The queue statement JSON nft prints for a rule (what `accept` stands in for here). */
function queueJson(rule: DivertRule): object {
  const b = portBounds(rule.port);
  return { queue: { num: b.first === b.last ? b.first : { range: [b.first, b.last] }, ...(rule.passThrough ? { flags: 'bypass' } : {}) } };
}

test('NftablesBackend on the real nft (queue → accept): install, list, counters, remove by handle, tidy', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const runner = execRunner({ netns: ns.name, backend: 'nftables' });
  const backend = new NftablesBackend({ _verdict: 'accept' });
  const parsed = RULES.map((r) => parseRule(r));
  const me = `divert:owner=${process.pid}:1:nfttest`;
  const entries = [
    { kind: 'defrag', family: 'ipv4', tag: me } as const,
    ...parsed.map((rule) => ({ kind: 'divert' as const, rule, tag: 'divert:owner=cli' })),
  ];
  const installed = await drive(backend.install(entries), runner);
  const ofRule = (i: number): string => installed[i + 1]?.spec ?? '';
  assert.equal(installed.length, RULES.length + 1);
  const shown = ns.exec('nft', ['-a', 'list', 'table', 'inet', 'divert']);
  for (const r of installed) assert.match(shown, new RegExp(`# handle ${specId(r.spec)?.handle}\\n`), r.spec);
  assert.ok(ns.ping('127.0.0.1'), 'accept stands in for queue: traffic passes');

  const listed = await drive(backend.list(), runner);
  assert.equal(listed.length, installed.length);
  const icmp = listed.find((l) => l.hook === 'PREROUTING' && l.kind === 'divert' && l.position === 2);
  assert.ok(icmp && icmp.packets >= 1 && icmp.bytes >= 84, `counters moved: ${JSON.stringify(icmp)}`);
  assert.deepEqual(icmp.owner, { kind: 'cli' });
  const defrag = listed.find((l) => l.kind === 'defrag');
  assert.ok(defrag && defrag.packets >= 1 && defrag.stale === true, 'defrag rule counts everything; its fake owner (start time 1) is gone');
  assert.deepEqual(defrag.owner, { kind: 'process', pid: process.pid, startTime: 1, label: 'nfttest' });
  assert.deepEqual(listed.map((l) => l.family).sort(), ['ipv4', 'ipv4', 'ipv4', 'ipv4', 'ipv4', 'ipv4', 'ipv4', 'ipv6']);

  // The matches as the real nft prints them (implied dependencies dropped) rebuild each rule.
  const table = parseNftTable(ns.exec('nft', ['-j', '-n', 'list', 'table', 'inet', 'divert']), 'divert');
  const divert = table.rules.filter((r) => r.comment === 'divert:owner=cli');
  assert.equal(divert.length, parsed.length);
  for (const [i, r] of divert.entries()) {
    const original = parsed.find((_, j) => specId(ofRule(j))?.handle === r.handle);
    assert.ok(original, `rule with handle ${r.handle} is one we installed`);
    const expr = r.expr.map((e) => (JSON.stringify(e) === '{"accept":null}' ? queueJson(original) : e));
    const back = parseNftExpr(expr);
    assert.equal(back.rule && ruleKey({ ...back.rule, chain: original.chain }, CHAIN_HOOK[original.chain]), ruleKey(original, CHAIN_HOOK[original.chain]), `rule ${i}: ${JSON.stringify(r.expr)}`);
  }

  // A user's rule in our table (no owner tag), and a table of the user's: never touched.
  ns.exec('nft', ['add', 'table', 'inet', 'user']);
  ns.exec('nft', ['add', 'chain', 'inet', 'user', 'c']);
  ns.exec('nft', ['add', 'rule', 'inet', 'user', 'c', 'counter', 'comment', '"divert:owner=cli"']);
  ns.exec('nft', ['add', 'rule', 'inet', 'divert', 'input', 'meta', 'l4proto', 'udp', 'counter', 'accept', 'comment', '"user rule"']);
  // tidy's guard: while a rule references the counter, "delete counter; delete table" is refused.
  const busy = (() => { try { ns.exec('nft', ['-f', '-'], 'delete counter inet divert in_use\ndelete table inet divert\n'); return ''; } catch (e) { return (e as Error).message; } })();
  assert.match(busy, /Device or resource busy/);
  assert.equal(await drive(backend.remove(installed.slice(0, 2)), runner), 2);
  assert.equal(await drive(backend.remove(installed.slice(0, 2)), runner), 0, 'already gone');
  assert.equal((await drive(backend.list(), runner)).length, installed.length - 2, 'the user rule in our table is not listed');
  assert.equal(await flushRules({ netns: ns.name, backend, runner }), installed.length - 2);
  assert.match(ns.exec('nft', ['list', 'chain', 'inet', 'divert', 'input']), /comment "user rule"/, 'flush left the user rule in our table');
  await drive(backend.tidy(), runner);
  assert.match(ns.exec('nft', ['list', 'tables']), /inet divert/, 'tidy keeps our table while the user rule is in it');
  ns.exec('nft', ['delete', 'table', 'inet', 'divert']);
  // The table recreated with the same rules: same handles, same comments, but not our rules.
  const again = await drive(backend.install(entries), runner);
  assert.deepEqual(again.map((r) => specId(r.spec)?.handle), installed.map((r) => specId(r.spec)?.handle), 'handles restarted');
  assert.equal(await drive(backend.remove(installed), runner), 0, 'the old specs name nothing in the new table');
  assert.equal(await drive(backend.remove(again), runner), again.length);

  await drive(backend.tidy(), runner);
  assert.doesNotMatch(ns.exec('nft', ['list', 'tables']), /inet divert/, 'no rule left: tidy deleted the table');
  assert.match(ns.exec('nft', ['list', 'table', 'inet', 'user']), /comment "divert:owner=cli"/, 'the user table is untouched');
  assert.deepEqual(await drive(backend.list(), runner), []);
});

test('nftables backend: a DIVERT rule with no listener is a DENY (needs the kernel queue statement)', async (t) => {
  if (!requirePrivilege(t)) return;
  const a = createNetns();
  const b = createNetns();
  const probe = nftCheck(b, QUEUE_RULE);
  if (!probe.ok) {
    const reason = `kernel lacks the nftables queue statement (CONFIG_NFT_QUEUE): ${/Error: .*/.exec(probe.stderr)?.[0] ?? probe.stderr}`;
    t.diagnostic(reason);
    t.skip(reason);
    return;
  }
  const link = connect(a, b, 61);
  const backend = new NftablesBackend();
  assert.ok(a.ping(link.b4), 'before: ping passes');
  const h = await addRule('-A input -p ICMP -j DIVERT 1234', { netns: b.name, backend, owner: 'cli' });
  const listed = await listRules({ netns: b.name, backend });
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.rule?.port, 1234);
  assert.equal(a.ping(link.b4), false, 'diverted with no listener: DENY');
  assert.ok(a.ping(link.b6), 'other traffic (IPv6 ping) passes');
  const after = await listRules({ netns: b.name, backend });
  assert.ok((after[0]?.packets ?? 0) >= 1, 'the rule counted the dropped ping');
  assert.equal(await h.remove(), 1);
  assert.ok(a.ping(link.b4), 'after remove: ping passes');
  assert.doesNotMatch(b.exec('nft', ['list', 'tables']), /inet divert/, 'tidy removed the table');
});
