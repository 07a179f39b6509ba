import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FirewallError } from '../errors.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { NftConnection } from './conn.js';
import { NF_INET, NFPROTO, NFT_MSG, NFT_SET, NFT_TABLE_F, NFT_VERDICT } from './constants.js';
import { be16 } from './data.js';
import { NFT_PAYLOAD } from './expr_constants.js';
import type { Expr } from './expr_types.js';
import type { Rule } from './rule.js';
import { encodeComment } from './udata.js';
import { DUMPED_RULES } from './testdata/kernel_dumps.js';
import { REFUSALS, setupRefusals } from './testdata/refusals.js';

const INET = NFPROTO.NFPROTO_INET;
const accept: Expr = { type: 'immediate', dreg: 0, data: { verdict: { code: NFT_VERDICT.NF_ACCEPT } } };
const counter: Expr = { type: 'counter' };
let kernel: FakeKernel;

beforeEach(() => {
  kernel = FakeKernel.install();
});
afterEach(() => {
  kernel.uninstall();
});

/** A connection with table `t` (chains `pre`, base, and `sub`, regular) committed. */
async function withTable(options: { owner?: boolean } = {}): Promise<NftConnection> {
  const conn = NftConnection.open();
  const b = conn.batch();
  b.addTable({ family: INET, name: 't', flags: options.owner ? NFT_TABLE_F.NFT_TABLE_F_OWNER : 0 });
  b.addChain({ family: INET, table: 't', name: 'pre', type: 'filter', hook: { hooknum: NF_INET.NF_INET_PRE_ROUTING, priority: -150 }, policy: NFT_VERDICT.NF_ACCEPT });
  b.addChain({ family: INET, table: 't', name: 'sub' });
  await conn.commit(b);
  return conn;
}

test('NftConnection.commit() resolves with each echoed object, handles included', async () => {
  const conn = NftConnection.open();
  const b = conn.batch();
  b.addTable({ family: INET, name: 't', flags: NFT_TABLE_F.NFT_TABLE_F_OWNER });
  b.addChain({ family: INET, table: 't', name: 'pre', type: 'filter', hook: { hooknum: 0, priority: -150 } });
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [counter, accept], userdata: encodeComment('divert') });
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [accept] });
  const results = await conn.commit(b);
  assert.deepEqual(results.map((r) => r.message.op), ['NFT_MSG_NEWTABLE', 'NFT_MSG_NEWCHAIN', 'NFT_MSG_NEWRULE', 'NFT_MSG_NEWRULE']);
  assert.deepEqual(results[0]!.object, { kind: 'table', table: { family: INET, name: 't', flags: 2, use: 1, handle: 1, owner: conn.portId } });
  const rules = results.slice(2).map((r) => (r.object?.kind === 'rule' ? r.object.rule : undefined));
  assert.deepEqual(rules.map((r) => r?.handle), [2, 3], 'handles are per table: the chain took 1');
  assert.deepEqual(rules[0]?.userdata, encodeComment('divert'));
  assert.deepEqual(rules[0]?.exprs, [{ type: 'counter', bytes: 0, packets: 0 }, accept]);
  conn.close();
});

test('the fake dumps each expression exactly as Linux 6.18 dumped it', async () => {
  const conn = NftConnection.open();
  let b = conn.batch();
  b.addTable({ family: INET, name: 'dump' });
  b.addChain({ family: INET, table: 'dump', name: 'c', type: 'filter', hook: { hooknum: 0, priority: -150 } });
  b.addChain({ family: INET, table: 'dump', name: 'c2' });
  b.addSet({ family: INET, table: 'dump', name: 'ports', keyType: 13, keyLen: 2 });
  await conn.commit(b);
  for (const d of DUMPED_RULES) {
    b = conn.batch();
    b.addRule({ family: INET, table: 'dump', chain: 'c', exprs: d.sent });
    await conn.commit(b);
  }
  assert.deepEqual(await conn.listRules(INET, 'dump', 'c'), DUMPED_RULES.map((d) => d.dumped));
  conn.close();
});

test('listTables(), listChains(), listSets() and listSetElements() decode the dumps', async () => {
  const conn = await withTable();
  const b = conn.batch();
  b.addSet({ family: INET, table: 't', name: 'ports', flags: NFT_SET.NFT_SET_CONSTANT, keyType: 13, keyLen: 2 });
  b.addElements({ family: INET, table: 't', name: 'ports' }, [{ key: be16(80) }, { key: be16(443) }]);
  await conn.commit(b);
  assert.deepEqual(await conn.listTables(), [{ family: INET, name: 't', flags: 0, use: 3, handle: 1 }]);
  assert.deepEqual(await conn.listTables(NFPROTO.NFPROTO_IPV4), []);
  assert.deepEqual(await conn.listChains(INET, 't'), [
    { family: INET, table: 't', name: 'pre', handle: 1, hook: { hooknum: 0, priority: -150 }, policy: 1, type: 'filter', flags: 1, use: 0 },
    { family: INET, table: 't', name: 'sub', handle: 2, use: 0 },
  ]);
  assert.deepEqual(await conn.listSets(INET, 't'), [{ family: INET, table: 't', name: 'ports', handle: 3, flags: NFT_SET.NFT_SET_CONSTANT, keyType: 13, keyLen: 2 }]);
  assert.deepEqual(await conn.listSetElements(INET, 't', 'ports'), [{ key: be16(80) }, { key: be16(443) }]);
  await assert.rejects(conn.listSetElements(INET, 't', 'nosuch'), { code: 'ENOENT' });
  conn.close();
});

test('rules go where append, insert, position and replace say; delete removes one by handle', async () => {
  const conn = await withTable();
  const mark = (n: number): Expr => ({ type: 'counter', packets: n, bytes: 0 });
  let b = conn.batch();
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [mark(1)] }); // handle 3
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [mark(2)] }); // 4
  b.insertRule({ family: INET, table: 't', chain: 'pre', exprs: [mark(3)] }); // 5, first
  b.addRule({ family: INET, table: 't', chain: 'pre', position: 3, exprs: [mark(4)] }); // 6, after 3
  b.insertRule({ family: INET, table: 't', chain: 'pre', position: 4, exprs: [mark(5)] }); // 7, before 4
  await conn.commit(b);
  const order = async (): Promise<Array<number | undefined>> => (await conn.listRules(INET, 't', 'pre')).map((r) => r.handle);
  assert.deepEqual(await order(), [5, 3, 6, 7, 4]);
  b = conn.batch();
  b.replaceRule({ family: INET, table: 't', chain: 'pre', handle: 6, exprs: [accept] });
  b.deleteRule({ family: INET, table: 't', chain: 'pre', handle: 7 });
  await conn.commit(b);
  const rules = await conn.listRules(INET, 't', 'pre');
  assert.deepEqual(rules.map((r) => r.handle), [5, 3, 6, 4], 'a replaced rule keeps its handle (as nf_tables_newrule does)');
  assert.deepEqual(rules[2]!.exprs, [accept]);
  conn.close();
});

test('a refused batch rejects with a FirewallError naming message and attribute, and applies nothing', async () => {
  const conn = await withTable();
  const gen = (await conn.getGeneration()).id;
  const b = conn.batch();
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [accept] });
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [counter, { type: 'unknown', name: 'nosuchexpr', data: new Uint8Array(0) }] });
  await assert.rejects(conn.commit(b), (err: unknown) => {
    assert.ok(err instanceof FirewallError);
    assert.equal(err.code, 'ENOENT');
    assert.equal(err.messageType, 'NFT_MSG_NEWRULE');
    assert.equal(err.object, 'rule inet t pre');
    assert.equal(err.attribute, 'NFTA_RULE_EXPRESSIONS > elem 1 (nosuchexpr)');
    return true;
  });
  assert.deepEqual(await conn.listRules(INET, 't'), []);
  assert.equal((await conn.getGeneration()).id, gen);
  conn.close();
});

test('the NFQUEUE target refuses a queue range past 65535 (ERANGE at its element)', async () => {
  const conn = await withTable();
  const b = conn.batch();
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [{ type: 'target', name: 'NFQUEUE', rev: 3, info: Uint8Array.of(0xff, 0xff, 2, 0, 0, 0) }] });
  await assert.rejects(conn.commit(b), { code: 'ERANGE', attribute: 'NFTA_RULE_EXPRESSIONS > elem 0 (target)' });
  conn.close();
});

test('the kernel\'s extack text reaches the error (scripted refusal)', async () => {
  const conn = await withTable();
  kernel.nftables.refuseNext(NFT_MSG.NFT_MSG_NEWRULE, { errno: 22, message: 'Invalid expression', offset: 20 });
  const b = conn.batch();
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [accept] });
  await assert.rejects(conn.commit(b), (err: unknown) =>
    err instanceof FirewallError && err.code === 'EINVAL' && err.extackMessage === 'Invalid expression' && err.attribute === 'NFTA_RULE_TABLE' &&
    err.message === 'nf_tables refused NFT_MSG_NEWRULE for rule inet t pre at NFTA_RULE_TABLE: EINVAL (invalid argument): Invalid expression');
  conn.close();
});

test('an owner table is visible to others, refuses their changes (EPERM) and dies with its socket', async () => {
  const owner = await withTable({ owner: true });
  const other = NftConnection.open();
  assert.deepEqual((await other.listTables()).map((t) => [t.name, t.owner]), [['t', owner.portId]]);
  let b = other.batch();
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [accept] });
  await assert.rejects(other.commit(b), { code: 'EPERM', messageType: 'NFT_MSG_NEWRULE', attribute: 'NFTA_RULE_TABLE' });
  b = other.batch();
  b.deleteTable({ family: INET, name: 't' });
  await assert.rejects(other.commit(b), { code: 'EPERM', messageType: 'NFT_MSG_DELTABLE', attribute: 'NFTA_TABLE_NAME' });
  owner.close();
  assert.deepEqual(kernel.nftables.tables(), []);
  assert.deepEqual(await other.listTables(), []);
  other.close();
});

test('dryRun() reports each message and commits nothing; the native queue is ENOENT unless the kernel has it', async () => {
  const conn = await withTable();
  const queue: Expr = { type: 'queue', num: 7, total: 1, flags: 1 };
  const probe = (): ReturnType<NftConnection['dryRun']> => {
    const b = conn.batch();
    b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [queue] });
    b.addTable({ family: INET, name: 'probe' });
    return conn.dryRun(b);
  };
  let results = await probe();
  assert.deepEqual(results.map((r) => [r.processed, r.error?.code, r.error?.attribute]), [
    [true, 'ENOENT', 'NFTA_RULE_EXPRESSIONS > elem 0 (queue)'],
    [true, undefined, undefined],
  ]);
  kernel.nftables.queueAvailable = true;
  results = await probe();
  assert.deepEqual(results.map((r) => r.error), [undefined, undefined]);
  assert.deepEqual((await conn.listTables()).map((t) => t.name), ['t']);
  assert.deepEqual(await conn.listRules(INET, 't'), []);
  assert.ok(kernel.nftables.batches.at(-1)?.dryRun);
  conn.close();
});

test('counters are readable: traffic the kernel counted shows in the rule dump', async () => {
  const conn = await withTable();
  const b = conn.batch();
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [counter, accept] });
  const [result] = await conn.commit(b);
  const handle = result?.object?.kind === 'rule' ? result.object.rule.handle! : -1;
  kernel.nftables.count('t', handle, 3, 180);
  const [rule] = await conn.listRules(INET, 't', 'pre');
  assert.deepEqual(rule?.exprs[0], { type: 'counter', packets: 3, bytes: 180 });
  conn.close();
});

test('a set and a lookup added in one batch: the rule names the set by its id', async () => {
  const conn = await withTable();
  const b = conn.batch();
  b.addSet({ family: INET, table: 't', name: 'ports', keyLen: 2, id: 11 });
  b.addElements({ family: INET, table: 't', name: 'ports' }, [{ key: be16(22) }]);
  b.addRule({ family: INET, table: 't', chain: 'pre', exprs: [
    { type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: 1 },
    { type: 'lookup', setId: 11, sreg: 1 },
    { type: 'immediate', dreg: 0, data: { verdict: { code: NFT_VERDICT.NFT_JUMP, chain: 'sub' } } },
  ] });
  await conn.commit(b);
  const [rule] = await conn.listRules(INET, 't', 'pre');
  assert.deepEqual(rule?.exprs[1], { type: 'lookup', set: 'ports', sreg: 1, flags: 0 });
  assert.deepEqual(kernel.nftables.elements('t', 'ports'), [{ key: be16(22) }]);
  conn.close();
});

test('getGeneration() grows by one per committed batch; commitSync() commits too', async () => {
  const conn = NftConnection.open();
  const before = (await conn.getGeneration()).id;
  const b = conn.batch();
  b.addTable({ family: INET, name: 'sync' });
  const [r] = conn.commitSync(b);
  assert.equal(r?.object?.kind, 'table');
  const after = await conn.getGeneration();
  assert.equal(after.id, before + 1);
  assert.equal(after.procPid, process.pid);
  conn.close();
});

test('commit() refuses an empty batch and a closed connection', async () => {
  const conn = NftConnection.open();
  await assert.rejects(conn.commit(conn.batch()), TypeError);
  const b = conn.batch();
  b.addTable({ family: INET, name: 'x' });
  conn.close();
  await assert.rejects(conn.commit(b), { code: 'ERR_DIVERT_CLOSED' });
});

test('rules round-trip through the fake with every field a dump keeps', async () => {
  const conn = await withTable();
  const rule: Rule = { family: INET, table: 't', chain: 'pre', exprs: [counter, accept], userdata: new Uint8Array(256).fill(7), compat: { proto: 6, flags: 0 } };
  const b = conn.batch();
  b.addRule(rule);
  await conn.commit(b);
  const [dumped] = await conn.listRules(INET, 't', 'pre');
  const { compat, ...kept } = rule;
  void compat; // used while checking, never dumped (as on Linux 6.18)
  assert.deepEqual(dumped, { ...kept, handle: 3, exprs: [{ type: 'counter', bytes: 0, packets: 0 }, accept] });
  conn.close();
});

test('the fake refuses what Linux 6.18 refuses, pointing at the same attribute', async () => {
  const conn = NftConnection.open();
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
  conn.close();
});

test('deleting a chain takes its rules along (no NLM_F_NONREC), as Linux 6.18 does', async () => {
  const conn = await withTable();
  let b = conn.batch();
  b.addRule({ family: INET, table: 't', chain: 'sub', exprs: [counter] });
  await conn.commit(b);
  b = conn.batch();
  b.deleteChain({ family: INET, table: 't', name: 'sub' });
  await conn.commit(b);
  assert.deepEqual((await conn.listChains(INET, 't')).map((c) => c.name), ['pre']);
  conn.close();
});
