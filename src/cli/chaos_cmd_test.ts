import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { parseChaosArgs } from './commands/chaos_args.js';
import { chaosCommand } from './commands/chaos.js';
import { main } from './main.js';
import { collectingIo, UsageError } from './io.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS, turn, udp4, waitFor } from '../testing/fixtures.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { NF_VERDICT } from '../nfqueue/constants.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { formatChaosStatus, formatRate, formatSettings } from './format/chaos.js';
import { checkImpairment } from '../chaos/settings.js';

test('parseChaosArgs(): selection as intercept takes it, every impairment in library units', () => {
  const o = parseChaosArgs(['--firewall', '-A input -p udp --dport 53', '--drop', '50%', '--lag', '100ms±20ms', '--duplicate', '1', '--reorder', '5%',
    '--reorder-wait', '1s', '--tamper', '0.5%', '--tamper-keep-checksums', '--throttle', '1mbit', '--burst', '3000', '--queue-limit', '50', '--max-held', '500',
    '--seed', '7', '--netns', 'lab', '--priority=-5']);
  assert.deepEqual(o, {
    port: undefined, firewall: '-A input -p udp --dport 53', filter: undefined, priority: -5, passThrough: false, defragment: false, netns: 'lab',
    impairment: { drop: 0.5, lag: 100, jitter: 20, duplicate: 0.01, reorder: 0.05, reorderWait: 1000, tamper: 0.005, tamperKeepChecksums: true,
      throttle: 1e6, burst: 3000, queueLimit: 50, maxHeld: 500, seed: 7 },
  });
  const f = parseChaosArgs(['--filter', 'udp.DstPort == 53', '--lag', '2s', '--jitter', '10']);
  assert.ok(f !== 'help');
  assert.deepEqual([f.port, f.filter, f.impairment], [undefined, 'udp.DstPort == 53', { lag: 2000, jitter: 10 }]);
  const p = parseChaosArgs(['1234']);
  assert.ok(p !== 'help');
  assert.deepEqual([p.port, p.impairment], [1234, {}]);
  assert.equal(parseChaosArgs(['-h']), 'help');
});

test('parseChaosArgs() refuses bad command lines with a UsageError that says what to write', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /choose the packets to impair: --firewall/],
    [['7', '--drop', '150%'], /--drop needs a percentage from 0 to 100/],
    [['7', '--drop', 'lots'], /--drop needs a percentage/],
    [['7', '--lag', 'soon'], /--lag needs a duration such as 100ms/],
    [['7', '--lag', '100±5', '--jitter', '5'], /give the jitter once/],
    [['7', '--throttle', 'fast'], /a unit such as 1mbit/],
    [['7', '--queue-limit', '10'], /go with --throttle/],
    [['7', '--tamper-keep-checksums'], /goes with --tamper/],
    [['7', '--reorder-wait', '10'], /goes with --reorder/],
    [['7', '--seed=-1'], /--seed needs a whole number from 0 to 4294967295/],
    [['7', '--max-held', '0'], /--max-held needs a whole number from 1/],
    [['--firewall', '-A input -j DIVERT 1'], /leave the target out/],
    [['7', '8'], /unexpected argument "8"/],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseChaosArgs(argv), (err: Error) => err instanceof UsageError && message.test(err.message), argv.join(' '));
  assert.throws(() => parseChaosArgs(['7', '--loss', '5%']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
});

test('divert --help lists chaos; divert chaos --help shows its usage', async () => {
  const h = collectingIo();
  assert.equal(await main(['--help'], h), 0);
  assert.match(h.out.join(''), /\n  chaos \[port\] /);
  const c = collectingIo();
  assert.equal(await main(['chaos', '--help'], c), 0);
  assert.match(c.out.join(''), /^Usage: divert chaos /);
  for (const flag of ['--drop P%', '--lag MS[±JITTER]', '--duplicate P%', '--reorder P%', '--tamper P%', '--tamper-keep-checksums', '--throttle RATE', '--queue-limit N', '--seed N', '--firewall', '--filter']) {
    assert.ok(c.out.join('').includes(flag), flag);
  }
});

test('divert chaos: settings that cannot be honoured are a usage error (exit 2) before anything opens', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  const io = collectingIo();
  assert.equal(await chaosCommand(['7', '--throttle', '100bit'], io), 2);
  assert.match(io.err.join(''), /^divert chaos: These settings can hold a packet longer than divert can wait for its verdict .*lower queueLimit, raise throttle or shorten the lag \(see "divert chaos --help"\)\n$/);
  assert.deepEqual(kernel.openSockets(), []);
});

test('formatSettings(), formatRate() and formatChaosStatus()', () => {
  const s = checkImpairment({ drop: 0.3, lag: 100, jitter: 20, reorder: 0.05, throttle: 1e6, tamper: 0.01, tamperKeepChecksums: true, seed: 9 }, () => 0);
  assert.equal(formatSettings(s), 'drop 30%, tamper 1% (checksums left wrong), lag 100ms±20ms, reorder 5% (wait ≤ 100ms), throttle 1mbit (burst 1500 B, queue 1000); seed 9');
  assert.equal(formatSettings(checkImpairment({ seed: 1 }, () => 0)), 'no impairment (every packet passes); seed 1');
  assert.deepEqual([formatRate(256e3), formatRate(2.5e9), formatRate(9600), formatRate(100)], ['256kbit', '2.5gbit', '9.6kbit', '100bit']);
  const stats = { received: 10, dropped: 1, queueDrops: 2, overflowDrops: 0, released: 5, held: 2, queued: 1, delayed: 6, reordered: 1, overtaken: 1, tampered: 0, duplicated: 3, duplicateErrors: 0, throttled: 4 };
  assert.equal(formatChaosStatus(stats, 4.4, undefined), '10 pkts (4/s)  dropped 1  delayed 6  reordered 1  duplicated 3  tampered 0  throttled 4  queue drops 2  released 5  held 2  queued 1  kernel: n/a');
});

/** Runs `divert chaos 7 …` on the fake kernel until its banner; returns what to stop it with. */
async function start(t: TestContext, argv: string[]): Promise<{ kernel: FakeKernel; io: ReturnType<typeof collectingIo>; exit: Promise<number>; send(n: number): Promise<number[]> }> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  t.after(() => kernel.uninstall());
  const io = collectingIo();
  const exit = chaosCommand(['7', ...argv], io);
  await waitFor(() => io.err.join('').includes('impairing packets'), 'the banner');
  const fd = kernel.openSockets().find((s) => s.protocol === NetlinkProtocol.NETLINK_NETFILTER)!.fd;
  return {
    kernel, io, exit,
    async send(n) {
      const ids = Array.from({ length: n }, (_, i) => kernel.enqueuePacket(7, udp4(`p${i}`), { hook: NF_INET_HOOKS.NF_INET_LOCAL_OUT, outdev: 3 }));
      await waitFor(() => kernel.socketByFd(fd).rx.length === 0, 'the packets read');
      await turn();
      return ids;
    },
  };
}

test('divert chaos: Ctrl-C releases every held packet at once, prints the summary and exits 0', async (t) => {
  const r = await start(t, ['--lag', '10s', '--seed', '5']);
  assert.match(r.io.err.join(''), /^divert chaos: impairing packets on divert port 7: lag 10000ms; seed 5\n$/);
  const ids = await r.send(3);
  assert.equal(r.kernel.verdicts.length, 0, 'held');
  process.emit('SIGINT');
  assert.equal(await r.exit, 0);
  assert.deepEqual(r.kernel.verdicts.map((v) => [v.id, v.verdict]), ids.map((id) => [id, NF_VERDICT.NF_ACCEPT]));
  assert.equal(r.io.err.at(-1), '3 packets received: dropped 0, delayed 3, reordered 0, duplicated 0, tampered 0, throttled 0, queue drops 0, released 3; 0 still held; seed 5\n');
  assert.deepEqual([r.kernel.queueState(7), r.kernel.openSockets().length], [undefined, 0]);
  assert.equal(process.listenerCount('SIGINT'), 0, 'its signal handlers are gone');
});

test('divert chaos --drop 100%: every packet is dropped; SIGTERM ends it the same way', async (t) => {
  const r = await start(t, ['--drop', '100%']);
  const ids = await r.send(4);
  process.emit('SIGTERM');
  assert.equal(await r.exit, 0);
  assert.deepEqual(r.kernel.verdicts.map((v) => [v.id, v.verdict]), ids.map((id) => [id, NF_VERDICT.NF_DROP]));
  assert.match(r.io.err.at(-1)!, /^4 packets received: dropped 4, .* released 0; 0 still held; seed \d+\n$/);
});
