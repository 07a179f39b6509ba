#!/usr/bin/env node
// Runs the compiled test files (dist/**/*_test.js) with node's test runner and fails when no test ran.
// Node 20's `--test` expands no globs and silently passes on zero files, so the list is built here.
// Usage: node scripts/run_tests.mjs [--unit | --integration] [extra node --test flags]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const only = args.includes('--unit') ? 'unit' : args.includes('--integration') ? 'integration' : 'all';
const passThrough = args.filter((a) => a !== '--unit' && a !== '--integration');

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('_test.js')) out.push(path);
  }
  return out;
}

const files = walk('dist')
  .filter((f) => {
    const integration = f.includes('/integration/');
    return only === 'all' || (only === 'integration') === integration;
  })
  .sort();
if (files.length === 0) {
  console.error('run_tests: no test files found under dist/ (did the build run?)');
  process.exit(1);
}

const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...passThrough, ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', (code) => {
  const tests = Number(/# tests (\d+)/.exec(tail)?.[1] ?? 0);
  const pass = Number(/# pass (\d+)/.exec(tail)?.[1] ?? 0);
  const fail = Number(/# fail (\d+)/.exec(tail)?.[1] ?? 0);
  const skipped = Number(/# skipped (\d+)/.exec(tail)?.[1] ?? 0);
  console.log(`${pass} passed, ${fail} failed, ${skipped} skipped`);
  if (tests === 0) {
    console.error('run_tests: zero tests ran; that is a failure');
    process.exit(1);
  }
  process.exit(code ?? 1);
});
