/**
 * Injection with no interception (seed §7.2) and multicast: outbound, inbound as if received on
 * an interface, forwarded, and out of a chosen interface.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, connect, enableForwarding, startPeer, requirePrivilege, run, sleep, type Netns } from '../_harness/netns.js';
import { createDivertSocket, DIVERT_MARK, type DivertPacket, type DivertSocket } from '../../src/mod.js';
import { buildUdpPacket } from '../../src/packet/build.js';
import { parsePacket } from '../../src/packet/parse.js';

let nextPort = 500;

function collect(sock: DivertSocket, seen: DivertPacket[]): Promise<void> {
  return (async () => {
    for await (const p of sock) {
      seen.push(p);
      p.reinject();
    }
  })().catch(() => {});
}

async function received(ns: Netns, args: string[], send: () => void): Promise<{ got: string[]; from: string[] }> {
  const peer = startPeer(ns, args);
  await peer.ready;
  send();
  return (await peer.result) as { got: string[]; from: string[] };
}

describe('injection (real kernel)', () => {
  test('outbound: a hand-built UDP datagram reaches the peer (IPv4 and IPv6)', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 10);
    await using sock = createDivertSocket({ port: nextPort++, netns: a.name });
    await sock.ready;
    for (const [src, dst, fam] of [[link.a4, link.b4, '4'], [link.a6, link.b6, '6']] as const) {
      const bytes = buildUdpPacket({ src, dst, srcPort: 4000, dstPort: 5560, payload: `injected ${fam}` });
      const got = await received(b, ['udp-recv', '5560', '1', '3000', fam], () => {
        assert.equal(sock.sendto(bytes), bytes.length);
      });
      assert.deepEqual(got.got, [`injected ${fam}`]);
      assert.equal(got.from[0], src);
    }
    assert.equal(sock.stats.injected, 2);
  });

  test('inbound: received locally as if from the peer; crosses the input hook once; not re-diverted', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 11);
    // Our own DIVERT rule on input must NOT take injected packets (loop avoidance)...
    const mine = createDivertSocket({ port: nextPort++, netns: a.name, rules: ['-A input -p udp'] });
    await mine.ready;
    const mineSeen: DivertPacket[] = [];
    const mineLoop = collect(mine, mineSeen);
    // ...while a plain NFQUEUE rule (no mark exclusion) shows each crossing of the input hook.
    const watchPort = nextPort++;
    a.exec('iptables', ['-t', 'mangle', '-I', 'PREROUTING', '-p', 'udp', '--dport', '5561', '-j', 'NFQUEUE', '--queue-num', String(watchPort)]);
    const watch = createDivertSocket({ port: watchPort, netns: a.name });
    const watchSeen: DivertPacket[] = [];
    const watchLoop = collect(watch, watchSeen);

    const bytes = buildUdpPacket({ src: link.b4, dst: link.a4, srcPort: 4001, dstPort: 5561, payload: 'from the peer, allegedly' });
    const got = await received(a, ['udp-recv', '5561', '1', '3000', '4'], () => {
      mine.sendto(bytes, { address: link.a4 });
    });
    await sleep(200);
    assert.deepEqual(got.got, ['from the peer, allegedly']);
    assert.equal(got.from[0], link.b4);
    assert.equal(watchSeen.length, 1, 'the packet crossed the input hook exactly once');
    const seen = watchSeen[0]!;
    assert.equal(seen.address.ifname, link.a, 'as if received on the named interface');
    assert.equal(seen.address.address, link.a4);
    assert.equal(seen.address.direction, 'inbound');
    assert.equal(seen.address.mark & DIVERT_MARK, DIVERT_MARK, 'injected packets carry the divert mark');
    assert.equal(mineSeen.length, 0, 'DIVERT rules never divert injected packets');

    // The same by interface name, over IPv6.
    const bytes6 = buildUdpPacket({ src: link.b6, dst: link.a6, srcPort: 4001, dstPort: 5562, payload: 'six' });
    const got6 = await received(a, ['udp-recv', '5562', '1', '3000', '6'], () => {
      mine.sendto(bytes6, { interface: link.a });
    });
    assert.deepEqual(got6.got, ['six']);
    await mine.close();
    await watch.close();
    await Promise.all([mineLoop, watchLoop]);
    assert.doesNotMatch(a.exec('tc', ['filter', 'show', 'dev', link.a, 'egress']), /mirred/, 'the redirect filter is removed at close');
  });

  test('inbound on a router: a packet for the far side is forwarded there', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const r = createNetns();
    const b = createNetns();
    const left = connect(a, r, 12);
    const right = connect(r, b, 13);
    enableForwarding(r);
    b.exec('ip', ['route', 'add', '198.18.12.0/24', 'via', right.a4]);
    await using sock = createDivertSocket({ port: nextPort++, netns: r.name });
    await sock.ready;
    const bytes = buildUdpPacket({ src: left.a4, dst: right.b4, srcPort: 4002, dstPort: 5563, payload: 'forward me' });
    const got = await received(b, ['udp-recv', '5563', '1', '3000', '4'], () => {
      sock.sendto(bytes, { address: left.b4 });
    });
    assert.deepEqual(got.got, ['forward me']);
    assert.equal(got.from[0], left.a4);
  });

  test('multicast: leaves by the named interface and not by another', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const c = createNetns();
    const toB = connect(a, b, 14);
    const toC = connect(a, c, 15);
    await using sock = createDivertSocket({ port: nextPort++, netns: a.name });
    await sock.ready;
    const group = '239.1.2.3';
    const bytes = buildUdpPacket({ src: toB.a4, dst: group, srcPort: 4003, dstPort: 5564, payload: 'to the group', ttl: 1 });
    const atB = startPeer(b, ['udp-mrecv', group, '5564', '1', '1500', toB.b4]);
    const atC = startPeer(c, ['udp-mrecv', group, '5564', '1', '1500', toC.b4]);
    await Promise.all([atB.ready, atC.ready]);
    sock.sendto(bytes, { interface: toB.a, outbound: true });
    assert.deepEqual(((await atB.result) as { got: string[] }).got, ['to the group']);
    assert.deepEqual(((await atC.result) as { got: string[] }).got, [], 'nothing left by the other interface');
  });

  test('multicast reinjection: a diverted group datagram leaves by the interface the program names', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const c = createNetns();
    const toB = connect(a, b, 17);
    const toC = connect(a, c, 18);
    const group = '239.1.2.4';
    a.exec('ip', ['route', 'add', '224.0.0.0/4', 'dev', toB.a]); // by default the group goes to B
    await using sock = createDivertSocket({ port: nextPort++, netns: a.name, rules: [`-A output -d ${group}`] });
    await sock.ready;
    const seen: DivertPacket[] = [];
    const loop = (async () => {
      for await (const p of sock) {
        seen.push(p);
        p.reinject(undefined, { interface: toC.a }); // the seed's IP_MULTICAST_IF, per packet
      }
    })().catch(() => {});
    const atB = startPeer(b, ['udp-mrecv', group, '5565', '1', '1500', toB.b4]);
    const atC = startPeer(c, ['udp-mrecv', group, '5565', '1', '1500', toC.b4]);
    await Promise.all([atB.ready, atC.ready]);
    await startPeer(a, ['udp-send', group, '5565', 'steered']).result;
    assert.deepEqual(((await atC.result) as { got: string[] }).got, ['steered'], 'left by the named interface');
    assert.deepEqual(((await atB.result) as { got: string[] }).got, [], 'not by the routed one');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.address.outbound, true);
    await sock.close();
    await loop;
  });

  test('two sockets injecting inbound on one interface: closing one leaves the other working', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 19);
    const first = createDivertSocket({ netns: a.name, handleSignals: false });
    const second = createDivertSocket({ netns: a.name, handleSignals: false });
    const pkt = (text: string): Uint8Array => buildUdpPacket({ src: link.b4, dst: link.a4, srcPort: 1, dstPort: 5593, payload: text });
    first.sendto(pkt('one'), { address: link.a4 });
    second.sendto(pkt('two'), { address: link.a4 });
    await first.close();
    assert.match(a.exec('tc', ['filter', 'show', 'dev', link.a, 'egress']), /mirred/, 'the shared redirect stays');
    const got = await received(a, ['udp-recv', '5593', '1', '2000', '4'], () => {
      second.sendto(pkt('after'), { address: link.a4 });
    });
    assert.deepEqual(got.got, ['after']);
    await second.close();
    assert.doesNotMatch(a.exec('tc', ['filter', 'show', 'dev', link.a, 'egress']), /mirred/, 'the last one out removes it');
  });

  test('multicast: a send naming no interface follows the routing table, whatever was named before', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const c = createNetns();
    const toB = connect(a, b, 26);
    const toC = connect(a, c, 27);
    a.exec('ip', ['route', 'add', '224.0.0.0/4', 'dev', toB.a]);
    await using sock = createDivertSocket({ netns: a.name, handleSignals: false });
    const group = '239.9.9.9';
    const mk = (text: string): Uint8Array => buildUdpPacket({ src: toB.a4, dst: group, srcPort: 1, dstPort: 5594, payload: text, ttl: 1 });
    const atB = startPeer(b, ['udp-mrecv', group, '5594', '1', '1500', toB.b4]);
    const atC = startPeer(c, ['udp-mrecv', group, '5594', '1', '1500', toC.b4]);
    await Promise.all([atB.ready, atC.ready]);
    sock.sendto(mk('via C'), { interface: toC.a, outbound: true });
    sock.sendto(mk('routed'));
    assert.deepEqual(((await atB.result) as { got: string[] }).got, ['routed']);
    assert.deepEqual(((await atC.result) as { got: string[] }).got, ['via C']);
  });

  test('a process killed while injecting inbound leaves its filter; rules sweep removes it, not a live one', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 28);
    const mod = new URL('../../src/mod.js', import.meta.url).href;
    const build = new URL('../../src/packet/build.js', import.meta.url).href;
    const child = a.spawn(process.execPath, ['--input-type=module', '-e', `
      const { createDivertSocket } = await import(${JSON.stringify(mod)});
      const { buildUdpPacket } = await import(${JSON.stringify(build)});
      const s = createDivertSocket();
      s.sendto(buildUdpPacket({ src: '${link.b4}', dst: '${link.a4}', srcPort: 1, dstPort: 9, payload: 'x' }), { address: '${link.a4}' });
      console.log('injected'); setInterval(() => {}, 1000);`]);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => resolve());
      child.on('exit', (code) => reject(new Error(`injector child ended early (${code})`)));
    });
    // This process injects on the same interface too: its filter must survive the sweep.
    await using live = createDivertSocket({ netns: a.name, handleSignals: false });
    live.sendto(buildUdpPacket({ src: link.b4, dst: link.a4, srcPort: 1, dstPort: 9, payload: 'y' }), { address: link.a4 });
    const filters = (): number => (a.exec('tc', ['filter', 'show', 'dev', link.a, 'egress']).match(/mirred/g) ?? []).length;
    assert.equal(filters(), 2);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(filters(), 2, 'SIGKILL left the filter behind');
    const bin = new URL('../../../bin/divert.js', import.meta.url).pathname;
    const out = run(process.execPath, [bin, 'rules', 'sweep', '--netns', a.name]);
    assert.match(out, /1 injection filter/);
    assert.equal(filters(), 1, 'only the dead process\'s filter went');
  });

  test('errors: unknown inbound address, malformed packets', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 16);
    await using sock = createDivertSocket({ port: nextPort++, netns: a.name });
    await sock.ready;
    const ok = buildUdpPacket({ src: link.b4, dst: link.a4, srcPort: 1, dstPort: 2, payload: 'x' });
    assert.throws(() => sock.sendto(ok, { address: '198.18.99.9' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EADDRNOTAVAIL');
      assert.match(e.message, /not the address of a local interface/);
      return true;
    });
    assert.throws(() => sock.sendto(ok, { interface: 'nosuchif0' }), /No interface named "nosuchif0"/);
    assert.throws(() => sock.sendto(ok.subarray(0, 12)), { name: 'PacketError', message: /IPv4 packet: truncated header/ });
    const wrongLength = ok.slice();
    wrongLength[3] = wrongLength[3]! + 4;
    assert.throws(() => sock.sendto(wrongLength), /total length .* does not match/);
    assert.throws(() => sock.sendto(new Uint8Array([0x50, 0, 0, 0])), { name: 'PacketError', message: /version 5/ });
    assert.equal(sock.stats.injected, 0, 'nothing half-sent');
    assert.equal(parsePacket(ok).dstPort, 2);
  });
});
