import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketError } from '../errors.js';
import { verifyChecksums } from './checksum.js';
import { parsePacket } from './parse.js';
import { TCP_OPTION } from './tcp.js';
import { withTcpPayload } from './tcp_payload.js';
import { tcpSegment } from './_test_tcp.js';
import { UDP4, IPV6_HBH_FRAG } from './_test_vectors.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const TS = { kind: TCP_OPTION.TIMESTAMP, data: new Uint8Array([0, 0, 1, 2, 0, 0, 3, 4]) };

for (const [family, src, dst] of [['IPv4', '198.18.0.1', '198.18.0.2'], ['IPv6', '2001:db8::1', '2001:db8::2']] as const) {
  test(`withTcpPayload (${family}): longer, shorter and empty payloads; headers, options, lengths and checksums right`, () => {
    const before = tcpSegment({ src, dst, srcPort: 40000, dstPort: 80, seq: 0xfffffff0, ack: 7, payload: 'GET /a HTTP/1.1\r\n', options: [{ kind: TCP_OPTION.NOP, data: new Uint8Array(0) }, { kind: TCP_OPTION.NOP, data: new Uint8Array(0) }, TS] });
    const copy = before.slice();
    for (const body of ['GET /a-much-longer-path HTTP/1.1\r\n', 'GET / HTTP/1.1', '']) {
      const out = withTcpPayload(before, new TextEncoder().encode(body));
      assert.deepEqual(before, copy, 'the input is not changed');
      const p = parsePacket(out);
      assert.equal(text(p.payload), body);
      assert.equal(p.tcp!.seqNum, 0xfffffff0);
      assert.equal(p.tcp!.ackNum, 7);
      assert.equal(p.tcp!.hdrLen, 32);
      assert.deepEqual([...p.tcp!.parseOptions()[0]!.data], [...TS.data], 'timestamps kept');
      if (p.ipv4) assert.equal(p.ipv4.totalLength, out.length);
      else assert.equal(p.ipv6!.payloadLength, out.length - 40);
      assert.deepEqual(verifyChecksums(out), family === 'IPv4' ? { ip: true, tcp: true } : { tcp: true });
    }
  });
}

test('withTcpPayload leaves link padding out and refuses what is not a whole TCP segment', () => {
  const seg = tcpSegment({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, seq: 1, payload: 'ab' });
  const padded = new Uint8Array(seg.length + 6);
  padded.set(seg);
  const out = withTcpPayload(padded, new TextEncoder().encode('xyz'));
  assert.equal(out.length, seg.length + 1);
  assert.equal(text(parsePacket(out).payload), 'xyz');
  assert.throws(() => withTcpPayload(UDP4, new Uint8Array(1)), (e: unknown) => e instanceof PacketError && /protocol 17, not TCP/.test(e.message));
  assert.throws(() => withTcpPayload(IPV6_HBH_FRAG, new Uint8Array(1)), (e: unknown) => e instanceof PacketError && /fragment/.test(e.message));
  assert.throws(() => withTcpPayload(seg.subarray(0, 30), new Uint8Array(1)), PacketError);
  assert.throws(() => withTcpPayload(seg, new Uint8Array(65535 - 40 + 1)), /too large: its IP total length would be 65536/);
  const v6 = tcpSegment({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 1, dstPort: 2, seq: 1 });
  assert.equal(withTcpPayload(v6, new Uint8Array(65535 - 20)).length, 40 + 65535, 'an IPv6 payload length may reach 65535');
  assert.throws(() => withTcpPayload(seg, 'text' as unknown as Uint8Array), TypeError);
});
