import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyChecksums } from '../packet/checksum.js';
import { parsePacket } from '../packet/parse.js';
import { TCP_FLAGS, TCP_OPTION, type TcpOption } from '../packet/tcp.js';
import { withTcpPayload } from '../packet/tcp_payload.js';
import { tcpSegment } from '../packet/_test_tcp.js';
import { Prng } from '../packet/_test_util.js';
import { TcpRewriteError } from './errors.js';
import { TcpRewriteTracker, type TcpRewriteWarning } from './tracker.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const { ACK, FIN, RST, SYN, PSH } = TCP_FLAGS;
const TS = (v: number): TcpOption => ({ kind: TCP_OPTION.TIMESTAMP, data: new Uint8Array([v >>> 24, v >>> 16, v >>> 8, v, 0, 0, 0, 9]) });
const NOP: TcpOption = { kind: TCP_OPTION.NOP, data: new Uint8Array(0) };

interface Sent {
  seq: number;
  ack: number;
  data: string;
  flags: number;
  sack: number[];
  ts: number[] | undefined;
  bytes: Uint8Array;
}

/** Reads what the tracker sends; every output must carry right checksums. */
function read(bytes: Uint8Array): Sent {
  const p = parsePacket(bytes);
  const report = verifyChecksums(bytes);
  assert.equal(report.tcp, true, 'TCP checksum right');
  if (p.ipv4) assert.equal(report.ip, true, 'IPv4 header checksum right');
  const opts = p.tcp!.parseOptions();
  const sack = opts.find((o) => o.kind === TCP_OPTION.SACK);
  const blocks: number[] = [];
  for (let i = 0; sack && i < sack.data.length; i += 4) blocks.push(new DataView(sack.data.buffer, sack.data.byteOffset + i, 4).getUint32(0));
  const ts = opts.find((o) => o.kind === TCP_OPTION.TIMESTAMP);
  return { seq: p.tcp!.seqNum, ack: p.tcp!.ackNum, data: dec(p.payload), flags: p.tcp!.flags, sack: blocks, ts: ts && [...ts.data], bytes };
}

/** A client and a server, each segment shown to one tracker. */
class Scene {
  readonly tracker: TcpRewriteTracker;
  readonly warnings: TcpRewriteWarning[] = [];
  now = 0;
  readonly c: string;
  readonly s: string;
  constructor(c: string, s: string, options: { lingerMs?: number } = {}) {
    this.c = c;
    this.s = s;
    this.tracker = new TcpRewriteTracker({ ...options, onWarning: (w) => this.warnings.push(w) });
  }
  seg(from: 'c' | 's', seq: number, ack: number, data: string, flags = ACK | (data ? PSH : 0), options: TcpOption[] = [NOP, NOP, TS(seq)]): Uint8Array {
    const [src, dst, sp, dp] = from === 'c' ? [this.c, this.s, 40000, 80] : [this.s, this.c, 80, 40000];
    return tcpSegment({ src, dst, srcPort: sp, dstPort: dp, seq, ack, flags, payload: data, options });
  }
  /** Passes `bytes` (as the program would send `out`) and reads the result, which must be one segment. */
  pass(bytes: Uint8Array, out = bytes): Sent {
    const all = this.passAll(bytes, out);
    assert.equal(all.length, 1, 'one segment');
    return all[0]!;
  }
  passAll(bytes: Uint8Array, out = bytes): Sent[] {
    this.now += 1;
    return this.tracker.translate(bytes, out, this.now).map(read);
  }
  /** Passes a segment whose data the program replaces by `data`. */
  rewrite(bytes: Uint8Array, data: string): Sent {
    return this.pass(bytes, withTcpPayload(bytes, enc(data)));
  }
}

const u32 = (n: number): number => n >>> 0;

for (const [family, c, s] of [['IPv4', '198.18.0.1', '198.18.0.2'], ['IPv6', '2001:db8::1', '2001:db8::2']] as const) {
  test(`${family}: a grown request moves the client's later sequence numbers and the server's acknowledgements back`, () => {
    const sc = new Scene(c, s);
    const c0 = 1000;
    const s0 = 5000;
    const a = sc.pass(sc.seg('c', c0, s0, 'plain')); // sent unchanged: nothing to adjust yet
    assert.equal(a.seq, c0);
    assert.equal(sc.pass(sc.seg('c', c0 + 5, s0, 'GET /a\r\n')).seq, c0 + 5);
    const r = sc.rewrite(sc.seg('c', c0 + 13, s0, 'GET /b\r\n'), 'GET /b-longer\r\n');
    assert.deepEqual([r.seq, r.data], [c0 + 13, 'GET /b-longer\r\n']);
    const next = sc.pass(sc.seg('c', c0 + 21, s0, 'x'));
    assert.equal(next.seq, c0 + 28, 'the client\'s next segment is 7 further on');
    // The server acknowledges in its numbering: up to the end of the longer request, and beyond.
    assert.equal(sc.pass(sc.seg('s', s0, c0 + 13, '')).ack, c0 + 13, 'up to the rewrite point: unmoved');
    assert.equal(sc.pass(sc.seg('s', s0, c0 + 20, '')).ack, c0 + 13, 'inside the new bytes: only what precedes them');
    assert.equal(sc.pass(sc.seg('s', s0, c0 + 28, 'ok')).ack, c0 + 21);
    assert.equal(sc.pass(sc.seg('s', s0 + 2, c0 + 29, '')).ack, c0 + 22);
    // An old acknowledgement, below what was acknowledged and let go, stays below it (ignored as before).
    assert.equal(sc.pass(sc.seg('s', s0 + 2, c0 + 13, '')).ack, c0 + 6);
    assert.equal(sc.pass(sc.seg('c', c0 + 22, s0 + 2, 'y')).ack, s0 + 2, 'the server\'s own numbers are not moved');
  });
}

test('32-bit wrap-around: rewrites just before and across 2^32, acknowledgements across it', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2');
  const c0 = 0xfffffff0;
  const s0 = 0xfffffffe;
  const r1 = sc.rewrite(sc.seg('c', c0, s0, 'abcdefgh'), 'abcdefgh-and-more'); // +9, ends at 0xfffffff8
  assert.equal(r1.seq, c0);
  const r2 = sc.rewrite(sc.seg('c', c0 + 8, s0, '0123456789abcdef'), '0123'); // crosses 2^32 in the sender's numbering: -12
  assert.equal(r2.seq, u32(c0 + 8 + 9));
  const n = sc.pass(sc.seg('c', u32(c0 + 24), s0, 'z'));
  assert.equal(n.seq, u32(c0 + 24 + 9 - 12));
  assert.equal(n.seq, 0x00000005);
  // Server acks in its numbering, which wrapped: c0 + 17 + 4 = 0x00000005.
  assert.equal(sc.pass(sc.seg('s', s0, u32(c0 + 9 + 8), '')).ack, u32(c0 + 8));
  assert.equal(sc.pass(sc.seg('s', s0, u32(c0 + 9 + 10), '')).ack, u32(c0 + 8), 'inside the 4 new bytes');
  assert.equal(sc.pass(sc.seg('s', s0, u32(c0 + 17 + 4), '')).ack, u32(c0 + 24));
  // Server data across its own wrap, shrunk: its later segments and the client's acks follow.
  const sr = sc.rewrite(sc.seg('s', s0, u32(c0 + 25), 'HTTP/1.1 200 OK\r\n'), 'OK\r\n'); // -13
  assert.equal(sr.seq, s0);
  const sn = sc.pass(sc.seg('s', u32(s0 + 17), u32(c0 + 25), 'body'));
  assert.equal(sn.seq, u32(s0 + 4));
  assert.equal(sc.pass(sc.seg('c', u32(c0 + 25), u32(s0 + 8), '')).ack, u32(s0 + 21));
});

test('SACK blocks spanning a rewrite point are moved; edges inside rewritten bytes shrink the block; empty blocks become NOPs', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2');
  const c0 = 0xffffff00;
  const s0 = 77;
  sc.pass(sc.seg('c', c0, s0, 'aaaaaaaaaa')); // [c0, c0+10) unchanged
  sc.rewrite(sc.seg('c', c0 + 10, s0, 'bbbbbbbbbb'), 'BBBBBBBBBBBBBBBBBBBB'); // [c0+10, c0+20) → 20 bytes: +10
  sc.pass(sc.seg('c', c0 + 20, s0, 'cccccccccc')); // → [c0+30, c0+40) for the server
  sc.pass(sc.seg('c', c0 + 30, s0, 'dddddddddd')); // → [c0+40, c0+50)
  const sack = (blocks: number[]): TcpOption => {
    const d = new Uint8Array(blocks.length * 4);
    blocks.forEach((b, i) => new DataView(d.buffer).setUint32(i * 4, u32(b)));
    return { kind: TCP_OPTION.SACK, data: d };
  };
  // The first segment got through; the server holds the rewritten bytes and what follows.
  const spanning = sc.pass(sc.seg('s', s0, u32(c0 + 10), '', ACK, [NOP, NOP, sack([c0 + 10, c0 + 50])]));
  assert.equal(spanning.ack, u32(c0 + 10));
  assert.deepEqual(spanning.sack, [u32(c0 + 10), u32(c0 + 40)]);
  // Edges inside the 20 new bytes: left rounded up to their end, right down to their start.
  const edges = sc.pass(sc.seg('s', s0, u32(c0 + 10), '', ACK, [NOP, NOP, sack([c0 + 15, c0 + 45, c0 + 30, c0 + 50, c0 + 12, c0 + 18])]));
  assert.deepEqual(edges.sack, [u32(c0 + 20), u32(c0 + 35), u32(c0 + 20), u32(c0 + 40)], 'the block inside the new bytes is gone');
  const p = parsePacket(edges.bytes);
  assert.equal(p.tcp!.hdrLen, 20 + 2 + 26, 'the header keeps its length');
  assert.deepEqual([...p.tcp!.options.subarray(2 + 18)], [1, 1, 1, 1, 1, 1, 1, 1], 'the removed block is NOPs');
  const none = sc.pass(sc.seg('s', s0, u32(c0 + 10), '', ACK, [NOP, NOP, sack([c0 + 12, c0 + 18])]));
  assert.deepEqual(none.sack, []);
  assert.deepEqual(parsePacket(none.bytes).tcp!.parseOptions().map((o) => o.kind), [], 'all NOPs');
});

test('a retransmission of a rewritten segment gets the same rewrite and delta: unchanged, rewritten alike, coalesced, or partly acknowledged', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2');
  const c0 = 10;
  const s0 = 900;
  const seg1 = sc.seg('c', c0, s0, 'GET /a\r\n');
  const first = sc.rewrite(seg1, 'GET /a-longer\r\n'); // +7
  const seg2 = sc.seg('c', c0 + 8, s0, 'Host: h\r\n');
  const second = sc.pass(seg2);
  assert.equal(second.seq, c0 + 15);
  sc.pass(sc.seg('s', s0, c0, '')); // the server is heard from (else the retransmission warns)
  // The program sees the original bytes again and reinjects them unchanged: the stored rewrite.
  const again = sc.pass(seg1);
  assert.deepEqual(again.bytes, first.bytes, 'byte for byte the first rewritten segment');
  // ... or does its rewrite again, alike: the same.
  assert.deepEqual(sc.rewrite(seg1, 'GET /a-longer\r\n').bytes, first.bytes);
  // ... but another rewrite of those bytes cannot be kept consistent: refused, nothing recorded.
  assert.throws(() => sc.rewrite(seg1, 'GET /other\r\n'), (e: unknown) => e instanceof TcpRewriteError && e.code === 'ERR_DIVERT_TCP_REWRITE_CONFLICT' && /reinject it unchanged/.test(e.message));
  assert.throws(() => sc.rewrite(seg2, 'Host: x\r\n'), (e: unknown) => e instanceof TcpRewriteError && /sent before without this change/.test(e.message));
  // The sender collapses both into one retransmission: the rewrite is applied inside it.
  const both = sc.pass(sc.seg('c', c0, s0, 'GET /a\r\nHost: h\r\n'));
  assert.deepEqual([both.seq, both.data], [c0, 'GET /a-longer\r\nHost: h\r\n']);
  // A retransmission starting inside the rewritten bytes is sent from their start.
  const inside = sc.pass(sc.seg('c', c0 + 4, s0, '/a\r\nHost: h\r\n'));
  assert.deepEqual([inside.seq, inside.data], [c0, 'GET /a-longer\r\nHost: h\r\n']);
  // One that ends inside them stops before them (and never says FIN).
  const ends = sc.pass(sc.seg('c', c0, s0, 'GET', ACK | FIN));
  assert.deepEqual([ends.seq, ends.data, ends.flags & FIN], [c0, '', 0]);
  // The server acknowledged the first 15 bytes (its numbering): a retransmission of both is trimmed.
  assert.equal(sc.pass(sc.seg('s', s0, c0 + 15, '')).ack, c0 + 8);
  const trimmed = sc.pass(sc.seg('c', c0, s0, 'GET /a\r\nHost: h\r\n'));
  assert.deepEqual([trimmed.seq, trimmed.data], [c0 + 15, 'Host: h\r\n']);
  // All acknowledged: a probe one below the server's next number, which draws its ACK.
  assert.equal(sc.pass(sc.seg('s', s0, c0 + 24, '')).ack, c0 + 17);
  const probe = sc.pass(sc.seg('c', c0, s0, 'GET /a\r\nHost: h\r\n'));
  assert.deepEqual([probe.seq, probe.data], [c0 + 23, '']);
  assert.equal(sc.tracker.directions(seg1)![0].rewrites.length, 0, 'an acknowledged rewrite is let go');
  assert.deepEqual(sc.warnings, []);
});

test('several rewrites accumulate; a retransmission before the last one uses the offset it had', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2');
  const s0 = 1;
  const segs = [['aaaa', 'aaaaaaaaa'], ['bbbbbbbb', 'bbbbb'], ['cc', 'cccccccccccc']] as const; // +5, -3, +10
  let seq = 100;
  const sent: number[] = [];
  for (const [from, to] of segs) {
    sent.push(sc.rewrite(sc.seg('c', seq, s0, from), to).seq);
    seq += from.length;
  }
  assert.deepEqual(sent, [100, 109, 114]);
  assert.equal(sc.pass(sc.seg('c', seq, s0, 'tail')).seq, seq + 12);
  const d = sc.tracker.directions(sc.seg('c', 100, s0, ''))![0];
  assert.deepEqual(d.rewrites.map((r) => r.offsetBefore), [0, 5, 2]);
  assert.equal(d.offsetAfter, 12);
  // The middle one again: the offset before it (+5), not the last one's.
  const mid = sc.pass(sc.seg('c', 104, s0, 'bbbbbbbb'));
  assert.deepEqual([mid.seq, mid.data], [109, 'bbbbb']);
  // Acknowledgements at each boundary in the server's numbering.
  assert.deepEqual([109, 114, 126, 130].map((a) => sc.pass(sc.seg('s', s0, a, '')).ack), [104, 112, 114, 118]);
});

test('timestamps and the window are left as they are; checksums are right after every rewrite', () => {
  const sc = new Scene('2001:db8::1', '2001:db8::2');
  const seg = sc.seg('c', 5, 6, 'hello', ACK | PSH, [NOP, NOP, TS(0xdeadbeef)]);
  const r = sc.rewrite(seg, 'hello, world');
  assert.deepEqual(r.ts, [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 9]);
  const ack = sc.pass(sc.seg('s', 6, 17, '', ACK, [NOP, NOP, TS(0x01020304)]));
  assert.deepEqual(ack.ts, [1, 2, 3, 4, 0, 0, 0, 9]);
  assert.equal(ack.ack, 10);
  assert.equal(parsePacket(ack.bytes).tcp!.window, 65535);
});

test('data grown past the receiver\'s MSS goes as several segments, each within it; so does a retransmission; FIN on the last', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2');
  const mss = (v: number): TcpOption => ({ kind: TCP_OPTION.MSS, data: new Uint8Array([v >> 8, v & 0xff]) });
  sc.pass(sc.seg('c', 99, 0, '', SYN, [mss(1460)]));
  sc.pass(sc.seg('s', 499, 100, '', SYN | ACK, [mss(100)]));
  const seg = sc.seg('c', 100, 500, 'x'.repeat(50), ACK | PSH | FIN); // 12 bytes of options: 88 data bytes per segment
  const grown = 'y'.repeat(100) + 'z'.repeat(100);
  const split = sc.passAll(seg, withTcpPayload(seg, enc(grown)));
  assert.deepEqual(split.map((x) => [x.seq, x.data.length, x.flags & FIN]), [[100, 88, 0], [188, 88, 0], [276, 24, FIN]]);
  assert.equal(split.map((x) => x.data).join(''), grown);
  assert.ok(split.every((x) => x.ts !== undefined && x.ack === 500), 'each piece keeps the options and the acknowledgement');
  // The receiver got the first piece only: its ACK (inside the new bytes) stops before them, so
  // the sender retransmits, and all pieces go again.
  assert.equal(sc.pass(sc.seg('s', 500, 188, '')).ack, 100);
  assert.deepEqual(sc.passAll(seg).map((x) => x.bytes), split.map((x) => x.bytes), 'the same pieces, byte for byte');
  assert.equal(sc.pass(sc.seg('s', 500, 301, '')).ack, 151, 'all of it and the FIN acknowledged');
  // Shrinking and growth within the MSS stay one segment.
  assert.equal(sc.rewrite(sc.seg('c', 151, 500, 'z'.repeat(80)), 'z').data, 'z');
  assert.equal(sc.passAll(sc.seg('c', 231, 500, 'q'), withTcpPayload(sc.seg('c', 231, 500, 'q'), enc('w'.repeat(88)))).length, 1);
  // An unchanged segment longer than the MSS seen (or assumed) is never split.
  const other = new Scene('198.18.0.3', '198.18.0.4');
  other.rewrite(other.seg('c', 1, 1, 'a'), 'bb');
  assert.equal(other.pass(other.seg('c', 2, 1, 'c'.repeat(1400))).data.length, 1400, 'the RFC default MSS (536) does not split what the sender sent');
  // Without the handshake seen, the RFC default counts for rewritten bytes.
  assert.deepEqual(other.passAll(other.seg('c', 1402, 1, 'a'), withTcpPayload(other.seg('c', 1402, 1, 'a'), enc('b'.repeat(600)))).map((x) => x.data.length), [524, 76]);
});

test('what cannot take a payload change is refused: a SYN, a segment without data, other ports', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2');
  const syn = sc.seg('c', 1, 0, 'tfo', SYN);
  assert.throws(() => sc.rewrite(syn, 'tfo-data'), /data of a SYN/);
  assert.throws(() => sc.rewrite(sc.seg('c', 1, 1, ''), 'new'), (e: unknown) => e instanceof TcpRewriteError && /carries none/.test(e.message));
  const seg = sc.seg('c', 1, 1, 'abc');
  const moved = withTcpPayload(seg, enc('abcdef'));
  moved[20 + 1] = 81; // source port 40000 → 40017 (high byte 0x9c stays)
  assert.throws(() => sc.pass(seg, moved), /must keep its addresses and ports/);
});

test('FIN: state freed once both FINs are acknowledged and the linger passed; RST frees it at once', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2', { lingerMs: 50 });
  sc.rewrite(sc.seg('c', 1, 1, 'abc'), 'abcdef');
  const fin = sc.pass(sc.seg('c', 4, 1, '', ACK | FIN));
  assert.deepEqual([fin.seq, fin.flags & FIN], [7, FIN]);
  assert.equal(sc.pass(sc.seg('s', 1, 8, '', ACK | FIN)).ack, 5);
  assert.equal(sc.pass(sc.seg('c', 5, 2, '')).seq, 8);
  assert.equal(sc.tracker.flowCount, 1, 'kept for late retransmissions');
  const late = sc.pass(sc.seg('c', 4, 1, '', ACK | FIN));
  assert.equal(late.seq, 7, 'a late FIN retransmission is still moved');
  sc.tracker.sweep(sc.now + 40);
  assert.equal(sc.tracker.flowCount, 1);
  sc.tracker.sweep(sc.now + 60);
  assert.equal(sc.tracker.flowCount, 0);

  const rs = new Scene('198.18.0.1', '198.18.0.2');
  rs.rewrite(rs.seg('c', 1, 1, 'abc'), 'a');
  const rst = rs.pass(rs.seg('c', 4, 1, '', RST | ACK));
  assert.equal(rst.seq, 2, 'the RST itself is moved, so the server takes it');
  assert.equal(rs.tracker.flowCount, 0);
});

test('idle flows are forgotten; flows without rewrites pass untouched (the same array)', () => {
  const t = new TcpRewriteTracker({ plainIdleMs: 100, idleMs: 1000 });
  const plain = tcpSegment({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, seq: 1, payload: 'x' });
  assert.equal(t.translate(plain, plain, 0)[0], plain);
  const seg = tcpSegment({ src: '198.18.0.5', dst: '198.18.0.2', srcPort: 1, dstPort: 2, seq: 1, payload: 'x' });
  assert.equal(t.translate(seg, withTcpPayload(seg, enc('xy')), 0).length, 1);
  assert.equal(t.flowCount, 2);
  t.sweep(150);
  assert.equal(t.flowCount, 1, 'the plain flow went');
  t.sweep(1000);
  assert.equal(t.flowCount, 0);
  const udp = new Uint8Array([0x45]);
  assert.deepEqual(t.translate(udp, udp, 0), [udp], 'not TCP: as it is');
});

test('a rewritten segment retransmitted with nothing seen the other way warns once per flow', () => {
  const sc = new Scene('198.18.0.1', '198.18.0.2');
  const seg = sc.seg('c', 1, 1, 'abc');
  sc.rewrite(seg, 'abcdef');
  sc.pass(sc.seg('c', 4, 1, 'def'));
  assert.equal(sc.warnings.length, 0, 'new data is no sign');
  sc.pass(seg);
  sc.pass(seg);
  assert.equal(sc.warnings.length, 1);
  const w = sc.warnings[0]!;
  assert.equal(w.code, 'ERR_DIVERT_TCP_ONE_DIRECTION');
  assert.equal(w.flow, '198.18.0.1:40000 > 198.18.0.2:80');
  assert.match(w.message, /Both directions of a rewritten flow must reach the same socket/);
  // With the other direction seen, a retransmission is no sign.
  const ok = new Scene('198.18.0.1', '198.18.0.2');
  const s2 = ok.seg('c', 1, 1, 'abc');
  ok.rewrite(s2, 'abcdef');
  ok.pass(ok.seg('s', 1, 1, ''));
  ok.pass(s2);
  assert.deepEqual(ok.warnings, []);
});

test('random exchanges: the receiver always reassembles exactly the rewritten stream', () => {
  // A sender's stream cut into segments, some rewritten (some past the MSS: split); segments are lost and retransmitted
  // (re-cut differently), and the receiver's cumulative ACKs go back. The receiver's stream must
  // be the program's view: each rewritten segment's new bytes, everything else as sent.
  const prng = new Prng(12345);
  const rnd = (n: number): number => prng.int(0, n - 1);
  let totalSplits = 0;
  for (let round = 0; round < 40; round++) {
    const sc = new Scene('198.18.0.1', '198.18.0.2');
    const isn = u32(0xffffffff - rnd(3000));
    const total = 400 + rnd(400);
    const stream = Array.from({ length: total }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const expected: string[] = [];
    const got = new Map<number, string>(); // receiver's numbering (relative) → bytes
    let rcvNext = 0; // receiver's numbering, relative to isn
    let sent = 0; // sender's offset of new data
    let acked = 0; // sender's numbering of what it saw acknowledged
    let received = '';
    let splits = 0;
    for (let step = 0; step < 2000 && acked < total; step++) {
      // Retransmissions start where the sender stands (its oldest unacknowledged byte), or a
      // little after it (a SACK-driven one); new data follows what was sent.
      const resend = acked < sent && (sent === total || rnd(4) === 0);
      const from = resend ? acked + (rnd(3) === 0 ? rnd(sent - acked) : 0) : sent;
      const len = Math.min((resend ? sent : total) - from, 1 + rnd(40));
      if (len <= 0) continue;
      const data = stream.slice(from, from + len);
      const bytes = sc.seg('c', u32(isn + from), 1, data);
      let out: Sent[];
      if (!resend && rnd(3) === 0) {
        // Grown (now and then past the 536-byte default MSS: split), or shrunk.
        const repl = rnd(2) === 0 ? data.toUpperCase() + 'X'.repeat(rnd(8) === 0 ? 500 + rnd(1200) : rnd(30)) : data.slice(0, rnd(len));
        out = sc.passAll(bytes, withTcpPayload(bytes, enc(repl)));
        expected.push(repl);
      } else {
        out = sc.passAll(bytes);
        if (!resend) expected.push(data);
      }
      if (!resend) sent = from + len;
      splits += out.length > 1 ? 1 : 0;
      for (const o of out) if (rnd(5) !== 0) got.set(u32(o.seq - isn), o.data); // else lost
      for (let more = true; more; ) {
        more = false;
        for (const [at, d] of got) {
          if (at <= rcvNext && at + d.length > rcvNext) {
            received += d.slice(rcvNext - at);
            rcvNext = at + d.length;
            more = true;
          }
        }
      }
      const ack = sc.pass(sc.seg('s', 1, u32(isn + rcvNext), ''));
      acked = Math.max(acked, u32(ack.ack - isn));
    }
    assert.equal(acked, total, `round ${round}: all acknowledged`);
    assert.equal(received, expected.join(''), `round ${round}: the receiver's stream is the rewritten one`);
    totalSplits += splits;
  }
  assert.ok(totalSplits > 20, `segments split at the MSS: ${totalSplits}`);
});
