/** Owner-tagged rules we cannot rebuild, and protocol names as iptables-save prints them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { IptablesBackend } from './iptables.js';
import { RecordingRunner } from './recording.js';
import { drive } from './runner.js';
import { parseRule } from './parse.js';
import { parseSpec, ruleSpec } from './iptables_text.js';
import { parseProtocolsFile, savedProtocolNumber } from './protocols.js';
import { deleteRule, flushRules, listRules, sweepStaleRules } from './api.js';

const CLI = 'divert:owner=cli';
const MARK = '-m mark ! --mark 0x40000000/0x40000000';
const DEAD = 'divert:owner=999999:5';
const SAVE = `*mangle
:PREROUTING ACCEPT [0:0]
:DIVERT-PREROUTING - [0:0]
[0:0] -A PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING
[1:2] -A DIVERT-PREROUTING -m length --length 100 ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 3
[0:0] -A DIVERT-PREROUTING -p icmp -m comment --comment "${DEAD}" -j ACCEPT
[0:0] -A DIVERT-PREROUTING -p icmp -m icmp --icmp-type any ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 3
[0:0] -A DIVERT-PREROUTING -p udp -j ACCEPT
COMMIT
`;

function script(save: string): RecordingRunner {
  return new RecordingRunner((cmd) => (cmd.file.endsWith('-save') ? save : ''));
}

const alive = (o: { kind: string }): boolean => o.kind === 'cli';

test('list() shows every owner-tagged rule in our chains, without a rule when it cannot be rebuilt', async () => {
  const listed = await drive(new IptablesBackend({ alive }).list(['ipv4']), script(SAVE));
  assert.deepEqual(listed.map((l) => [l.position, l.kind, l.owner?.kind, l.stale, l.rule === undefined]), [
    [1, 'divert', 'cli', false, true],
    [2, 'divert', 'process', true, true],
    [3, 'divert', 'cli', false, false],
  ]);
  assert.equal(listed[0]?.packets, 1);
  assert.deepEqual(listed[2]?.rule?.icmpType, { type: 255, negated: false }, '"any" is type 255');
});

test('flush, sweep and remove delete unrebuilt rules by their saved text; untagged rules stay', async () => {
  const backend = new IptablesBackend({ alive });
  const swept = script(SAVE);
  assert.equal(await sweepStaleRules({ backend, runner: swept, family: 'ipv4' }), 1);
  assert.match(swept.inputs[0] ?? '', new RegExp(`^\\*mangle\\n-D DIVERT-PREROUTING -p icmp -m comment --comment "${DEAD}" -j ACCEPT\\nCOMMIT\\n$`));
  const flushed = script(SAVE);
  assert.equal(await flushRules({ backend, runner: flushed, family: 'ipv4' }), 3);
  assert.equal(flushed.inputs[0]?.split('\n').filter((l) => l.startsWith('-D ')).length, 3);
  assert.doesNotMatch(flushed.inputs[0] ?? '', /-p udp -j ACCEPT/, 'a rule without our tag is never ours');
  const removed = script(SAVE);
  const raw = (await listRules({ backend, runner: removed, family: 'ipv4' }))[0];
  assert.ok(raw);
  assert.equal(await drive(backend.remove([{ kind: raw.kind, family: raw.family, hook: raw.hook, spec: raw.spec }]), removed), 1);
  assert.match(removed.inputs[0] ?? '', /-D DIVERT-PREROUTING -m length --length 100 /);
});

test('deleteRule() finds a rule that iptables saved under another protocol name', async () => {
  const save = `*mangle\n:DIVERT-PREROUTING - [0:0]\n[0:0] -A DIVERT-PREROUTING -p ggp ${MARK} -m comment --comment "${CLI}" -j NFQUEUE --queue-num 3\nCOMMIT\n`;
  if (savedProtocolNumber('ggp') !== 3) return; // no /etc/protocols here
  const runner = script(save);
  assert.equal(await deleteRule('-A input -p 3 -j DIVERT 3', { backend: new IptablesBackend(), runner }), true);
  assert.match(runner.inputs[0] ?? '', /-D DIVERT-PREROUTING -p ggp /);
});

test('savedProtocolNumber() reads /etc/protocols names and aliases, then ours', () => {
  const table = parseProtocolsFile('# c\nip\t0\tIP\nggp 3 GGP # gateway\nmobility-header 135 Mobility-Header\nmptcp 262 MPTCP\n');
  assert.equal(savedProtocolNumber('ggp', table), 3);
  assert.equal(savedProtocolNumber('GGP', table), 3);
  assert.equal(savedProtocolNumber('mobility-header', table), 135);
  assert.equal(savedProtocolNumber('mptcp', table), undefined, 'numbers above 255 are not IP protocols');
  assert.equal(savedProtocolNumber('gre', table), 47, 'our own names too');
  assert.equal(savedProtocolNumber('143', table), 143);
  assert.equal(savedProtocolNumber('nonsense', table), undefined);
});

test('every protocol number 1–255 reads back, whatever name iptables-save prints for it', () => {
  const text = existsSync('/etc/protocols') ? readFileSync('/etc/protocols', 'utf8') : '';
  const byNumber = new Map<number, string>();
  for (const [name, n] of parseProtocolsFile(text)) if (!byNumber.has(n)) byNumber.set(n, name);
  for (let n = 1; n <= 255; n++) {
    if (n === 1 || n === 58) continue; // family-bound (icmp / icmpv6), covered elsewhere
    const rule = parseRule(`-A input -p ${n} -j DIVERT 1`);
    const printed = ruleSpec(rule, CLI).replace(/^-p \S+/, `-p ${byNumber.get(n) ?? n}`);
    const back = parseSpec(printed, 'PREROUTING', 'ipv4');
    assert.equal(back.kind === 'divert' && back.rule.protocol?.number, n, printed);
  }
});
