/**
 * A divert socket with a WinDivert filter, through the fake kernel: the filter becomes kernel
 * rules in the program's own table, a free port is chosen when none is given, and what the
 * kernel can only over-approximate is decided in user space (non-matching packets go on at once).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createDivertSocket, type DivertSocket } from './divert_socket.js';
import type { DivertSocketOptions } from './options.js';
import { countersAddUp } from './counters.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS, turn, udp4, udp6, waitFor } from '../testing/fixtures.js';
import { NF_VERDICT } from '../nfqueue/constants.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { decodeNote, ownedTable } from '../firewall/layout.js';
import { FilterSyntaxError } from '../errors.js';

const OUT = { hook: NF_INET_HOOKS.NF_INET_POST_ROUTING, outdev: 2 };

async function open(t: TestContext, options: DivertSocketOptions): Promise<{ kernel: FakeKernel; sock: DivertSocket }> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const sock = createDivertSocket({ handleSignals: false, ...options });
  t.after(async () => {
    await sock.close().catch(() => {});
    assert.ok(countersAddUp(sock.stats), JSON.stringify(sock.stats));
    kernel.uninstall();
  });
  await sock.ready;
  return { kernel, sock };
}

test('a filter without a port: a free port is chosen and the filter becomes rules in the program\'s table', async (t) => {
  const { kernel, sock } = await open(t, { filter: 'outbound and udp.DstPort == 53' });
  assert.ok(sock.port !== undefined && sock.port >= 40000 && sock.port < 60000, `auto port ${sock.port}`);
  const rules = kernel.nftables.rules(ownedTable(process.pid)).filter((r) => decodeNote(r.userdata)?.kind === 'filter');
  // IPv4 takes one rule; IPv6 one per extension-header shape the kernel can tell apart.
  assert.deepEqual([...new Set(rules.map((r) => decodeNote(r.userdata)?.text))], [
    `filter ipv4 -j DIVERT ${sock.port} "outbound and udp.DstPort == 53"`,
    `filter ipv6 -j DIVERT ${sock.port} "outbound and udp.DstPort == 53"`,
  ]);
  assert.equal(rules.filter((r) => decodeNote(r.userdata)?.text.startsWith('filter ipv4')).length, 1);
  await sock.close();
  assert.deepEqual(kernel.nftables.tables(), [], 'its table went with the socket');
});

test('a residual filter: what the kernel queues but the filter does not match goes on at once', async (t) => {
  // A negative payload index cannot be a kernel match: every UDP packet is queued, user space decides.
  const { kernel, sock } = await open(t, { port: 7, filter: 'udp.Payload[-1] == 0x21' });
  const id1 = kernel.enqueuePacket(7, udp4('quiet.'), OUT);
  const id2 = kernel.enqueuePacket(7, udp4('loud!'), OUT);
  const p = await sock.recvfrom();
  assert.equal(p.id, id2, 'only the matching packet is handed out');
  p.reinject();
  await turn();
  await waitFor(() => kernel.verdicts.length === 2, 'both verdicts');
  assert.deepEqual(kernel.verdicts.map((v) => [v.id, v.verdict]).sort(), [[id1, NF_VERDICT.NF_ACCEPT], [id2, NF_VERDICT.NF_ACCEPT]]);
  assert.deepEqual([sock.stats.received, sock.stats.filtered, sock.stats.accepted], [2, 1, 1]);
});

test('rules and a filter together: the rules choose in the kernel, the filter decides in user space', async (t) => {
  const { kernel, sock } = await open(t, { port: 8, rules: ['-A output -p udp'], filter: 'udp.DstPort == 53' });
  const notes = kernel.nftables.rules(ownedTable(process.pid)).map((r) => decodeNote(r.userdata)?.kind).filter(Boolean);
  assert.deepEqual(notes, ['divert'], 'the filter is not installed as rules');
  const other = udp4('x');
  other[23] = 54; // destination port 54
  kernel.enqueuePacket(8, other, OUT);
  const id = kernel.enqueuePacket(8, udp4('y'), OUT);
  const p = await sock.recvfrom();
  assert.equal(p.id, id);
  p.drop();
  assert.equal(sock.stats.filtered, 1);
});

test('a bad filter is refused at once, with a caret under the fault', () => {
  assert.throws(() => createDivertSocket({ filter: 'tcp.DstPort == ' }), (err: unknown) => {
    assert.ok(err instanceof FilterSyntaxError);
    assert.match(err.message, /\^/);
    return true;
  });
  assert.throws(() => createDivertSocket({ filter: '' }), { name: 'TypeError', message: /filter must be a filter string/ });
});

test('the residue looks only where a rule is residual: IPv4 packets of an IPv4-exact filter are not evaluated again', async (t) => {
  // udp.DstPort == 54 is exact for IPv4 and residual for IPv6 (extension headers). The fake
  // kernel queues whatever it is given, so packets to port 53, which the real rules would never
  // queue, show which packets user space evaluates: the IPv4 one is taken as the kernel's match,
  // the IPv6 one is evaluated and let go.
  const { kernel, sock } = await open(t, { port: 7, filter: 'udp.DstPort == 54' });
  const id4 = kernel.enqueuePacket(7, udp4(), OUT);
  kernel.enqueuePacket(7, udp6(), OUT);
  const p = await sock.recvfrom();
  assert.equal(p.id, id4, 'the IPv4 packet reached the program');
  p.reinject();
  await waitFor(() => kernel.verdicts.length === 2, 'both verdicts');
  assert.deepEqual([sock.stats.received, sock.stats.filtered, sock.stats.accepted], [2, 1, 1]);
});
