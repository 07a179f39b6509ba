/**
 * Injection with no interception (seed §7.2) and multicast: outbound, inbound as if received on
 * an interface, forwarded, and out of a chosen interface. The tc objects behind inbound injection
 * are read over rtnetlink (no tc binary).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createNetns, connect, enableForwarding, ifindexOf, startPeer, requirePrivilege, run, sleep, type Netns } from '../_harness/netns.js';
import { createDivertSocket, DIVERT_MARK, type DivertPacket, type DivertSocket } from '../../src/mod.js';
import { INJECT_REDIRECT } from '../../src/firewall/mod.js';
import { queueExpr } from '../../src/firewall/compile.js';
import { probeKernel } from '../../src/firewall/kernel.js';
import { rulesCommand } from '../../src/cli/commands/rules.js';
import { buildUdpPacket } from '../../src/packet/build.js';
import { parsePacket } from '../../src/packet/parse.js';
import { NFPROTO, NF_INET_HOOKS } from '../../src/netlink/netfilter.js';
import { NftConnection } from '../../src/nftables/conn.js';
import { be16, u8 } from '../../src/nftables/data.js';
import { NFT_CMP, NFT_META, NFT_PAYLOAD, NFT_REG } from '../../src/nftables/expr_constants.js';
import { markMatchProgram } from '../../src/rtnetlink/cbpf.js';
import { replaceBpfFilter, addClsact } from '../../src/rtnetlink/tc_ops.js';
import { tcState, withRtnl } from '../_harness/tc.js';
import { listRedirectFilters, type RedirectFilter } from '../../src/rtnetlink/tc_redirect.js';

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

/** divert's inbound-injection redirects (tc bpf + mirred filters) in `ns`, by interface name and owner pid. */
async function redirects(ns: Netns): Promise<Array<[string, number]>> {
  const found: RedirectFilter[] = await withRtnl(ns, (sock) => listRedirectFilters(sock, INJECT_REDIRECT));
  return found.map((f): [string, number] => [f.ifname, f.pid]).sort((x, y) => x[1] - y[1]);
}

/** Whether interface `ifname` of `ns` has a clsact qdisc. */
async function hasClsact(ns: Netns, ifname: string): Promise<boolean> {
  return (await tcState(ns)).some((l) => l.startsWith(`qdisc ${ifindexOf(ns, ifname)} clsact `));
}

/**
 * A plain queue rule of a table of our own (not divert's): UDP to `dport` over IPv4 queued to
 * `port` at prerouting, priority mangle, with no exclusion of the divert mark (every DIVERT rule
 * has one), so it shows each crossing of the hook, injected packets included. The queue
 * verdict is the one this kernel takes (the native expression, else the compat NFQUEUE target).
 */
async function plainQueueRule(ns: Netns, dport: number, port: number): Promise<void> {
  const conn = NftConnection.open({ netnsPath: ns.path });
  try {
    const probe = await probeKernel(conn);
    const family = NFPROTO.NFPROTO_INET;
    const b = conn.batch();
    b.addTable({ family, name: 'watch' });
    b.addChain({ family, table: 'watch', name: 'pre', type: 'filter', hook: { hooknum: NF_INET_HOOKS.NF_INET_PRE_ROUTING, priority: -150 } });
    b.addRule({
      family, table: 'watch', chain: 'pre', exprs: [
        { type: 'meta', key: NFT_META.NFT_META_NFPROTO, dreg: NFT_REG.NFT_REG_1 },
        { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: NFT_REG.NFT_REG_1, data: u8(NFPROTO.NFPROTO_IPV4) },
        { type: 'meta', key: NFT_META.NFT_META_L4PROTO, dreg: NFT_REG.NFT_REG_1 },
        { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: NFT_REG.NFT_REG_1, data: u8(17) },
        { type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: NFT_REG.NFT_REG_1 },
        { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: NFT_REG.NFT_REG_1, data: be16(dport) },
        queueExpr({ port, passThrough: false }, probe.queue === undefined ? 'queue' : 'compat'),
      ],
    });
    await conn.commit(b);
  } finally {
    conn.close();
  }
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
    t.after(() => mine.close()); // idempotent: a failed assertion must not leave it open (the file would never end)
    await mine.ready;
    const mineSeen: DivertPacket[] = [];
    const mineLoop = collect(mine, mineSeen);
    // ...while a plain queue rule (no mark exclusion) shows each crossing of the input hook.
    const watchPort = nextPort++;
    await plainQueueRule(a, 5561, watchPort);
    const watch = createDivertSocket({ port: watchPort, netns: a.name });
    t.after(() => watch.close());
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
    assert.deepEqual(await redirects(a), [], 'the redirect filter is removed at close');
    assert.equal(await hasClsact(a, link.a), false, 'and the clsact qdisc the socket added for it');
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
    t.after(() => Promise.all([first.close(), second.close()])); // idempotent: a failed assertion must not leave them open
    const pkt = (text: string): Uint8Array => buildUdpPacket({ src: link.b4, dst: link.a4, srcPort: 1, dstPort: 5593, payload: text });
    first.sendto(pkt('one'), { address: link.a4 });
    second.sendto(pkt('two'), { address: link.a4 });
    assert.deepEqual(await redirects(a), [[link.a, process.pid]], 'one redirect per process and interface');
    await first.close();
    assert.deepEqual(await redirects(a), [[link.a, process.pid]], 'the shared redirect stays');
    const got = await received(a, ['udp-recv', '5593', '1', '2000', '4'], () => {
      second.sendto(pkt('after'), { address: link.a4 });
    });
    assert.deepEqual(got.got, ['after']);
    await second.close();
    assert.deepEqual(await redirects(a), [], 'the last one out removes it');
    assert.equal(await hasClsact(a, link.a), false, 'and the clsact qdisc');
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
      console.log('injected'); setTimeout(() => process.exit(3), 20000);`]);
    t.after(() => child.kill('SIGKILL')); // a failed assertion before the kill below must not leave it running
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => resolve());
      child.on('exit', (code) => reject(new Error(`injector child ended early (${code})`)));
    });
    // This process injects on the same interface too: its filter must survive the sweep.
    await using live = createDivertSocket({ netns: a.name, handleSignals: false });
    live.sendto(buildUdpPacket({ src: link.b4, dst: link.a4, srcPort: 1, dstPort: 9, payload: 'y' }), { address: link.a4 });
    const both = [[link.a, process.pid], [link.a, child.pid!]].sort((x, y) => (x[1] as number) - (y[1] as number));
    assert.deepEqual(await redirects(a), both);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.deepEqual(await redirects(a), both, 'SIGKILL left the filter behind');
    const bin = new URL('../../../bin/divert.js', import.meta.url).pathname;
    const out = run(process.execPath, [bin, 'rules', 'sweep', '--netns', a.name]);
    assert.equal(out, 'swept 0 rules, 1 injection redirect\n');
    assert.deepEqual(await redirects(a), [[link.a, process.pid]], 'only the dead process\'s filter went');
  });

  for (const hostFilter of [false, true]) {
    test(`SIGKILL of a program that injected inbound: after \`divert rules sweep\`, qdiscs and filters are exactly as before (${hostFilter ? 'a clsact with a filter of the host\'s own was there' : 'no clsact before'})`, async (t) => {
      if (!requirePrivilege(t)) return;
      const a = createNetns();
      const b = createNetns();
      const link = connect(a, b, hostFilter ? 30 : 29);
      if (hostFilter) {
        // An administrator's own tc objects on the same interface: a clsact and an ingress filter.
        await withRtnl(a, async (sock) => {
          const ifindex = ifindexOf(a, link.a);
          assert.equal(await addClsact(sock, ifindex), true);
          await replaceBpfFilter(sock, { ifindex, direction: 'ingress', prio: 7, handle: 7, ops: markMatchProgram(0x1234), actions: [] });
        });
      }
      const before = await tcState(a);
      assert.equal(before.some((l) => l.startsWith('filter ')), hostFilter);
      const mod = new URL('../../src/mod.js', import.meta.url).href;
      const build = new URL('../../src/packet/build.js', import.meta.url).href;
      const child = spawn(process.execPath, ['--input-type=module', '-e', `
        const { createDivertSocket } = await import(${JSON.stringify(mod)});
        const { buildUdpPacket } = await import(${JSON.stringify(build)});
        const sock = createDivertSocket({ netns: ${JSON.stringify(a.name)} });
        sock.sendto(buildUdpPacket({ src: '${link.b4}', dst: '${link.a4}', srcPort: 1, dstPort: 9, payload: 'x' }), { address: '${link.a4}' });
        process.stdout.write('ready\\n');
        setTimeout(() => process.exit(3), 20000);`], { stdio: ['ignore', 'pipe', 'pipe'] });
      t.after(() => child.kill('SIGKILL'));
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready\n')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`injector child ended early (${code}): ${err}`)));
      });
      assert.deepEqual(await redirects(a), [[link.a, child.pid!]], 'the child\'s redirect is in place');
      assert.notDeepEqual(await tcState(a), before);
      child.kill('SIGKILL');
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      assert.deepEqual([code, signal], [null, 'SIGKILL']);
      assert.deepEqual(await redirects(a), [[link.a, child.pid!]], 'SIGKILL left the redirect behind');
      let swept = '';
      let sweepErr = '';
      assert.equal(await rulesCommand(['sweep', '--netns', a.name], { stdout: (s) => (swept += s), stderr: (s) => (sweepErr += s) }), 0, sweepErr);
      assert.equal(swept, 'swept 0 rules, 1 injection redirect\n');
      assert.deepEqual(await tcState(a), before, 'qdiscs and filters exactly as before');
    });
  }

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
