/**
 * `npm run soak`: the soak (./soak.ts) for SOAK_SECONDS (default 600) at SOAK_LOAD (default
 * 0.8) of the measured capacity; prints a sample every 2 s and the report, and exits 1 on clear
 * growth or counters that do not add up (see growthProblems). Needs root (it makes namespaces).
 * @module
 */
import { havePrivilege } from '../_harness/netns.js';
import { formatReport, growthProblems, runSoak } from './soak.js';

const seconds = Number(process.env['SOAK_SECONDS'] ?? 600);
const load = Number(process.env['SOAK_LOAD'] ?? 0.8);
if (!(seconds > 0) || !(load > 0 && load <= 1)) {
  console.error('soak: SOAK_SECONDS must be > 0 and SOAK_LOAD in (0, 1]');
  process.exit(2);
}
if (!havePrivilege()) {
  console.error('soak: needs root (it creates network namespaces): run it with sudo');
  process.exit(2);
}
const report = await runSoak(seconds, load, (s) => console.log(s));
for (const line of formatReport(report)) console.log(line);
const problems = growthProblems(report);
for (const p of problems) console.error(`soak: ${p}`);
console.log(problems.length === 0 ? 'soak: no growth, counters add up' : 'soak: FAILED');
process.exit(problems.length === 0 ? 0 : 1);
