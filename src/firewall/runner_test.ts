import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execRunner, stderrSummary } from './runner.js';
import { FirewallError } from '../errors.js';

const BANNER = 'iptables-restore v1.8.9 (nf_tables): \nline 2: RULE_APPEND failed (Invalid argument): rule in chain DIVERT-PREROUTING\n';

test('stderrSummary() skips a bare version banner and the -h hint, keeps every real line', () => {
  assert.equal(stderrSummary(BANNER), 'line 2: RULE_APPEND failed (Invalid argument): rule in chain DIVERT-PREROUTING');
  assert.equal(stderrSummary('iptables-restore v1.8.9 (nf_tables): unknown option "--bogus"\nError occurred at line: 2\nTry `iptables-restore -h\' or \'iptables-restore --help\' for more information.\n'),
    'iptables-restore v1.8.9 (nf_tables): unknown option "--bogus"; Error occurred at line: 2');
  assert.equal(stderrSummary('iptables-restore: line 2 failed\n'), 'iptables-restore: line 2 failed');
  assert.equal(stderrSummary('iptables v1.8.9 (legacy):\n'), 'iptables v1.8.9 (legacy):', 'nothing else: the banner itself');
});

test('a failing binary\'s error message names the real error, async and sync', async () => {
  const runner = execRunner();
  const cmd = { file: 'sh', args: ['-c', `printf '${BANNER.replace(/\n/g, '\\n')}' >&2; exit 4`] };
  const check = (e: unknown): boolean => e instanceof FirewallError && /failed \(exit 4\): line 2: RULE_APPEND failed \(Invalid argument\)/.test(e.message) && e.stderr.startsWith('iptables-restore v1.8.9');
  await assert.rejects(runner.run(cmd), check);
  assert.throws(() => runner.runSync(cmd), check);
});
