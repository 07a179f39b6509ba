/**
 * `divert demo` runs to completion non-interactively and leaves nothing behind (also when
 * interrupted); `divert doctor` reports this machine correctly.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { requirePrivilege, spawnWatched, run } from '../_harness/netns.js';
import { rulesetDump } from '../_harness/ruleset.js';

const BIN = new URL('../../../bin/divert.js', import.meta.url).pathname;

/**
 * `ip netns list`, only the names the command run as process `pid` makes (`divert-demo-<pid>-…`,
 * `divert-doctor-<pid>-…`): other test files, a clean clone's suite among them, run demos too.
 */
const namespaces = (pid: number | undefined): string[] =>
  run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => new RegExp(`^divert-(demo|doctor)-${pid}-`).test(n)).sort();
/**
 * The whole nf_tables ruleset of the namespace the demo is started in (this process's: the
 * "host" from the demo's point of view), read over netlink with counters left out: read only, to
 * prove it is unchanged. (nf_tables holds every rule divert could write, nft_compat's NFQUEUE
 * target included.)
 */
const hostRuleset = (): Promise<string[]> => rulesetDump({ path: `/proc/${process.pid}/ns/net` });

describe('divert demo and doctor', () => {
  test('demo runs every step and leaves no namespace or rule behind', async (t) => {
    if (!requirePrivilege(t)) return;
    const fwBefore = await hostRuleset();
    const w = spawnWatched(undefined, process.execPath, [BIN, 'demo'], 60_000);
    const { code } = await w.exit;
    assert.equal(code, 0, w.stdout() + w.stderr());
    const out = w.stdout();
    for (const step of ['[1/5] Interception', '[2/5] Mangling', '[3/5] Mangling', '[4/5] A small TCP', '[5/5] Dropping']) assert.ok(out.includes(step), step);
    assert.match(out, /→ ping: 2\/2 replies over IPv4, 2\/2 over IPv6/);
    assert.match(out, /the server received "HELLO, SERVER"/);
    assert.match(out, /now ping shows ttl=200, ttl=200/);
    assert.match(out, /the client got "ack:GET \/demo"/);
    assert.match(out, /the server received "public note 1", "public note 2"/);
    assert.match(out, /Every step worked\./);
    assert.match(out, /fwd eth0>eth1 IP 198\.18\.1\.2 > 198\.18\.2\.2: icmp echo-request/);
    assert.deepEqual(namespaces(w.child.pid), [], 'no namespace left');
    assert.deepEqual(await hostRuleset(), fwBefore, "the host's firewall is untouched");
  });

  test('demo interrupted with SIGINT still deletes its namespaces', async (t) => {
    if (!requirePrivilege(t)) return;
    const w = spawnWatched(undefined, process.execPath, [BIN, 'demo'], 60_000);
    assert.ok(await w.waitForOutput(/\[2\/5\]/, 30_000), w.stdout());
    assert.ok(namespaces(w.child.pid).length > 0, "the demo's namespaces exist while it runs (named after its pid)");
    w.child.kill('SIGINT');
    const { code } = await w.exit;
    assert.equal(code, 130);
    assert.match(w.stderr(), /SIGINT: stopped; the demo namespaces are deleted/);
    assert.deepEqual(namespaces(w.child.pid), []);
  });

  test('doctor: exit 0 here, nfnetlink_queue, nf_tables and tc probes ok, no firewall binary wanted, JSON agrees', async (t) => {
    if (!requirePrivilege(t)) return;
    const w = spawnWatched(undefined, process.execPath, [BIN, 'doctor'], 30_000);
    assert.equal((await w.exit).code, 0, w.stdout() + w.stderr());
    const out = w.stdout();
    assert.match(out, /^ok\s+nfnetlink_queue\s+bound divert port/m);
    assert.match(out, /^ok\s+nf_tables owner tables\s+a table owned by its program is accepted/m);
    assert.match(out, /^ok\s+queueing from nf_tables\s+the (native queue expression|xtables NFQUEUE target through nft_compat)/m);
    assert.match(out, /^ok\s+nft_ct \(always-defragment\)\s+the ct expression is accepted/m);
    for (const probe of ['clsact qdisc', 'cls_bpf', 'act_mirred']) assert.match(out, new RegExp(`^ok\\s+${probe}\\s+accepted \\(inbound injection works\\)`, 'm'), probe);
    assert.match(out, /^ok\s+sniff mode \(nfnetlink_log, nft log\)\s+bound NFLOG group 4242 and added a log group rule/m);
    assert.match(out, /^ok\s+privileges/m);
    assert.match(out, /^ok\s+native addon\s+(prebuilt|built from source): /m);
    // The programs it looks for are the CLI's own (ip for the demo, unshare for rootless runs) and no others.
    assert.match(out, /^ok\s+ip\s+\/\S*\/ip$/m);
    assert.match(out, /^ok\s+unshare\s+\/\S*\/unshare$/m);
    assert.doesNotMatch(out, /^\S+\s+(iptables|ip6tables|nft|tc|tshark|ping)\s/m, 'no firewall, tc, tshark or ping binary checked');
    assert.match(out, /divert is usable here/);
    for (const line of out.split('\n').filter((l) => /^(warn|FAIL)/.test(l))) {
      const i = out.split('\n').indexOf(line);
      assert.match(out.split('\n')[i + 1] ?? '', /fix: /, `a fix follows "${line}"`);
    }
    const j = spawnWatched(undefined, process.execPath, [BIN, 'doctor', '--json'], 30_000);
    assert.equal((await j.exit).code, 0);
    const report = JSON.parse(j.stdout()) as { usable: boolean; checks: Array<{ name: string; status: string }> };
    assert.equal(report.usable, true);
    for (const name of ['native addon', 'nfnetlink_queue', 'nf_tables owner tables', 'queueing from nf_tables', 'nft_ct (always-defragment)', 'clsact qdisc', 'cls_bpf', 'act_mirred', 'sniff mode (nfnetlink_log, nft log)', 'ip', 'unshare']) {
      assert.equal(report.checks.find((c) => c.name === name)?.status, 'ok', name);
    }
    assert.deepEqual(namespaces(w.child.pid), [], 'the probe namespace is gone');
  });
});
