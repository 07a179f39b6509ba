import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { u32ne } from '../netlink/bytes.js';
import { NlmFlags, Nfnetlink } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { FirewallError } from '../errors.js';
import { putAck, type FakeNack } from '../testing/_fake_netlink.js';
import { offsetOfPath, putRuleMsg } from '../testing/_fake_nftables_msg.js';
import { BatchAnswers } from './answers.js';
import { NftBatch, type BatchMessage } from './batch.js';
import { NFNL_BATCH, NFPROTO, NFTA_SET, NFT_MSG } from './constants.js';
import type { Expr } from './expr_types.js';
import { REFUSALS } from './testdata/refusals.js';

const INET = NFPROTO.NFPROTO_INET;
const counter: Expr = { type: 'counter' };
const nosuch: Expr = { type: 'unknown', name: 'nosuchexpr', data: new Uint8Array(0) };
const target: Expr = { type: 'target', name: 'NFQUEUE', rev: 3, info: Uint8Array.of(0xff, 0xff, 2, 0, 0, 0, 0, 0) };

/** A batch numbered from 100, like the real test of the same messages (see the offsets below). */
function batch(): NftBatch {
  let seq = 99;
  return new NftBatch(() => ++seq);
}

function messages(bytes: Uint8Array): Array<{ type: number; flags: number; seq: number }> {
  const it = new MessageIter().reset(bytes);
  const out = [];
  while (it.next()) out.push({ type: it.type, flags: it.flags, seq: it.seq });
  return out;
}

test('NftBatch frames its messages with BATCH_BEGIN and BATCH_END, seqs in order', () => {
  const b = batch();
  b.addTable({ family: INET, name: 'x' });
  b.deleteTable({ family: INET, name: 'y' });
  assert.deepEqual(messages(b.bytes()), [
    { type: Nfnetlink.NFNL_MSG_BATCH_BEGIN, flags: NlmFlags.NLM_F_REQUEST, seq: 100 },
    { type: 0x0a00, flags: b.messages[0]!.flags, seq: 101 },
    { type: 0x0a02, flags: NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK, seq: 102 },
    { type: Nfnetlink.NFNL_MSG_BATCH_END, flags: NlmFlags.NLM_F_REQUEST, seq: 103 },
  ]);
  assert.equal(b.endSeq, 103);
  assert.deepEqual(b.messages.map((m) => [m.op, m.about]), [['NFT_MSG_NEWTABLE', 'table inet x'], ['NFT_MSG_DELTABLE', 'table inet y']]);
});

test('NftBatch.dryRunBytes() leaves out BATCH_END', () => {
  const b = batch();
  b.addTable({ family: INET, name: 'x' });
  assert.deepEqual(messages(b.dryRunBytes()).map((m) => m.type), [Nfnetlink.NFNL_MSG_BATCH_BEGIN, 0x0a00]);
});

test('NftBatch with genId puts NFNL_BATCH_GENID (be32) in BATCH_BEGIN', () => {
  const b = new NftBatch(undefined, { genId: 0x01020304 });
  b.addTable({ family: INET, name: 'x' });
  const bytes = b.bytes();
  assert.deepEqual([...bytes.subarray(16, 20)], [0, 0, 0x00, 0x0a], 'nfgenmsg AF_UNSPEC, v0, res_id be16 NFNL_SUBSYS_NFTABLES');
  const ad = new AttrDecoder(bytes, 20, u32ne(bytes, 0));
  assert.ok(ad.next());
  assert.equal(ad.type, NFNL_BATCH.NFNL_BATCH_GENID);
  assert.equal(ad.u32be(), 0x01020304);
});

test('NftBatch.attributes() names every attribute of a rule by path', () => {
  const b = batch();
  const m = b.addRule({ family: INET, table: 'exp', chain: 'pre', exprs: [counter, { type: 'cmp', op: 0, sreg: 1, data: Uint8Array.of(6) }] });
  const paths = b.attributes(m).map((a) => a.path);
  assert.deepEqual(paths, [
    'NFTA_RULE_TABLE',
    'NFTA_RULE_CHAIN',
    'NFTA_RULE_EXPRESSIONS',
    'NFTA_RULE_EXPRESSIONS > elem 0 (counter)',
    'NFTA_RULE_EXPRESSIONS > elem 0 (counter) > NFTA_EXPR_NAME',
    'NFTA_RULE_EXPRESSIONS > elem 0 (counter) > NFTA_EXPR_DATA',
    'NFTA_RULE_EXPRESSIONS > elem 1 (cmp)',
    'NFTA_RULE_EXPRESSIONS > elem 1 (cmp) > NFTA_EXPR_NAME',
    'NFTA_RULE_EXPRESSIONS > elem 1 (cmp) > NFTA_EXPR_DATA',
    'NFTA_RULE_EXPRESSIONS > elem 1 (cmp) > NFTA_CMP_SREG',
    'NFTA_RULE_EXPRESSIONS > elem 1 (cmp) > NFTA_CMP_OP',
    'NFTA_RULE_EXPRESSIONS > elem 1 (cmp) > NFTA_CMP_DATA',
    'NFTA_RULE_EXPRESSIONS > elem 1 (cmp) > NFTA_CMP_DATA > NFTA_DATA_VALUE',
  ]);
});

test('NftBatch.attributeAt() maps the extack offsets Linux 6.18 gave for these rules', () => {
  // Measured: table "exp", chain "pre"; the kernel pointed at these offsets (from the nlmsghdr).
  const b = batch();
  const unknown = b.addRule({ family: INET, table: 'exp', chain: 'pre', exprs: [counter, nosuch] });
  const overflow = b.addRule({ family: INET, table: 'exp', chain: 'pre', exprs: [target] });
  const noTable = b.addRule({ family: INET, table: 'nosuch', chain: 'pre', exprs: [counter] });
  assert.equal(b.attributeAt(unknown, 60), 'NFTA_RULE_EXPRESSIONS > elem 1 (nosuchexpr)'); // ENOENT
  assert.equal(b.attributeAt(overflow, 40), 'NFTA_RULE_EXPRESSIONS > elem 0 (target)'); // ERANGE
  assert.equal(b.attributeAt(noTable, 20), 'NFTA_RULE_TABLE'); // ENOENT
  assert.equal(b.attributeAt(noTable, 25), 'NFTA_RULE_TABLE', 'an offset inside a payload names the attribute holding it');
  assert.equal(b.attributeAt(noTable, 17), undefined, 'the nfgenmsg is no attribute');
});

test('NftBatch.attributeAt() names the offset Linux 6.18 gave for every refusal in testdata/refusals.ts, and the fake NACKs at it', () => {
  // conn_test's refusal test cannot see a wrong offset: the fake turns a path into an offset with
  // the walk attributeAt() reads it back with. These offsets are the kernel's own.
  for (const r of REFUSALS) {
    const b = batch();
    r.build(b);
    const [m] = b.messages;
    assert.ok(m && b.messages.length === 1, r.what);
    assert.equal(r.offset === undefined ? undefined : b.attributeAt(m, r.offset), r.attribute, r.what);
    assert.equal(offsetOfPath(b.messageBytes(m), r.attribute), r.offset, r.what);
  }
});

// ── answers ──────────────────────────────────────────────────────────────────────────────────

const PORT = 4242;

/** The NLMSG_ERROR answering `m` (an ACK without nack). */
function ackFor(b: NftBatch, m: BatchMessage, nack?: FakeNack): MessageIter {
  const req = new MessageIter().reset(b.messageBytes(m));
  req.next();
  const out = new MessageBuilder();
  putAck(out, req, PORT, { capAck: true, extAck: true }, nack);
  return new MessageIter().reset(out.bytes().slice());
}

/** An NLMSG_ERROR with `seq` (for BATCH_BEGIN or the barrier). */
function errorWithSeq(seq: number, errno: number): MessageIter {
  const req = new MessageBuilder();
  req.begin(Nfnetlink.NFNL_MSG_BATCH_BEGIN, NlmFlags.NLM_F_REQUEST, seq).putNfgenmsg(0, 0, 10);
  req.end();
  const it = new MessageIter().reset(req.bytes().slice());
  it.next();
  const out = new MessageBuilder();
  putAck(out, it, PORT, { capAck: true, extAck: true }, errno ? { errno } : undefined);
  return new MessageIter().reset(out.bytes().slice());
}

/** Feeds every message of `it` to the handler; returns whether it reported completion. */
function feed(answers: BatchAnswers, it: MessageIter): boolean {
  let done = false;
  while (it.next()) done = answers.onMessage(it) || done;
  return done;
}

function twoRules(): { b: NftBatch; first: BatchMessage; second: BatchMessage; barrier: number } {
  const b = batch();
  const first = b.addRule({ family: INET, table: 'exp', chain: 'pre', exprs: [counter] });
  const second = b.addRule({ family: INET, table: 'exp', chain: 'pre', exprs: [counter, nosuch] });
  return { b, first, second, barrier: 999 };
}

test('BatchAnswers gives each committed message its echo, and completes on the barrier\'s ACK', () => {
  const { b, first, second, barrier } = twoRules();
  const answers = new BatchAnswers(b, barrier, false);
  assert.deepEqual(answers.seqs, [100, 101, 102, barrier, b.endSeq]);
  const echo = new MessageBuilder();
  putRuleMsg(echo, first.seq, PORT, NlmFlags.NLM_F_CREATE | NlmFlags.NLM_F_APPEND, { family: INET, table: 'exp', chain: 'pre', handle: 7, exprs: [{ type: 'counter', bytes: 0, packets: 0 }] });
  assert.equal(feed(answers, new MessageIter().reset(echo.bytes().slice())), false);
  assert.equal(feed(answers, ackFor(b, first)), false);
  assert.equal(feed(answers, ackFor(b, second)), false);
  assert.equal(feed(answers, errorWithSeq(barrier, 0)), true);
  const results = answers.commitResults();
  assert.equal(results.length, 2);
  assert.deepEqual(results[0]!.object, { kind: 'rule', rule: { family: INET, table: 'exp', chain: 'pre', handle: 7, exprs: [{ type: 'counter', bytes: 0, packets: 0 }] } });
  assert.equal(results[1]!.object, undefined);
});

test('BatchAnswers turns a NACK into a FirewallError naming message, object, attribute and errno', () => {
  const { b, first, second, barrier } = twoRules();
  const answers = new BatchAnswers(b, barrier, false);
  feed(answers, ackFor(b, first)); // an ACK inside a refused batch: not applied either
  feed(answers, ackFor(b, second, { errno: 2, offset: 60 }));
  feed(answers, errorWithSeq(barrier, 0));
  assert.throws(() => answers.commitResults(), (err: unknown) => {
    assert.ok(err instanceof FirewallError);
    assert.equal(err.code, 'ENOENT');
    assert.equal(err.errno, 2);
    assert.equal(err.messageType, 'NFT_MSG_NEWRULE');
    assert.equal(err.object, 'rule inet exp pre');
    assert.equal(err.attribute, 'NFTA_RULE_EXPRESSIONS > elem 1 (nosuchexpr)');
    assert.equal(err.extackMessage, undefined);
    assert.match(err.message, /^nf_tables refused NFT_MSG_NEWRULE for rule inet exp pre at NFTA_RULE_EXPRESSIONS > elem 1 \(nosuchexpr\): ENOENT \(no such file or directory\)/);
    return true;
  });
});

test('BatchAnswers puts the kernel\'s extack text in the error', () => {
  const { b, first, second, barrier } = twoRules();
  const answers = new BatchAnswers(b, barrier, false);
  feed(answers, ackFor(b, first, { errno: 1, message: 'table is owned by another socket', offset: 20 }));
  feed(answers, ackFor(b, second));
  feed(answers, errorWithSeq(barrier, 0));
  assert.throws(() => answers.commitResults(), (err: unknown) =>
    err instanceof FirewallError && err.code === 'EPERM' && err.extackMessage === 'table is owned by another socket' &&
    err.message.endsWith('at NFTA_RULE_TABLE: EPERM (operation not permitted): table is owned by another socket'));
});

test('BatchAnswers reports a refusal of the whole batch (an error on BATCH_BEGIN\'s seq)', () => {
  const { b, barrier } = twoRules();
  const answers = new BatchAnswers(b, barrier, false);
  feed(answers, errorWithSeq(b.beginSeq, 85));
  feed(answers, errorWithSeq(barrier, 0));
  assert.throws(() => answers.commitResults(), (err: unknown) =>
    err instanceof FirewallError && err.code === 'ERESTART' && err.messageType === 'NFNL_MSG_BATCH_BEGIN' && /generation changed/.test(err.message));
});

test('BatchAnswers counts a message that got no answer before the barrier as not processed', () => {
  const { b, first, barrier } = twoRules();
  const answers = new BatchAnswers(b, barrier, false);
  feed(answers, ackFor(b, first));
  feed(answers, errorWithSeq(barrier, 0));
  assert.throws(() => answers.commitResults(), (err: unknown) =>
    err instanceof FirewallError && /did not process the batch: 1 of 2 messages got no answer \(first: NFT_MSG_NEWRULE/.test(err.message));
});

test('BatchAnswers.dryRunResults() gives each message its verdict without throwing', () => {
  const b = batch();
  const ok = b.addTable({ family: INET, name: 'x' });
  const bad = b.addRule({ family: INET, table: 'x', chain: 'c', exprs: [{ type: 'queue', num: 1 }] });
  b.deleteTable({ family: INET, name: 'y' });
  const answers = new BatchAnswers(b, 999, true);
  assert.ok(!answers.seqs.includes(b.endSeq), 'a dry run has no BATCH_END to wait for');
  feed(answers, ackFor(b, ok));
  feed(answers, ackFor(b, bad, { errno: 2, offset: 40 }));
  feed(answers, errorWithSeq(999, 0));
  const results = answers.dryRunResults();
  assert.deepEqual(results.map((r) => [r.message.msg, r.processed, r.error?.code]), [
    [NFT_MSG.NFT_MSG_NEWTABLE, true, undefined],
    [NFT_MSG.NFT_MSG_NEWRULE, true, 'ENOENT'],
    [NFT_MSG.NFT_MSG_DELTABLE, false, undefined],
  ]);
  assert.equal(results[1]!.error?.attribute, 'NFTA_RULE_EXPRESSIONS > elem 0 (queue)');
});

test('NftBatch numbers sets above any NFTA_SET_ID the caller chose: no two sets share an id', () => {
  const b = batch();
  const key = { keyType: 0, keyLen: 4 };
  b.addTable({ family: INET, name: 'x' });
  b.addSet({ family: INET, table: 'x', name: 'mine', id: 1, ...key });
  b.addSet({ family: INET, table: 'x', name: 'auto', ...key });
  b.addSet({ family: INET, table: 'x', name: 'seven', id: 7, ...key });
  b.addSet({ family: INET, table: 'x', name: 'auto2', ...key });
  const it = new MessageIter().reset(b.bytes());
  const ids: number[] = [];
  while (it.next()) {
    if ((it.type & 0xff) !== NFT_MSG.NFT_MSG_NEWSET) continue;
    const ad = new AttrDecoder(it.buffer, it.payloadOffset + 4, it.end);
    while (ad.next()) if (ad.type === NFTA_SET.NFTA_SET_ID) ids.push(ad.u32be());
  }
  assert.deepEqual(ids, [1, 2, 7, 8]);
});
