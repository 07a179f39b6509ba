/**
 * A bare machine: iptables*, ip6tables*, nft, tc, tshark and ping are hidden (/dev/null bind-mounted
 * over each of them in a private mount namespace, so nothing outside this test sees a change).
 * In that view: inbound injection (IPv4 and IPv6), forwarded injection and multicast reinjection
 * all work (the injection test file, every test passing, none skipped), and the README's two
 * commands work from a clean clone of this repository's HEAD.
 *
 * The clone's own suite runs with DIVERT_BARE_NESTED=1, which skips this file there (no recursion).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrivilege, tryRun } from '../_harness/netns.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const HIDDEN = /^(iptables.*|ip6tables.*|xtables-.*|nft|tc|tshark|ping|ping4|ping6)$/;

/** Every file on PATH (and the sbin directories) whose name is one of the hidden programs. */
function programsToHide(): string[] {
  const dirs = new Set([...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter((d) => d.startsWith('/')));
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (HIDDEN.test(n)) found.push(join(dir, n));
  }
  return found.sort();
}

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/**
 * Runs `cmd args` in a private mount namespace where every program of {@link programsToHide} is
 * /dev/null (executing one fails), killed with its process group after `timeoutMs`.
 */
function runHidden(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
  const hide = programsToHide().map((p) => `mount --bind /dev/null '${p}'`).join(' && ');
  const script = `${hide || 'true'} && exec "$@"`;
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', cmd, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? freshEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: a timeout kills npm and everything it started
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => {
    out += `\n[bare_machine_test: killed after ${options.timeoutMs} ms]\n`;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, options.timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

const tail = (s: string, lines = 60): string => s.split('\n').slice(-lines).join('\n');

/** This environment without node:test's marker, so `node --test` in a child runs its files. */
function freshEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}
const nested = process.env['DIVERT_BARE_NESTED'] === '1';

// Each test skips itself (a skipped describe would leave the file with no test, a failure).
const skip = nested ? "inside the clean clone's own suite (DIVERT_BARE_NESTED=1)" : false;

describe('a bare machine: no iptables, nft, tc, tshark or ping', () => {
  test('the hidden programs cannot run in the hidden view, and still can outside it', { skip }, async (t) => {
    if (!requirePrivilege(t)) return;
    const hidden = programsToHide();
    t.diagnostic(`hidden: ${hidden.join(' ') || '(none installed)'}`);
    const probe = hidden.map((p) => `if '${p}' --version >/dev/null 2>&1; then echo "RUNS ${p}"; fi`).join('; ');
    const r = await runHidden('sh', ['-c', probe || 'true'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /RUNS /, 'every hidden program fails to run');
    for (const p of hidden) assert.ok(existsSync(p), `${p} is still there outside the view`);
  });

  test('inbound injection (IPv4, IPv6), forwarded injection and multicast reinjection work', { skip }, async (t) => {
    if (!requirePrivilege(t)) return;
    const file = join(ROOT, 'dist/test/integration/inject_test.js');
    const r = await runHidden(process.execPath, ['--test', '--test-reporter=tap', file], { timeoutMs: 180_000 });
    const count = (key: string): number => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(r.out)?.[1] ?? -1);
    t.diagnostic(`inject_test in the hidden view: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped`);
    assert.equal(r.code, 0, tail(r.out));
    for (const name of ['inbound: received locally as if from the peer', 'inbound on a router: a packet for the far side is forwarded there', 'multicast reinjection: a diverted group datagram leaves by the interface the program names']) {
      assert.match(r.out, new RegExp(`^\\s*ok \\d+ - ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `${name} passed`);
    }
    assert.ok(count('pass') >= 10, tail(r.out));
    assert.equal(count('fail'), 0);
    assert.equal(count('skipped'), 0, 'nothing skipped for want of a program');
  });

  test("the README's two commands, from a clean clone", { skip }, async (t) => {
    if (!requirePrivilege(t)) return;
    if (!tryRun('git', ['--version']).ok) {
      t.skip('git is not installed: cannot make a clean clone');
      return;
    }
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const commands = /^```sh\n(.*)\n(.*)\n```/m.exec(readme);
    assert.ok(commands, 'the README starts with its two commands');
    const [demoLine, testLine] = [commands[1]!, commands[2]!].map((l) => l.replace(/\s+#.*$/, '').trim());
    assert.equal(demoLine, 'npm ci && npx divert demo');
    assert.equal(testLine, 'npm ci && npm test');

    const dir = mkdtempSync(join(tmpdir(), 'divert-clone-'));
    chmodSync(dir, 0o755); // tests run a child as user nobody, which must read the clone
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // The checkout may belong to another user than root, and git (2.35.2 on) refuses to read such
    // a repository, even to clone it, unless safe.directory says so in a protected config: a
    // global config of this test's own (GIT_CONFIG_GLOBAL, git 2.32 on).
    const gitConfig = join(dir, 'gitconfig');
    writeFileSync(gitConfig, '[safe]\n\tdirectory = *\n');
    const clone = spawnSync('git', ['clone', '--quiet', ROOT, join(dir, 'divert')], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: gitConfig } });
    assert.equal(clone.status, 0, clone.stderr);
    const cwd = join(dir, 'divert');
    const env = freshEnv({ DIVERT_BARE_NESTED: '1', npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' });

    const demo = await runHidden('sh', ['-c', demoLine], { cwd, env, timeoutMs: 600_000 });
    assert.equal(demo.code, 0, tail(demo.out));
    assert.match(demo.out, /Every step worked\./, tail(demo.out));

    const suite = await runHidden('sh', ['-c', testLine], { cwd, env, timeoutMs: 1_200_000 });
    const summary = /^(\d+) passed, (\d+) failed, (\d+) skipped in (\d+) files, .*$/m.exec(suite.out);
    t.diagnostic(`the clone's suite in the hidden view: ${summary?.[0] ?? 'no summary'}`);
    for (const line of suite.out.split('\n').filter((l) => /not installed|skipped|SKIP/.test(l)).slice(0, 20)) t.diagnostic(line.trim());
    assert.equal(suite.code, 0, tail(suite.out, 120));
    assert.ok(summary && Number(summary[1]) > 500 && summary[2] === '0', tail(suite.out));
  });
});
