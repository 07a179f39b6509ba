/**
 * Where child processes start, read from the source: the library (everything outside src/cli)
 * starts none, and in the CLI only the files listed here may, each for the reason given. A new
 * spawn elsewhere fails this test until someone checks what reaches its argument vector.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Each file allowed to start processes, and what reaches the argument vectors it builds. */
const ALLOWED: Readonly<Record<string, string>> = {
  'src/cli/sys.ts': 'runQuiet/spawnPiped: callers pass their words (below)',
  'src/cli/sandbox.ts': 'ip netns add/exec/del with names made here from a prefix and the pid (demo, doctor)',
  'src/cli/demo/rootless.ts': 'unshare, node, the script path and the word "demo" (demo.ts passes fixed words)',
};

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('_test.ts') && !name.startsWith('_test_')) out.push(path);
  }
  return out;
}

test('only the listed CLI files import node:child_process; the library starts no process', () => {
  const found = sources(join(ROOT, 'src'))
    .filter((f) => /from 'node:child_process'|require\('(node:)?child_process'\)|from 'child_process'/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(ROOT, f))
    .sort();
  assert.ok(found.length > 0, 'the scan found the CLI files it knows (is ROOT right?)');
  assert.deepEqual(found, Object.keys(ALLOWED).sort());
});

test('the demo re-runs itself with fixed words, not the user\'s argv', () => {
  const demo = readFileSync(join(ROOT, 'src/cli/commands/demo.ts'), 'utf8');
  const calls = [...demo.matchAll(/reexecInUserns\((.*?)\);/g)].map((m) => m[1]);
  assert.deepEqual(calls, ["[process.argv[1]!, 'demo']"]);
});

test('queue_proc reads another namespace\'s counters itself: no process, no nsenter, no ip netns exec', () => {
  const src = readFileSync(join(ROOT, 'src/cli/queue_proc.ts'), 'utf8');
  assert.doesNotMatch(src, /child_process|nsenter|execFile|'ip', \['netns', 'exec'/);
  assert.match(src, /openInNetns/);
});
