/**
 * Fuzz targets for the kernel-protocol decoders: the netlink codec, nf_tables object messages and
 * NFQUEUE packet messages. Each generates well-formed messages from their structure (so the
 * round trip can be checked) and mutates them (so the decoders see every malformation); a
 * decoder may only fail with the class its documentation names (PacketError), and never read
 * outside the range it was given.
 * @module
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketError } from '../../src/errors.js';
import { AttrDecoder } from '../../src/netlink/attr_decoder.js';
import { u16ne, u32ne } from '../../src/netlink/bytes.js';
import { NlaFlags, NlmFlags } from '../../src/netlink/constants.js';
import { MessageBuilder } from '../../src/netlink/message_builder.js';
import { MessageIter } from '../../src/netlink/message_iter.js';
import { parseNlmsgerr } from '../../src/netlink/netlink_error.js';
import { decodePacketMessage } from '../../src/nfqueue/packet_msg.js';
import { NFNL_SUBSYS_QUEUE, NFQA, NFQNL_MSG } from '../../src/nfqueue/constants.js';
import { decodeObject } from '../../src/nftables/objects.js';
import { decodeRule, type Rule } from '../../src/nftables/rule.js';
import { decodeUdata, encodeUdata } from '../../src/nftables/udata.js';
import { EXPR_VECTORS } from '../../src/nftables/testdata/expr_vectors.js';
import { DUMPED_RULES } from '../../src/nftables/testdata/kernel_dumps.js';
import { MESSAGE_VECTORS } from '../../src/nftables/testdata/message_vectors.js';
import { putRuleMsg } from '../../src/testing/_fake_nftables_msg.js';
import { mutated, onlyThrows } from './_mutate.js';
import { counter, type FuzzTarget } from './_target.js';

// ---- netlink: attribute trees ------------------------------------------------------------------

/** An attribute: a leaf with bytes or a nest (NLA_F_NESTED) of attributes. */
type Tlv = { type: number; payload: Uint8Array } | { type: number; nested: Tlv[] };

const tlv = fc.letrec<{ tlv: Tlv; list: Tlv[] }>((tie) => ({
  tlv: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ type: fc.integer({ min: 0, max: 0x3fff }), payload: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ type: fc.integer({ min: 0, max: 0x3fff }), nested: tie('list') }),
  ),
  list: fc.array(tie('tlv'), { maxLength: 4 }),
})).list;

interface NlMessage { type: number; flags: number; seq: number; pid: number; attrs: Tlv[] }

const nlMessage: fc.Arbitrary<NlMessage> = fc.record({
  type: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.nat({ max: 0xffffffff }),
  pid: fc.nat({ max: 0xffffffff }),
  attrs: tlv,
});

function putTlvs(b: MessageBuilder, list: readonly Tlv[]): void {
  for (const a of list) {
    if ('payload' in a) b.putAttr(a.type, a.payload);
    else {
      const h = b.nestStart(a.type);
      putTlvs(b, a.nested);
      b.nestEnd(h);
    }
  }
}

function encodeDatagram(msgs: readonly NlMessage[]): Uint8Array {
  const b = new MessageBuilder(64);
  for (const m of msgs) {
    b.begin(m.type, m.flags, m.seq, m.pid);
    putTlvs(b, m.attrs);
    b.end();
  }
  return b.bytes().slice();
}

/** Decodes attributes, descending into nests; every reader is called and must stay in range. */
function readTlvs(ad: AttrDecoder, start: number, end: number): Tlv[] {
  const out: Tlv[] = [];
  while (ad.next()) {
    assert.ok(ad.offset >= start && ad.offset + ad.length <= end, `attribute ${ad.offset}+${ad.length} outside ${start}..${end}`);
    if (ad.nested) out.push({ type: ad.type, nested: readTlvs(ad.nestedDecoder(), ad.offset, ad.offset + ad.length) });
    else out.push({ type: ad.type, payload: ad.bytes().slice() });
  }
  return out;
}

/** Calls every reader on every attribute (the mutation target: readers on short payloads). */
function touchTlvs(ad: AttrDecoder, depth = 0): void {
  while (ad.next()) {
    ad.u8(); ad.u16be(); ad.u16ne(); ad.u32be(); ad.u32ne(); ad.u64be(); ad.u64beNumber(); ad.string();
    if (depth < 8) touchTlvs(ad.nestedDecoder(), depth + 1);
  }
  assert.ok(ad.err === undefined || ad.err instanceof PacketError);
}

/** Messages of a datagram; the walk must stay in range and fail only with a PacketError in `err`. */
function walk(buf: Uint8Array, offset: number, length: number): NlMessage[] {
  const it = new MessageIter().reset(buf, offset, length);
  const out: NlMessage[] = [];
  while (it.next()) {
    assert.ok(it.start >= offset && it.end <= offset + length, `message ${it.start}..${it.end} outside the datagram`);
    const attrs = readTlvs(new AttrDecoder(buf, it.payloadOffset, it.end), it.payloadOffset, it.end);
    out.push({ type: it.type, flags: it.flags, seq: it.seq, pid: it.pid, attrs });
  }
  assert.ok(it.err === undefined || it.err instanceof PacketError);
  return out;
}

/** What the decoder reports for a nest: NLA_F_NESTED masked off the type, as written. */
function expected(list: readonly Tlv[]): Tlv[] {
  return list.map((a) => ('payload' in a ? { type: a.type, payload: a.payload } : { type: a.type & NlaFlags.NLA_TYPE_MASK, nested: expected(a.nested) }));
}

const roundTrips = counter();
const netlinkRoundTrip: FuzzTarget = {
  deep: roundTrips,
  name: 'netlink: MessageBuilder → MessageIter/AttrDecoder round trip',
  property: fc.property(fc.array(nlMessage, { minLength: 1, maxLength: 3 }), fc.nat({ max: 7 }), (msgs, pad) => {
    const d = encodeDatagram(msgs);
    // The datagram at an offset inside a larger buffer: nothing before or after it is read.
    const buf = new Uint8Array(d.length + 2 * pad).fill(0xa5);
    buf.set(d, pad);
    assert.deepEqual(walk(buf, pad, d.length), msgs.map((m) => ({ ...m, attrs: expected(m.attrs) })));
    roundTrips.count++;
  }),
};

const datagramSeeds = fc.array(nlMessage, { minLength: 1, maxLength: 2 }).map(encodeDatagram);

const netlinkMutation: FuzzTarget = {
  name: 'netlink: mutated datagrams end the walk with a PacketError, never a throw or a read out of range',
  property: fc.property(mutated(datagramSeeds), (bytes) => {
    const it = new MessageIter().reset(bytes);
    while (it.next()) touchTlvs(new AttrDecoder(bytes, it.payloadOffset, it.end));
    assert.ok(it.err === undefined || it.err instanceof PacketError);
  }),
};

/** An NLMSG_ERROR as the kernel writes it: error, the echoed header (capped or not), extack TLVs. */
const errorMessage = fc.record({
  errno: fc.integer({ min: -200, max: 0 }),
  capped: fc.boolean(),
  tlvs: fc.boolean(),
  echoed: nlMessage,
  msg: fc.string({ maxLength: 30 }),
  offs: fc.nat({ max: 0xffffffff }),
}).map((e) => {
  const req = encodeDatagram([e.echoed]);
  const b = new MessageBuilder(64);
  const flags = (e.capped ? NlmFlags.NLM_F_CAPPED : 0) | (e.tlvs ? NlmFlags.NLM_F_ACK_TLVS : 0);
  b.begin(2, flags, 1, 0);
  const off = b.reserve(4 + (e.capped ? 16 : req.length));
  new DataView(b.buffer.buffer, b.buffer.byteOffset).setInt32(off, e.errno, true);
  b.buffer.set(e.capped ? req.subarray(0, 16) : req, off + 4);
  if (e.tlvs) b.putAttrString(1, e.msg).putAttrU32ne(2, e.offs);
  b.end();
  return b.bytes().slice();
});

const nlmsgerrParsed = counter();
const nlmsgerrMutation: FuzzTarget = {
  deep: nlmsgerrParsed,
  name: 'netlink: parseNlmsgerr() on mutated NLMSG_ERROR throws only PacketError',
  property: fc.property(mutated(errorMessage), (bytes) => {
    if (bytes.length < 16) return;
    const end = Math.min(bytes.length, Math.max(16, u32ne(bytes, 0)));
    if (!onlyThrows([PacketError], () => parseNlmsgerr(bytes, 16, end, u16ne(bytes, 6)))) nlmsgerrParsed.count++;
  }),
};

// ---- nf_tables ---------------------------------------------------------------------------------

const ALL_EXPRS = [...EXPR_VECTORS.map((v) => v.expr), ...DUMPED_RULES.flatMap((r) => r.dumped.exprs)];

const nftName = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\0'));

/** A rule as the kernel dumps it, made of expressions nft and the kernel wrote (golden vectors). */
const dumpedRule: fc.Arbitrary<Rule> = fc.record({
  family: fc.constantFrom(1, 2, 10),
  table: nftName,
  chain: nftName,
  handle: fc.nat({ max: 2 ** 48 }),
  position: fc.option(fc.nat({ max: 2 ** 48 }), { nil: undefined }),
  exprs: fc.array(fc.constantFrom(...ALL_EXPRS), { maxLength: 6 }),
  userdata: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
}).map((r) => {
  const out: Rule = { family: r.family, table: r.table, chain: r.chain, handle: r.handle, exprs: r.exprs };
  if (r.position !== undefined) out.position = r.position;
  if (r.userdata !== undefined) out.userdata = r.userdata;
  return out;
});

function encodeRule(r: Rule): Uint8Array {
  const b = new MessageBuilder(256);
  putRuleMsg(b, 1, 0, 0, r);
  return b.bytes().slice();
}

const nftRuleRoundTrip: FuzzTarget = {
  name: 'nftables: NEWRULE dump → decodeRule() round trip',
  property: fc.property(dumpedRule, (r) => {
    const bytes = encodeRule(r);
    const got = decodeRule(bytes, 16, u32ne(bytes, 0));
    assert.deepEqual({ ...got, exprs: got.exprs }, { ...r });
  }),
};

const nftSeeds = fc.oneof(
  dumpedRule.map(encodeRule),
  fc.constantFrom(...MESSAGE_VECTORS).map((v) => {
    const b = new MessageBuilder(64);
    b.begin(v.type, 0, 1, 0);
    const off = b.reserve(v.payload.length); // before reading b.buffer: reserving may replace it
    b.buffer.set(v.payload, off);
    b.end();
    return b.bytes().slice();
  }),
);

const nftDecoded = counter();
const nftMutation: FuzzTarget = {
  deep: nftDecoded,
  name: 'nftables: decodeObject() on mutated object messages throws only PacketError',
  property: fc.property(mutated(nftSeeds), (bytes) => {
    const it = new MessageIter().reset(bytes);
    while (it.next()) if (!onlyThrows([PacketError], () => void decodeObject(it))) nftDecoded.count++;
  }),
};

const udataItems = fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 5 });

const udataRoundTrip: FuzzTarget = {
  name: 'nftables: encodeUdata → decodeUdata round trip; mutated userdata throws only PacketError',
  property: fc.property(udataItems, fc.option(fc.nat(), { nil: undefined }), (items, cut) => {
    const bytes = encodeUdata(items);
    assert.deepEqual(decodeUdata(bytes), items.map((u) => ({ type: u.type, value: u.value })));
    if (cut !== undefined) onlyThrows([PacketError], () => void decodeUdata(bytes.subarray(0, cut % (bytes.length + 1))));
  }),
};

// ---- NFQUEUE packet messages -------------------------------------------------------------------

interface NfqFields {
  family: number; queue: number; id: number; hwProtocol: number; hook: number;
  mark?: number | undefined; indev?: number | undefined; outdev?: number | undefined;
  capLen?: number | undefined; skbInfo?: number | undefined; uid?: number | undefined; gid?: number | undefined;
  timestamp?: [number, number] | undefined; hwAddr?: Uint8Array | undefined; secctx?: string | undefined;
  payload?: Uint8Array | undefined; unknown?: Uint8Array | undefined;
}

const u32 = fc.nat({ max: 0xffffffff });
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

const nfqFields: fc.Arbitrary<NfqFields> = fc.record({
  family: fc.constantFrom(2, 10, 7), queue: fc.integer({ min: 0, max: 0xffff }), id: u32,
  hwProtocol: fc.integer({ min: 0, max: 0xffff }), hook: fc.integer({ min: 0, max: 4 }),
  mark: opt(u32), indev: opt(u32), outdev: opt(u32), capLen: opt(u32), skbInfo: opt(u32), uid: opt(u32), gid: opt(u32),
  timestamp: opt(fc.tuple(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 999_999 }))),
  hwAddr: opt(fc.uint8Array({ minLength: 1, maxLength: 8 })),
  secctx: opt(fc.stringMatching(/^[a-z_:0-9]{1,30}$/)),
  payload: opt(fc.uint8Array({ maxLength: 80 })),
  unknown: opt(fc.uint8Array({ maxLength: 12 })),
});

function encodeNfq(f: NfqFields): Uint8Array {
  const b = new MessageBuilder(128);
  b.begin((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.NFQNL_MSG_PACKET, 0, 0, 0);
  b.putNfgenmsg(f.family, 0, f.queue);
  const hdr = b.reserveAttr(NFQA.NFQA_PACKET_HDR, 7);
  const dv = new DataView(b.buffer.buffer, b.buffer.byteOffset);
  dv.setUint32(hdr, f.id);
  dv.setUint16(hdr + 4, f.hwProtocol);
  b.buffer[hdr + 6] = f.hook;
  const u32s: [number, number | undefined][] = [
    [NFQA.NFQA_MARK, f.mark], [NFQA.NFQA_IFINDEX_INDEV, f.indev], [NFQA.NFQA_IFINDEX_OUTDEV, f.outdev],
    [NFQA.NFQA_CAP_LEN, f.capLen], [NFQA.NFQA_SKB_INFO, f.skbInfo], [NFQA.NFQA_UID, f.uid], [NFQA.NFQA_GID, f.gid],
  ];
  for (const [t, v] of u32s) if (v !== undefined) b.putAttrU32be(t, v);
  if (f.timestamp) {
    const off = b.reserveAttr(NFQA.NFQA_TIMESTAMP, 16);
    const view = new DataView(b.buffer.buffer, b.buffer.byteOffset);
    view.setBigUint64(off, BigInt(f.timestamp[0]));
    view.setBigUint64(off + 8, BigInt(f.timestamp[1]));
  }
  if (f.hwAddr) {
    const off = b.reserveAttr(NFQA.NFQA_HWADDR, 12);
    new DataView(b.buffer.buffer, b.buffer.byteOffset).setUint16(off, f.hwAddr.length);
    b.buffer.set(f.hwAddr, off + 4);
  }
  if (f.secctx !== undefined) b.putAttrString(NFQA.NFQA_SECCTX, f.secctx);
  if (f.unknown) b.putAttr(0x3ff0, f.unknown);
  if (f.payload) b.putAttr(NFQA.NFQA_PAYLOAD, f.payload);
  b.end();
  return b.bytes().slice();
}

const nfqRoundTrip: FuzzTarget = {
  name: 'nfqueue: NFQNL_MSG_PACKET → decodePacketMessage() gives back every field',
  property: fc.property(nfqFields, (f) => {
    const bytes = encodeNfq(f);
    const m = decodePacketMessage(bytes, 16, bytes.length);
    assert.deepEqual(
      [m.family, m.queue, m.id, m.hwProtocol, m.hook, m.mark, m.indev, m.outdev, m.capLen, m.skbInfo, m.uid, m.gid],
      [f.family, f.queue, f.id, f.hwProtocol, f.hook, f.mark ?? 0, f.indev ?? 0, f.outdev ?? 0, f.capLen, f.skbInfo ?? 0, f.uid, f.gid],
    );
    assert.deepEqual([m.timestampSec, m.timestampUsec], f.timestamp ?? [undefined, undefined]);
    assert.equal(m.secctx, f.secctx);
    if (f.hwAddr) assert.equal(m.hwAddr, [...f.hwAddr].map((x) => x.toString(16).padStart(2, '0')).join(':'));
    assert.deepEqual(bytes.subarray(m.payloadOffset, m.payloadOffset + m.payloadLength), f.payload ?? new Uint8Array(0));
    assert.equal(m.truncated, f.capLen !== undefined && (f.payload?.length ?? 0) < f.capLen);
  }),
};

const nfqDecoded = counter();
const nfqMutation: FuzzTarget = {
  deep: nfqDecoded,
  name: 'nfqueue: decodePacketMessage() on mutated messages throws only PacketError and stays in range',
  property: fc.property(mutated(nfqFields.map(encodeNfq), 2), fc.nat({ max: 40 }), (bytes, end) => {
    const stop = Math.max(0, bytes.length - (end % (bytes.length + 1)));
    onlyThrows([PacketError], () => {
      const m = decodePacketMessage(bytes, 16, stop);
      assert.ok(m.payloadOffset + m.payloadLength <= stop && m.ctOffset + m.ctLength <= stop && m.l2HdrOffset + m.l2HdrLength <= stop);
      nfqDecoded.count++;
    });
  }),
};

export const CODEC_TARGETS: readonly FuzzTarget[] = [
  netlinkRoundTrip, netlinkMutation, nlmsgerrMutation, nftRuleRoundTrip, nftMutation, udataRoundTrip, nfqRoundTrip, nfqMutation,
];
