/**
 * Three processes add and remove rules in one namespace at the same time, in their own tables
 * and in the shared persistent one: each one's tidy may try to delete the shared table another
 * is about to use (NLM_F_NONREC makes that fail instead of taking the other's rules), and one
 * flushes its own persistent rules under its handles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createNetns, requirePrivilege } from '../_harness/netns.js';
import { divertTables } from '../_harness/ruleset.js';
import { listRules } from '../../src/firewall/mod.js';

const MOD = new URL('../../src/firewall/mod.js', import.meta.url).href;
const ROUNDS = 20;

/** Runs one worker to completion; resolves with its exit code and output. */
function worker(netns: string, id: number): Promise<{ code: number | null; out: string }> {
  const code = `
    import { addRule, flushRules } from ${JSON.stringify(MOD)};
    const netns = ${JSON.stringify(netns)};
    for (let i = 0; i < ${ROUNDS}; i++) {
      const own = await addRule('-A input -p udp --dport ${id} -j DIVERT ${id}', { netns, label: 'w${id}' });
      const h = await addRule(['-A input -p udp --dport ${id} -j DIVERT ${id}', '-A output -p tcp -j DIVERT ${id}'], { netns, label: 'w${id}', persistent: true });
      if (${id} === 3 && i % 2 === 0) await flushRules({ netns, owner: h.owner });
      await h.remove();
      await own.remove();
    }
    process.stdout.write('done\\n');`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve({ code: c, out });
    });
  });
}

test('3 processes adding and removing rules concurrently in one namespace all succeed and leave nothing', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const results = await Promise.all([1, 2, 3].map((id) => worker(ns.name, id)));
  for (const [i, r] of results.entries()) assert.deepEqual([r.code, r.out], [0, 'done\n'], `worker ${i + 1}`);
  assert.deepEqual(await listRules({ netns: ns.name }), []);
  assert.deepEqual(await divertTables(ns), [], 'no table left behind');
});
