/**
 * `divert intercept` on a terminal: the status line on stderr (rate, verdicts, kernel-side
 * counters from /proc/net/netfilter/nfnetlink_queue). A pseudo-terminal comes from script(1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, connect, pingAsync, requirePrivilege, spawnWatched, tryRun, waitForAsync } from '../_harness/netns.js';
import { divertRules } from '../_harness/ruleset.js';

const BIN = new URL('../../../bin/divert.js', import.meta.url).pathname;

test('intercept on a TTY draws a status line with rate, verdicts and kernel counters', async (t) => {
  if (!requirePrivilege(t)) return;
  if (!tryRun('script', ['--version']).ok) {
    t.skip('script(1) from util-linux is not installed: no pseudo-terminal to test with');
    return;
  }
  const a = createNetns();
  const b = createNetns();
  const link = connect(a, b, 31);
  const cmd = `${process.execPath} ${BIN} intercept 820 --netns ${b.name} --firewall '-A input -p icmp' -c 3`;
  // script gives the command a terminal and copies what it writes (stdout and stderr) to ours.
  const w = spawnWatched(undefined, 'script', ['-qfec', cmd, '/dev/null'], 20_000);
  // The --firewall rule is live once the socket is bound (read over netlink).
  const rule = /^divert-\d+ divert -A input -p icmp -j DIVERT 820$/;
  assert.ok(await waitForAsync(async () => (await divertRules(b)).some((r) => rule.test(r)), 5000, 50), 'the --firewall rule is installed');
  // One echo request, then a pause longer than the status line's 1 s tick, then two more.
  assert.equal(await pingAsync(a, link.b4, 1), true);
  assert.ok(await w.waitForOutput(/\d+ pkts \(\d+\/s\)\s+reinjected \d+\s+dropped 0\s+kernel: waiting \d+, queue-full drops 0, socket drops 0/, 4000), w.stdout());
  assert.equal(await pingAsync(a, link.b4, 2), true);
  const end = await w.exit;
  assert.equal(end.code, 0, w.stdout());
  assert.match(w.stdout(), /3 packets received, 3 reinjected, 0 dropped/);
  assert.match(w.stdout(), /\r\x1b\[K/, 'the line is redrawn in place');
});
