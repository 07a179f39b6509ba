/** Concurrency between save and restore, and handles that fail to remove. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IptablesBackend } from './iptables.js';
import { RecordingBackend, RecordingRunner } from './recording.js';
import { drive, type Command, type Plan } from './runner.js';
import { parseRule } from './parse.js';
import { ruleSpec } from './iptables_text.js';
import { addRule } from './api.js';
import { installExitCleanup } from './cleanup.js';
import { FirewallError } from '../errors.js';
import type { InstalledRule } from './backend.js';

const CLI = 'divert:owner=cli';
const EMPTY = '*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n';
const spec = (text: string): string => ruleSpec(parseRule(text), CLI);
const withRules = (...texts: string[]): string =>
  `*mangle\n:PREROUTING ACCEPT [0:0]\n:DIVERT-PREROUTING - [0:0]\n[0:0] -A PREROUTING -m comment --comment "divert:jump" -j DIVERT-PREROUTING\n${texts.map((t) => `[0:0] -A DIVERT-PREROUTING ${spec(t)}\n`).join('')}COMMIT\n`;

/** Answers saves in turn from `saves`, restores in turn from `restores` (then success). */
function sequence(saves: string[], restores: Array<string | { fail: string }>): RecordingRunner {
  let s = 0;
  let r = 0;
  return new RecordingRunner((cmd: Command) => (cmd.file.endsWith('-save') ? saves[Math.min(s++, saves.length - 1)] ?? '' : restores[r++] ?? ''));
}

test('install() reads again when another process\'s tidy deleted our empty chain meanwhile', async () => {
  const runner = sequence([withRules(), EMPTY], [{ fail: 'iptables-restore: line 2 failed: No chain/target/match by that name.' }]);
  await drive(new IptablesBackend().install([{ kind: 'divert', rule: parseRule('-A input -j DIVERT 1'), tag: CLI }]), runner);
  assert.equal(runner.commands.length, 4);
  assert.match(runner.inputs[1] ?? '', /^\*mangle\n-N DIVERT-PREROUTING\n-I PREROUTING 1 /, 'the second attempt creates the chain');
});

test('remove() reads again when a rule vanished meanwhile (a concurrent flush) instead of failing', async () => {
  const a = '-A input -p udp -j DIVERT 1';
  const b = '-A input -p tcp -j DIVERT 2';
  const runner = sequence([withRules(a, b), withRules(b)], [{ fail: 'iptables-restore: line 2 failed: Bad rule (does a matching rule exist in that chain?).' }]);
  const rules: InstalledRule[] = [a, b].map((t) => ({ kind: 'divert', family: 'ipv4', hook: 'PREROUTING', spec: spec(t) }));
  assert.equal(await drive(new IptablesBackend().remove(rules), runner), 1);
  assert.equal(runner.inputs[1], `*mangle\n-D DIVERT-PREROUTING ${spec(b)}\nCOMMIT\n`);
  const gone = { fail: 'x: line 2 failed: Bad rule (does a matching rule exist in that chain?).' };
  const stuck = sequence([withRules(a)], [gone, gone, gone, gone, gone]);
  await assert.rejects(drive(new IptablesBackend().remove(rules.slice(0, 1)), stuck), FirewallError, 'bounded: gives up after a few reads');
  assert.equal(stuck.commands.length, 8);
});

test('-I beyond the end of our chain appends (as the nftables backend does)', async () => {
  const runner = sequence([withRules('-A input -p udp -j DIVERT 1')], []);
  const rule = parseRule('-A input -p tcp -j DIVERT 2');
  await drive(new IptablesBackend().install([{ kind: 'divert', rule, tag: CLI, position: 9 }, { kind: 'divert', rule, tag: CLI, position: 2 }]), runner);
  assert.equal(runner.inputs[0], `*mangle\n-A DIVERT-PREROUTING ${spec('-A input -p tcp -j DIVERT 2')}\n-I DIVERT-PREROUTING 2 ${spec('-A input -p tcp -j DIVERT 2')}\nCOMMIT\n`);
});

class FlakyBackend extends RecordingBackend {
  failures = 1;
  override *remove(rules: readonly InstalledRule[]): Plan<number> {
    if (this.failures-- > 0) throw new FirewallError('iptables-restore failed', { backend: 'recording', argv: [], exitCode: 1, stderr: 'boom' });
    return yield* super.remove(rules);
  }
}

test('handle.remove() that fails stays registered for exit cleanup and can be retried', async () => {
  const backend = new FlakyBackend();
  const before = process.listenerCount('SIGTERM');
  const h = await addRule('-A input -j DIVERT 1', { backend });
  installExitCleanup(h);
  await assert.rejects(h.remove(), FirewallError);
  assert.equal(h.removed, false);
  assert.equal(process.listenerCount('SIGTERM'), before + 1, 'exit cleanup still registered');
  assert.equal(await h.remove(), 1);
  assert.equal(h.removed, true);
  assert.equal(process.listenerCount('SIGTERM'), before);
  backend.failures = 1;
  const s = await addRule('-A input -j DIVERT 2', { backend });
  assert.throws(() => s.removeSync(), FirewallError);
  assert.equal(s.removed, false);
  assert.equal(s.removeSync(), 1);
});
