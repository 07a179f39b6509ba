import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NftablesBackend, echoedHandles, specId } from './nftables_backend.js';
import { parseNftExpr } from './nftables_json.js';
import { nftTableText } from './nftables.js';
import { RecordingRunner, type ScriptedAnswer } from './recording.js';
import { drive, type Command } from './runner.js';
import { parseRule } from './parse.js';
import { ruleKey } from './iptables_text.js';
import { CHAIN_HOOK, type Owner } from './rule.js';
import { FirewallError } from '../errors.js';
import { addRule } from './api.js';
import { backendOverride } from './detect.js';

const CLI = 'divert:owner=cli';
const APP = 'divert:owner=999999:5:app';
const TAIL = 'meta mark & 0x40000000 != 0x40000000 counter name "in_use" counter';
const MISSING = 'Error: No such file or directory\nlist table inet divert\n^^^^^^^^^^^^^^^^^^^^^';
/*
 * A hand-written `nft -j -n list table inet divert` document (nft 1.0.6, JSON schema 1). Source:
 * libnftables-json(5) and nft's src/json.c; every non-queue rule is shaped exactly as this
 * machine's nft 1.0.6 printed it for the same rule text (implied `meta nfproto`/`meta l4proto`
 * dropped). The `queue` statements (this kernel refuses them) follow queue_stmt_json(): `num` is
 * a number or a range, `flags` one string or an array. Rule h14 uses symbolic values (no -n).
 */
const MARK = { match: { op: '!=', left: { '&': [{ meta: { key: 'mark' } }, 0x40000000] }, right: 0x40000000 } };
const GUARD = { counter: 'in_use' };
const m = (op: string, left: object, right: unknown) => ({ match: { op, left, right } });
const meta = (key: string) => ({ meta: { key } });
const pl = (protocol: string, field: string) => ({ payload: { protocol, field } });
const cnt = (packets: number, bytes: number) => ({ counter: { packets, bytes } });
const rule = (chain: string, handle: number, expr: object[], comment?: string) =>
  ({ rule: { family: 'inet', table: 'divert', chain, handle, ...(comment ? { comment } : {}), expr } });
const chain = (name: string, handle: number) =>
  ({ chain: { family: 'inet', table: 'divert', name, handle, type: name === 'output' ? 'route' : 'filter', hook: name, prio: -150, policy: 'accept' } });
const LISTED_JSON = JSON.stringify({ nftables: [
  { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
  { table: { family: 'inet', name: 'divert', handle: 3 } },
  { counter: { family: 'inet', name: 'in_use', table: 'divert', handle: 6, packets: 21, bytes: 1872 } },
  chain('prerouting', 1), chain('input', 2), chain('forward', 3), chain('output', 4), chain('postrouting', 5),
  rule('prerouting', 7, [m('==', meta('l4proto'), 1), MARK, GUARD, cnt(3, 252), { queue: { num: 1234 } }], CLI),
  rule('prerouting', 8, [m('==', meta('nfproto'), 2), m('in', { ct: { key: 'state' } }, [1, 2, 4, 8, 64]), GUARD, cnt(0, 0)], APP),
  rule('prerouting', 9, [m('==', meta('l4proto'), 17), cnt(4, 400), { accept: null }]),
  rule('prerouting', 10, [m('==', meta('nfproto'), 2), m('==', pl('udp', 'dport'), 53), MARK, GUARD, cnt(10, 1000), { queue: { num: 6 } }], APP),
  rule('input', 13, [m('==', pl('icmpv6', 'type'), 128), m('==', pl('icmpv6', 'code'), 0), MARK, GUARD, cnt(0, 0), { queue: { num: 3 } }], 'divert:owner=1:77'),
  rule('forward', 11, [m('!=', pl('ip6', 'daddr'), { prefix: { addr: '2001:db8::', len: 32 } }), m('==', meta('iifname'), 'veth*'), m('!=', pl('udp', 'dport'), 53), MARK, GUARD, cnt(7, 560), { queue: { num: { range: [2, 4] }, flags: 'bypass' } }], CLI),
  rule('output', 14, [m('==', meta('nfproto'), 'ipv4'), m('!=', meta('oifname'), 'eth0'), m('==', pl('tcp', 'sport'), { range: [80, 90] }), MARK, GUARD, cnt(0, 0), { queue: { num: 5, flags: ['bypass'] } }], CLI),
  rule('postrouting', 12, [m('==', pl('ip', 'saddr'), '198.18.0.1'), m('==', meta('l4proto'), 6), MARK, GUARD, cnt(1, 60), { queue: { num: 4321 } }], CLI),
] });

const line = (c: Command): string => [c.file, ...c.args].join(' ');

/** Answers like nft: list → `listing`, echo → one `# handle` line per rule (from `first`). */
function nft(listing: ScriptedAnswer, first = 20, other: (cmd: Command) => ScriptedAnswer = () => ''): RecordingRunner {
  let next = first;
  return new RecordingRunner((cmd) => {
    if (cmd.args.includes('list')) return listing;
    if (cmd.args.includes('-e')) {
      const out = ['add table inet divert # handle 3', 'add counter inet divert in_use { # handle 6 packets 0 bytes 0 } '];
      for (const l of (cmd.input ?? '').split('\n').filter((x) => /^(add|insert) rule /.test(x))) {
        out.push(`${l.replace(/ index \d+/, '').replace(/ counter /g, ' counter packets 0 bytes 0 ').replace(/counter name "in_use" counter packets 0 bytes 0/, 'counter name "in_use" counter')} # handle ${next++}`);
      }
      return `${out.join('\n')}\n# new generation 9 by process 4242 (nft)\n`;
    }
    return other(cmd);
  });
}

/** ipchains text → the exact nft rule line install loads (the seed examples and every option). */
const INSTALL: ReadonlyArray<readonly [string, string]> = [
  ['-A input -p ICMP -j DIVERT 1234', `add rule inet divert prerouting meta nfproto ipv4 meta l4proto icmp ${TAIL} queue to 1234 comment "${CLI}"`],
  ['-A output -p TCP -s 198.18.0.1 -j DIVERT 4321', `add rule inet divert postrouting meta nfproto ipv4 ip saddr 198.18.0.1 meta l4proto tcp ${TAIL} queue to 4321 comment "${CLI}"`],
  ['-A input -s 198.18.0.7/15 -d ! 198.19.0.0/16 -j DIVERT 1', `add rule inet divert prerouting meta nfproto ipv4 ip saddr 198.18.0.0/15 ip daddr != 198.19.0.0/16 ${TAIL} queue to 1 comment "${CLI}"`],
  ['-A forward -i eth0 ! -o veth+ -p ! udp -j DIVERT 2:4 --pass-through', `add rule inet divert forward meta nfproto ipv4 iifname "eth0" oifname != "veth*" meta l4proto != udp ${TAIL} queue flags bypass to 2-4 comment "${CLI}"`],
  ['-A output -p tcp -s 0/0 ! 80:90 -d 0/0 1024: -j DIVERT 5', `add rule inet divert postrouting meta nfproto ipv4 meta l4proto tcp tcp sport != 80-90 tcp dport 1024-65535 ${TAIL} queue to 5 comment "${CLI}"`],
  ['-A local-in -p sctp --sport 9 -j DIVERT 6', `add rule inet divert input meta nfproto ipv4 meta l4proto sctp sctp sport 9 ${TAIL} queue to 6 comment "${CLI}"`],
  ['-A local-out -p icmp ! --icmp-type 3/1 -j DIVERT 7', `add rule inet divert output meta nfproto ipv4 meta l4proto icmp icmp type . icmp code != { 3 . 1 } ${TAIL} queue to 7 comment "${CLI}"`],
  ['-A prerouting -6 -p icmpv6 --icmp-type echo-request -j DIVERT 8', `add rule inet divert prerouting meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 128 ${TAIL} queue to 8 comment "${CLI}"`],
  ['-A postrouting -s 2001:DB8:0:0::1/48 -p 47 -j DIVERT 9', `add rule inet divert postrouting meta nfproto ipv6 ip6 saddr 2001:db8::/48 meta l4proto gre ${TAIL} queue to 9 comment "${CLI}"`],
];

test('install() loads table and every kind of rule in one nft -e -a -f - transaction', async () => {
  const runner = nft('unused');
  const entries = INSTALL.map(([t]) => ({ kind: 'divert' as const, rule: parseRule(t), tag: CLI }));
  const out = await drive(new NftablesBackend().install([...entries, { kind: 'defrag', family: 'ipv4', tag: APP }, { kind: 'defrag', family: 'ipv6', tag: APP }]), runner);
  assert.deepEqual(runner.commands.map(line), ['nft -e -a -f -']);
  const defrag = (f: string): string => `add rule inet divert prerouting meta nfproto ${f} ct state invalid,new,related,established,untracked counter name "in_use" counter comment "${APP}"`;
  assert.equal(runner.inputs[0], `${nftTableText()}${[...INSTALL.map(([, l]) => l), defrag('ipv4'), defrag('ipv6')].join('\n')}\n`);
  assert.deepEqual(out.map((r) => `${r.kind} ${r.family} ${r.hook} ${specId(r.spec)?.handle}`), [
    ...INSTALL.map(([t], i) => { const r = parseRule(t); return `divert ${r.family} ${CHAIN_HOOK[r.chain]} ${20 + i}`; }),
    'defrag ipv4 PREROUTING 29', 'defrag ipv6 PREROUTING 30',
  ]);
  assert.equal(out[0]?.spec, `${INSTALL[0]?.[1].replace('add rule inet divert prerouting ', '')} # table 3 handle 20`);
});

test('install() with a position lists the table and inserts by index (appends past the end)', async () => {
  const runner = nft(LISTED_JSON);
  const rule = (t: string, position: number) => ({ kind: 'divert' as const, rule: parseRule(t), tag: CLI, position });
  await drive(new NftablesBackend().install([rule('-I input -p tcp -j DIVERT 1', 2), rule('-I local-out -p tcp -j DIVERT 2', 3)]), runner);
  assert.deepEqual(runner.commands.map(line), ['nft -j -n list table inet divert', 'nft -e -a -f -']);
  const lines = (runner.inputs[0] ?? '').split('\n').filter((l) => l.includes(' rule '));
  assert.match(lines[0] ?? '', /^insert rule inet divert prerouting index 1 meta nfproto ipv4 meta l4proto tcp /);
  assert.match(lines[1] ?? '', /^add rule inet divert output meta nfproto ipv4 /, 'output holds one rule: position 3 appends');
  const empty = nft({ fail: MISSING });
  await drive(new NftablesBackend().install([rule('-I input -j DIVERT 1', 1)]), empty);
  assert.match(empty.inputs[0] ?? '', /\nadd rule inet divert prerouting meta nfproto ipv4 /, 'no table yet: append');
});

test('echoedHandles() reads rule handles from nft --echo --handle output, in order', () => {
  const out = [
    'add table inet divert # handle 3',
    'add chain inet divert prerouting { type filter hook prerouting priority mangle; policy accept; } # handle 1',
    'add counter inet divert in_use { # handle 6 packets 0 bytes 0 } ',
    `add rule inet divert prerouting meta l4proto icmp ${TAIL.replace('counter name "in_use" counter', 'counter name "in_use" counter packets 0 bytes 0')} queue to 1234 comment "${CLI}" # handle 7`,
    `insert rule inet divert output handle 20 meta l4proto tcp counter packets 0 bytes 0 queue to 5 comment "${CLI}" # handle 19`,
    'add rule inet other prerouting counter packets 0 bytes 0 # handle 4',
    '# new generation 14 by process 17741 (nft)',
  ].join('\n');
  assert.deepEqual(echoedHandles(out), [{ chain: 'prerouting', handle: 7 }, { chain: 'output', handle: 19 }]);
  assert.deepEqual(specId(`meta l4proto icmp comment "${CLI}" # handle 7`), { handle: 7, comment: CLI });
  assert.deepEqual(specId(`meta l4proto icmp comment "${CLI}" # table 3 handle 7`), { table: 3, handle: 7, comment: CLI });
  assert.equal(specId('-p icmp -j NFQUEUE'), undefined);
});

test('install() errors: nft failure carries stderr; missing handles; invalid strings never reach nft', async () => {
  const rule = parseRule('-A input -p icmp -j DIVERT 1');
  const failing = new RecordingRunner(() => ({ fail: 'Error: Could not process rule: No such file or directory' }));
  await assert.rejects(drive(new NftablesBackend().install([{ kind: 'divert', rule, tag: CLI }]), failing), (e: unknown) => e instanceof FirewallError && /No such file/.test(e.stderr));
  const silent = new RecordingRunner(() => '# new generation 3 by process 1 (nft)\n');
  await assert.rejects(drive(new NftablesBackend().install([{ kind: 'divert', rule, tag: CLI }]), silent), (e: unknown) => e instanceof FirewallError && /echoed 0 rule handles for 1 rules/.test(e.message));
  const never = new RecordingRunner();
  const bad: Array<[unknown, RegExp]> = [
    [{ kind: 'divert', rule, tag: 'x" ; flush ruleset ; "' }, /Not an owner tag/],
    [{ kind: 'divert', rule: { ...rule, inInterface: { name: 'eth0" accept', negated: false } }, tag: CLI }, /Bad interface name/],
    [{ kind: 'divert', rule: { ...rule, source: { address: '198.18.0.1; drop', prefix: 32, negated: false } }, tag: CLI }, /is not an IPv4 address/],
    [{ kind: 'divert', rule: { ...rule, source: { address: '2001:db8::1', prefix: 128, negated: false } }, tag: CLI }, /is not an IPv4 address/],
    [{ kind: 'divert', rule: { ...rule, port: 70000 }, tag: CLI }, /Divert port must be an integer 0–65535/],
    [{ kind: 'divert', rule: { ...rule, port: { first: 5, last: 2 } }, tag: CLI }, /reversed/],
    [{ kind: 'divert', rule: { ...rule, protocol: { number: 1.5, negated: false } }, tag: CLI }, /Protocol number/],
    [{ kind: 'divert', rule, tag: CLI, position: 0 }, /Position must be an integer ≥ 1/],
    [{ kind: 'defrag', family: 'ipx', tag: CLI }, /Unknown family/],
  ];
  for (const [entry, msg] of bad) {
    await assert.rejects(drive(new NftablesBackend().install([entry as never]), never), msg);
  }
  assert.equal(never.commands.length, 0);
  assert.throws(() => new NftablesBackend({ _verdict: 'queue to 1; flush ruleset' }), TypeError);
});

const alive = (o: Owner): boolean => o.kind === 'cli' || o.pid !== 999999;

test('list() rebuilds rules, owners, stale flags and counters from nft -j -n output', async () => {
  const runner = nft(LISTED_JSON);
  const listed = await drive(new NftablesBackend({ alive }).list(), runner);
  assert.deepEqual(runner.commands.map(line), ['nft -j -n list table inet divert']);
  assert.deepEqual(listed.map((l) => [l.kind, l.family, l.chain, l.position, specId(l.spec)?.handle, l.packets, l.bytes, l.stale]), [
    ['divert', 'ipv4', 'input', 1, 7, 3, 252, false],
    ['defrag', 'ipv4', 'input', 2, 8, 0, 0, true],
    ['divert', 'ipv4', 'input', 4, 10, 10, 1000, true],
    ['divert', 'ipv6', 'local-in', 1, 13, 0, 0, false],
    ['divert', 'ipv6', 'forward', 1, 11, 7, 560, false],
    ['divert', 'ipv4', 'local-out', 1, 14, 0, 0, false],
    ['divert', 'ipv4', 'output', 1, 12, 1, 60, false],
  ]);
  const texts = [
    '-A input -p ICMP -j DIVERT 1234', '-A input -p udp --dport 53 -j DIVERT 6', '-A local-in -6 -p icmpv6 --icmp-type 128/0 -j DIVERT 3',
    '-A forward -6 ! -d 2001:db8::/32 -i veth+ -p udp ! --dport 53 -j DIVERT 2:4 --pass-through',
    '-A local-out -p tcp ! -o eth0 --sport 80:90 -j DIVERT 5 --pass-through', '-A output -p TCP -s 198.18.0.1 -j DIVERT 4321',
  ];
  const divert = listed.filter((l) => l.kind === 'divert');
  assert.deepEqual(divert.map((l) => l.rule && ruleKey(l.rule, l.hook)), texts.map((t) => { const r = parseRule(t); return ruleKey(r, CHAIN_HOOK[r.chain]); }));
  assert.deepEqual(listed[0]?.rule, { ...parseRule('-A input -p ICMP -j DIVERT 1234'), owner: { kind: 'cli' } });
  assert.deepEqual(listed[1]?.owner, { kind: 'process', pid: 999999, startTime: 5, label: 'app' });
  assert.equal(listed[1]?.rule, undefined);
  assert.equal(listed[0]?.spec, `meta nfproto ipv4 meta l4proto icmp ${TAIL} queue to 1234 comment "${CLI}" # table 3 handle 7`);
  assert.deepEqual((await drive(new NftablesBackend({ alive }).list(['ipv6']), nft(LISTED_JSON))).map((l) => l.chain), ['local-in', 'forward']);
  assert.deepEqual(await drive(new NftablesBackend().list(), nft({ fail: MISSING })), [], 'no table: no rules');
  await assert.rejects(drive(new NftablesBackend().list(), nft({ fail: 'Error: Operation not permitted' })), FirewallError);
  await assert.rejects(drive(new NftablesBackend().list(), nft('not json')), /nft printed no JSON/);
});

test('remove() deletes by handle what is still there with the same owner comment and kind', async () => {
  const runner = nft(LISTED_JSON);
  const b = new NftablesBackend({ alive });
  const listed = await drive(b.list(), runner);
  const stale = listed.filter((l) => l.stale);
  const n = await drive(b.remove([...stale, { kind: 'divert', family: 'ipv4', hook: 'PREROUTING', spec: `comment "${APP}" # handle 7` }, { kind: 'defrag', family: 'ipv4', hook: 'PREROUTING', spec: `comment "${CLI}" # handle 7` }, { kind: 'divert', family: 'ipv4', hook: 'PREROUTING', spec: `comment "${CLI}" # handle 99` }]), runner);
  assert.equal(n, 2, 'the wrong owner, the wrong kind and a vanished handle are left alone');
  assert.deepEqual(runner.inputs.at(-1), 'delete rule inet divert prerouting handle 8\ndelete rule inet divert prerouting handle 10\n');
  assert.deepEqual(runner.commands.slice(-2).map(line), ['nft -j -n list table inet divert', 'nft -f -']);
  assert.equal(await drive(b.remove(stale), nft({ fail: MISSING })), 0, 'no table: nothing to delete');
  let deletes = 0;
  const racing = nft(LISTED_JSON, 1, () => (++deletes === 1 ? { fail: 'Error: Could not process rule: No such file or directory' } : ''));
  assert.equal(await drive(b.remove(stale), racing), 2, 'a rule vanished meanwhile: read again and retry once');
  assert.equal(deletes, 2);
  const denied = nft(LISTED_JSON, 1, () => ({ fail: 'Error: Could not process rule: Operation not permitted' }));
  await assert.rejects(drive(b.remove(stale), denied), (e: unknown) => e instanceof FirewallError && /not permitted/.test(e.stderr));
});

const EMPTY_TABLE = JSON.stringify({ nftables: [
  { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
  { table: { family: 'inet', name: 'divert', handle: 3 } },
  { counter: { family: 'inet', name: 'in_use', table: 'divert', handle: 6, packets: 0, bytes: 0 } },
  { chain: { family: 'inet', table: 'divert', name: 'prerouting', handle: 1, type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' } },
] });

test('tidy() deletes guard counter and table in one transaction only when no rule is left', async () => {
  const empty = nft(EMPTY_TABLE);
  await drive(new NftablesBackend().tidy(), empty);
  assert.deepEqual(empty.commands.map(line), ['nft -j -n list table inet divert', 'nft -f -']);
  assert.equal(empty.inputs[0], 'delete counter inet divert in_use\ndelete table inet divert\n');
  const used = nft(LISTED_JSON);
  await drive(new NftablesBackend().tidy(['ipv6']), used);
  assert.equal(used.commands.length, 1, 'rules remain: the table stays');
  const gone = nft({ fail: MISSING });
  await drive(new NftablesBackend().tidy(), gone);
  assert.equal(gone.commands.length, 1);
  const busy = nft(EMPTY_TABLE, 1, () => ({ fail: 'Error: Could not process rule: Device or resource busy' }));
  await drive(new NftablesBackend().tidy(), busy);
  assert.equal(busy.commands.length, 2, 'a rule appeared meanwhile (EBUSY): best effort, no error');
});

test('DIVERT_FIREWALL_BACKEND forces a backend; otherwise nftables where the probe passes', async () => {
  assert.equal(backendOverride({}), undefined);
  assert.equal(backendOverride({ DIVERT_FIREWALL_BACKEND: ' NFTables ' }), 'nftables');
  assert.equal(backendOverride({ DIVERT_FIREWALL_BACKEND: 'iptables' }), 'iptables');
  assert.throws(() => backendOverride({ DIVERT_FIREWALL_BACKEND: 'ipchains' }), /use iptables or nftables/);
  const probe = (queue: boolean) => nft('', 1, (c) => (c.file === 'iptables' ? 'iptables v1.8.9 (nf_tables)\n' : c.file === 'nft' && c.args.includes('-c') && !queue ? { fail: 'Error: No such file or directory' } : c.file === 'iptables-save' ? '*mangle\nCOMMIT\n' : ''));
  const rule = '-A input -p ICMP -j DIVERT 1234';
  const withQueue = probe(true);
  await addRule(rule, { runner: withQueue, netns: 'sel1', owner: 'cli' });
  assert.deepEqual(withQueue.commands.map(line), ['iptables -V', 'nft -c -f -', 'nft -e -a -f -']);
  const without = probe(false);
  await addRule(rule, { runner: without, netns: 'sel2', owner: 'cli' });
  assert.deepEqual(without.commands.map((c) => c.file), ['iptables', 'nft', 'iptables-save', 'iptables-restore']);
  const saved = process.env['DIVERT_FIREWALL_BACKEND'];
  try {
    process.env['DIVERT_FIREWALL_BACKEND'] = 'nftables';
    const forced = probe(false);
    await addRule(rule, { runner: forced, netns: 'sel3', owner: 'cli' });
    assert.deepEqual(forced.commands.map(line), ['nft -e -a -f -'], 'forced: no detection at all');
    process.env['DIVERT_FIREWALL_BACKEND'] = 'iptables';
    const back = probe(true);
    await addRule(rule, { runner: back, netns: 'sel4', owner: 'cli' });
    assert.deepEqual(back.commands.map((c) => c.file), ['iptables', 'nft', 'iptables-save', 'iptables-restore']);
    process.env['DIVERT_FIREWALL_BACKEND'] = 'pf';
    await assert.rejects(addRule(rule, { runner: back, netns: 'sel5', owner: 'cli' }), TypeError);
  } finally {
    if (saved === undefined) delete process.env['DIVERT_FIREWALL_BACKEND'];
    else process.env['DIVERT_FIREWALL_BACKEND'] = saved;
  }
});

test('remove() after the table was recreated leaves the new table\'s rule with the same handle and comment', async () => {
  const b = new NftablesBackend({ alive });
  const listed = await drive(b.list(), nft(LISTED_JSON));
  const h7 = listed.find((l) => l.spec.endsWith(' handle 7'));
  assert.ok(h7 && specId(h7.spec)?.table === 3);
  const recreated = nft(LISTED_JSON.replace('"name":"divert","handle":3', '"name":"divert","handle":4'));
  assert.equal(await drive(b.remove([h7]), recreated), 0);
  assert.deepEqual(recreated.inputs, [], 'nothing deleted');
  const same = nft(LISTED_JSON);
  assert.equal(await drive(b.remove([h7]), same), 1);
});

test('install() records the table: echoed when created, else read back and checked', async () => {
  const rule = parseRule('-A input -p icmp -j DIVERT 1');
  const existing = new RecordingRunner((cmd) => (cmd.args.includes('list') ? LISTED_JSON : `add rule inet divert prerouting meta l4proto icmp comment "${CLI}" # handle 7\n`));
  const [r] = await drive(new NftablesBackend().install([{ kind: 'divert', rule, tag: CLI }]), existing);
  assert.match(r?.spec ?? '', / # table 3 handle 7$/);
  assert.deepEqual(existing.commands.map(line), ['nft -e -a -f -', 'nft -j -n list table inet divert']);
  const gone = new RecordingRunner((cmd) => (cmd.args.includes('list') ? LISTED_JSON : `add rule inet divert prerouting meta l4proto icmp comment "${CLI}" # handle 99\n`));
  const [g] = await drive(new NftablesBackend().install([{ kind: 'divert', rule, tag: CLI }]), gone);
  assert.match(g?.spec ?? '', / # table -1 handle 99$/, 'our rule is already gone: the spec matches nothing');
});

test('a negated ICMP type/code is one concatenated match, read back as the same rule', () => {
  const icmp = { match: { op: '!=', left: { concat: [pl('icmp', 'type'), pl('icmp', 'code')] }, right: { set: [{ concat: [3, 1] }] } } };
  const back = parseNftExpr([m('==', meta('l4proto'), 1), icmp, MARK, GUARD, cnt(0, 0), { queue: { num: 7 } }]);
  const want = parseRule('-A input -p icmp ! --icmp-type 3/1 -j DIVERT 7');
  assert.equal(back.rule && ruleKey({ ...back.rule, chain: 'input' }, 'PREROUTING'), ruleKey(want, 'PREROUTING'));
  const six = { match: { op: '!=', left: { concat: [pl('icmpv6', 'type'), pl('icmpv6', 'code')] }, right: { set: [{ concat: [128, 0] }] } } };
  assert.deepEqual(parseNftExpr([six, MARK, GUARD, cnt(0, 0), { queue: { num: 7 } }]).rule?.icmpType, { type: 128, code: 0, negated: true });
  assert.equal(parseNftExpr([{ match: { op: '==', left: { concat: [pl('icmp', 'type'), pl('icmp', 'code')] }, right: { set: [{ concat: [3, 1] }] } } }, { queue: { num: 7 } }]).rule, undefined);
});
