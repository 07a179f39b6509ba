import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseLag, parsePercent, parseRate } from './units.js';
import { seededRandom } from './random.js';
import { Scheduler } from './scheduler.js';
import { FakeClock } from '../testing/fake_clock.js';

test('parseRate() reads tc rates: bit units, byte units (bps), a bare number as bit/s', () => {
  assert.deepEqual(['1mbit', '256kbit', '2gbit', '10mbps', '1kbps', '9600', '1.5mbit', ' 8 kbit '].map(parseRate), [1e6, 256e3, 2e9, 80e6, 8e3, 9600, 1.5e6, 8e3]);
  for (const bad of ['', '0', 'fast', '1 megabit', '-1mbit', '1e6'])
    assert.throws(() => parseRate(bad), { name: 'RangeError', message: /a unit such as 1mbit/ }, bad);
});

test('parsePercent() takes 5% or 5, from 0 to 100', () => {
  assert.deepEqual(['5%', '5', '0', '100%', '0.5%'].map((s) => parsePercent(s, '--drop')), [0.05, 0.05, 0, 1, 0.005]);
  for (const bad of ['101%', '-1', 'half', '5%%']) assert.throws(() => parsePercent(bad, '--drop'), { message: /^--drop needs a percentage/ }, bad);
});

test('parseDuration() and parseLag(): ms by default, s, and MS±JITTER (or +-)', () => {
  assert.deepEqual(['100', '100ms', '1.5s', '0'].map((s) => parseDuration(s, '--lag')), [100, 100, 1500, 0]);
  assert.deepEqual(parseLag('100ms±20ms'), { lag: 100, jitter: 20 });
  assert.deepEqual(parseLag('100+-20'), { lag: 100, jitter: 20 });
  assert.deepEqual(parseLag('1s'), { lag: 1000, jitter: undefined });
  for (const bad of ['1m', 'soon', '100±', '1±2±3']) assert.throws(() => parseLag(bad), RangeError, bad);
});

test('seededRandom(): one seed, one stream; nearby seeds unrelated; values in [0, 1) and evenly spread', () => {
  const take = (seed: number, n: number): number[] => {
    const r = seededRandom(seed);
    return Array.from({ length: n }, () => r.next());
  };
  assert.deepEqual(take(7, 50), take(7, 50));
  const [a, b] = [take(1, 1000), take(2, 1000)];
  assert.ok(a.filter((x, i) => x === b[i]).length === 0, 'seeds 1 and 2 share no value position');
  const many = take(12345, 100_000);
  assert.ok(many.every((x) => x >= 0 && x < 1));
  // Ten bins of 10,000 expected each: a chi-square of 9 degrees of freedom above 27.9 has p < 0.001.
  const bins = new Array<number>(10).fill(0);
  for (const x of many) bins[Math.floor(x * 10)]!++;
  const chi2 = bins.reduce((sum, n) => sum + (n - 10_000) ** 2 / 10_000, 0);
  assert.ok(chi2 < 27.9, `chi-square ${chi2.toFixed(1)} over ${bins.join(' ')}`);
});

test('Scheduler: one timer for many entries, earliest first, same-time entries in the order added', () => {
  const clock = new FakeClock();
  const s = new Scheduler(clock);
  const ran: string[] = [];
  for (const [at, name] of [[30, 'c'], [10, 'a'], [30, 'd'], [20, 'b'], [10, 'a2']] as const) s.at(at, () => ran.push(`${name}@${clock.now()}`));
  assert.equal(clock.nextAt(), 10);
  clock.advanceTo(25);
  assert.deepEqual(ran, ['a@10', 'a2@10', 'b@20']);
  s.at(5, () => ran.push(`late@${clock.now()}`)); // already past: runs on the next timer, at once
  clock.advanceTo(100);
  assert.deepEqual(ran, ['a@10', 'a2@10', 'b@20', 'late@25', 'c@30', 'd@30']);
  assert.equal(s.size, 0);
  s.at(200, () => ran.push('never'));
  s.clear();
  assert.equal(clock.nextAt(), undefined);
});
