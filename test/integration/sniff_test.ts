/**
 * Sniff mode against the real kernel (nft_log + nfnetlink_log), in throwaway namespaces: copies
 * arrive with the addresses diverted packets get, IPv4 and IPv6, in and out; a stopped sniffer
 * holds no traffic up (where a stopped diverter does) and prints what it saw once resumed; the
 * rules go on exit, SIGINT and SIGKILL. Traffic: divert's own ping and the demo's UDP peer.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createNetns, pingAsync, requirePrivilege, sleep, spawnWatched, startPeer, waitForAsync, type Link, type Netns } from '../_harness/netns.js';
import { divertRules, divertTables } from '../_harness/ruleset.js';
import { createDivertSocket, DivertError, type SniffedPacket, type SniffSocket } from '../../src/mod.js';
import { countersAddUp } from '../../src/divert/counters.js';
import { parsePacket } from '../../src/packet/parse.js';
import { parsePcap } from '../../src/pcap/pcap_reader.js';
import { LINKTYPE_RAW } from '../../src/pcap/pcap_writer.js';

const BIN = new URL('../../../bin/divert.js', import.meta.url).pathname;
let nextPort = 700;

function pair(subnet: number): { a: Netns; b: Netns; link: Link } {
  const a = createNetns();
  const b = createNetns();
  return { a, b, link: connect(a, b, subnet) };
}

/** ICMP / ICMPv6 echo type of a copy, or undefined for anything else (neighbour discovery…). */
function echoType(p: SniffedPacket): number | undefined {
  const parsed = parsePacket(p.packet);
  const t = parsed.icmp?.type ?? parsed.icmpv6?.type;
  return t === 8 || t === 0 || t === 128 || t === 129 ? t : undefined;
}

/** Collects copies until `n` echo copies were seen or `ms` passed. */
async function collect(sock: SniffSocket, n: number, ms: number): Promise<SniffedPacket[]> {
  const out: SniffedPacket[] = [];
  const signal = AbortSignal.timeout(ms);
  try {
    while (out.length < n) {
      const p = await sock.recvfrom({ signal });
      if (echoType(p) !== undefined) out.push(p);
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  return out;
}

/** `divert intercept …` in `ns`, once it listens. */
async function intercept(ns: Netns, args: string[], ready: RegExp, timeoutMs = 20_000) {
  const w = spawnWatched(ns, process.execPath, [BIN, 'intercept', ...args], timeoutMs);
  assert.ok(await w.waitForOutput(ready), `intercept did not start: ${w.stderr()}`);
  return w;
}

describe('sniff mode (real kernel: nft log group + nfnetlink_log)', () => {
  test('copies have the diverted packets\' addresses: receiving interface inbound, 0.0.0.0 and :: outbound, IPv4 and IPv6', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(61);
    const port = nextPort++;
    const sock = createDivertSocket({
      sniff: true, port, netns: b.name, handleSignals: false,
      rules: ['-A input -p icmp', '-A output -p icmp', '-A input -6 -p icmpv6', '-A output -6 -p icmpv6'],
    });
    t.after(() => sock.close());
    await sock.ready;
    assert.deepEqual((await divertRules(b)).map((r) => r.replace(/^divert-\d+ /, '')), [
      `sniff -A input -p icmp -j SNIFF ${port}`, `sniff -A input -6 -p icmpv6 -j SNIFF ${port}`,
      `sniff -A output -p icmp -j SNIFF ${port}`, `sniff -A output -6 -p icmpv6 -j SNIFF ${port}`,
    ]);
    // Nobody reads while the pings run: the originals never wait for the sniffer.
    assert.equal(await pingAsync(a, link.b4, 2), true);
    assert.equal(await pingAsync(a, link.b6, 2), true);
    const copies = await collect(sock, 8, 3000);
    const rows = copies.map((p) => [p.address.family, echoType(p), p.address.hook, p.address.direction, p.address.address, p.address.direction === 'inbound' ? p.address.ifname : p.address.outIfname]);
    const want = (family: 4 | 6, req: number, rep: number, local: string) => [
      [family, req, 'prerouting', 'inbound', local, link.b],
      [family, rep, 'postrouting', 'outbound', family === 4 ? '0.0.0.0' : '::', link.b],
    ];
    assert.deepEqual(rows, [...want(4, 8, 0, link.b4), ...want(4, 8, 0, link.b4), ...want(6, 128, 129, link.b6), ...want(6, 128, 129, link.b6)]);
    const req = copies[0]!;
    assert.equal(parsePacket(req.packet).ipv4?.src, link.a4);
    assert.ok(req.address.timestamp !== undefined && Math.abs(req.address.timestamp - Date.now()) < 10_000, 'inbound copies carry the receive time');
    assert.throws(() => req.reinject(), (e: unknown) => e instanceof DivertError && e.code === 'ERR_DIVERT_SNIFFED');
    const s = sock.stats;
    assert.ok(s.sniffed >= 8 && s.held === 0 && s.accepted === 0 && countersAddUp(s), JSON.stringify(s));
    await sock.close();
    assert.deepEqual(await divertTables(b), [], 'close took the rules and the table');
  });

  test('a SIGSTOPped sniffer holds nothing up (a SIGSTOPped diverter does); resumed, it prints what it saw', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(62);
    // The contrast first: a stopped diverting interceptor holds the echo requests in its queue.
    const divertPort = nextPort++;
    const d = await intercept(b, [String(divertPort), '--firewall', '-A input -p icmp'], /listening on divert port/);
    t.after(() => d.child.kill('SIGKILL'));
    assert.equal(await pingAsync(a, link.b4, 1), true, 'diverted and reinjected while running');
    d.child.kill('SIGSTOP');
    assert.equal(await pingAsync(a, link.b4, 1, 1), false, 'a stopped diverter holds the packets: no reply');
    d.child.kill('SIGKILL');
    await d.exit;

    const port = nextPort++;
    const w = await intercept(b, [String(port), '--sniff', '--firewall', '-A input -p icmp'], /sniffing on port/);
    t.after(() => w.child.kill('SIGKILL'));
    const udp = await intercept(b, [String(port + 1), '--sniff', '--firewall', '-A input -p udp --dport 5601'], /sniffing on port/);
    t.after(() => udp.child.kill('SIGKILL'));
    w.child.kill('SIGSTOP');
    udp.child.kill('SIGSTOP');
    assert.equal(await pingAsync(a, link.b4, 3), true, 'pings answered while the sniffer is stopped');
    const recv = startPeer(b, ['udp-recv', '5601', '3', '5000', '4']);
    await recv.ready;
    await startPeer(a, ['udp-send', link.b4, '5601', 'one', 'two', 'three']).result;
    assert.deepEqual((await recv.result as { got: string[] }).got, ['one', 'two', 'three'], 'UDP delivered while the sniffer is stopped');
    await sleep(100);
    assert.equal(w.stdout(), '', 'stopped: nothing printed yet');
    w.child.kill('SIGCONT');
    udp.child.kill('SIGCONT');
    const requests = (): string[] => w.stdout().split('\n').filter((l) => / in +\S+ IP .*icmp echo-request .* sniffed$/.test(l));
    assert.ok(await waitForAsync(async () => requests().length >= 3, 5000), `resumed, it prints the three requests: ${w.stdout()}`);
    const datagrams = (): string[] => udp.stdout().split('\n').filter((l) => l.includes(`${link.a4}.`) && / > \S+\.5601: udp, length \d+, sniffed$/.test(l));
    assert.ok(await waitForAsync(async () => datagrams().length >= 3, 5000), `and the three datagrams: ${udp.stdout()}`);
    for (const l of requests()) assert.ok(l.includes(`${link.a4} > ${link.b4}`), l);
    w.child.kill('SIGINT');
    udp.child.kill('SIGINT');
    const [e1, e2] = [await w.exit, await udp.exit];
    assert.equal(e1.code, 0, w.stderr());
    assert.equal(e2.code, 0, udp.stderr());
    assert.match(w.stderr(), /\d+ packets sniffed \(copies: the packets went on\)/);
    assert.deepEqual(await divertTables(b), [], 'SIGINT: rules and tables gone');
  });

  test('SIGKILL: the kernel takes the sniffer\'s rules; traffic flows on', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(63);
    const w = await intercept(b, [String(nextPort++), '--sniff', '--firewall', '-A input -p icmp'], /sniffing on port/);
    assert.equal((await divertRules(b)).length, 1);
    w.child.kill('SIGKILL');
    await w.exit;
    assert.ok(await waitForAsync(async () => (await divertTables(b)).length === 0, 3000), 'the owner table went with the process');
    assert.equal(await pingAsync(a, link.b4, 1), true);
  });

  test('-w writes the copies as pcap (raw IP), -c stops after that many', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(64);
    const dir = mkdtempSync(join(tmpdir(), 'divert-sniff-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'out.pcap');
    const w = await intercept(b, [String(nextPort++), '--sniff', '--firewall', `-A input -6 -p icmpv6 -s ${link.a6}`, '-c', '2', '-w', file], /sniffing on port/);
    assert.equal(await pingAsync(a, link.b6, 2), true);
    assert.equal((await w.exit).code, 0, w.stderr());
    const pcap = parsePcap(readFileSync(file));
    assert.equal(pcap.header.linktype, LINKTYPE_RAW);
    assert.equal(pcap.records.length, 2);
    for (const p of pcap.records) {
      const parsed = parsePacket(p.data);
      assert.deepEqual([parsed.ipv6?.src, parsed.ipv6?.dst, parsed.icmpv6?.type], [link.a6, link.b6, 128]);
    }
    assert.deepEqual(await divertTables(b), []);
  });
  test('a filter sniffs only what it matches (IPv4 and IPv6 UDP), both ports delivered; a second socket cannot take the group', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(65);
    const sock = createDivertSocket({ sniff: true, netns: b.name, handleSignals: false, filter: 'inbound and udp.DstPort == 5602' });
    t.after(() => sock.close());
    await sock.ready;
    const port = sock.port!;
    assert.ok(port >= 40000 && port < 60000, `a free port was chosen: ${port}`);
    await assert.rejects(() => createDivertSocket({ sniff: true, port, netns: b.name, handleSignals: false }).ready, (e: unknown) => e instanceof DivertError && e.code === 'ERR_DIVERT_PORT_IN_USE');
    for (const [fam, dst] of [['4', link.b4], ['6', link.b6]] as const) {
      const r1 = startPeer(b, ['udp-recv', '5602', '1', '5000', fam]);
      const r2 = startPeer(b, ['udp-recv', '5603', '1', '5000', fam]);
      await Promise.all([r1.ready, r2.ready]);
      await startPeer(a, ['udp-send', dst, '5602', `to-5602-v${fam}`]).result;
      await startPeer(a, ['udp-send', dst, '5603', `to-5603-v${fam}`]).result;
      assert.deepEqual([(await r1.result as { got: string[] }).got, (await r2.result as { got: string[] }).got], [[`to-5602-v${fam}`], [`to-5603-v${fam}`]]);
    }
    const copies: string[] = [];
    const signal = AbortSignal.timeout(3000);
    while (copies.length < 2) {
      const p = await sock.recvfrom({ signal });
      copies.push(`${p.address.family} ${p.address.address} ${parsePacket(p.packet).udp?.dstPort} ${Buffer.from(parsePacket(p.packet).payload).toString()}`);
    }
    assert.deepEqual(copies, [`4 ${link.b4} 5602 to-5602-v4`, `6 ${link.b6} 5602 to-5602-v6`]);
    await sleep(100);
    assert.equal(sock.stats.sniffed, 2, 'nothing for port 5603');
    assert.ok(countersAddUp(sock.stats));
  });
  test('coalesceMs: the kernel batches copies (threshold 256, timeout) and every copy still arrives', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(66);
    const sock = createDivertSocket({ sniff: true, port: nextPort++, netns: b.name, handleSignals: false, coalesceMs: 20, rules: ['-A input -p icmp'] });
    t.after(() => sock.close());
    await sock.ready;
    assert.equal(await pingAsync(a, link.b4, 3), true);
    const copies = await collect(sock, 3, 3000);
    assert.deepEqual(copies.map((p) => [echoType(p), p.address.address]), [[8, link.b4], [8, link.b4], [8, link.b4]]);
  });
});
