import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, evalFilter } from './evaluate.js';
import { formatFilter } from './format.js';
import { CASES, PACKETS } from './testdata/cases.js';
import { WINDIVERT_CASES } from './testdata/windivert_cases.js';

test('the case table holds WinDivert\'s test suite, its documented examples and divert\'s own cases (>= 300)', () => {
  assert.ok(CASES.length >= 300, `${CASES.length} cases`);
  assert.equal(WINDIVERT_CASES.length, 241, 'every case of test/test.c');
  for (const doc of ['outbound and !loopback and (tcp.DstPort == 80 or udp.DstPort == 53)', 'inbound and tcp.Syn', 'true', 'false']) {
    assert.ok(CASES.some((c) => c.filter === doc), doc);
  }
  for (const c of CASES) assert.ok(PACKETS[c.packet], `packet ${c.packet}`);
  const families = new Set(CASES.map((c) => PACKETS[c.packet]![0]! >> 4));
  assert.deepEqual([...families].sort(), [4, 6]);
});

test('compileFilter().match() gives every case its expected answer', () => {
  const wrong: string[] = [];
  for (const c of CASES) {
    if (c.match === 'random') continue;
    const got = compileFilter(c.filter).match(PACKETS[c.packet]!, c.address);
    if (got !== c.match) wrong.push(`${c.packet} ${JSON.stringify(c.address)}: ${c.filter} → ${got}, expected ${c.match}`);
  }
  assert.deepEqual(wrong, []);
});

test('evalFilter() agrees with compileFilter() on every case', () => {
  for (const c of CASES) {
    const p = PACKETS[c.packet]!;
    assert.equal(evalFilter(c.filter, p, c.address), compileFilter(c.filter).match(p, c.address), c.filter);
  }
});

test('cases on random8/16/32 compile and evaluate: their answer hashes the packet and timestamp, unchecked as in WinDivert', () => {
  const random = CASES.filter((c) => c.match === 'random');
  assert.ok(random.length >= 15);
  for (const c of random) {
    const f = compileFilter(c.filter);
    const a = f.match(PACKETS[c.packet]!, { timestamp: 12345 });
    assert.equal(f.match(PACKETS[c.packet]!, { timestamp: 12345 }), a, 'deterministic for one timestamp');
  }
});

test('formatFilter() text evaluates like the filter on every case, and formats to itself', () => {
  for (const c of CASES) {
    const canonical = formatFilter(c.filter);
    assert.equal(formatFilter(canonical), canonical, c.filter);
    const p = PACKETS[c.packet]!;
    const address = { ...c.address, timestamp: 99 };
    assert.equal(compileFilter(canonical).match(p, address), compileFilter(c.filter).match(p, address), `${c.filter} → ${canonical}`);
  }
});
