/**
 * The README's ten-line example, run as written (only its import is resolved to this checkout):
 * it must divert pings, print them, reinject them, and leave no rule behind on Ctrl-C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createNetns, connect, pingAsync, requirePrivilege, spawnWatched, waitForAsync } from '../_harness/netns.js';
import { divertRules, divertTables } from '../_harness/ruleset.js';

const ROOT = new URL('../../../', import.meta.url);

test('README example: intercepts, prints and reinjects ICMP; Ctrl-C removes its rule', async (t) => {
  if (!requirePrivilege(t)) return;
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
  const code = /```ts\n([^]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'the README has a TypeScript example');
  assert.match(code, /from 'divert'/);
  // Inside the package folder, `import … from 'divert'` resolves to this package (self-reference).
  const file = new URL('dist/readme_example.mjs', ROOT).pathname;
  writeFileSync(file, code);
  const a = createNetns();
  const b = createNetns();
  const link = connect(a, b, 30);
  const w = spawnWatched(b, process.execPath, [file], 20_000);
  // The rule is live once the socket is bound; wait for it (read over netlink).
  assert.ok(await waitForAsync(async () => (await divertRules(b)).some((r) => r.startsWith(`divert-${w.child.pid} divert `)), 5000, 50), 'the example installed its rule, in its own table');
  assert.equal(await pingAsync(a, link.b4, 2), true, 'pings pass through the example');
  assert.ok(await w.waitForOutput(new RegExp(`84 bytes via ${link.b} \\(${link.b4.replaceAll('.', '\\.')}\\)`)), w.stdout() + w.stderr());
  w.child.kill('SIGINT');
  const end = await w.exit;
  assert.ok(end.signal === 'SIGINT' || end.code === 130, JSON.stringify(end));
  assert.deepEqual(await divertRules(b), [], 'no rule left behind');
  assert.deepEqual(await divertTables(b), [], 'no table left behind');
});
