import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageIter } from './message_iter.js';
import { HOST_LITTLE_ENDIAN } from './bytes.js';
import { PacketError } from '../errors.js';

const skip = !HOST_LITTLE_ENDIAN && 'golden vectors are little-endian';

// Three messages in one datagram: an ACK, a 1-byte-payload message (padded), and NLMSG_DONE.
const DATAGRAM = [
  // message 1: ACK
  0x24, 0x00, 0x00, 0x00, // nlmsg_len 36
  0x02, 0x00, //             nlmsg_type NLMSG_ERROR
  0x00, 0x01, //             nlmsg_flags NLM_F_CAPPED
  0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
  0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0 (kernel)
  0x00, 0x00, 0x00, 0x00, // error 0
  0x1c, 0x00, 0x00, 0x00, // echoed nlmsg_len 28
  0x02, 0x03, //             echoed nlmsg_type 0x0302
  0x05, 0x00, //             echoed nlmsg_flags
  0x01, 0x00, 0x00, 0x00, // echoed nlmsg_seq 1
  0x39, 0x30, 0x00, 0x00, // echoed nlmsg_pid 12345
  // message 2: type 0x0300, 1-byte payload, 3 pad bytes
  0x11, 0x00, 0x00, 0x00, // nlmsg_len 17
  0x00, 0x03, //             nlmsg_type 0x0300
  0x02, 0x00, //             nlmsg_flags NLM_F_MULTI
  0x02, 0x00, 0x00, 0x00, // nlmsg_seq 2
  0x39, 0x30, 0x00, 0x00, // nlmsg_pid 12345
  0xab, 0x00, 0x00, 0x00, // payload 0xab + 3 pad
  // message 3: DONE, unpadded end of datagram
  0x14, 0x00, 0x00, 0x00, // nlmsg_len 20
  0x03, 0x00, //             nlmsg_type NLMSG_DONE
  0x02, 0x00, //             nlmsg_flags NLM_F_MULTI
  0x03, 0x00, 0x00, 0x00, // nlmsg_seq 3
  0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
  0x00, 0x00, 0x00, 0x00, // int 0
];

test('MessageIter walks a multi-message datagram', { skip }, () => {
  const buf = Uint8Array.from(DATAGRAM);
  const it = new MessageIter().reset(buf);
  const seen: unknown[] = [];
  while (it.next()) {
    seen.push({ type: it.type, flags: it.flags, seq: it.seq, pid: it.pid, start: it.start, length: it.length, payloadOffset: it.payloadOffset, end: it.end });
  }
  assert.equal(it.err, undefined);
  assert.deepEqual(seen, [
    { type: 2, flags: 0x100, seq: 1, pid: 0, start: 0, length: 36, payloadOffset: 16, end: 36 },
    { type: 0x0300, flags: 2, seq: 2, pid: 12345, start: 36, length: 17, payloadOffset: 52, end: 53 },
    { type: 3, flags: 2, seq: 3, pid: 0, start: 56, length: 20, payloadOffset: 72, end: 76 },
  ]);
});

test('MessageIter honours offset and length inside a larger arena', { skip }, () => {
  const arena = new Uint8Array(300).fill(0xee);
  arena.set(DATAGRAM, 100);
  const it = new MessageIter().reset(arena, 100, DATAGRAM.length);
  let n = 0;
  while (it.next()) n++;
  assert.equal(n, 3);
  assert.equal(it.err, undefined);
});

test('MessageIter reports nlmsg_len beyond the datagram as an error', { skip }, () => {
  const buf = Uint8Array.from(DATAGRAM.slice(0, 30)); // first message cut at 30 of 36 bytes
  const it = new MessageIter().reset(buf);
  assert.equal(it.next(), false);
  assert.ok(it.err instanceof PacketError);
  assert.match(it.err.message, /exceeds the 30 bytes left/);
});

test('MessageIter reports nlmsg_len below the header size as an error', { skip }, () => {
  const buf = Uint8Array.from(DATAGRAM);
  buf[0] = 8;
  const it = new MessageIter().reset(buf);
  assert.equal(it.next(), false);
  assert.match(String(it.err?.message), /below the header size/);
});

test('MessageIter reports trailing garbage after good messages and keeps the good ones', { skip }, () => {
  const buf = Uint8Array.from([...DATAGRAM, 0x00, 0x00, 0x00, 0x00, 1, 2, 3]); // 76 → pad to 76, then 7 bytes
  const it = new MessageIter().reset(buf);
  let n = 0;
  while (it.next()) n++;
  assert.equal(n, 3);
  assert.match(String(it.err?.message), /trailing bytes/);
  assert.equal(it.next(), false, 'the error is sticky');
});

test('MessageIter yields nothing for an empty datagram', () => {
  const it = new MessageIter().reset(new Uint8Array(0));
  assert.equal(it.next(), false);
  assert.equal(it.err, undefined);
});

test('MessageIter.reset() rejects a range outside the buffer', () => {
  assert.throws(() => new MessageIter().reset(new Uint8Array(10), 4, 8), RangeError);
});

test('MessageIter never throws on random bytes', () => {
  let seed = 0x12345678;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  const it = new MessageIter();
  for (let round = 0; round < 2000; round++) {
    const buf = new Uint8Array(rand() % 64);
    for (let i = 0; i < buf.length; i++) buf[i] = rand();
    if (buf.length >= 4 && round % 2 === 0) buf[0] = Math.min(buf.length, 16 + (buf[0]! % 16)); // plausible lengths
    it.reset(buf);
    let guard = 0;
    while (it.next()) {
      assert.ok(it.end <= buf.length);
      assert.ok(++guard < 100);
    }
  }
});
