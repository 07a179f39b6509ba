/**
 * No packet lost, no rule leaked: a program holding packets and its own rules is interrupted
 * (SIGINT, SIGTERM), crashes (uncaught exception) or is aborted; held packets are delivered and
 * its rules are gone. Also the privilege error and offloaded checksums.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, connect, pingAsync, startPeer, requirePrivilege, type Netns } from '../_harness/netns.js';
import { createDivertSocket, type DivertPacket } from '../../src/mod.js';
import { parsePacket } from '../../src/packet/parse.js';
import { listRules } from '../../src/firewall/mod.js';

const MOD = new URL('../../src/mod.js', import.meta.url).href;
let nextPort = 700;

/** A program in `ns` that binds `port` with its own ICMP rule and holds every packet (no verdict). */
function holder(ns: Netns, port: number, then: 'wait' | 'throw'): {
  child: ReturnType<Netns['spawn']>;
  ready: Promise<void>;
  got: Promise<void>;
  exit: Promise<{ code: number | null; signal: string | null }>;
} {
  const script = `
    const { createDivertSocket } = await import(${JSON.stringify(MOD)});
    const sock = createDivertSocket({ port: ${port}, rules: ['-A input -p udp --dport 5590'], verdictTimeoutMs: 0 });
    await sock.ready;
    console.log('ready');
    const held = [];
    for await (const p of sock) {
      held.push(p);
      console.log('got');
      ${then === 'throw' ? "setTimeout(() => { throw new Error('boom'); }, 100);" : ''}
    }`;
  const child = ns.spawn(process.execPath, ['--input-type=module', '-e', script]);
  let out = '';
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // Resolves when the child printed `word`; rejects if it ended first (no test may hang on it).
  const waitFor = (word: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(word)) resolve();
      });
      void exit.then((e) => reject(new Error(`holder ended (${JSON.stringify(e)}) before printing "${word}"`)));
    });
  const ready = waitFor('ready');
  const got = waitFor('got');
  got.catch(() => {});
  setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  return { child, ready, got, exit };
}

/**
 * One UDP datagram from `a` to a receiver in `b`: true when exactly it arrived. Unlike ping, it is
 * never sent again, so it arrives only if the held copy itself was reinjected.
 */
async function oneDatagram(a: Netns, b: Netns, to: string, whileHeld: () => Promise<void>): Promise<boolean> {
  const recv = startPeer(b, ['udp-recv', '5590', '1', '8000', '4'], 12_000);
  await recv.ready;
  await startPeer(a, ['udp-send', to, '5590', 'the only one']).result;
  await whileHeld();
  return JSON.stringify(((await recv.result) as { got: string[] }).got) === '["the only one"]';
}

/** DIVERT rules in `ns` (every table of divert's), read over netlink. */
async function ruleCount(ns: Netns): Promise<number> {
  return (await listRules({ netns: ns.name })).filter((r) => r.kind === 'divert').length;
}

describe('lifecycle: signals, crashes, abort', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal}: held packets are delivered, rules removed, the process dies by the signal`, async (t) => {
      if (!requirePrivilege(t)) return;
      const a = createNetns();
      const b = createNetns();
      const link = connect(a, b, 20);
      const h = holder(b, nextPort++, 'wait');
      await h.ready;
      let exit = { code: null as number | null, signal: null as string | null };
      const delivered = await oneDatagram(a, b, link.b4, async () => {
        await h.got;
        assert.equal(await ruleCount(b), 1);
        // `ip netns exec` passes the signal on to its child.
        h.child.kill(signal);
        exit = await h.exit;
      });
      assert.equal(delivered, true, 'the held datagram was reinjected, not lost');
      assert.equal(await ruleCount(b), 0, 'no rule left behind');
      assert.ok(exit.signal === signal || exit.code === 128 + (signal === 'SIGINT' ? 2 : 15), `died by ${signal}: ${JSON.stringify(exit)}`);
    });
  }

  test('uncaught exception: held packets delivered, rules removed, exit code 1', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 21);
    const h = holder(b, nextPort++, 'throw');
    await h.ready;
    let exit = { code: null as number | null, signal: null as string | null };
    const delivered = await oneDatagram(a, b, link.b4, async () => {
      exit = await h.exit;
    });
    assert.equal(exit.code, 1);
    assert.equal(delivered, true, 'the held datagram was reinjected, not lost');
    assert.equal(await ruleCount(b), 0);
  });

  test('AbortSignal closes the socket and ends iteration', async (t) => {
    if (!requirePrivilege(t)) return;
    const b = createNetns();
    const ac = new AbortController();
    const sock = createDivertSocket({ port: nextPort++, netns: b.name, signal: ac.signal });
    await sock.ready;
    const iterating = (async () => {
      let n = 0;
      for await (const _ of sock) n++;
      return n;
    })();
    setTimeout(() => ac.abort(), 50);
    assert.equal(await iterating, 0);
    assert.equal(sock.closed, true);
    // recvfrom() with its own signal rejects with the abort reason.
    await using other = createDivertSocket({ port: nextPort++, netns: b.name });
    await other.ready;
    await assert.rejects(other.recvfrom({ signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
  });

  test('without CAP_NET_ADMIN: a clear error naming the capability and the rootless route', async (t) => {
    if (!requirePrivilege(t)) return;
    const b = createNetns();
    const script = `
      const { createDivertSocket } = await import(${JSON.stringify(MOD)});
      try { await createDivertSocket().bind(${nextPort++}); console.log('bound?!'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    // setpriv drops every capability and becomes nobody, inside the test namespace.
    const r = b.tryExec('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
      process.execPath, '--input-type=module', '-e', script]);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(last.startsWith('{'), `the unprivileged child printed no result (can user nobody read this checkout?): ${r.stdout}${r.stderr}`);
    const out = JSON.parse(last) as { code: string; message: string };
    assert.equal(out.code, 'EPERM');
    assert.match(out.message, /CAP_NET_ADMIN/);
    assert.match(out.message, /unshare --user --map-root-user --net/);
  });

  test('injection without CAP_NET_RAW: a clear error, nothing sent', async (t) => {
    if (!requirePrivilege(t)) return;
    const b = createNetns();
    const script = `
      const { createDivertSocket } = await import(${JSON.stringify(MOD)});
      const { buildUdpPacket } = await import(${JSON.stringify(new URL('../../src/packet/build.js', import.meta.url).href)});
      const sock = createDivertSocket();
      try { sock.sendto(buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: 'x' })); console.log('sent?!'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, injected: sock.stats.injected })); }
      await sock.close();`;
    const r = b.tryExec('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
      process.execPath, '--input-type=module', '-e', script]);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(last.startsWith('{'), `the unprivileged child printed no result (can user nobody read this checkout?): ${r.stdout}${r.stderr}`);
    const out = JSON.parse(last) as { code: string; message: string; injected: number };
    assert.equal(out.code, 'EPERM');
    assert.match(out.message, /CAP_NET_RAW/);
    assert.equal(out.injected, 0);
  });

  test('meta copy mode: verdicts without the packet bytes', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 23);
    await using sock = createDivertSocket({ port: nextPort++, netns: b.name, copyMode: 'meta', rules: ['-A input -p icmp'] });
    await sock.ready;
    const seen: DivertPacket[] = [];
    const loop = (async () => {
      for await (const p of sock) {
        seen.push(p);
        p.reinject();
      }
    })().catch(() => {});
    assert.equal(await pingAsync(a, link.b4, 1), true);
    assert.ok(seen.length >= 1);
    assert.equal(seen[0]!.packet.length, 0, 'no bytes copied');
    assert.equal(seen[0]!.address.family, 4);
    assert.equal(seen[0]!.address.ifname, link.b);
    await sock.close();
    await loop;
  });

  test('offloaded checksums (gso mode): unchanged packets pass, changed ones carry full checksums', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 22);
    const port = nextPort++;
    await using sock = createDivertSocket({ port, netns: a.name, gso: true, rules: ['-A output -p udp --dport 5570:5571'] });
    await sock.ready;
    const seen: DivertPacket[] = [];
    const loop = (async () => {
      for await (const p of sock) {
        seen.push(p);
        const parsed = parsePacket(p.packet);
        if (parsed.dstPort === 5571) parsed.payload.set(Buffer.from('CHANGED'));
        p.reinject();
      }
    })().catch(() => {});
    for (const [dport, text, expect] of [['5570', 'payload', 'payload'], ['5571', 'changed', 'CHANGED']] as const) {
      const recv = startPeer(b, ['udp-recv', dport, '1', '3000', '4']);
      await recv.ready;
      await startPeer(a, ['udp-send', link.b4, dport, text]).result;
      assert.deepEqual(((await recv.result) as { got: string[] }).got, [expect]);
    }
    // veth offloads checksums: locally made packets come with partial checksums in gso mode.
    assert.ok(seen.length === 2 && seen.every((p) => p.address.checksumNotReady), 'both came with NFQA_SKB_CSUMNOTREADY');
    await sock.close();
    await loop;
  });
});

