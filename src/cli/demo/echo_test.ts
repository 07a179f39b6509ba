import { test } from 'node:test';
import assert from 'node:assert/strict';
import { echoData, encodeEchoRequest, readIcmpDatagram, readIcmpv6Message, readIpv6HopLimit, type EchoMatch } from './echo.js';
import { IcmpPacket, Ipv4Packet, Ipv6Packet } from '../../packet/mod.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const TOKEN = Uint8Array.of(0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8);
const V4: EchoMatch = { ident: 0x1234, token: TOKEN, size: 12, target: '198.18.2.2' };
const V6: EchoMatch = { ident: 0x1234, token: TOKEN, size: 12, target: '2001:db8:2::2' };

test('encodeEchoRequest() writes an ICMP echo request with its checksum (IPv4)', () => {
  assert.equal(
    hex(encodeEchoRequest(false, 0x1234, 1, echoData(TOKEN, 12))),
    '08' + // type 8, echo request
      '00' + // code 0
      '2100' + // checksum (RFC 1071, computed independently)
      '1234' + // identifier
      '0001' + // sequence number 1
      'a1a2a3a4a5a6a7a8' + // the token
      '18191a1b', // pattern bytes 0x10 + offset, as iputils
  );
});

test('encodeEchoRequest() leaves the ICMPv6 checksum to the kernel', () => {
  assert.equal(hex(encodeEchoRequest(true, 0x1234, 0xffff, echoData(TOKEN, 4))), '80' + '00' + '0000' + '1234' + 'ffff' + 'a1a2a3a4');
});

test('echoData() cuts the token to a short size and keeps it whole in a long one', () => {
  assert.deepEqual([...echoData(TOKEN, 0)], []);
  assert.deepEqual([...echoData(TOKEN, 3)], [0xa1, 0xa2, 0xa3]);
  assert.equal(echoData(TOKEN, 300)[299], (0x10 + 299) & 0xff);
});

/** An IPv4 datagram `src` → `dst` (TTL `ttl`, protocol ICMP) around `icmp`. */
function ipv4(src: string, dst: string, ttl: number, icmp: Uint8Array): Uint8Array {
  const b = new Uint8Array(20 + icmp.length);
  const ip = new Ipv4Packet(b);
  ip.version = 4;
  ip.ihl = 5;
  ip.totalLength = b.length;
  ip.ttl = ttl;
  ip.protocol = 1;
  ip.src = src;
  ip.dst = dst;
  b.set(icmp, 20);
  return b;
}

/** The reply the target would send to request `seq` of V4/V6 (type 0 or 129). */
function reply(v6: boolean, seq: number, match = V4): Uint8Array {
  const m = encodeEchoRequest(v6, match.ident, seq, echoData(match.token, match.size));
  m[0] = v6 ? 129 : 0;
  new IcmpPacket(m).fillChecksum();
  return m;
}

test('readIcmpDatagram() reads our echo reply: sequence number, TTL and source', () => {
  assert.deepEqual(readIcmpDatagram(ipv4('198.18.2.2', '198.18.1.2', 200, reply(false, 3)), V4), {
    kind: 'reply', seq: 3, from: '198.18.2.2', ttl: 200,
  });
});

test('readIcmpDatagram() ignores replies of other pings, other hosts, requests and cut datagrams', () => {
  const good = ipv4('198.18.2.2', '198.18.1.2', 64, reply(false, 1));
  assert.equal(readIcmpDatagram(good, { ...V4, ident: 0x1235 }), undefined, 'another identifier');
  assert.equal(readIcmpDatagram(good, { ...V4, token: Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9) }), undefined, 'another token');
  assert.equal(readIcmpDatagram(good, { ...V4, target: '198.18.2.3' }), undefined, 'from another host');
  assert.equal(readIcmpDatagram(good.subarray(0, 30), V4), undefined, 'token cut off');
  assert.equal(readIcmpDatagram(good.subarray(0, 10), V4), undefined, 'header cut off');
  const request = ipv4('198.18.2.2', '198.18.1.2', 64, encodeEchoRequest(false, V4.ident, 1, echoData(TOKEN, 12)));
  assert.equal(readIcmpDatagram(request, V4), undefined, 'an echo request (ours looped back)');
});

test('readIcmpDatagram() reads "fragmentation needed" quoting our request, with the next-hop MTU (RFC 1191)', () => {
  const request = ipv4('198.18.6.1', '198.18.2.2', 63, encodeEchoRequest(false, V4.ident, 1, echoData(TOKEN, 12)));
  const err = new Uint8Array(8 + 28);
  err.set([
    3, // type 3, destination unreachable
    4, // code 4, fragmentation needed and DF set
    0, 0, // checksum (not checked by the reader)
    0, 0, // unused
    0x05, 0x00, // next-hop MTU 1280
  ]);
  err.set(request.subarray(0, 28), 8); // IP header + the first 8 bytes, as RFC 792 quotes
  assert.deepEqual(readIcmpDatagram(ipv4('198.18.6.2', '198.18.6.1', 64, err), V4), {
    kind: 'error', seq: 1, type: 3, code: 4, mtu: 1280, from: '198.18.6.2',
  });
  err[8 + 16 + 3] = 3; // the quoted request went to 198.18.2.3: not ours
  assert.equal(readIcmpDatagram(ipv4('198.18.6.2', '198.18.6.1', 64, err), V4), undefined);
});

/** An IPv6 packet `src` → `dst` with hop limit `hop` around `payload` (next header 58, or HBH first). */
function ipv6(src: string, dst: string, hop: number, payload: Uint8Array, hbh = false): Uint8Array {
  const ext = hbh ? Uint8Array.of(58, 0, 1, 4, 0, 0, 0, 0) : new Uint8Array(0);
  const b = new Uint8Array(40 + ext.length + payload.length);
  const ip = new Ipv6Packet(b);
  ip.version = 6;
  ip.payloadLength = ext.length + payload.length;
  ip.nextHeader = hbh ? 0 : 58;
  ip.hopLimit = hop;
  ip.src = src;
  ip.dst = dst;
  b.set(ext, 40);
  b.set(payload, 40 + ext.length);
  return b;
}

test('readIcmpv6Message() reads our echo reply (no IP header: no source, no hop limit)', () => {
  assert.deepEqual(readIcmpv6Message(reply(true, 7, V6), V6), { kind: 'reply', seq: 7, from: undefined, ttl: undefined });
  assert.equal(readIcmpv6Message(reply(true, 7, { ...V6, ident: 1 }), V6), undefined);
  assert.equal(readIcmpv6Message(encodeEchoRequest(true, V6.ident, 7, echoData(TOKEN, 12)), V6), undefined);
});

test('readIcmpv6Message() reads "packet too big" quoting our request, through its extension headers', () => {
  const request = ipv6('2001:db8:1::2', '2001:db8:2::2', 64, encodeEchoRequest(true, V6.ident, 2, echoData(TOKEN, 12)), true);
  const msg = new Uint8Array(8 + request.length);
  msg.set([
    2, // type 2, packet too big
    0, // code 0
    0, 0, // checksum
    0, 0, 0x05, 0x00, // MTU 1280
  ]);
  msg.set(request, 8);
  assert.deepEqual(readIcmpv6Message(msg, V6), { kind: 'error', seq: 2, type: 2, code: 0, mtu: 1280, from: undefined });
  assert.equal(readIcmpv6Message(msg, { ...V6, target: '2001:db8:2::3' }), undefined);
});

test('readIpv6HopLimit() reads the hop limit of our reply as AF_PACKET shows it, HBH header or not', () => {
  for (const hbh of [false, true]) {
    const pkt = ipv6('2001:db8:2::2', '2001:db8:1::2', 63, reply(true, 4, V6), hbh);
    assert.deepEqual(readIpv6HopLimit(pkt, V6), { seq: 4, hopLimit: 63 });
    assert.equal(readIpv6HopLimit(pkt, { ...V6, target: '2001:db8:2::9' }), undefined, 'from another host');
    assert.equal(readIpv6HopLimit(pkt.subarray(0, 44), V6), undefined, 'cut short');
  }
  const request = ipv6('2001:db8:2::2', '2001:db8:1::2', 63, encodeEchoRequest(true, V6.ident, 4, echoData(TOKEN, 12)));
  assert.equal(readIpv6HopLimit(request, V6), undefined, 'an echo request');
});
