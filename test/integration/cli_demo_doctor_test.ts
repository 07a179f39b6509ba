/**
 * `divert demo` runs to completion non-interactively and leaves nothing behind (also when
 * interrupted); `divert doctor` reports this machine correctly.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { requirePrivilege, spawnWatched, run } from '../_harness/netns.js';

const BIN = new URL('../../../bin/divert.js', import.meta.url).pathname;

/** `ip netns list`, only the names divert's commands make (other test files run at the same time). */
const namespaces = (): string[] => run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith('divert-')).sort();
/** The host's mangle ruleset, counters and comments left out: read only, to prove it is unchanged. */
const hostMangle = (): string => ['iptables-save', 'ip6tables-save'].map((b) => run(b, ['-t', 'mangle']).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n')).join('\n');

describe('divert demo and doctor', () => {
  test('demo runs every step and leaves no namespace or rule behind', async (t) => {
    if (!requirePrivilege(t)) return;
    const nsBefore = namespaces();
    const fwBefore = hostMangle();
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
    assert.match(out, /fwd eth0>eth1 IP 198\.18\.1\.2 > 198\.18\.2\.2: ICMP echo-request/);
    assert.deepEqual(namespaces(), nsBefore, 'no namespace left');
    assert.equal(hostMangle(), fwBefore, "the host's firewall is untouched");
  });

  test('demo interrupted with SIGINT still deletes its namespaces', async (t) => {
    if (!requirePrivilege(t)) return;
    const nsBefore = namespaces();
    const w = spawnWatched(undefined, process.execPath, [BIN, 'demo'], 60_000);
    assert.ok(await w.waitForOutput(/\[2\/5\]/, 30_000), w.stdout());
    w.child.kill('SIGINT');
    const { code } = await w.exit;
    assert.equal(code, 130);
    assert.match(w.stderr(), /SIGINT: stopped; the demo namespaces are deleted/);
    assert.deepEqual(namespaces(), nsBefore);
  });

  test('doctor: exit 0 here, nfnetlink_queue and NFQUEUE probes ok, JSON agrees', async (t) => {
    if (!requirePrivilege(t)) return;
    const nsBefore = namespaces();
    const w = spawnWatched(undefined, process.execPath, [BIN, 'doctor'], 30_000);
    assert.equal((await w.exit).code, 0, w.stdout() + w.stderr());
    const out = w.stdout();
    assert.match(out, /^ok\s+nfnetlink_queue\s+bound divert port/m);
    assert.match(out, /^ok\s+xt NFQUEUE \(iptables\)/m);
    assert.match(out, /^ok\s+privileges/m);
    assert.match(out, /^ok\s+iptables\s+iptables v[\d.]+ \((nf_tables|legacy)\)/m);
    assert.match(out, /^(ok|warn)\s+nft queue/m);
    assert.match(out, /divert is usable here/);
    for (const line of out.split('\n').filter((l) => /^(warn|FAIL)/.test(l))) {
      const i = out.split('\n').indexOf(line);
      assert.match(out.split('\n')[i + 1] ?? '', /fix: /, `a fix follows "${line}"`);
    }
    const j = spawnWatched(undefined, process.execPath, [BIN, 'doctor', '--json'], 30_000);
    assert.equal((await j.exit).code, 0);
    const report = JSON.parse(j.stdout()) as { usable: boolean; checks: Array<{ name: string; status: string }> };
    assert.equal(report.usable, true);
    assert.equal(report.checks.find((c) => c.name === 'nfnetlink_queue')?.status, 'ok');
    assert.deepEqual(namespaces(), nsBefore, 'the probe namespace is gone');
  });
});
