import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveTest, type FilterAst, type FilterNode } from './ast.js';
import { parseFilter } from './check.js';
import { compileFilter, evalFilter } from './evaluate.js';
import { formatFilter } from './format.js';
import { CASES, PACKETS } from './testdata/cases.js';
import { WINDIVERT_HASHES, type WinDivertHash } from './testdata/windivert_hash.js';
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

test('evalFilter() gives every case its expected answer', () => {
  const wrong: string[] = [];
  for (const c of CASES) {
    if (c.match === 'random') continue;
    const got = evalFilter(c.filter, PACKETS[c.packet]!, c.address);
    if (got !== c.match) wrong.push(`${c.packet} ${JSON.stringify(c.address)}: ${c.filter} → ${got}, expected ${c.match}`);
  }
  assert.deepEqual(wrong, []);
});

/** WinDivert's random8/16/32 of each packet at RANDOM_AT (testdata/windivert_hash.ts). */
const RANDOM_AT = 1_700_000_000_123;
const RANDOM = new Map(WINDIVERT_HASHES.filter((h) => h.timestamp === RANDOM_AT).map((h) => [h.packet, h]));

/** The filter with each random8/16/32 test decided by WinDivert's value: a test of `true` or `false`. */
function withRandomDecided(filter: string, h: WinDivertHash): FilterAst {
  const decide = (n: FilterNode): FilterNode => {
    switch (n.kind) {
      case 'and': case 'or': return { ...n, args: n.args.map(decide) };
      case 'ternary': return { ...n, cond: decide(n.cond), then: decide(n.then), else: decide(n.else) };
      case 'test': {
        if (n.field !== 'random8' && n.field !== 'random16' && n.field !== 'random32') return n;
        const v = BigInt(h[n.field]);
        const { op, value } = effectiveTest(n);
        const yes = { '==': v === value, '!=': v !== value, '<': v < value, '<=': v <= value, '>': v > value, '>=': v >= value }[op];
        return { kind: 'test', not: false, field: yes ? 'true' : 'false', fieldOffset: n.fieldOffset, offset: n.offset, end: n.end };
      }
    }
  };
  return { text: filter, root: decide(parseFilter(filter).root) };
}

test('cases on random8/16/32 answer as WinDivert\'s hash decides for their packet and timestamp', () => {
  const random = CASES.filter((c) => c.match === 'random');
  assert.ok(random.length >= 15);
  const answers: boolean[] = [];
  for (const c of random) {
    const h = RANDOM.get(c.packet);
    assert.ok(h, `WinDivert's hash of ${c.packet}`);
    const p = PACKETS[c.packet]!;
    const address = { ...c.address, timestamp: RANDOM_AT };
    const expected = compileFilter(withRandomDecided(c.filter, h)).match(p, address);
    assert.equal(compileFilter(c.filter).match(p, address), expected, `${c.packet}: ${c.filter}`);
    assert.equal(evalFilter(c.filter, p, address), expected, `${c.packet}: ${c.filter}`);
    answers.push(expected);
  }
  assert.ok(answers.includes(true) && answers.includes(false), 'both answers occur');
});

test('formatFilter() text gives every case its expected answer, and formats to itself', () => {
  for (const c of CASES) {
    const canonical = formatFilter(c.filter);
    assert.equal(formatFilter(canonical), canonical, c.filter);
    const p = PACKETS[c.packet]!;
    if (c.match === 'random') {
      const address = { ...c.address, timestamp: RANDOM_AT };
      const expected = compileFilter(withRandomDecided(c.filter, RANDOM.get(c.packet)!)).match(p, address);
      assert.equal(compileFilter(canonical).match(p, address), expected, `${c.filter} → ${canonical}`);
    } else {
      assert.equal(compileFilter(canonical).match(p, c.address), c.match, `${c.filter} → ${canonical}`);
    }
  }
});
