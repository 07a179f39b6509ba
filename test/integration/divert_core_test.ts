/**
 * The divert socket against the real kernel: receive, reinject, drop, mangle, close, in throwaway
 * namespaces. Rules are written here as persistent DIVERT rules (owner "cli", as `divert rules
 * add` writes them, in the shared table `inet divert`), never the socket's own, so these tests
 * check the socket alone (the rule tool has its own tests).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  createNetns,
  connect,
  enableForwarding,
  pingAsync,
  startPeer,
  requirePrivilege,
  sleep,
  type Netns,
} from '../_harness/netns.js';
import { divertRules, divertTables } from '../_harness/ruleset.js';
import { createDivertSocket, DivertError, type DivertPacket, type DivertSocket } from '../../src/mod.js';
import { addRule, flushRules, type RuleHandle } from '../../src/firewall/mod.js';
import { parsePacket } from '../../src/packet/parse.js';

let nextPort = 100;

/**
 * Appends `-A <rule> -j DIVERT <port>` to `ns` as a persistent rule of owner "cli" (as `divert
 * rules add` does): the socket under test does not own it and never removes it.
 */
function divertRule(ns: Netns, rule: string, port: number | string, options: { passThrough?: boolean } = {}): Promise<RuleHandle> {
  return addRule(`-A ${rule} -j DIVERT ${port}${options.passThrough ? ' --pass-through' : ''}`, { netns: ns.name, owner: 'cli' });
}

/** Reinjects every packet, unchanged or through `mangle`, and records it. */
function serve(sock: DivertSocket, seen: DivertPacket[], mangle?: (p: DivertPacket) => void): Promise<void> {
  return (async () => {
    try {
      for await (const p of sock) {
        seen.push(p);
        mangle?.(p);
        if (!p.verdict) p.reinject();
      }
    } catch {
      // closed
    }
  })();
}

function twoHosts(): { a: Netns; b: Netns; link: ReturnType<typeof connect> } {
  const a = createNetns();
  const b = createNetns();
  const link = connect(a, b, 1);
  return { a, b, link };
}

/** Replaces `from` with `to` (same length) in the transport payload and marks nothing else. */
function replacePayload(p: DivertPacket, from: string, to: string): boolean {
  const parsed = parsePacket(p.packet);
  const text = Buffer.from(parsed.payload).toString('latin1');
  const at = text.indexOf(from);
  if (at < 0) return false;
  parsed.payload.set(Buffer.from(to, 'latin1'), at);
  return true;
}

describe('divert socket (real kernel)', () => {
  test('ICMP echo diverted on input is reinjected; address is the receiving interface', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'input -p icmp', port);
    await using sock = createDivertSocket({ port, netns: b.name });
    const seen: DivertPacket[] = [];
    const loop = serve(sock, seen);
    assert.equal(await pingAsync(a, link.b4, 2), true, 'ping through the divert socket');
    assert.ok(seen.length >= 2);
    const first = seen[0]!;
    assert.equal(first.address.address, link.b4);
    assert.equal(first.address.ifname, link.b);
    assert.equal(first.address.direction, 'inbound');
    assert.equal(first.address.hook, 'prerouting');
    assert.equal(first.address.port, port);
    assert.equal(parsePacket(first.packet).srcAddr, link.a4);
    await sock.close();
    await loop;
    assert.equal(sock.stats.accepted, seen.length);
  });

  test('on output the address is 0.0.0.0', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'output -p icmp', port);
    await using sock = createDivertSocket({ port, netns: b.name });
    const seen: DivertPacket[] = [];
    const loop = serve(sock, seen);
    assert.equal(await pingAsync(a, link.b4, 1), true);
    const reply = seen[0]!;
    assert.equal(reply.address.address, '0.0.0.0');
    assert.equal(reply.address.direction, 'outbound');
    assert.equal(reply.address.outIfname, link.b);
    assert.equal(parsePacket(reply.packet).icmp?.type, 0, 'an echo reply');
    await sock.close();
    await loop;
  });

  test('on forward, through a middle namespace', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const r = createNetns();
    const b = createNetns();
    const left = connect(a, r, 2);
    const right = connect(r, b, 3);
    enableForwarding(r);
    a.exec('ip', ['route', 'add', '198.18.3.0/24', 'via', left.b4]);
    b.exec('ip', ['route', 'add', '198.18.2.0/24', 'via', right.a4]);
    const port = nextPort++;
    await divertRule(r, 'forward -p icmp', port);
    await using sock = createDivertSocket({ port, netns: r.name });
    const seen: DivertPacket[] = [];
    const loop = serve(sock, seen);
    assert.equal(await pingAsync(a, right.b4, 1), true);
    const request = seen.find((p) => parsePacket(p.packet).icmp?.type === 8)!;
    assert.ok(request, 'the echo request was diverted');
    assert.equal(request.address.direction, 'forward');
    assert.equal(request.address.address, left.b4, "the router's receiving interface address");
    assert.equal(request.address.outIfname, right.a);
    await sock.close();
    await loop;
  });

  test('drop(): the ping fails', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'input -p icmp', port);
    await using sock = createDivertSocket({ port, netns: b.name });
    let dropped = 0;
    const loop = (async () => {
      for await (const p of sock) {
        p.drop();
        dropped++;
      }
    })().catch(() => {});
    assert.equal(await pingAsync(a, link.b4, 1, 2), false);
    assert.ok(dropped >= 1);
    assert.equal(sock.stats.dropped, dropped);
    await sock.close();
    await loop;
  });

  test('no listener: DENY without bypass, pass with it', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    await divertRule(b, 'input -p icmp', nextPort++);
    assert.equal(await pingAsync(a, link.b4, 1, 2), false, 'a DIVERT rule with nobody listening is a DENY');
    assert.equal(await flushRules({ netns: b.name }), 1);
    await divertRule(b, 'input -p icmp', nextPort++, { passThrough: true });
    assert.equal(await pingAsync(a, link.b4, 1, 2), true, 'pass-through lets packets continue');
  });

  test('mangled UDP payload on output reaches an ordinary UDP socket', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(a, 'output -p udp --dport 5555', port);
    await using sock = createDivertSocket({ port, netns: a.name });
    const seen: DivertPacket[] = [];
    const loop = serve(sock, seen, (p) => replacePayload(p, 'hello', 'HELLO'));
    const recv = startPeer(b, ['udp-recv', '5555', '1', '5000', '4']);
    await recv.ready;
    await startPeer(a, ['udp-send', link.b4, '5555', 'hello world']).result;
    const got = (await recv.result) as { got: string[] };
    assert.deepEqual(got.got, ['HELLO world']);
    assert.equal(sock.stats.changed, 1);
    await sock.close();
    await loop;
  });

  test('mangled TCP payload (same length) in a real TCP exchange', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(a, 'output -p tcp --dport 6000', port);
    await using sock = createDivertSocket({ port, netns: a.name });
    const seen: DivertPacket[] = [];
    const loop = serve(sock, seen, (p) => replacePayload(p, 'secret', 'SECRET'));
    const server = startPeer(b, ['tcp-server', '6000', '5000', '4']);
    await server.ready;
    const client = (await startPeer(a, ['tcp-client', link.b4, '6000', 'the secret word', '5000']).result) as { reply: string };
    assert.equal(((await server.result) as { got: string }).got, 'the SECRET word');
    assert.equal(client.reply, 'ack:the SECRET word');
    assert.ok(seen.some((p) => parsePacket(p.packet).tcp?.syn), 'the handshake went through the socket too');
    await sock.close();
    await loop;
  });

  test('close() reinjects the packets it still holds', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'input -p udp --dport 5591', port);
    const sock = createDivertSocket({ port, netns: b.name, verdictTimeoutMs: 0 });
    t.after(() => sock.close()); // idempotent: a failed assertion must not leave it open (the file would never end)
    // One datagram, never sent again: it arrives only if the held copy is reinjected.
    const recv = startPeer(b, ['udp-recv', '5591', '1', '5000', '4']);
    await recv.ready;
    await startPeer(a, ['udp-send', link.b4, '5591', 'held at close']).result;
    const held = await sock.recvfrom();
    assert.equal(held.verdict, undefined);
    await sleep(200);
    await sock.close();
    assert.equal(held.verdict, 'accept');
    assert.deepEqual(((await recv.result) as { got: string[] }).got, ['held at close'], 'delivered at close');
    assert.equal(sock.stats.closedWithVerdict, 1);
  });

  test('close() loses nothing while a rule it does not own keeps sending packets', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    // A rule installed by someone else (pass-through), so close() cannot remove it first.
    await divertRule(b, 'input -p udp --dport 5592', port, { passThrough: true });
    const sock = createDivertSocket({ port, netns: b.name });
    t.after(() => sock.close()); // idempotent: a failed assertion must not leave it open (the file would never end)
    await sock.ready;
    const loop = serve(sock, []);
    const N = 10_000;
    const { execAsync } = await import('../_harness/netns.js');
    const recv = execAsync(b, process.execPath, ['-e',
      `const s=require('dgram').createSocket('udp4');let n=0;s.on('message',()=>n++);s.bind(5592,()=>{});setTimeout(()=>{console.log(n);process.exit(0)},4000)`], 8000);
    await sleep(300);
    const send = execAsync(a, process.execPath, ['-e',
      `const s=require('dgram').createSocket('udp4');let i=0;const go=()=>{for(let k=0;k<10&&i<${N};k++,i++)s.send('x',5592,'${link.b4}');if(i<${N})setTimeout(go,1);else setTimeout(()=>process.exit(0),200)};go();`], 8000);
    const until = Date.now() + 5000;
    while (sock.stats.received < 2000 && Date.now() < until) await sleep(5);
    assert.ok(sock.stats.received >= 2000, 'traffic is flowing through the socket');
    await sock.close(); // mid-stream
    await send;
    await loop;
    assert.equal(Number((await recv).stdout.trim()), N, 'every datagram arrived: none dropped by the unbind');
  });

  test('a packet left without a verdict gets the timeout verdict', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'input -p icmp', port);
    await using sock = createDivertSocket({ port, netns: b.name, verdictTimeoutMs: 300 });
    const ping = pingAsync(a, link.b4, 1, 4);
    const held = await sock.recvfrom();
    const timedOut = new Promise((resolve) => sock.once('timeout', resolve));
    assert.equal(await timedOut, held);
    assert.equal(held.verdict, 'accept');
    assert.equal(await ping, true);
    assert.throws(() => held.reinject(), (e: DivertError) => e.code === 'ERR_DIVERT_VERDICT_TWICE');
    assert.equal(sock.stats.timedOut, 1);
  });

  test('packets that time out before the program takes them are not handed out', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'input -p icmp', port);
    await using sock = createDivertSocket({ port, netns: b.name, verdictTimeoutMs: 200 });
    await sock.ready;
    // Nobody reads while three echo requests arrive and time out (accepted: the pings succeed).
    assert.equal(await pingAsync(a, link.b4, 3), true);
    assert.ok(sock.stats.timedOut >= 3, `${sock.stats.timedOut} timed out`);
    // The next packet the program takes is a fresh one, still waiting for its verdict.
    const ping = pingAsync(a, link.b4, 1);
    const p = await sock.recvfrom();
    assert.equal(p.verdict, undefined);
    p.reinject();
    assert.equal(await ping, true);
  });

  test('seed style: recvfrom() then sendto(packet, address)', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'input -p icmp', port);
    await using sock = createDivertSocket({ port, netns: b.name });
    const ping = pingAsync(a, link.b4, 1, 4);
    const { packet, address } = await sock.recvfrom();
    assert.equal(address.address, link.b4);
    assert.equal(sock.sendto(packet, address), packet.length);
    assert.equal(await ping, true);
  });

  test('IPv6: ping diverted on input, and mangled UDP on output', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    await divertRule(b, 'input -6 -p icmpv6 --icmp-type echo-request', port);
    await divertRule(a, 'output -6 -p udp --dport 5556', port + 1);
    nextPort++;
    await using inSock = createDivertSocket({ port, netns: b.name });
    await using outSock = createDivertSocket({ port: port + 1, netns: a.name });
    const seenIn: DivertPacket[] = [];
    const seenOut: DivertPacket[] = [];
    const loops = [serve(inSock, seenIn), serve(outSock, seenOut, (p) => replacePayload(p, 'hello', 'HELLO'))];
    assert.equal(await pingAsync(a, link.b6, 1), true);
    assert.equal(seenIn[0]!.address.family, 6);
    assert.equal(seenIn[0]!.address.address, link.b6);
    const recv = startPeer(b, ['udp-recv', '5556', '1', '5000', '6']);
    await recv.ready;
    await startPeer(a, ['udp-send', link.b6, '5556', 'hello six']).result;
    assert.deepEqual(((await recv.result) as { got: string[] }).got, ['HELLO six']);
    assert.equal(seenOut[0]!.address.address, '::');
    await inSock.close();
    await outSock.close();
    await Promise.all(loops);
  });

  test('errors: bad port, port held by another process', async (t) => {
    if (!requirePrivilege(t)) return;
    const b = createNetns();
    await assert.rejects(createDivertSocket({ netns: b.name }).bind(70000), RangeError);
    const port = nextPort++;
    const holder = b.spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `const { createDivertSocket } = await import(${JSON.stringify(new URL('../../src/mod.js', import.meta.url).href)});
       const s = createDivertSocket(); await s.bind(${port}); console.log('bound'); setTimeout(() => s.close(), 5000);`,
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', () => resolve());
        holder.on('exit', (code) => reject(new Error(`the holder process ended (${code}) before binding`)));
      });
      await sleep(100);
      const sock = createDivertSocket({ netns: b.name });
      t.after(() => sock.close()); // idempotent: a failed assertion must not leave it open (the file would never end)
      await assert.rejects(sock.bind(port), (e: DivertError) => {
        assert.equal(e.code, 'ERR_DIVERT_PORT_IN_USE');
        assert.match(e.message, new RegExp(`port ${port}.*another process`));
        return true;
      });
      await sock.close();
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('divert socket with its own rules', () => {
  test('rules are installed on bind and removed on close', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const port = nextPort++;
    const sock = createDivertSocket({ port, netns: b.name, rules: ['-A input -p icmp'] });
    t.after(() => sock.close()); // idempotent: a failed assertion must not leave it open (the file would never end)
    await sock.ready;
    const seen: DivertPacket[] = [];
    const loop = serve(sock, seen);
    assert.equal(await pingAsync(a, link.b4, 1), true);
    assert.ok(seen.length >= 1, 'the rule diverted the echo request');
    assert.deepEqual(await divertRules(b), [`divert-${process.pid} divert -A input -p icmp -j DIVERT ${port}`], 'in this process\'s own table');
    await sock.close();
    await loop;
    assert.deepEqual(await divertRules(b), [], 'no rule left behind');
    assert.deepEqual(await divertTables(b), [], 'nor its table');
    assert.equal(await pingAsync(a, link.b4, 1), true, 'traffic flows after close');
  });
});

describe('a DIVERT rule spread over several ports', () => {
  test('-j DIVERT <first>:<last> spreads flows over the ports, each flow to one port', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = twoHosts();
    const first = nextPort;
    nextPort += 2;
    const socks = [createDivertSocket({ port: first, netns: b.name }), createDivertSocket({ port: first + 1, netns: b.name })];
    t.after(() => Promise.all(socks.map((s) => s.close()))); // idempotent: a failed assertion must not leave them open
    await Promise.all(socks.map((s) => s.ready));
    await divertRule(b, 'input -p udp --dport 5580', `${first}:${first + 1}`);
    const seen: DivertPacket[][] = [[], []];
    const loops = socks.map((s, i) => serve(s, seen[i]!));
    // The kernel hashes a flow by its addresses (and protocol): 16 sources, 2 datagrams each.
    for (let i = 0; i < 16; i++) a.exec('ip', ['addr', 'add', `198.18.1.${100 + i}/24`, 'dev', link.a]);
    const { execAsync } = await import('../_harness/netns.js');
    const script = `const d=require('dgram');let n=0;for(let i=0;i<16;i++){const s=d.createSocket('udp4');s.bind(41000,'198.18.1.'+(100+i),()=>{let k=0;const go=()=>s.send('flow'+i,5580,'${link.b4}',()=>{if(++k<2)go();else{s.close();if(++n===16)process.exit(0)}});go();});}`;
    const r = await execAsync(a, process.execPath, ['-e', script], 5000);
    assert.equal(r.ok, true, r.stderr);
    await sleep(300);
    for (const s of socks) await s.close();
    await Promise.all(loops);
    const flowsOf = (list: DivertPacket[]): Set<string> => new Set(list.map((p) => parsePacket(p.packet).srcAddr));
    const [f0, f1] = [flowsOf(seen[0]!), flowsOf(seen[1]!)];
    assert.equal(seen[0]!.length + seen[1]!.length, 32, 'every datagram went through one of the ports');
    assert.ok(f0.size > 0 && f1.size > 0, `both ports got flows (${f0.size} and ${f1.size})`);
    for (const flow of f0) assert.equal(f1.has(flow), false, `flow from ${flow} stayed on one port`);
  });
});
