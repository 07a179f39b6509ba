/**
 * Large datagrams through a divert socket, with and without always-defragment mode (seed §5.2,
 * §7.3), and a DF datagram too big for the path.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, connect, enableForwarding, pingFrom, startPeer, requirePrivilege } from '../_harness/netns.js';
import { createDivertSocket, type DivertPacket, type DivertSocket } from '../../src/mod.js';
import { parsePacket } from '../../src/packet/parse.js';

let nextPort = 300;
const BIG = 4000;

function serve(sock: DivertSocket, seen: DivertPacket[]): Promise<void> {
  return (async () => {
    for await (const p of sock) {
      seen.push(p);
      p.reinject();
    }
  })().catch(() => {});
}

async function bigDatagram(v6: boolean, defragment: boolean): Promise<{ got: string[]; seen: DivertPacket[] }> {
  const a = createNetns();
  const b = createNetns();
  const link = connect(a, b, 5, { mtu: 1500 });
  const port = nextPort++;
  const src = v6 ? link.a6 : link.a4;
  const sock = createDivertSocket({ port, netns: b.name, defragment, rules: [`-A input -p udp -s ${src}`] });
  await sock.ready;
  const seen: DivertPacket[] = [];
  const loop = serve(sock, seen);
  const recv = startPeer(b, ['udp-recv', '5557', '1', '5000', v6 ? '6' : '4']);
  await recv.ready;
  const text = 'x'.repeat(BIG - 4) + 'done';
  await startPeer(a, ['udp-send', v6 ? link.b6 : link.b4, '5557', text]).result;
  const got = (await recv.result) as { got: string[] };
  await sock.close();
  await loop;
  assert.equal(got.got[0]?.length, BIG, 'the datagram arrived whole');
  assert.equal(got.got[0], text, 'and intact');
  return { got: got.got, seen };
}

describe('fragments through a divert socket', () => {
  test('default: fragments arrive one by one; reinjected unchanged, the datagram is intact (IPv4)', async (t) => {
    if (!requirePrivilege(t)) return;
    const { seen } = await bigDatagram(false, false);
    assert.ok(seen.length >= 3, `${seen.length} fragments diverted`);
    assert.ok(seen.every((p) => p.packet.length <= 1500 && parsePacket(p.packet).isFragment));
  });

  test('defragment: the datagram arrives whole (IPv4)', async (t) => {
    if (!requirePrivilege(t)) return;
    const { seen } = await bigDatagram(false, true);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.packet.length, BIG + 28);
    assert.equal(parsePacket(seen[0]!.packet).isFragment, false);
  });

  test('default and defragment over IPv6', async (t) => {
    if (!requirePrivilege(t)) return;
    const off = await bigDatagram(true, false);
    assert.ok(off.seen.length >= 3 && off.seen.every((p) => parsePacket(p.packet).isFragment));
    const on = await bigDatagram(true, true);
    assert.equal(on.seen.length, 1);
    assert.equal(on.seen[0]!.packet.length, BIG + 48);
  });

  test('a DF datagram too big for the next hop: reinjection yields ICMP "fragmentation needed"; injection is refused', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const r = createNetns();
    const b = createNetns();
    const left = connect(a, r, 6);
    const right = connect(r, b, 7, { mtu: 1280 });
    enableForwarding(r);
    a.exec('ip', ['route', 'add', '198.18.7.0/24', 'via', left.b4]);
    b.exec('ip', ['route', 'add', '198.18.6.0/24', 'via', right.a4]);
    const port = nextPort++;
    const sock = createDivertSocket({ port, netns: r.name, rules: ['-A input -p icmp'] });
    await sock.ready;
    const seen: DivertPacket[] = [];
    const loop = serve(sock, seen);
    // A ping with DF and 1400 bytes (ping -M do -s 1400), diverted as it comes in: the router reinjects it, the
    // kernel refuses to forward it over the 1280 link and tells the sender, so path MTU discovery keeps working.
    const ping = await pingFrom(a, right.b4, { dontFragment: true, size: 1400, deadlineMs: 2000 });
    assert.equal(ping.received, 0, JSON.stringify(ping));
    assert.ok(ping.errors.some((e) => e.kind === 'icmp' && e.type === 3 && e.code === 4 && e.mtu === 1280), `frag needed, mtu = 1280: ${JSON.stringify(ping.errors)}`);
    assert.ok(seen.some((p) => p.packet.length === 1428), 'the DF packet went through the divert socket');
    // Injecting such a packet onto the 1280 link is refused with a clear error.
    const big = Buffer.from(seen.find((p) => p.packet.length === 1428)!.packet);
    assert.throws(() => sock.sendto(big), (e: Error & { code?: string }) => e.code === 'EMSGSIZE' && /larger than the path MTU/.test(e.message));
    await sock.close();
    await loop;
  });
});
