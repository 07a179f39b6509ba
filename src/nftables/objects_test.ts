import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { NlmFlags } from '../netlink/constants.js';
import { diffHex } from '../netlink/hexdump.js';
import { MessageIter } from '../netlink/message_iter.js';
import { NftBatch } from './batch.js';
import { decodeChain, type Chain } from './chain.js';
import { NF_INET, NFPROTO, NFT_MSG, NFT_SET, NFT_TABLE_F, NFT_VERDICT } from './constants.js';
import { be16, ipv4, ne32 } from './data.js';
import { NFT_META } from './expr_constants.js';
import type { Expr } from './expr_types.js';
import { decodeObject } from './objects.js';
import { decodeRule, type Rule } from './rule.js';
import { decodeSet, decodeSetElements, type NftSet } from './set.js';
import { decodeTable, type Table } from './table.js';
import { encodeComment } from './udata.js';
import { MESSAGE_VECTORS, type MessageVector } from './testdata/message_vectors.js';

const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';
const INET = NFPROTO.NFPROTO_INET;
const drop: Expr = { type: 'immediate', dreg: 0, data: { verdict: { code: NFT_VERDICT.NF_DROP } } };
// nft's set user data: NFTNL_UDATA_SET_KEYBYTEORDER = 2 (host order)…
const setUdata = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

/** How the divert codec builds each vector's message (the batch decides the header flags). */
const BUILDERS: Record<string, (b: NftBatch) => void> = {
  'NEWTABLE': (b) => b.addTable({ family: INET, name: 't2', flags: 0 }),
  'NEWTABLE owner': (b) => b.addTable({ family: INET, name: 't3', flags: NFT_TABLE_F.NFT_TABLE_F_OWNER }),
  'NEWTABLE with comment': (b) => b.addTable({ family: INET, name: 't4', flags: 0, userdata: encodeComment('x') }),
  'NEWTABLE dormant': (b) => b.addTable({ family: NFPROTO.NFPROTO_IPV4, name: 't5', flags: NFT_TABLE_F.NFT_TABLE_F_DORMANT }),
  'NEWCHAIN base': (b) => b.addChain({ family: INET, table: 't', name: 'c3', type: 'filter', policy: NFT_VERDICT.NF_ACCEPT, hook: { hooknum: NF_INET.NF_INET_PRE_ROUTING, priority: -150 } }),
  'NEWCHAIN regular': (b) => b.addChain({ family: INET, table: 't', name: 'c4' }),
  'NEWCHAIN base policy drop': (b) => b.addChain({ family: INET, table: 't', name: 'c6', type: 'filter', policy: NFT_VERDICT.NF_DROP, hook: { hooknum: NF_INET.NF_INET_LOCAL_IN, priority: 0 } }),
  'NEWCHAIN base with comment': (b) => b.addChain({ family: INET, table: 't', name: 'c7', type: 'filter', hook: { hooknum: NF_INET.NF_INET_LOCAL_IN, priority: 0 }, userdata: encodeComment('x') }),
  'NEWRULE with comment': (b) => b.addRule({ family: INET, table: 't', chain: 'c', exprs: [{ type: 'counter' }, { type: 'immediate', dreg: 0, data: { verdict: { code: NFT_VERDICT.NF_ACCEPT } } }], userdata: encodeComment('hi') }),
  'NEWRULE insert at position with comment': (b) => b.insertRule({ family: INET, table: 't', chain: 'c', position: 4, exprs: [drop], userdata: encodeComment('pc') }),
  'NEWRULE append at position': (b) => b.addRule({ family: INET, table: 't', chain: 'c', position: 4, exprs: [drop] }),
  'NEWRULE replace': (b) => b.replaceRule({ family: INET, table: 't', chain: 'c', handle: 4, exprs: [drop] }),
  'DELRULE': (b) => b.deleteRule({ family: INET, table: 't', chain: 'c', handle: 4 }),
  'DELCHAIN': (b) => b.deleteChain({ family: INET, table: 't', name: 'c2' }),
  'DELTABLE': (b) => b.deleteTable({ family: INET, name: 't' }),
  'NEWSET': (b) => b.addSet({ family: INET, table: 't', name: 's5', flags: 0, keyType: 7, keyLen: 4, userdata: setUdata('000402000000') }),
  'NEWSET map': (b) => b.addSet({ family: INET, table: 't', name: 'm5', flags: NFT_SET.NFT_SET_MAP, keyType: 13, keyLen: 2, dataType: 19, dataLen: 4, userdata: setUdata('000402000000010401000000060400000000') }),
  'NEWSET interval': (b) => b.addSet({ family: INET, table: 't', name: 's6', flags: NFT_SET.NFT_SET_INTERVAL, keyType: 7, keyLen: 4, userdata: setUdata('000402000000') }),
  'NEWSET size timeout comment': (b) => b.addSet({ family: INET, table: 't', name: 's9', flags: NFT_SET.NFT_SET_TIMEOUT, keyType: 7, keyLen: 4, size: 100, timeout: 10_000, userdata: setUdata('00040200000007027a00') }),
  'DELSET': (b) => b.deleteSet({ family: INET, table: 't', name: 's4' }),
  'NEWSETELEM': (b) => b.addElements({ family: INET, table: 't', name: 's4', id: 1 }, [{ key: ipv4('192.0.2.1') }, { key: ipv4('192.0.2.2') }]),
  'NEWSETELEM map': (b) => b.addElements({ family: INET, table: 't', name: 'pm', id: 3 }, [{ key: be16(80), data: { value: ne32(1) } }]),
  'DELSETELEM': (b) => b.deleteElements({ family: INET, table: 't', name: 's4' }, [{ key: ipv4('192.0.2.1') }]),
  'NEWRULE with NFTA_RULE_COMPAT (iptables-nft)': (b) => b.addRule({
    family: NFPROTO.NFPROTO_IPV4, table: 'mangle', chain: 'PREROUTING', compat: { proto: 6, flags: 0 },
    exprs: [
      { type: 'meta', key: NFT_META.NFT_META_L4PROTO, dreg: 1 },
      { type: 'cmp', op: 0, sreg: 1, data: Uint8Array.of(6) },
      { type: 'match', name: 'multiport', rev: 1, info: multiportInfo() },
      { type: 'counter', bytes: 0, packets: 0 },
      { type: 'target', name: 'NFQUEUE', rev: 3, info: Uint8Array.of(5, 0, 1, 0, 1, 0, 0, 0) },
    ],
  }),
};

/** struct xt_multiport_v1 for --dports 80,443: flags XT_MULTIPORT_DESTINATION, count 2, ports in host order. */
function multiportInfo(): Uint8Array {
  const info = new Uint8Array(48);
  info.set([1, 2, 0x50, 0x00, 0xbb, 0x01]);
  return info;
}

function vector(name: string): MessageVector {
  const v = MESSAGE_VECTORS.find((x) => x.name === name);
  assert.ok(v, `no vector ${name}`);
  return v;
}

for (const [name, build] of Object.entries(BUILDERS)) {
  test(`NftBatch writes what nft writes: ${name}`, { skip }, () => {
    const b = new NftBatch();
    build(b);
    const m = b.messages[0]!;
    const bytes = b.messageBytes(m);
    const v = vector(name);
    assert.equal(m.msg | (10 << 8), v.type);
    const d = diffHex(bytes.subarray(16), Uint8Array.from(v.payload));
    if (d !== undefined) assert.fail(`${v.source}: bytes differ\n${d}`);
  });
}

test('the batch delimiters are what nft sends: BATCH_BEGIN / BATCH_END with res_id NFNL_SUBSYS_NFTABLES big-endian', { skip }, () => {
  const b = new NftBatch();
  b.addTable({ family: INET, name: 't2', flags: 0 });
  const it = new MessageIter().reset(b.bytes());
  const seen: Array<[number, number[]]> = [];
  while (it.next()) seen.push([it.type, [...it.buffer.subarray(it.payloadOffset, it.end)]]);
  assert.deepEqual(seen[0], [vector('BATCH_BEGIN').type, [...vector('BATCH_BEGIN').payload]]);
  assert.deepEqual(seen[2], [vector('BATCH_END').type, [...vector('BATCH_END').payload]]);
});

/** Wraps a payload vector in a header so decoders can read it. */
function message(v: MessageVector): Uint8Array {
  const msg = new Uint8Array(16 + v.payload.length);
  msg.set(v.payload, 16);
  return msg;
}

test('decoders read nft\'s messages into the values they were built from', { skip }, () => {
  const table: Table = decodeTable(message(vector('NEWTABLE with comment')), 16, 16 + vector('NEWTABLE with comment').payload.length);
  assert.deepEqual(table, { family: INET, name: 't4', flags: 0, userdata: encodeComment('x') });
  const v = vector('NEWCHAIN base (iptables-nft)');
  const chain: Chain = decodeChain(message(v), 16, 16 + v.payload.length);
  assert.deepEqual(chain, { family: NFPROTO.NFPROTO_IPV4, table: 'mangle', name: 'PREROUTING', hook: { hooknum: 0, priority: -150 }, policy: 1, type: 'filter' });
  const r = vector('NEWRULE insert at position with comment');
  const rule: Rule = decodeRule(message(r), 16, 16 + r.payload.length);
  assert.deepEqual(rule, { family: INET, table: 't', chain: 'c', position: 4, exprs: [drop], userdata: encodeComment('pc') });
  const s = vector('NEWSET size timeout comment');
  const set: NftSet = decodeSet(message(s), 16, 16 + s.payload.length);
  assert.deepEqual(set, { family: INET, table: 't', name: 's9', flags: NFT_SET.NFT_SET_TIMEOUT, keyType: 7, keyLen: 4, id: 1, size: 100, timeout: 10_000, userdata: setUdata('00040200000007027a00') });
  const e = vector('NEWSETELEM');
  assert.deepEqual(decodeSetElements(message(e), 16, 16 + e.payload.length), {
    family: INET, table: 't', set: 's4', elements: [{ key: ipv4('192.0.2.1') }, { key: ipv4('192.0.2.2') }],
  });
});

test('every NEW* value round-trips through its encoder and decoder', () => {
  const b = new NftBatch();
  const table: Table = { family: INET, name: 'x', flags: NFT_TABLE_F.NFT_TABLE_F_OWNER, userdata: encodeComment('t') };
  const chain: Chain = { family: INET, table: 'x', name: 'in', type: 'filter', policy: 0, hook: { hooknum: 1, priority: -300, device: 'lo' }, flags: 1, id: 4, userdata: encodeComment('c') };
  const rule: Rule = { family: INET, table: 'x', chain: 'in', handle: 9, exprs: [drop], compat: { proto: 17, flags: 2 }, position: 3, userdata: Uint8Array.of(1, 2, 3), id: 5, positionId: 6 };
  const set: NftSet = { family: INET, table: 'x', name: 'm', flags: NFT_SET.NFT_SET_MAP, keyType: 13, keyLen: 2, dataType: 0xffffff00, dataLen: 16, id: 8, policy: 1, size: 10, timeout: 1000, gcInterval: 500, userdata: Uint8Array.of(9) };
  b.addTable(table);
  b.addChain(chain);
  b.replaceRule(rule);
  b.addSet(set);
  b.addElements({ family: INET, table: 'x', name: 'm' }, [
    { key: be16(22), data: { verdict: { code: NFT_VERDICT.NFT_JUMP, chain: 'in' } }, flags: 0, timeout: 5000, userdata: Uint8Array.of(7) },
    { key: be16(23), keyEnd: be16(25), data: { verdict: { code: NFT_VERDICT.NF_ACCEPT } } },
  ]);
  const got = b.messages.map((m) => {
    const it = new MessageIter().reset(b.messageBytes(m));
    it.next();
    return decodeObject(it);
  });
  assert.deepEqual(got, [
    { kind: 'table', table },
    { kind: 'chain', chain },
    { kind: 'rule', rule },
    { kind: 'set', set },
    { kind: 'elements', elements: { family: INET, table: 'x', set: 'm', elements: [
      { key: be16(22), data: { verdict: { code: -3, chain: 'in' } }, flags: 0, timeout: 5000, userdata: Uint8Array.of(7) },
      { key: be16(23), keyEnd: be16(25), data: { verdict: { code: 1 } } },
    ] } },
  ]);
});

test('NftBatch sets the header flags each operation needs', () => {
  const b = new NftBatch();
  const { NLM_F_REQUEST: R, NLM_F_ACK: A, NLM_F_CREATE: C, NLM_F_EXCL: X, NLM_F_APPEND: P, NLM_F_ECHO: E, NLM_F_REPLACE: RP } = NlmFlags;
  const flags = [
    b.addTable({ family: INET, name: 'x' }).flags,
    b.addTable({ family: INET, name: 'x' }, { exclusive: true, echo: false }).flags,
    b.addRule({ family: INET, table: 'x', chain: 'c', exprs: [] }).flags,
    b.insertRule({ family: INET, table: 'x', chain: 'c', exprs: [] }).flags,
    b.replaceRule({ family: INET, table: 'x', chain: 'c', handle: 1, exprs: [] }).flags,
    b.deleteRule({ family: INET, table: 'x', chain: 'c', handle: 1 }).flags,
    b.addElements({ family: INET, table: 'x', name: 's' }, []).flags,
  ];
  assert.deepEqual(flags, [R | A | C | E, R | A | C | X, R | A | C | P | E, R | A | C | E, R | A | RP | E, R | A, R | A | C]);
  assert.equal(b.messages[2]!.msg, NFT_MSG.NFT_MSG_NEWRULE);
});

test('NftBatch.addSet() numbers sets without an id (above any id given), as the kernel requires NFTA_SET_ID', () => {
  const b = new NftBatch();
  b.addSet({ family: INET, table: 'x', name: 'a', keyLen: 4 });
  b.addSet({ family: INET, table: 'x', name: 'b', keyLen: 4, id: 42 });
  b.addSet({ family: INET, table: 'x', name: 'c', keyLen: 4 });
  const ids = b.messages.map((m) => {
    const bytes = b.messageBytes(m);
    return decodeSet(bytes, 16, bytes.length).id;
  });
  assert.deepEqual(ids, [1, 42, 43]);
});

test('a value the encoder refuses leaves the batch unchanged', () => {
  const b = new NftBatch();
  b.addTable({ family: INET, name: 'x' });
  const before = b.bytes().length;
  assert.throws(() => b.addRule({ family: INET, table: 'x', chain: 'c', exprs: [{ type: 'cmp', op: 0, sreg: 1, data: new Uint8Array(0) }] }), RangeError);
  assert.equal(b.messages.length, 1);
  assert.equal(b.bytes().length, before);
});
