/**
 * The public types as a user compiles them: test/api/fixtures/public_types.ts, against the
 * emitted declarations (dist/src/**\/*.d.ts, what the package ships), with the repo's own tsc in
 * strict nodenext mode. As written it compiles (each `@ts-expect-error` met an error); with the
 * directives removed, exactly the lines after them fail. And scripts/check_api.mjs finds every
 * type a public declaration uses exported by an entry point, and a doc comment on every public
 * declaration and member of every entry point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'test', 'api', 'fixtures', 'public_types.ts');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

/** Compiles `source` as a user's file; returns tsc's exit code and the 1-based lines with errors. */
function compile(dir: string, source: string): { code: number | null; errorLines: number[]; out: string } {
  writeFileSync(join(dir, 'consumer.ts'), source);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', target: 'es2022', lib: ['es2022', 'esnext.disposable'], strict: true, noEmit: true, skipLibCheck: false,
      types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      paths: { 'divert': [join(ROOT, 'dist/src/mod.d.ts')], 'divert/*': [join(ROOT, 'dist/src/*/mod.d.ts')] },
    },
    files: ['consumer.ts'],
  }));
  const r = spawnSync(TSC, ['-p', dir, '--pretty', 'false'], { encoding: 'utf8', timeout: 120_000 });
  const errorLines = [...r.stdout.matchAll(/consumer\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1]));
  return { code: r.status, errorLines: [...new Set(errorLines)], out: r.stdout + r.stderr };
}

test('public types: wrong events, payloads, un-narrowed views and internals fail to compile; the rest compiles', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'divert-types-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const source = readFileSync(FIXTURE, 'utf8');
  const asWritten = compile(dir, source);
  assert.equal(asWritten.code, 0, asWritten.out);

  const lines = source.split('\n');
  const expected: number[] = [];
  const stripped = lines.map((l, i) => {
    if (!/^\s*\/\/ @ts-expect-error/.test(l)) return l;
    expected.push(i + 2); // the line after it, 1-based
    return '';
  });
  assert.ok(expected.length >= 11, `the fixture has its expectations (${expected.length})`);
  const bare = compile(dir, stripped.join('\n'));
  assert.notEqual(bare.code, 0);
  assert.deepEqual(bare.errorLines, expected, bare.out);
});

/** scripts/check_api.mjs's report, for `entries` (all when none). */
function checkApi(...entries: string[]): { undocumented: string[]; unnameable: string[] } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'check_api.mjs'), '--json', ...entries.flatMap((e) => ['--entry', e])], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(r.stdout) as { undocumented: string[]; unnameable: string[] };
}

test('public types: every type a public declaration uses can be named by users (scripts/check_api.mjs)', () => {
  assert.deepEqual(checkApi().unnameable, []);
});

/** The entry points of package.json's "exports" (those with types). */
const ENTRIES = Object.entries(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports as Record<string, unknown>)
  .flatMap(([k, v]) => (typeof v === 'object' && v !== null && 'types' in v ? [k] : []));

test('public types: the doc comment tests below cover the entry points of package.json', () => {
  assert.ok(ENTRIES.includes('.') && ENTRIES.includes('./packet') && ENTRIES.includes('./testing'), `entry points read: ${ENTRIES.join(', ')}`);
});

for (const entry of ENTRIES) {
  test(`public types: '${entry === '.' ? 'divert' : `divert/${entry.slice(2)}`}' has a doc comment on every public declaration and member`, () => {
    assert.deepEqual(checkApi(entry).undocumented, []);
  });
}
