import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IptablesBackend } from './iptables.js';
import { RecordingRunner } from './recording.js';
import { drive } from './runner.js';
import { parseRule } from './parse.js';
import { defragSpec, parseSpec, ruleSpec } from './iptables_text.js';
import type { Command } from './runner.js';

const CLI = 'divert:owner=cli';
const MARK = '-m mark ! --mark 0x40000000/0x40000000';

/** ipchains text → the exact spec iptables -S prints for it (checked on iptables 1.8.9). */
const SPECS: ReadonlyArray<readonly [string, string]> = [
  ['-A input -p ICMP -j DIVERT 1234', `-p icmp ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 1234`],
  ['-A output -p TCP -s 198.18.0.1 -j DIVERT 4321', `-s 198.18.0.1/32 -p tcp ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 4321`],
  ['-A input -s 198.18.0.7/15 -d ! 198.19.0.0/16 -j DIVERT 1', `-s 198.18.0.0/15 ! -d 198.19.0.0/16 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 1`],
  ['-A forward -i eth0 ! -o veth+ -p ! udp -j DIVERT 2:4 --pass-through', `-i eth0 ! -o veth+ ! -p udp ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-balance 2:4 --queue-bypass`],
  ['-A output -p tcp -s 0/0 ! 80:90 -d 0/0 1024: -j DIVERT 5', `-p tcp -m tcp ! --sport 80:90 --dport 1024:65535 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 5`],
  ['-A input -p udp --dport 53 -j DIVERT 6', `-p udp -m udp --dport 53 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 6`],
  ['-A input -p sctp --sport 9 -j DIVERT 6', `-p sctp -m sctp --sport 9 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 6`],
  ['-A input -p icmp ! --icmp-type 3/1 -j DIVERT 7', `-p icmp -m icmp ! --icmp-type 3/1 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 7`],
  ['-A input -6 -p icmpv6 --icmp-type echo-request -j DIVERT 8', `-p ipv6-icmp -m icmp6 --icmpv6-type 128 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 8`],
  ['-A input -s 2001:DB8:0:0::1/48 -j DIVERT 9', `-s 2001:db8::/48 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 9`],
  ['-A input -p 47 -j DIVERT 10', `-p gre ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 10`],
];

for (const [text, spec] of SPECS) {
  test(`ruleSpec() of ${JSON.stringify(text)}`, () => {
    const rule = parseRule(text);
    assert.equal(ruleSpec(rule, CLI), spec);
    const back = parseSpec(spec, 'PREROUTING', rule.family);
    assert.equal(back.kind, 'divert');
    if (back.kind === 'divert') assert.equal(ruleSpec(back.rule, CLI), spec, 'spec → rule → spec');
  });
}

const EMPTY = '*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';
const WITH_CHAIN = `*mangle
:PREROUTING ACCEPT [9:900]
:INPUT ACCEPT [0:0]
:DIVERT-PREROUTING - [0:0]
[3:252] -A PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING
[1:84] -A PREROUTING -p udp -j MARK --set-xmark 0x1/0xffffffff
[3:252] -A DIVERT-PREROUTING -p icmp ${MARK} -m comment --comment "divert:owner=cli" -j NFQUEUE --queue-num 1234
[0:0] -A DIVERT-PREROUTING -p tcp ${MARK} -m comment --comment "divert:owner=999999:5:app" -j NFQUEUE --queue-num 5
[0:0] -A DIVERT-PREROUTING -m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED -m comment --comment "divert:owner=999999:5:app"
[0:0] -A DIVERT-PREROUTING -p udp -j ACCEPT
COMMIT
`;

function script(save: string, restore: (cmd: Command) => string | { fail: string } = () => '') {
  return new RecordingRunner((cmd) => (cmd.file.endsWith('-save') ? save : cmd.file.endsWith('-restore') ? restore(cmd) : ''));
}

test('IptablesBackend.install() creates chain and jump, then appends, in one restore', async () => {
  const runner = script(EMPTY);
  const rule = parseRule('-A input -p ICMP -j DIVERT 1234');
  const out = await drive(new IptablesBackend().install([{ kind: 'divert', rule, tag: CLI }, { kind: 'defrag', family: 'ipv4', tag: CLI }]), runner);
  assert.deepEqual(runner.commands.map((c) => [c.file, ...c.args].join(' ')), ['iptables-save -c -t mangle', 'iptables-restore -w 10 --noflush']);
  assert.equal(runner.inputs[0], `*mangle
-N DIVERT-PREROUTING
-I PREROUTING 1 -m comment --comment "divert:jump" -j DIVERT-PREROUTING
-A DIVERT-PREROUTING -p icmp ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 1234
-A DIVERT-PREROUTING -m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED -m comment --comment "${CLI}"
COMMIT
`);
  assert.deepEqual(out.map((r) => r.kind), ['divert', 'defrag']);
  assert.equal(out[1]?.spec, defragSpec(CLI));
});

test('IptablesBackend.install() reuses an existing chain and jump; -I keeps its position', async () => {
  const runner = script(WITH_CHAIN);
  const rule = parseRule('-I input 2 -p udp -j DIVERT 3');
  await drive(new IptablesBackend().install([{ kind: 'divert', rule, tag: CLI, position: 2 }]), runner);
  assert.equal(runner.inputs[0], `*mangle\n-I DIVERT-PREROUTING 2 -p udp ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 3\nCOMMIT\n`);
});

test('IptablesBackend.install() retries once when another process created the chain meanwhile', async () => {
  let n = 0;
  const runner = script(EMPTY, () => (++n === 1 ? { fail: 'iptables-restore: line 2 failed: Chain already exists.' } : ''));
  await drive(new IptablesBackend().install([{ kind: 'divert', rule: parseRule('-A output -j DIVERT 1'), tag: CLI }]), runner);
  assert.equal(runner.commands.length, 4);
  const other = script(EMPTY, () => ({ fail: 'iptables-restore: line 3 failed: Bad rule' }));
  await assert.rejects(drive(new IptablesBackend().install([{ kind: 'divert', rule: parseRule('-A output -j DIVERT 1'), tag: CLI }]), other), { name: 'FirewallError', stderr: 'iptables-restore: line 3 failed: Bad rule' });
});

test('IptablesBackend uses ip6tables for IPv6 and -legacy/-nft binaries when asked', async () => {
  const runner = script(EMPTY);
  await drive(new IptablesBackend({ variant: 'legacy' }).install([{ kind: 'divert', rule: parseRule('-A output -6 -j DIVERT 1'), tag: CLI }]), runner);
  assert.deepEqual(runner.commands.map((c) => c.file), ['ip6tables-legacy-save', 'ip6tables-legacy-restore']);
  assert.match(runner.inputs[0] ?? '', /-I POSTROUTING 1 .*-j DIVERT-POSTROUTING\n/);
});

test('IptablesBackend.list() reads our rules with counters, owner and stale flag; skips foreign ones', async () => {
  const backend = new IptablesBackend({ alive: (o) => o.kind === 'cli' });
  const listed = await drive(backend.list(['ipv4']), script(WITH_CHAIN));
  assert.equal(listed.length, 3);
  const [a, b, c] = listed;
  assert.deepEqual([a?.packets, a?.bytes, a?.owner, a?.stale, a?.chain, a?.position], [3, 252, { kind: 'cli' }, false, 'input', 1]);
  assert.deepEqual(a?.rule?.protocol, { number: 1, negated: false });
  assert.deepEqual([b?.owner, b?.stale, b?.kind], [{ kind: 'process', pid: 999999, startTime: 5, label: 'app' }, true, 'divert']);
  assert.deepEqual([c?.kind, c?.stale, c?.rule], ['defrag', true, undefined]);
});

test('IptablesBackend.remove() deletes by the spec iptables printed; tidy() keeps a used chain', async () => {
  const runner = script(WITH_CHAIN);
  const backend = new IptablesBackend({ alive: (o) => o.kind === 'cli' });
  const stale = (await drive(backend.list(['ipv4']), runner)).filter((r) => r.stale);
  const n = await drive(backend.remove(stale), runner);
  assert.equal(n, 2);
  assert.equal(runner.inputs.at(-1), `*mangle
-D DIVERT-PREROUTING -p tcp ${MARK} -m comment --comment "divert:owner=999999:5:app" -j NFQUEUE --queue-num 5
-D DIVERT-PREROUTING -m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED -m comment --comment "divert:owner=999999:5:app"
COMMIT
`);
  const before = runner.inputs.length;
  await drive(backend.tidy(['ipv4']), runner);
  assert.equal(runner.inputs.length, before, 'nothing to tidy while the chain has rules');
});

test('IptablesBackend.tidy() drops an empty chain with all its jumps, ignoring a race', async () => {
  const save = `*mangle\n:PREROUTING ACCEPT [0:0]\n:DIVERT-PREROUTING - [0:0]\n:DIVERT-OUTPUT - [0:0]\n[0:0] -A PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING\n[0:0] -A PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING\nCOMMIT\n`;
  const runner = script(save, () => ({ fail: 'line 4 failed: Directory not empty' }));
  await drive(new IptablesBackend().tidy(['ipv4']), runner);
  assert.equal(runner.inputs[0], `*mangle
-D PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING
-D PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING
-X DIVERT-PREROUTING
-X DIVERT-OUTPUT
COMMIT
`);
});

test('IptablesBackend.remove() does nothing for a rule that is already gone', async () => {
  const runner = script(EMPTY);
  const n = await drive(new IptablesBackend().remove([{ kind: 'divert', family: 'ipv4', hook: 'PREROUTING', spec: ruleSpec(parseRule('-A input -j DIVERT 1'), CLI) }]), runner);
  assert.equal(n, 0);
  assert.equal(runner.inputs.length, 0);
});
