/**
 * `divert intercept` against the real kernel, in throwaway namespaces: every output format
 * checked field by field, pcap read back by our own reader (and cross-checked by tshark when it
 * is installed), the --firewall rule's lifetime, exit codes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePcap } from '../../src/pcap/pcap_reader.js';
import { LINKTYPE_RAW } from '../../src/pcap/pcap_writer.js';
import { parsePacket } from '../../src/packet/mod.js';
import { createNetns, connect, pingAsync, pingFrom, requirePrivilege, spawnWatched, type Netns, type Link } from '../_harness/netns.js';
import { divertRules, divertTables } from '../_harness/ruleset.js';
import { addRule } from '../../src/firewall/mod.js';

const BIN = new URL('../../../bin/divert.js', import.meta.url).pathname;
let nextPort = 300;

function pair(subnet: number): { a: Netns; b: Netns; link: Link } {
  const a = createNetns();
  const b = createNetns();
  return { a, b, link: connect(a, b, subnet) };
}

/** Runs `divert intercept …` inside `ns`; resolves once it listens. */
async function intercept(ns: Netns, args: string[], timeoutMs = 15_000) {
  const w = spawnWatched(ns, process.execPath, [BIN, 'intercept', ...args], timeoutMs);
  assert.ok(await w.waitForOutput(/listening on divert port|Waiting for data/), `intercept did not start: ${w.stderr()}`);
  return w;
}

/** Whether `cmd` is an executable file on PATH (one hidden by a bind-mounted /dev/null is not). */
function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => {
    try {
      const path = join(dir, cmd);
      if (!statSync(path).isFile()) return false;
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Nothing of divert's is left in `ns`: no rule, and no table (a program's own table goes with it). */
async function assertNothingLeft(ns: Netns, message: string): Promise<void> {
  assert.deepEqual(await divertRules(ns), [], message);
  assert.deepEqual(await divertTables(ns), [], `${message}: no table either`);
}

describe('divert intercept (real kernel)', () => {
  test('-c with the default line format: one tcpdump-like line per packet, then a summary', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(11);
    const port = nextPort++;
    const w = await intercept(b, [String(port), '--firewall', '-A input -p icmp', '-c', '2']);
    assert.equal(await pingAsync(a, link.b4, 2), true, 'ping works through the interceptor');
    const { code } = await w.exit;
    assert.equal(code, 0, w.stderr());
    const lines = w.stdout().trim().split('\n');
    assert.equal(lines.length, 2);
    lines.forEach((line, i) => {
      const m = /^(\d\d:\d\d:\d\d\.\d{6}) (\S+)\s+(\S+) (IP6?) (\S+) > (\S+): (\S+) (.*), length (\d+), (\w+)$/.exec(line);
      assert.ok(m, line);
      assert.equal(m[2], 'in');
      assert.equal(m[3], link.b);
      assert.equal(m[4], 'IP');
      assert.equal(m[5], link.a4);
      assert.equal(m[6], link.b4);
      assert.equal(m[7], 'icmp');
      assert.match(m[8]!, new RegExp(`^echo-request id \\d+ seq ${i + 1}$`));
      assert.equal(m[9], '84');
      assert.equal(m[10], 'reinject');
    });
    assert.match(w.stderr(), /2 packets received, 2 reinjected, 0 dropped/);
    await assertNothingLeft(b, 'the rule is gone');
  });

  test('--defragment: a fragmented ping arrives as one whole packet', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(19);
    const port = nextPort++;
    const w = await intercept(b, [String(port), '--firewall', '-A input -p icmp', '--defragment', '-c', '1', '--json']);
    // 3000 bytes of ICMP data over a 1500-byte MTU: three fragments on the wire.
    const ping = await pingFrom(a, link.b4, { size: 3000, deadlineMs: 2000 });
    assert.equal(ping.received, 1, JSON.stringify(ping));
    assert.equal((await w.exit).code, 0, w.stderr());
    const objs = w.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(objs.length, 1);
    assert.equal(objs[0]!['length'], 3028, 'reassembled by the kernel before the divert port');
    await assertNothingLeft(b, 'the rule and the defrag rule are gone');
  });

  test('--json over IPv6: one object per packet with the line fields', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(12);
    const port = nextPort++;
    const before = Date.now();
    const w = await intercept(b, [String(port), '--firewall', `-A input -6 -p icmpv6 -s ${link.a6}`, '-c', '2', '--json']);
    assert.equal(await pingAsync(a, link.b6, 2), true);
    assert.equal((await w.exit).code, 0, w.stderr());
    const objs = w.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(objs.length, 2);
    for (const o of objs) {
      assert.deepEqual(Object.keys(o), ['time', 'direction', 'interface', 'family', 'src', 'dst', 'srcPort', 'dstPort', 'protocol', 'flags', 'info', 'length', 'verdict']);
      const time = Date.parse(o['time'] as string);
      assert.ok(time >= before - 1000 && time <= Date.now() + 1000, `time ${String(o['time'])}`);
      assert.equal(o['direction'], 'in');
      assert.equal(o['interface'], link.b);
      assert.equal(o['family'], 6);
      assert.equal(o['src'], link.a6);
      assert.equal(o['dst'], link.b6);
      assert.equal(o['srcPort'], null);
      assert.equal(o['dstPort'], null);
      assert.equal(o['protocol'], 'icmpv6');
      assert.equal(o['flags'], null);
      assert.match(o['info'] as string, /^echo-request id \d+ seq [12]$/);
      assert.equal(o['length'], 104);
      assert.equal(o['verdict'], 'reinject');
    }
  });

  test('--classic prints what the seed interceptor printed', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(13);
    const port = nextPort++;
    const w = await intercept(b, [String(port), '--firewall', '-A output -p icmp', '-c', '1', '--classic']);
    assert.equal(await pingAsync(a, link.b4, 1), true);
    assert.equal((await w.exit).code, 0, w.stderr());
    assert.match(w.stderr(), /^divert:Creating a socket\ndivert:Binding a socket\n/);
    const lines = w.stdout().split('\n');
    assert.equal(lines[0], 'divert: Waiting for data...');
    assert.equal(lines[1], 'divert: The packet looks like this:');
    assert.match(lines[2]!, /^45 00 00 54 ([0-9a-f]{2} ){12}$/, 'bytes 0-15, "%02x " each');
    assert.match(lines[3]!, /^([0-9a-f]{2} ){16}$/, 'bytes 16-31');
    assert.match(lines[4]!, /^([0-9a-f]{2} ){8}$/, 'bytes 32-39');
    assert.equal(lines[5], `divert: Source address: ${link.b4}`, 'the echo reply leaves b');
    assert.equal(lines[6], `divert: Destination address: ${link.a4}`);
    assert.equal(lines[7], 'divert: Receiving IF address: 0.0.0.0', 'outgoing: the zeroed sockaddr');
    assert.equal(lines[8], 'divert: Protocol number: 1');
    assert.equal(lines[9], 'divert Reinjecting DIVERT 84 bytes');
    assert.equal(lines[10], 'divert: 84 bytes reinjected.');
  });

  test('--drop drops, -x adds a hex dump', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(14);
    const port = nextPort++;
    const w = await intercept(b, [String(port), '--firewall', '-A input -p icmp', '-c', '1', '--drop', '-x']);
    // Exactly one echo request (divert's own ping never sends more than asked).
    const r = await pingFrom(a, link.b4, { count: 1, deadlineMs: 1000 });
    assert.equal(r.received, 0, 'the echo request was dropped');
    assert.equal(r.sent, 1);
    assert.equal((await w.exit).code, 0, w.stderr());
    const [line, ...hex] = w.stdout().trim().split('\n');
    assert.match(line!, /, length 84, drop$/);
    assert.equal(hex.length, 6, '84 bytes = 6 lines of 16');
    assert.match(hex[0]!, /^\t0x0000:  4500 0054 [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}$/);
    assert.match(hex[5]!, /^\t0x0050:  [0-9a-f]{4} [0-9a-f]{4}$/);
    assert.match(w.stderr(), /1 packet received, 0 reinjected, 1 dropped/);
  });

  test('-w writes a pcap that reads back (own reader, tshark too when installed): same count and addresses, IPv4 and IPv6', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(15);
    const port = nextPort++;
    // Rules intercept does not own (persistent, as `divert rules add` writes them), and only a's
    // addresses: the links' own IPv6 chatter (MLD, router solicitations) stays out.
    const rules = await addRule([`-A input -p icmp -s ${link.a4} -j DIVERT ${port}`, `-A input -6 -p icmpv6 -s ${link.a6} -j DIVERT ${port}`], { netns: b.name, owner: 'cli' });
    const dir = mkdtempSync(join(tmpdir(), 'divert-pcap-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'out.pcap');
    const w = await intercept(b, [String(port), '-c', '4', '-w', file]);
    assert.equal(await pingAsync(a, link.b4, 2), true);
    assert.equal(await pingAsync(a, link.b6, 2), true);
    assert.equal((await w.exit).code, 0, w.stderr());
    assert.equal(await rules.remove(), 2, 'the persistent rules outlived intercept; removed now');
    assert.equal(w.stdout(), '', 'like tcpdump -w: nothing per packet on stdout');
    const { header, records } = parsePcap(readFileSync(file));
    assert.equal(header.linktype, LINKTYPE_RAW);
    const packets = records.map((r) => parsePacket(r.data));
    assert.deepEqual(packets.map((p) => (p.ipv4 ? [p.ipv4.src, p.ipv4.dst, '', ''] : ['', '', p.ipv6?.src, p.ipv6?.dst])), [
      [link.a4, link.b4, '', ''],
      [link.a4, link.b4, '', ''],
      ['', '', link.a6, link.b6],
      ['', '', link.a6, link.b6],
    ]);
    assert.deepEqual(packets.map((p) => [p.icmp?.type ?? p.icmpv6?.type, p.icmp?.seq ?? p.icmpv6?.seq]), [[8, 1], [8, 2], [128, 1], [128, 2]]);
    assert.ok(records.every((r) => r.origLen === r.data.length), 'whole packets');
    // tshark is an extra, independent reader: used when present, never required.
    if (!onPath('tshark')) {
      t.diagnostic('tshark not installed: cross-check skipped');
      return;
    }
    const fields = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = fields.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(rows, [
      [link.a4, link.b4, '', ''],
      [link.a4, link.b4, '', ''],
      ['', '', link.a6, link.b6],
      ['', '', link.a6, link.b6],
    ]);
    const proto = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.protocols'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.match(proto, /^raw:ip:icmp/m);
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`--firewall rule is present during the run and gone after ${signal}; --netns from the host`, async (t) => {
      if (!requirePrivilege(t)) return;
      const { b } = pair(signal === 'SIGTERM' ? 16 : 18);
      const port = nextPort++;
      const w = spawnWatched(undefined, process.execPath, [BIN, 'intercept', String(port), '--netns', b.name, '--firewall', '-A input -p udp --dport 5353'], 15_000);
      assert.ok(await w.waitForOutput(/listening on divert port/), w.stderr());
      // The rule lives in intercept's own table (it goes with the process), diverting to its port.
      assert.deepEqual(await divertRules(b), [`divert-${w.child.pid} divert -A input -p udp --dport 5353 -j DIVERT ${port}`]);
      w.child.kill(signal);
      const { code } = await w.exit;
      assert.equal(code, 0, w.stderr());
      assert.match(w.stderr(), /0 packets received, 0 reinjected, 0 dropped/);
      await assertNothingLeft(b, 'no rule left');
    });
  }

  test('SIGINT mid-traffic: summary, no rule left, nothing left queued', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(17);
    const port = nextPort++;
    const w = await intercept(b, [String(port), '--firewall', '-A input -p icmp']);
    assert.equal(await pingAsync(a, link.b4, 2), true);
    w.child.kill('SIGINT');
    assert.equal((await w.exit).code, 0, w.stderr());
    assert.match(w.stderr(), /2 packets received, 2 reinjected, 0 dropped/);
    await assertNothingLeft(b, 'no rule left');
    assert.equal(await pingAsync(a, link.b4, 1), true, 'traffic flows normally afterwards');
  });

  test('exit codes: 1 with one line when the port is taken, 2 for a bad rule', async (t) => {
    if (!requirePrivilege(t)) return;
    const { b } = pair(18);
    const port = nextPort++;
    const first = await intercept(b, [String(port)]);
    const second = spawnWatched(b, process.execPath, [BIN, 'intercept', String(port)], 10_000);
    assert.equal((await second.exit).code, 1);
    assert.equal(second.stderr().trim().split('\n').length, 1, second.stderr());
    assert.match(second.stderr(), /^divert intercept: Cannot bind divert port \d+/);
    first.child.kill('SIGTERM');
    await first.exit;
    const bad = spawnWatched(b, process.execPath, [BIN, 'intercept', String(port), '--firewall', '-A nowhere -p icmp'], 10_000);
    assert.equal((await bad.exit).code, 2);
    assert.match(bad.stderr(), /^divert intercept: Unknown chain "nowhere".*\(see "divert intercept --help"\)\n$/);
    assert.doesNotMatch(bad.stderr(), /\n\s+at /, 'no stack trace');
  });

  test('a port range: one worker thread per port, -c counts across them, --json and -w from every worker in one stream, nothing left', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b } = pair(16);
    const dir = mkdtempSync(join(tmpdir(), 'divert-range-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'range.pcap');
    const first = nextPort;
    nextPort += 2;
    const w = await intercept(b, [`${first}:${first + 1}`, '--firewall', '-A input -p udp --dport 7500', '-c', '20', '--json', '-w', file]);
    assert.match(w.stderr(), new RegExp(`listening on divert ports ${first}-${first + 1} \\(a worker thread each\\)`));
    const { createDivertSocket } = await import('../../src/mod.js');
    const { buildUdpPacket } = await import('../../src/packet/build.js');
    await using inject = createDivertSocket({ netns: a.name });
    // 32 source addresses: the kernel hashes addresses to pick a port, so both ports get packets.
    for (let f = 0; f < 32; f++) inject.sendto(buildUdpPacket({ src: `198.18.16.${100 + f}`, dst: '198.18.16.2', srcPort: 4000, dstPort: 7500, payload: `f${f}` }));
    const { code } = await w.exit;
    assert.equal(code, 0, w.stderr());
    const lines = w.stdout().trim().split('\n');
    assert.equal(lines.length, 20, 'exactly -c records');
    for (const line of lines) {
      const r = JSON.parse(line) as { src: string; dst: string; protocol: string; verdict: string };
      assert.match(r.src, /^198\.18\.16\.1\d\d$/);
      assert.deepEqual([r.dst, r.protocol, r.verdict], ['198.18.16.2', 'udp', 'reinject']);
    }
    assert.equal(parsePcap(readFileSync(file)).records.length, 20, 'the capture holds the same 20');
    // The kernel's counters of both ports, read before the queues went: nothing dropped there.
    assert.match(w.stderr(), /20 packets received, 20 reinjected, 0 dropped, 0 dropped by the kernel/);
    await assertNothingLeft(b, 'the range rule is gone');
  });
});
