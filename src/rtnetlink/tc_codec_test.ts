import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { diffHex } from '../netlink/hexdump.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import { PacketError } from '../errors.js';
import { formatTcBytecode, markMatchProgram, parseSockFilters, parseTcBytecode, sameProgram } from './cbpf.js';
import { ETH_P_ALL, MirredEaction, RtmTcType, TC_H_MAKE, TcAct, TcaClsFlags, TcHandle } from './tc_constants.js';
import { parseFilterMessage, putBpfFilter, putFilterDelete, putFilterDump, type BpfFilterSpec, type TcFilter } from './tc_filter.js';
import { clsactDirection, clsactParent, filterInfo, htons, parseFilterInfo } from './tc_msg.js';
import { CLSACT_HANDLE, isClsact, parseQdiscMessage, putClsactAdd, putClsactDelete, putQdiscDump, type TcQdisc } from './tc_qdisc.js';
import { KERNEL_FILTER_DUMP_EGRESS, KERNEL_QDISC_DUMP } from './testdata/tc_dumps.js';
import * as golden from './testdata/tc_requests.js';

const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';
/** INJECT_MARK of src/firewall/mark.ts, the mark in the golden filter. */
const MARK = 0x40d1_0001;
/** markMatchProgram(INJECT_MARK) (the program of INJECT_REDIRECT in src/firewall/mark.ts) as tc's bytecode text, as tc was given it. */
const TC_BYTECODE = '4,32 0 0 4294963220,21 0 1 1087438849,6 0 0 4294967295,6 0 0 0';

const REDIRECT: BpfFilterSpec = {
  ifindex: 3,
  direction: 'egress',
  prio: 49152,
  handle: 4242,
  ops: markMatchProgram(MARK),
  actions: [{ kind: 'mirred', eaction: MirredEaction.TCA_INGRESS_REDIR, ifindex: 3 }],
};

/** A builder over a 0xa5-filled buffer: every padding byte must be written as zero. */
function dirty(): MessageBuilder {
  return new MessageBuilder(new Uint8Array(512).fill(0xa5));
}

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  const d = diffHex(actual, expected);
  if (d !== undefined) assert.fail(`bytes differ from what tc sends\n${d}`);
}

function decodeAll<T>(datagram: Uint8Array, type: number, parse: (b: Uint8Array, o: number, e: number) => T): T[] {
  const it = new MessageIter().reset(datagram);
  const out: T[] = [];
  while (it.next()) if (it.type === type) out.push(parse(it.buffer, it.payloadOffset, it.end));
  assert.equal(it.err, undefined);
  return out;
}

test('putClsactAdd() encodes what `tc qdisc add dev X clsact` sends', { skip }, () => {
  assertBytes(putClsactAdd(dirty(), 0x6b0d0e4c, 3).bytes(), golden.TC_QDISC_ADD_CLSACT);
});

test('putClsactDelete() encodes what `tc qdisc del dev X clsact` sends', { skip }, () => {
  assertBytes(putClsactDelete(dirty(), 0x6b0d0dae, 3).bytes(), golden.TC_QDISC_DELETE_CLSACT);
});

test('putQdiscDump() encodes what `tc qdisc show dev X` sends', { skip }, () => {
  assertBytes(putQdiscDump(dirty(), 0x6b0d0daa, 3).bytes(), golden.TC_QDISC_DUMP);
});

test('putBpfFilter() encodes the redirect filter as `tc filter replace … bpf … action mirred ingress redirect` does', { skip }, () => {
  assertBytes(putBpfFilter(dirty(), 0x6b0d0d9e, REDIRECT).bytes(), golden.TC_FILTER_REPLACE_REDIRECT);
});

test('putBpfFilter() with exclusive sets NLM_F_EXCL (tc "add") and nothing else changes', { skip }, () => {
  const bytes = putBpfFilter(dirty(), 0x6b0d0d9e, REDIRECT, true).bytes();
  const expected = golden.TC_FILTER_REPLACE_REDIRECT.slice();
  expected[7] = 0x06; // nlmsg_flags high byte: NLM_F_EXCL | NLM_F_CREATE
  assertBytes(bytes, expected);
});

test('putFilterDump() and putFilterDelete() encode what `tc filter show|del dev X egress …` send', { skip }, () => {
  assertBytes(putFilterDump(dirty(), 0x6b0d0da3, 3, 'egress').bytes(), golden.TC_FILTER_DUMP_EGRESS);
  const key = { ifindex: 3, direction: 'egress' as const, prio: 49152, handle: 4242 };
  assertBytes(putFilterDelete(dirty(), 0x6b0d0dae, key).bytes(), golden.TC_FILTER_DELETE);
});

test('parseFilterMessage() reads the kernel dump back into the values tc installed', { skip }, () => {
  const [header, filter] = decodeAll(KERNEL_FILTER_DUMP_EGRESS, RtmTcType.RTM_NEWTFILTER, parseFilterMessage);
  assert.deepEqual(header, { ifindex: 3, parent: 0xffff_fff3, handle: 0, prio: 49152, protocol: ETH_P_ALL, kind: 'bpf', chain: 0, bpf: undefined });
  const expected: TcFilter = {
    ifindex: 3,
    parent: clsactParent('egress'),
    handle: 4242,
    prio: 49152,
    protocol: ETH_P_ALL,
    kind: 'bpf',
    chain: 0,
    bpf: {
      ops: markMatchProgram(MARK),
      flags: 0,
      flagsGen: TcaClsFlags.TCA_CLS_FLAGS_NOT_IN_HW,
      classid: 0,
      name: undefined,
      actions: [{
        order: 1,
        kind: 'mirred',
        mirred: { index: 1, capab: 0, action: TcAct.TC_ACT_STOLEN, refcnt: 1, bindcnt: 1, eaction: MirredEaction.TCA_INGRESS_REDIR, ifindex: 3 },
      }],
    },
  };
  assert.deepEqual(filter, expected);
});

test('parseFilterMessage() decodes a request the same way (index 0, no refs, no flags)', { skip }, () => {
  const [f] = decodeAll(golden.TC_FILTER_REPLACE_REDIRECT, RtmTcType.RTM_NEWTFILTER, parseFilterMessage);
  assert.equal(f?.handle, 4242);
  assert.equal(f?.chain, undefined);
  assert.deepEqual(f?.bpf?.ops, markMatchProgram(MARK));
  assert.deepEqual(f?.bpf?.actions[0]?.mirred, { index: 0, capab: 0, action: 4, refcnt: 0, bindcnt: 0, eaction: 3, ifindex: 3 });
});

test('parseQdiscMessage() reads every interface of a qdisc dump and finds the clsact one', { skip }, () => {
  const qs = decodeAll(KERNEL_QDISC_DUMP, RtmTcType.RTM_NEWQDISC, parseQdiscMessage);
  assert.deepEqual(qs.map((q) => [q.ifindex, q.kind]), [[2, 'noqueue'], [3, 'noqueue'], [3, 'clsact']]);
  const clsact: TcQdisc = { ifindex: 3, handle: CLSACT_HANDLE, parent: TcHandle.TC_H_CLSACT, kind: 'clsact', refcnt: 1 };
  assert.deepEqual(qs[2], clsact);
  assert.deepEqual(qs.map(isClsact), [false, false, true]);
});

test('tcm_info carries prio and the protocol in network order; handles split as major:minor', () => {
  assert.equal(CLSACT_HANDLE, 0xffff_0000);
  assert.equal(clsactParent('egress'), 0xffff_fff3);
  assert.equal(clsactParent('ingress'), 0xffff_fff2);
  assert.equal(clsactDirection(0xffff_fff2), 'ingress');
  assert.equal(clsactDirection(TcHandle.TC_H_ROOT), undefined);
  assert.equal(TC_H_MAKE(0x1_0000, 0x1_0005), 0x1_0005);
  if (HOST_LITTLE_ENDIAN) assert.equal(filterInfo(49152, ETH_P_ALL), 0xc000_0300);
  assert.deepEqual(parseFilterInfo(filterInfo(7, 0x86dd)), { prio: 7, protocol: 0x86dd });
  assert.throws(() => filterInfo(0x1_0000, 3), RangeError);
});

test('htons() puts a u16 in network order for a host-order store (and undoes itself)', () => {
  const stored = new Uint8Array(2);
  new DataView(stored.buffer).setUint16(0, htons(0x86dd), HOST_LITTLE_ENDIAN);
  assert.deepEqual([...stored], [0x86, 0xdd]);
  assert.equal(htons(htons(0x0003)), 0x0003);
});

test('parseTcBytecode() reads tc bytecode text into the same program markMatchProgram() builds', () => {
  const ops = parseTcBytecode(TC_BYTECODE);
  assert.ok(sameProgram(ops, markMatchProgram(MARK)));
  assert.equal(formatTcBytecode(ops), TC_BYTECODE);
  assert.ok(!sameProgram(ops, markMatchProgram(MARK + 1)));
  assert.throws(() => parseTcBytecode('2,6 0 0 0'), SyntaxError);
  assert.throws(() => parseTcBytecode('1,6 0 0'), SyntaxError);
  assert.throws(() => parseTcBytecode('1,6 0 256 0'), RangeError);
});

test('decoders throw PacketError on short or malformed input', () => {
  assert.throws(() => parseFilterMessage(new Uint8Array(40), 16, 30), PacketError);
  assert.throws(() => parseQdiscMessage(new Uint8Array(40), 16, 35), PacketError);
  assert.throws(() => parseSockFilters(new Uint8Array(7)), PacketError);
  // A filter whose TCA_MIRRED_PARMS is cut to 24 bytes.
  const b = putBpfFilter(new MessageBuilder(), 1, REDIRECT);
  const bytes = b.bytes().slice();
  const at = bytes.findIndex((_, i) => bytes[i] === 0x20 && bytes[i + 1] === 0 && bytes[i + 2] === 2 && bytes[i + 3] === 0);
  bytes[at] = 24 + 4;
  assert.throws(() => parseFilterMessage(bytes, 16, bytes.length), PacketError);
});

test('putBpfFilter() refuses out-of-range keys and programs with RangeError', () => {
  const b = new MessageBuilder();
  assert.throws(() => putBpfFilter(b.reset(), 1, { ...REDIRECT, prio: 0 }), RangeError);
  assert.throws(() => putBpfFilter(b.reset(), 1, { ...REDIRECT, ifindex: 0 }), RangeError);
  assert.throws(() => putBpfFilter(b.reset(), 1, { ...REDIRECT, ops: [] }), RangeError);
  assert.throws(() => putBpfFilter(b.reset(), 1, { ...REDIRECT, actions: [{ kind: 'mirred', eaction: 3, ifindex: -1 }] }), RangeError);
  // Checked before the first byte (the writers behind it check nothing): the builder is as it was.
  putBpfFilter(b.reset(), 1, REDIRECT);
  const good = b.bytes().slice();
  assert.throws(() => putBpfFilter(b, 2, { ...REDIRECT, ops: [{ code: 6, jt: 0, jf: 256, k: 0 }] }), RangeError);
  assert.throws(() => putBpfFilter(b, 2, { ...REDIRECT, actions: [...REDIRECT.actions, { kind: 'mirred', eaction: 3, ifindex: 2 ** 31 }] }), RangeError);
  assert.deepEqual(b.bytes(), good);
});
