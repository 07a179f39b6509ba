/**
 * The soak (test/soak/soak.ts) for one minute, as CI runs it: traffic at 80 % of the measured
 * capacity with mixed verdicts, changed packets, inbound and outbound injection and rule churn.
 * Fails only on clear growth (bounds and reasons in growthProblems: heap after GC +8 MiB, RSS
 * +64 MiB, no fd or libuv resource more at rest), counters that do not add up, or a ruleset or
 * qdiscs that are not as before. `npm run soak` runs it for ten minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePrivilege } from '../_harness/netns.js';
import { formatReport, growthProblems, runSoak } from '../soak/soak.js';

test('soak, one minute at 80 % of capacity: no clear growth, counters add up, ruleset and qdiscs as before', async (t) => {
  if (!requirePrivilege(t)) return;
  const report = await runSoak(Number(process.env['SOAK_SECONDS'] ?? 60), 0.8);
  for (const line of formatReport(report)) t.diagnostic(line);
  assert.deepEqual(growthProblems(report), []);
  assert.ok(report.stats.changed > 0 && report.stats.dropped > 0 && report.stats.accepted > 0, 'mixed verdicts');
  assert.ok(report.injectedInbound > 0 && report.injectedOutbound > 0, 'injections arrived both ways');
  assert.ok(report.tcLines.during > report.tcLines.before, 'inbound injection added its qdisc and filter (and the check after has something to find gone)');
  assert.ok(report.churned >= 10, `rules churned (${report.churned})`);
  const passed = report.stats.accepted + report.stats.changed;
  assert.ok(report.delivered > 0.5 * passed, `delivered ${report.delivered} of ${passed} reinjected`);
});
