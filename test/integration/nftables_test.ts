/**
 * The nf_tables layer against the real kernel, each test in its own network namespace (never the
 * host's ruleset). What it pins: every expression value commits and dumps back as recorded in
 * src/nftables/testdata/kernel_dumps.ts, owner tables die with their socket and refuse others,
 * refusals name message and attribute, user data is kept byte-exact, a dry run commits nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, requirePrivilege } from '../_harness/netns.js';
import { FirewallError } from '../../src/errors.js';
import { probeKernel } from '../../src/firewall/kernel.js';
import {
  be16, NftConnection, NF_INET, NFPROTO, NFT_DATA, NFT_META, NFT_SET, NFT_TABLE_F, NFT_VERDICT, type Expr, type NftBatch, type Rule,
} from '../../src/nftables/mod.js';
import { DUMPED_RULES } from '../../src/nftables/testdata/kernel_dumps.js';
import { REFUSALS, setupRefusals } from '../../src/nftables/testdata/refusals.js';

const INET = NFPROTO.NFPROTO_INET;
const accept: Expr = { type: 'immediate', dreg: 0, data: { verdict: { code: NFT_VERDICT.NF_ACCEPT } } };

/**
 * struct xt_NFQ_info_v3 { __u16 queuenum, queues_total, flags; } in host order, padded to the
 * 8 bytes the kernel dumps (XT_ALIGN).
 */
function nfqInfo(num: number, total: number, flags: number): Uint8Array {
  const b = new Uint8Array(8);
  new Uint16Array(b.buffer, 0, 3).set([num, total, flags]);
  return b;
}

/** Queueing to `num`…`num + total - 1`: by nf_tables' queue expression, and by the xtables NFQUEUE target. */
function queueTo(num: number, total: number, flags: number): { queue: Expr; compat: Expr } {
  return { queue: { type: 'queue', num, total, flags }, compat: { type: 'target', name: 'NFQUEUE', rev: 3, info: nfqInfo(num, total, flags) } };
}

/** The ways of queueing this kernel takes (nft_queue; nft_compat with xt_NFQUEUE), as divert's probe finds them. */
async function queueing(conn: NftConnection): Promise<{ queue: boolean; compat: boolean }> {
  const probe = await probeKernel(conn);
  return { queue: probe.queue === undefined, compat: probe.compatNfqueue === undefined };
}

/** Table `name` with base chain `c` (filter prerouting -150) and regular chain `c2`. */
function addBase(b: NftBatch, name: string, flags = 0): void {
  b.addTable({ family: INET, name, flags });
  b.addChain({ family: INET, table: name, name: 'c', type: 'filter', hook: { hooknum: NF_INET.NF_INET_PRE_ROUTING, priority: -150 } });
  b.addChain({ family: INET, table: name, name: 'c2' });
}

test('every expression commits in one batch and dumps back as recorded, echo handles included', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  const b = conn.batch();
  addBase(b, 'dump');
  b.addSet({ family: INET, table: 'dump', name: 'ports', keyType: 13, keyLen: 2 });
  for (const d of DUMPED_RULES) b.addRule({ family: INET, table: 'dump', chain: 'c', exprs: d.sent });
  const results = await conn.commit(b);
  const dumped = await conn.listRules(INET, 'dump', 'c');
  assert.deepEqual(dumped, DUMPED_RULES.map((d) => d.dumped));
  const echoed = results.flatMap((r) => (r.object?.kind === 'rule' ? [r.object.rule.handle] : []));
  assert.deepEqual(echoed, dumped.map((r) => r.handle), 'echoed handles are the dumped ones');
});

test('the xtables match commits in an ip table (multiport is registered per family) and dumps back', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  if (!(await queueing(conn)).compat) {
    t.skip('this kernel refuses the xtables NFQUEUE target (no nft_compat or xt_NFQUEUE): the xtables match and target are not tested');
    return;
  }
  const multiport = new Uint8Array(48);
  multiport.set([1, 2, 0x50, 0x00, 0xbb, 0x01]); // destination ports 80, 443 (host order)
  const rule: Rule = {
    family: NFPROTO.NFPROTO_IPV4, table: 'm', chain: 'c', compat: { proto: 6, flags: 0 },
    exprs: [
      { type: 'meta', key: NFT_META.NFT_META_L4PROTO, dreg: 1 },
      { type: 'cmp', op: 0, sreg: 1, data: Uint8Array.of(6) },
      { type: 'match', name: 'multiport', rev: 1, info: multiport },
      queueTo(5, 1, 1).compat,
    ],
  };
  const b = conn.batch();
  b.addTable({ family: NFPROTO.NFPROTO_IPV4, name: 'm' });
  b.addChain({ family: NFPROTO.NFPROTO_IPV4, table: 'm', name: 'c', type: 'filter', hook: { hooknum: 0, priority: -150 } });
  b.addRule(rule);
  await conn.commit(b);
  const [dumped] = await conn.listRules(NFPROTO.NFPROTO_IPV4, 'm');
  const { compat, ...kept } = rule;
  void compat; // the kernel uses NFTA_RULE_COMPAT while checking the rule and does not dump it
  assert.deepEqual(dumped, { ...kept, handle: 2 });
});

test('the native queue expression: ENOENT in a dry run where the kernel lacks nft_queue, else it dumps back', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  let b = conn.batch();
  addBase(b, 'q');
  await conn.commit(b);
  const queue: Expr = { type: 'queue', num: 5, total: 2, flags: 1 };
  b = conn.batch();
  b.addRule({ family: INET, table: 'q', chain: 'c', exprs: [queue] });
  const [probe] = await conn.dryRun(b);
  if (probe?.error) {
    assert.equal(probe.error.code, 'ENOENT');
    assert.equal(probe.error.attribute, 'NFTA_RULE_EXPRESSIONS > elem 0 (queue)');
    t.diagnostic('this kernel has no nft_queue (CONFIG_NFT_QUEUE unset): only the dry run ran');
    return;
  }
  await conn.commit(b);
  const [rule] = await conn.listRules(INET, 'q', 'c');
  assert.deepEqual(rule?.exprs, [queue]);
});

test('an owner table vanishes when its connection closes; another connection sees it but gets EPERM', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const owner = NftConnection.open({ netnsPath: ns.path });
  const other = NftConnection.open({ netnsPath: ns.path });
  t.after(() => other.close());
  let b = owner.batch();
  addBase(b, 'own', NFT_TABLE_F.NFT_TABLE_F_OWNER);
  const queue = (await queueing(owner)).queue ? queueTo(7, 1, 1).queue : queueTo(7, 1, 1).compat;
  b.addRule({ family: INET, table: 'own', chain: 'c', exprs: [{ type: 'counter' }, queue] });
  await owner.commit(b);
  const seen = await other.listTables(INET);
  assert.deepEqual(seen.map((x) => [x.name, x.flags, x.owner]), [['own', NFT_TABLE_F.NFT_TABLE_F_OWNER, owner.portId]]);
  b = other.batch();
  b.addRule({ family: INET, table: 'own', chain: 'c', exprs: [accept] });
  await assert.rejects(other.commit(b), { name: 'FirewallError', code: 'EPERM', messageType: 'NFT_MSG_NEWRULE', attribute: 'NFTA_RULE_TABLE' });
  b = other.batch();
  b.deleteTable({ family: INET, name: 'own' });
  await assert.rejects(other.commit(b), { code: 'EPERM', messageType: 'NFT_MSG_DELTABLE' });
  owner.close();
  assert.deepEqual(await other.listTables(INET), []);
});

test('a refused batch names the message and attribute, and applies none of its messages', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  let b = conn.batch();
  addBase(b, 'r');
  await conn.commit(b);
  const gen = (await conn.getGeneration()).id;
  b = conn.batch();
  b.addRule({ family: INET, table: 'r', chain: 'c', exprs: [accept] });
  b.addRule({ family: INET, table: 'r', chain: 'c', exprs: [{ type: 'counter' }, { type: 'unknown', name: 'nosuchexpr', data: new Uint8Array(0) }] });
  await assert.rejects(conn.commit(b), (err: unknown) => {
    assert.ok(err instanceof FirewallError);
    assert.equal(err.code, 'ENOENT');
    assert.equal(err.messageType, 'NFT_MSG_NEWRULE');
    assert.equal(err.object, 'rule inet r c');
    assert.equal(err.attribute, 'NFTA_RULE_EXPRESSIONS > elem 1 (nosuchexpr)');
    t.diagnostic(err.message);
    return true;
  });
  // Queues 65535 and 65536, past the last queue number: refused by nft_queue and xt_NFQUEUE alike
  // (each checked where the kernel has it).
  const have = await queueing(conn);
  for (const way of ['queue', 'compat'] as const) {
    if (!have[way]) {
      t.diagnostic(`this kernel has no ${way === 'queue' ? 'nft_queue' : 'nft_compat with xt_NFQUEUE'}: its ERANGE refusal is not checked`);
      continue;
    }
    const tooHigh = queueTo(65535, 2, 0)[way];
    b = conn.batch();
    b.addRule({ family: INET, table: 'r', chain: 'c', exprs: [tooHigh] });
    await assert.rejects(conn.commit(b), { code: 'ERANGE', attribute: `NFTA_RULE_EXPRESSIONS > elem 0 (${tooHigh.type})`, extackMessage: undefined });
  }
  assert.deepEqual(await conn.listRules(INET, 'r'), []);
  assert.equal((await conn.getGeneration()).id, gen);
});

test('NFTA_RULE_USERDATA comes back byte-exact, up to the 256-byte limit', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  const userdata = Uint8Array.from({ length: 256 }, (_, i) => (i * 37) & 0xff);
  let b = conn.batch();
  addBase(b, 'u');
  b.addRule({ family: INET, table: 'u', chain: 'c', exprs: [accept], userdata });
  await conn.commit(b);
  const [rule] = await conn.listRules(INET, 'u', 'c');
  assert.deepEqual(rule?.userdata, userdata);
  b = conn.batch();
  b.addRule({ family: INET, table: 'u', chain: 'c', exprs: [accept], userdata: new Uint8Array(257) });
  await assert.rejects(conn.commit(b), { code: 'ERANGE', attribute: 'NFTA_RULE_USERDATA' });
});

test('a dry run validates every message and commits nothing', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  const gen = (await conn.getGeneration()).id;
  const b = conn.batch();
  addBase(b, 'dry');
  b.addRule({ family: INET, table: 'dry', chain: 'c', exprs: [accept] });
  b.addRule({ family: INET, table: 'nosuch', chain: 'c', exprs: [accept] });
  const results = await conn.dryRun(b);
  assert.deepEqual(results.map((r) => [r.message.op, r.processed, r.error?.code, r.error?.attribute]), [
    ['NFT_MSG_NEWTABLE', true, undefined, undefined],
    ['NFT_MSG_NEWCHAIN', true, undefined, undefined],
    ['NFT_MSG_NEWCHAIN', true, undefined, undefined],
    ['NFT_MSG_NEWRULE', true, undefined, undefined],
    ['NFT_MSG_NEWRULE', true, 'ENOENT', 'NFTA_RULE_TABLE'],
  ]);
  assert.deepEqual(await conn.listTables(), []);
  assert.equal((await conn.getGeneration()).id, gen);
});

test('the kernel refuses as recorded in testdata/refusals.ts (errno and attribute)', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  const setup = conn.batch();
  setupRefusals(setup);
  await conn.commit(setup);
  for (const r of REFUSALS) {
    const b = conn.batch();
    r.build(b);
    await assert.rejects(conn.commit(b), (err: unknown) => {
      assert.ok(err instanceof FirewallError, r.what);
      assert.deepEqual([err.code, err.attribute], [r.code, r.attribute], r.what);
      return true;
    });
  }
  const b = conn.batch();
  b.deleteChain({ family: INET, table: 'z', name: 'y' });
  await conn.commit(b);
  assert.deepEqual((await conn.listChains(INET, 'z')).map((c) => c.name), ['w'], 'a chain goes with its rules');
});

test('sets and maps: echoed with their handles, elements added, dumped and deleted', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const conn = NftConnection.open({ netnsPath: ns.path });
  t.after(() => conn.close());
  const set = { family: INET, table: 'st', name: 'ports', keyType: 13, keyLen: 2 };
  const vmap = { family: INET, table: 'st', name: 'vmap', flags: NFT_SET.NFT_SET_MAP, keyType: 13, keyLen: 2, dataType: NFT_DATA.NFT_DATA_VERDICT, dataLen: 16 };
  const b = conn.batch();
  b.addTable({ family: INET, name: 'st' });
  b.addChain({ family: INET, table: 'st', name: 'c' });
  const s1 = b.addSet(set);
  const s2 = b.addSet(vmap);
  b.addElements(set, [{ key: be16(22) }, { key: be16(443) }]);
  b.addElements(vmap, [{ key: be16(22), data: { verdict: { code: NFT_VERDICT.NFT_JUMP, chain: 'c' } } }, { key: be16(80), data: { verdict: { code: NFT_VERDICT.NF_ACCEPT } } }]);
  const results = await conn.commit(b);
  const echoed = [s1, s2].map((m) => results[m.index]?.object);
  assert.deepEqual(echoed, [{ kind: 'set', set: { ...set, handle: 2 } }, { kind: 'set', set: { ...vmap, handle: 3 } }]);
  assert.deepEqual(await conn.listSets(INET, 'st'), [{ ...set, handle: 2 }, { ...vmap, handle: 3 }]);
  const byKey = (a: { key: Uint8Array }, z: { key: Uint8Array }): number => Buffer.compare(a.key, z.key); // hash order is the kernel's
  assert.deepEqual((await conn.listSetElements(INET, 'st', 'ports')).sort(byKey), [{ key: be16(22) }, { key: be16(443) }]);
  assert.deepEqual((await conn.listSetElements(INET, 'st', 'vmap')).sort(byKey), [
    { key: be16(22), data: { verdict: { code: NFT_VERDICT.NFT_JUMP, chain: 'c' } } },
    { key: be16(80), data: { verdict: { code: NFT_VERDICT.NF_ACCEPT } } },
  ]);
  const del = conn.batch();
  del.deleteElements(set, [{ key: be16(22) }]);
  await conn.commit(del);
  assert.deepEqual(await conn.listSetElements(INET, 'st', 'ports'), [{ key: be16(443) }]);
});
