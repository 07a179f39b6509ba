/**
 * Sniffing rules against the fake kernel's nf_tables: the same selection as a DIVERT rule, ending
 * in `log group <port>` instead of the queue verdict; noted, listed and removed like the others.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { addFilter, addRule, listRules } from './api.js';
import { logTail } from './compile.js';
import { currentOwner } from './owner.js';
import { decodeNote, ownedTable, sniffText, unsniffText } from './layout.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import type { Rule } from '../nftables/rule.js';
import { FirewallError } from '../errors.js';

const OWN = ownedTable(process.pid);
let nsCounter = 0;

function setup(t: TestContext): { kernel: FakeKernel; netns: string; rules: () => Rule[] } {
  const kernel = FakeKernel.install();
  kernel.nftables.queueAvailable = false;
  t.after(() => kernel.uninstall());
  const netns = `/run/netns/fw-sniff-${process.pid}-${++nsCounter}`;
  return { kernel, netns, rules: () => kernel.nftables.rules(OWN, undefined, undefined, netns).filter((r) => decodeNote(r.userdata)) };
}

test('a sniffing rule has the DIVERT rule\'s matches and ends in counter + log group, with no queue chain', async (t) => {
  const { kernel, netns, rules } = setup(t);
  const h = await addRule('-A output -p udp -d 198.18.0.2 53 -j DIVERT 7', { netns, sniff: true });
  const [r] = rules();
  // The same rule as a DIVERT rule, in another namespace: everything before its verdict is equal.
  const other = `${netns}-divert`;
  await addRule('-A output -p udp -d 198.18.0.2 53 -j DIVERT 7', { netns: other });
  const [d] = kernel.nftables.rules(OWN, 'postrouting', undefined, other);
  assert.deepEqual(r?.exprs.slice(0, -1), d?.exprs.slice(0, -1), 'matches, loop-avoidance test and counter');
  assert.deepEqual(r?.exprs.at(-1), { type: 'log', group: 7 });
  assert.deepEqual(d?.exprs.at(-1), { type: 'immediate', dreg: 0, data: { verdict: { code: -3, chain: 'queue-7' } } });
  assert.deepEqual(kernel.nftables.chains(OWN, undefined, netns).map((c) => c.name), ['postrouting'], 'no queue-7 chain: nothing is queued');
  assert.deepEqual(decodeNote(r?.userdata), { kind: 'sniff', text: '-A output -p udp -d 198.18.0.2/32 --dport 53 -j SNIFF 7', owner: currentOwner() });
  const listed = await listRules({ netns });
  assert.deepEqual(listed.map((l) => [l.kind, l.family, l.text, l.rule?.port]), [['sniff', 'ipv4', '-A output -p udp -d 198.18.0.2/32 --dport 53 -j SNIFF 7', 7]]);
  assert.equal(await h.remove(), 1);
  assert.deepEqual(kernel.nftables.tables(netns), [], 'its last rule gone, the owned table goes');
});

test('a sniffing rule ignores --pass-through (nothing waits for a listener) and takes a snaplen', async (t) => {
  const { rules, netns } = setup(t);
  await addRule('-A input -6 -p icmpv6 -j DIVERT 9 --pass-through', { netns, sniff: { snaplen: 128 } });
  const [r] = rules();
  assert.deepEqual(r?.exprs.at(-1), { type: 'log', group: 9, snaplen: 128 });
  assert.equal(decodeNote(r?.userdata)?.text, '-A input -6 -p icmpv6 -j SNIFF 9');
});

test('sniff refuses a port range and a bad snaplen before anything is sent', async (t) => {
  const { kernel, netns } = setup(t);
  await assert.rejects(() => addRule('-A input -j DIVERT 10:13', { netns, sniff: true }), /one NFLOG group: give one port, not a range/);
  await assert.rejects(() => addRule('-A input -j DIVERT 10', { netns, sniff: { snaplen: 0 } }), /sniff.snaplen must be a positive integer/);
  assert.deepEqual(kernel.nftables.tables(netns), []);
});

test('addFilter() with sniff: every lowered rule logs to the port\'s group; notes say SNIFF', async (t) => {
  const { rules, netns } = setup(t);
  const h = await addFilter('inbound and udp.DstPort == 53', { netns, port: 4000, sniff: true });
  const all = rules();
  assert.ok(all.length >= 2, 'IPv4 and IPv6 rules');
  for (const r of all) {
    assert.deepEqual(r.exprs.at(-1), { type: 'log', group: 4000 });
    assert.ok(!r.exprs.some((e) => e.type === 'target' || e.type === 'queue' || e.type === 'immediate'), 'no queue, no jump');
    assert.match(decodeNote(r.userdata)?.text ?? '', /^filter ipv[46] -j SNIFF 4000 "inbound and udp.DstPort == 53"$/);
  }
  assert.deepEqual((await listRules({ netns })).map((l) => l.kind), all.map(() => 'sniff'));
  await h.remove();
});

test('the fake refuses a log expression with a group and a level, as nft_log_init does (EINVAL)', async (t) => {
  const { netns } = setup(t);
  const { NftConnection } = await import('../nftables/conn.js');
  const conn = NftConnection.open({ netnsPath: netns });
  t.after(() => conn.close());
  const b = conn.batch();
  b.addTable({ family: 1, name: 'x' }, { echo: false });
  b.addChain({ family: 1, table: 'x', name: 'c' }, { echo: false });
  b.addRule({ family: 1, table: 'x', chain: 'c', exprs: [{ type: 'log', group: 1, level: 4 }] });
  await assert.rejects(() => conn.commit(b), (e: unknown) => e instanceof FirewallError && e.code === 'EINVAL');
});

test('sniffText() and unsniffText() swap the target words only', () => {
  assert.equal(sniffText('-A input -p icmp -j DIVERT 1234 --pass-through'), '-A input -p icmp -j SNIFF 1234');
  assert.equal(sniffText('filter ipv4 -j DIVERT 7 "tcp"'), 'filter ipv4 -j SNIFF 7 "tcp"');
  assert.equal(unsniffText('-A input -p icmp -j SNIFF 1234'), '-A input -p icmp -j DIVERT 1234');
  assert.deepEqual(logTail({ group: 3 }, false), [{ type: 'counter', packets: 0, bytes: 0 }, { type: 'log', group: 3 }]);
});
