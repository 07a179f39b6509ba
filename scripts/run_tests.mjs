#!/usr/bin/env node
// Runs the compiled test files (dist/**/*_test.js), each in its own `node --test` process, and
// prints per-file wall time, counts, skip reasons and diagnostics; fails when a file fails or no
// test ran. Node 20's `--test` expands no globs and silently passes on zero files, so the list
// is built here.
// Usage: node scripts/run_tests.mjs [--unit | --integration] [--jobs N] [name-filter…] [-- extra node --test flags]
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

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
// still running after FILE_TIMEOUT_S is killed and reported as failed. (Not --test-force-exit:
// on Node 20.20 it sometimes ends a file before all its tests ran, and they silently go missing.)
const FILE_TIMEOUT_S = Number(process.env.DIVERT_TEST_FILE_TIMEOUT_S ?? 600);

/** Runs one file; resolves with its counts, time and the TAP lines worth showing. */
function runFile(file) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...nodeFlags, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      err += `run_tests: ${file} still running after ${FILE_TIMEOUT_S} s: killed\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_S * 1000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
      resolve({ file, code, out, err, seconds: (performance.now() - started) / 1000, tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped') });
    });
  });
}

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
    } else if (/^\s+# /.test(l) && !/^\s+# Subtest:/.test(l)) {
      shown.push(l.trim()); // t.diagnostic(): e.g. why a cross-check was skipped, what was measured
    }
  }
  return shown;
}

const results = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const r = await runFile(files[next++]);
    results.push(r);
    const mark = r.code === 0 && r.tests > 0 ? 'ok  ' : 'FAIL';
    console.log(`${mark} ${relative('dist', r.file).padEnd(52)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.pass} passed${r.fail ? `, ${r.fail} failed` : ''}${r.skipped ? `, ${r.skipped} skipped` : ''}`);
    for (const l of notable(r.out)) console.log(`       ${l}`);
    if (r.code !== 0 && r.err.trim()) console.log(r.err.trim().split('\n').map((l) => `       ${l}`).join('\n'));
  }
}
const started = performance.now();
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const failed = results.filter((r) => r.code !== 0 || r.tests === 0);
console.log(`\n${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped in ${files.length} files, ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`slowest: ${[...results].sort((a, b) => b.seconds - a.seconds).slice(0, 5).map((r) => `${relative('dist', r.file)} ${r.seconds.toFixed(1)} s`).join(', ')}`);
if (sum('tests') === 0) {
  console.error('run_tests: zero tests ran; that is a failure');
  process.exit(1);
}
if (failed.length > 0) {
  console.error(`failed: ${failed.map((r) => relative('dist', r.file)).join(', ')}`);
  process.exit(1);
}
