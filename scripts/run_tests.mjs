#!/usr/bin/env node
// Runs the compiled test files (dist/**/*_test.js), each in its own `node --test` process, and
// prints per-file wall time, counts, skip reasons and diagnostics; fails when a file fails or no
// test ran. Node 20's `--test` expands no globs and silently passes on zero files, so the list
// is built here.
// Usage: node scripts/run_tests.mjs [--unit | --integration] [--jobs N] [name-filter…] [-- extra node --test flags]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes < 0 ? argv : argv.slice(0, dashes);
const nodeFlags = dashes < 0 ? [] : argv.slice(dashes + 1);
const only = own.includes('--unit') ? 'unit' : own.includes('--integration') ? 'integration' : 'all';
const jobsAt = own.indexOf('--jobs');
const jobs = jobsAt >= 0 ? Number(own[jobsAt + 1]) : Math.max(1, availableParallelism() - 1);
const filters = own.filter((a, i) => !a.startsWith('--') && own[i - 1] !== '--jobs');

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('_test.js')) out.push(path);
  }
  return out;
}

const files = walk('dist')
  .filter((f) => only === 'all' || (only === 'integration') === f.includes('/integration/'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('run_tests: no test files found under dist/ (did the build run?)');
  process.exit(1);
}

// A file that leaves a handle open after a failure (a socket, a timer) must not hang the run: one
// still running after its time limit is killed and reported as failed. (Not --test-force-exit:
// on Node 20.20 it sometimes ends a file before all its tests ran, and they silently go missing.)
// The limit is 600 s, except for files whose own budgets are longer: each must stay below the
// runner's limit, or the runner kills a file that would have failed with a clear message (or
// passed). DIVERT_TEST_FILE_TIMEOUT_S, when set, is every file's limit.
const DEFAULT_TIMEOUT_S = 600;
const FILE_TIMEOUT_S = {
  // A probe (30 s), the injection file (180 s), the README's demo (600 s) and its whole suite
  // (1200 s) from a clean clone, one after another, each under its own limit (~130 s here in all).
  'bare_machine_test.js': 2400,
  // The case table (up to 300 s) and the random run (FILTER_FUZZ_SECONDS, default 600), plus setup.
  'filter_kernel_test.js': 300 + Number(process.env.FILTER_FUZZ_SECONDS ?? 600) + 300,
};
const timeoutOf = (file) => Number(process.env.DIVERT_TEST_FILE_TIMEOUT_S ?? FILE_TIMEOUT_S[basename(file)] ?? DEFAULT_TIMEOUT_S);
// After SIGTERM, a file's processes get this long to clean up (their namespaces) before SIGKILL.
const KILL_GRACE_MS = 10_000;

/** State and process group of process `pid` (from /proc), or undefined when there is none. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** Whether process `pid` is running (a zombie is not: one can wait a while here to be reaped). */
function pidRunning(pid) {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z';
}

/** Whether any process of group `pgid` is running (zombies aside). */
function groupRunning(pgid) {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(name);
    if (s && s.pgrp === pgid && s.state !== 'Z') return true;
  }
  return false;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits up to `ms` for process group `pgid` to be empty; true when it is. */
async function groupGone(pgid, ms) {
  const until = Date.now() + ms;
  while (groupRunning(pgid)) {
    if (Date.now() >= until) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Ends process group `pgid`: SIGTERM (the test harness then deletes its namespaces and exits),
 * then SIGKILL to whatever is left after KILL_GRACE_MS.
 */
async function endGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return; // none left
  }
  if (await groupGone(pgid, KILL_GRACE_MS)) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    return;
  }
  await groupGone(pgid, 5000);
}

/**
 * Deletes the namespaces test/_harness/netns.ts names dvt<pid>-<n> whose process is gone (a file
 * killed with SIGKILL could not delete its own). Any other namespace, and those of running
 * processes (another run, a nested one), are left alone. Returns the names deleted.
 */
function sweepNamespaces() {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const swept = [];
  for (const line of r.stdout.split('\n')) {
    const name = line.split(' ')[0];
    const m = /^dvt(\d+)-\d+$/.exec(name);
    if (!m || pidRunning(Number(m[1]))) continue;
    if (spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' }).status === 0) swept.push(name);
  }
  return swept;
}

const running = new Set(); // process groups of the files running now
let stopping = false; // a signal came: start no more files

/** Runs one file; resolves with its counts, time, notes and the TAP lines worth showing. */
function runFile(file) {
  const started = performance.now();
  const limit = timeoutOf(file);
  return new Promise((resolve) => {
    // Its own process group (detached): `node --test` runs the file in a child process, which
    // starts peers of its own; killing the group ends them all, not only the `node --test` parent.
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...nodeFlags, file], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child.pid);
    let out = '';
    let err = '';
    const notes = [];
    let killed;
    const timer = setTimeout(() => {
      notes.push(`run_tests: still running after ${limit} s: killed with its process group`);
      killed = endGroup(child.pid);
    }, limit * 1000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      await killed;
      if (!(await groupGone(child.pid, 1000))) {
        // The file ended but left processes behind (a peer it never stopped): end them too.
        notes.push('run_tests: the file left processes running in its group: killed');
        await endGroup(child.pid);
      }
      running.delete(child.pid);
      const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
      // A killed file fails whatever its status (`node --test` may exit 0 on SIGTERM).
      resolve({ file, code: killed ? 'timeout' : code ?? signal, out, err, notes, seconds: (performance.now() - started) / 1000, tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped') });
    });
  });
}

// The files run in process groups of their own, so a Ctrl-C at the terminal no longer reaches
// them: pass it (or a SIGTERM) on, wait for their cleanup, and exit as killed by it.
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, async () => {
    stopping = true;
    console.error(`run_tests: ${signal}: ending ${running.size} running file(s)`);
    await Promise.all([...running].map(endGroup));
    sweepNamespaces();
    process.exit(status);
  });
}

const leftBefore = sweepNamespaces();
if (leftBefore.length > 0) console.log(`run_tests: deleted ${leftBefore.length} namespace(s) left by ended processes: ${leftBefore.join(' ')}`);

/** The failing tests' TAP blocks, skip reasons and test diagnostics of a file's output. */
function notable(out) {
  const lines = out.split('\n');
  const shown = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^\s*not ok /.test(l)) {
      shown.push(l);
      for (let j = i + 1; j < lines.length && !/^\s*(ok|not ok) /.test(lines[j]) && !/^\s*# Subtest/.test(lines[j]); j++) shown.push(lines[j]);
    } else if (/# SKIP/.test(l)) {
      shown.push(l.trim());
    } else if (/^\s*# /.test(l) && !/^\s*# Subtest:/.test(l) && !/^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) \S+$/.test(l)) {
      // t.diagnostic(): e.g. why a cross-check was skipped, what was measured. Indented inside a
      // describe(); at the margin for a top-level test, as are the file's counts (left out).
      shown.push(l.trim());
    }
  }
  return shown;
}

const results = [];
let next = 0;
async function worker() {
  while (next < files.length && !stopping) {
    const r = await runFile(files[next++]);
    results.push(r);
    const mark = r.code === 0 && r.tests > 0 ? 'ok  ' : 'FAIL';
    console.log(`${mark} ${relative('dist', r.file).padEnd(52)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.pass} passed${r.fail ? `, ${r.fail} failed` : ''}${r.skipped ? `, ${r.skipped} skipped` : ''}`);
    for (const l of [...r.notes, ...notable(r.out)]) console.log(`       ${l}`);
    if (r.code !== 0 && r.err.trim()) console.log(r.err.trim().split('\n').map((l) => `       ${l}`).join('\n'));
  }
}
const started = performance.now();
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const failed = results.filter((r) => r.code !== 0 || r.tests === 0);
console.log(`\n${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped in ${files.length} files, ${((performance.now() - started) / 1000).toFixed(1)} s`);
const leftAfter = sweepNamespaces();
if (leftAfter.length > 0) console.log(`run_tests: deleted ${leftAfter.length} namespace(s) the files left: ${leftAfter.join(' ')}`);
console.log(`slowest: ${[...results].sort((a, b) => b.seconds - a.seconds).slice(0, 5).map((r) => `${relative('dist', r.file)} ${r.seconds.toFixed(1)} s`).join(', ')}`);
if (sum('tests') === 0) {
  console.error('run_tests: zero tests ran; that is a failure');
  process.exit(1);
}
if (failed.length > 0) {
  console.error(`failed: ${failed.map((r) => relative('dist', r.file)).join(', ')}`);
  process.exit(1);
}
