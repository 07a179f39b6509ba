/**
 * DIVERT rules against the real kernel, without a divert socket: a DIVERT rule with no listener
 * and no --pass-through is a DENY (seed §5.2), so the packets it names are lost while other
 * traffic passes, and the rule's counter moves.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createNetns, enableForwarding, pingAsync, pingFrom, requirePrivilege, startPeer, type Netns } from '../_harness/netns.js';
import { divertTables } from '../_harness/ruleset.js';
import { addRule, DIVERT_MARK, enableAlwaysDefragment, flushRules, listRules, type ListedRule } from '../../src/firewall/mod.js';
import { rulesCommand } from '../../src/cli/commands/rules.js';
import { NftConnection } from '../../src/nftables/conn.js';
import { ne32, u8 } from '../../src/nftables/data.js';
import { NFT_CMP, NFT_META, NFT_REG } from '../../src/nftables/expr_constants.js';
import { NF_INET_HOOKS, NFPROTO } from '../../src/netlink/netfilter.js';

let nextPort = 20000;

/** True when at least one of 3 UDP datagrams from `from` reaches a receiver in `to` at `addr`. */
async function udpPasses(from: Netns, to: Netns, addr: string): Promise<boolean> {
  const port = String(nextPort++);
  const fam = addr.includes(':') ? '6' : '4';
  const recv = startPeer(to, ['udp-recv', port, '1', '1500', fam]);
  await recv.ready;
  await startPeer(from, ['udp-send', addr, port, 'hello', 'hello', 'hello']).result;
  const r = (await recv.result) as { got: string[] };
  return r.got.length > 0;
}

/** True when a TCP exchange from `from` to a server in `to` at `addr` completes. */
async function tcpPasses(from: Netns, to: Netns, addr: string): Promise<boolean> {
  const port = String(nextPort++);
  const server = startPeer(to, ['tcp-server', port, '2500', addr.includes(':') ? '6' : '4']);
  await server.ready;
  const r = (await startPeer(from, ['tcp-client', addr, port, 'hi', '1500']).result) as { reply?: string | null };
  await server.result;
  return r.reply === 'ack:hi';
}

/** One ping with a short deadline; true when it was answered. */
function pings(from: Netns, addr: string): Promise<boolean> {
  return pingAsync(from, addr, 1, 1);
}

/** Runs `divert rules …` and returns exit code and output. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await rulesCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

/** Packets counted by our DIVERT rules in `ns` (all chains, both families). */
async function diverted(ns: Netns): Promise<number> {
  const rules: ListedRule[] = await listRules({ netns: ns.name });
  return rules.filter((r) => r.kind === 'divert').reduce((n, r) => n + r.packets, 0);
}

/**
 * A table of the host's own (not divert's) in `ns`, as an administrator's `iptables -t mangle -I
 * OUTPUT -p icmp -j MARK` would make it: at local-out, priority -300 (before divert's chains),
 * outgoing ICMP gets the mark divert puts on packets it injects.
 */
async function markOutgoingIcmp(ns: Netns, mark: number): Promise<void> {
  const conn = NftConnection.open({ netnsPath: ns.path });
  try {
    const b = conn.batch();
    const family = NFPROTO.NFPROTO_IPV4;
    b.addTable({ family, name: 'host-mark' });
    b.addChain({ family, table: 'host-mark', name: 'out', type: 'route', hook: { hooknum: NF_INET_HOOKS.NF_INET_LOCAL_OUT, priority: -300 } });
    b.addRule({
      family, table: 'host-mark', chain: 'out', exprs: [
        { type: 'meta', key: NFT_META.NFT_META_L4PROTO, dreg: NFT_REG.NFT_REG_1 },
        { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: NFT_REG.NFT_REG_1, data: u8(1) }, // IPPROTO_ICMP
        { type: 'immediate', dreg: NFT_REG.NFT_REG_1, data: { value: ne32(mark) } }, // meta mark: host order
        { type: 'meta', key: NFT_META.NFT_META_MARK, sreg: NFT_REG.NFT_REG_1 },
      ],
    });
    await conn.commit(b);
  } finally {
    conn.close();
  }
}

describe('DIVERT rules (real kernel)', () => {
  test('seed: -A input -p ICMP -j DIVERT 1234 drops ICMP only, counter moves, flush restores', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 1);
    assert.equal(await pings(a, link.b4), true, 'baseline ping');
    const r = await cli('add', '--netns', b.name, '-A', 'input', '-p', 'ICMP', '-j', 'DIVERT', '1234');
    assert.equal(r.code, 0, r.err);
    assert.equal(await pings(a, link.b4), false, 'ICMP diverted to a port nobody listens on');
    assert.equal(await udpPasses(a, b, link.b4), true, 'UDP is not named by the rule');
    assert.equal(await tcpPasses(a, b, link.b4), true, 'TCP is not named by the rule');
    const listed = await listRules({ netns: b.name });
    assert.equal(listed.length, 1);
    assert.ok((listed[0]?.packets ?? 0) >= 1, 'packet counter moved');
    assert.ok((listed[0]?.bytes ?? 0) >= 84);
    const table = await cli('list', '--netns', b.name);
    assert.match(table.out, /^ID\s+FAMILY\s+CHAIN\s+PRIO\s+PKTS\s+BYTES\s+OWNER\s+STATE\s+RULE\ndivert:\d+\s+ipv4\s+input\s+0\s+[1-9]\d*\s+[1-9]\d*\s+cli\s+ok\s+-A input -p icmp -j DIVERT 1234\n$/);
    assert.equal((await cli('flush', '--netns', b.name)).out, 'flushed 1 rule\n');
    assert.deepEqual(await divertTables(b), [], 'the emptied shared table is gone');
    assert.equal(await pings(a, link.b4), true, 'ping again after flush');
  });

  test('seed: -A output -p TCP -s <addr> -j DIVERT 4321 drops that host\'s TCP only', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 2);
    const r = await cli('add', '--netns', a.name, '-A', 'output', '-p', 'TCP', '-s', link.a4, '-j', 'DIVERT', '4321');
    assert.equal(r.code, 0, r.err);
    assert.equal(await tcpPasses(a, b, link.b4), false, 'TCP from the named source diverted (DENY)');
    assert.ok((await diverted(a)) >= 1, 'counter moved');
    assert.equal(await pings(a, link.b4), true, 'ICMP passes');
    assert.equal(await udpPasses(a, b, link.b4), true, 'UDP passes');
    assert.equal(await tcpPasses(b, a, link.a4), false, 'replies from a (source a4) are TCP from a4 too');
  });

  test('the seed text "-s -j DIVERT 4321" is a usage error with a hint', async () => {
    const r = await cli('add', '-A', 'output', '-p', 'TCP', '-s', '-j', 'DIVERT', '4321');
    assert.equal(r.code, 2);
    assert.match(r.err, /^divert rules add: -s needs an address, got "-j" .*lost its address in formatting/);
  });

  test('--pass-through: no listener, packets continue and the counter moves', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 3);
    await addRule('-A input -p icmp -j DIVERT 77 --pass-through', { netns: b.name, owner: 'cli' });
    assert.equal(await pings(a, link.b4), true);
    assert.ok((await diverted(b)) >= 1);
    await addRule('-A input -p udp -j DIVERT 78:80 --pass-through', { netns: b.name, owner: 'cli' });
    assert.equal(await udpPasses(a, b, link.b4), true, 'queue-balance with bypass passes too');
  });

  test('IPv6: -6 -p icmpv6 --icmp-type echo-request diverts IPv6 echo requests only', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 4);
    assert.equal(await pings(a, link.b6), true, 'baseline ping6');
    const h = await addRule('-A input -6 -p icmpv6 --icmp-type echo-request -j DIVERT 5', { netns: b.name });
    assert.equal(await pings(a, link.b6), false, 'echo request diverted');
    assert.equal(await udpPasses(a, b, link.b6), true, 'UDP over IPv6 passes');
    assert.equal(await pings(a, link.b4), true, 'IPv4 untouched');
    const listed = await listRules({ netns: b.name, family: 'ipv6' });
    assert.equal(listed.length, 1);
    assert.ok((listed[0]?.packets ?? 0) >= 1);
    assert.deepEqual(listed.map((r) => [r.table, r.hook, r.family]), [[`divert-${process.pid}`, 'prerouting', 'ipv6']], 'on prerouting, in this process\'s own table');
    assert.deepEqual(await divertTables(b), [`divert-${process.pid}`]);
    assert.equal(await h.remove(), 1);
    assert.deepEqual(await divertTables(b), []);
    assert.equal(await pings(a, link.b6), true);
    // The family decided after --icmp-type (by -6 or by an address): still ICMPv6 echo-request (128).
    for (const text of ['-A input -p icmpv6 --icmp-type echo-request -6 -j DIVERT 5', `-A input -p icmpv6 --icmp-type echo-request -d ${link.b6} -j DIVERT 5`]) {
      const late = await addRule(text, { netns: b.name });
      assert.equal(await pings(a, link.b6), false, `echo request diverted: ${text}`);
      assert.equal(await late.remove(), 1);
    }
    assert.equal(await pings(a, link.b6), true);
  });

  test('forward through a router: forward sees forwarded packets only; input sees them too', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const r = createNetns();
    const c = createNetns();
    const left = connect(a, r, 5);
    const right = connect(r, c, 6);
    enableForwarding(r);
    a.exec('ip', ['route', 'add', '198.18.6.0/24', 'via', left.b4]);
    c.exec('ip', ['route', 'add', '198.18.5.0/24', 'via', right.a4]);
    assert.equal(await pings(a, right.b4), true, 'baseline through the router');
    const fwd = await addRule('-A forward -p udp -j DIVERT 9', { netns: r.name });
    assert.equal(await udpPasses(a, c, right.b4), false, 'forwarded UDP diverted');
    assert.equal(await udpPasses(r, c, right.b4), true, 'the router\'s own UDP is not forwarded');
    assert.equal(await pings(a, right.b4), true, 'forwarded ICMP not named');
    await fwd.remove();
    const input = await addRule('-A input -p icmp -i ' + left.b + ' -j DIVERT 10', { netns: r.name });
    assert.equal(await pings(a, right.b4), false, 'seed input chain sees packets to be forwarded');
    assert.equal(await pings(a, left.b4), false, 'and packets for the router itself');
    await input.remove();
    const local = await addRule('-A local-in -p icmp -j DIVERT 11', { netns: r.name });
    assert.equal(await pings(a, right.b4), true, 'local-in (netfilter INPUT) does not see forwarded packets');
    assert.equal(await pings(a, left.b4), false, 'but sees packets for the router');
    await local.remove();
    const out = await addRule(`-A output -p icmp -o ${right.a} -j DIVERT 12`, { netns: r.name });
    assert.equal(await pings(a, right.b4), false, 'seed output chain sees forwarded packets leaving');
    await out.remove();
    assert.deepEqual(await divertTables(r), []);
  });

  test('packets carrying the divert mark are never diverted (loop avoidance)', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 7);
    await addRule('-A output -p icmp -j DIVERT 13', { netns: a.name, owner: 'cli' });
    assert.equal(await pings(a, link.b4), false);
    const counted = await diverted(a);
    assert.ok(counted >= 1);
    await markOutgoingIcmp(a, DIVERT_MARK);
    assert.equal(await pings(a, link.b4), true, 'marked like an injected packet: passes the DIVERT rule');
    assert.equal(await diverted(a), counted, 'and is not counted by it');
  });

  test('always-defragment: fragments reach the DIVERT rule as one packet', async (t) => {
    if (!requirePrivilege(t)) return;
    const a = createNetns();
    const b = createNetns();
    const link = connect(a, b, 8);
    await addRule('-A input -p icmp -s ' + link.a4 + ' -j DIVERT 14 --pass-through', { netns: b.name, owner: 'cli' });
    // Exactly one 3000-byte echo request (3 fragments over the 1500-byte link) and its reply.
    const big = async (): Promise<boolean> => (await pingFrom(a, link.b4, { size: 3000, deadlineMs: 1000 })).received === 1;
    assert.equal(await big(), true);
    assert.equal(await diverted(b), 3, 'without defrag: 3 fragments of a 3028-byte datagram');
    const h = await enableAlwaysDefragment({ netns: b.name, family: 'ipv4' });
    assert.equal(await big(), true);
    assert.equal(await diverted(b), 4, 'with defrag: one reassembled packet');
    const listed = await listRules({ netns: b.name });
    assert.deepEqual(listed.map((l) => l.kind), ['divert', 'defrag']);
    await h.remove();
    await flushRules({ netns: b.name });
    assert.deepEqual(await divertTables(b), []);
  });
});
