/** A socket's rules divert to that socket's port, never elsewhere (src/divert/rule_set.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, requirePrivilege } from '../_harness/netns.js';
import { listRules } from '../../src/firewall/mod.js';
import { RuleSet } from '../../src/divert/rule_set.js';

test('RuleSet refuses a rule text whose -j DIVERT names another port; its own port is fine', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const set = new RuleSet(1234, { netns: ns.name, passThrough: false, defragment: false, priority: 0 });
  for (const text of ['-A input -j DIVERT 99', '-A input -p udp -j DIVERT 1234:1235', '-A input --jump DIVERT 99']) {
    await assert.rejects(set.install([text]), /bound to port 1234: leave out -j DIVERT/, text);
  }
  assert.deepEqual(await listRules({ netns: ns.name }), [], 'nothing installed');
  await set.install(['-A input -p udp -j DIVERT 1234', '-A input -p icmp']);
  assert.deepEqual((await listRules({ netns: ns.name })).map((r) => r.rule?.port), [1234, 1234]);
  await set.remove();
  assert.deepEqual(await listRules({ netns: ns.name }), []);
});
