/**
 * `npm run fuzz`: every target (test/fuzz/targets.ts) for millions of inputs, round robin in
 * chunks so the time bound is shared. Bounded by count and time, from the environment:
 *   FUZZ_INPUTS   inputs in all (default 10,000,000), split over targets by 1/cost
 *   FUZZ_SECONDS  wall-clock bound (default 3600): stops after the chunk running at that time
 *   FUZZ_SEED     base seed (default: random, printed); chunk k of a target uses seed + k
 *   FUZZ_TARGETS  comma-separated substrings of target names (default: all)
 * A failure prints fast-check's report (counterexample, seed and path to replay it) and exits 1.
 * Replay: fc.assert(target.property, { seed, path }) with the printed values.
 * @module
 */
import fc from 'fast-check';
import { TARGETS, type FuzzTarget } from './targets.js';

const total = Number(process.env['FUZZ_INPUTS'] ?? 10_000_000);
const seconds = Number(process.env['FUZZ_SECONDS'] ?? 3600);
const seed = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const only = (process.env['FUZZ_TARGETS'] ?? '').split(',').filter((s) => s !== '');
const CHUNK = 20_000;

const targets = TARGETS.filter((t) => only.length === 0 || only.some((s) => t.name.includes(s)));
if (targets.length === 0 || !(total > 0) || !(seconds > 0) || !Number.isInteger(seed)) {
  console.error('fuzz: nothing to run (check FUZZ_TARGETS, FUZZ_INPUTS, FUZZ_SECONDS, FUZZ_SEED)');
  process.exit(2);
}
const weight = targets.reduce((s, t) => s + 1 / (t.cost ?? 1), 0);
interface State { t: FuzzTarget; quota: number; done: number; chunk: number; ms: number }
const states: State[] = targets.map((t) => ({ t, quota: Math.ceil((total * (1 / (t.cost ?? 1))) / weight), done: 0, chunk: 0, ms: 0 }));

console.log(`fuzz: ${targets.length} targets, ${total} inputs, at most ${seconds} s, seed ${seed}`);
const start = Date.now();
const deadline = start + seconds * 1000;
let failed = false;
while (!failed && Date.now() < deadline && states.some((s) => s.done < s.quota)) {
  for (const s of states) {
    if (s.done >= s.quota || Date.now() >= deadline) continue;
    const numRuns = Math.min(CHUNK, s.quota - s.done);
    const t0 = Date.now();
    // Every target's property is synchronous: fc.check gives its details, not a promise.
    const details = fc.check(s.t.property, { seed: seed + s.chunk, numRuns }) as fc.RunDetails<unknown>;
    s.ms += Date.now() - t0;
    s.chunk++;
    s.done += details.numRuns;
    if (details.failed) {
      console.error(`\nFAIL ${s.t.name}\n${fc.defaultReportMessage(details) ?? ''}`);
      console.error(details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance));
      failed = true;
      break;
    }
  }
}
let sum = 0;
for (const s of states) {
  sum += s.done;
  const deep = s.t.deep ? `, ${s.t.deep.count} reached the main check` : '';
  console.log(`${String(s.done).padStart(10)} inputs  ${(s.ms / 1000).toFixed(0).padStart(5)} s  ${s.t.name}${deep}`);
}
console.log(`fuzz: ${sum} inputs in ${((Date.now() - start) / 1000).toFixed(0)} s, seed ${seed}: ${failed ? 'FAILED' : 'no finding'}`);
process.exit(failed ? 1 : 0);
