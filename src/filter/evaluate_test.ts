import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DivertAddress } from '../divert/address.js';
import { DIVERT_MARK } from '../firewall/mark.js';
import { FilterContext } from './context.js';
import { compileFilter, evalFilter, fieldValue, type FilterAddress } from './evaluate.js';
import { FIELDS } from './fields.js';
import { ipv6, udp } from './testdata/_build.js';
import { PACKETS } from './testdata/cases.js';
import { DIVERT_PACKETS } from './testdata/divert_packets.js';
import { WINDIVERT_HASHES } from './testdata/windivert_hash.js';
import { WINDIVERT_PACKETS } from './testdata/windivert_packets.js';

const TCP4 = DIVERT_PACKETS.tcp4_data;
const ICMP4 = DIVERT_PACKETS.icmp4_unreach;

function divertAddress(init: Partial<ConstructorParameters<typeof DivertAddress>[0]>): DivertAddress {
  return new DivertAddress({
    family: 4, address: '0.0.0.0', port: 1, ifindex: 0, ifname: undefined, outIfindex: 0, outIfname: undefined, direction: 'outbound',
    hook: 'postrouting', mark: 0, timestamp: undefined, hwAddr: undefined, uid: undefined, gid: undefined, checksumNotReady: false,
    gso: false, truncated: false, originalLength: 0, loopback: false, ...init,
  });
}

test('compileFilter() gives the canonical text and a match() that takes a packet and an optional address', () => {
  const f = compileFilter('!tcp&&udp.DstPort=53');
  assert.equal(f.text, 'not tcp and udp.DstPort == 53');
  assert.equal(f.match(DIVERT_PACKETS.udp4_dns), true);
  assert.equal(f.match(TCP4), false);
  assert.equal(f.ast.text, '!tcp&&udp.DstPort=53');
});

test('match() throws a TypeError for anything but bytes', () => {
  const f = compileFilter('true');
  assert.throws(() => f.match('45000014' as unknown as Uint8Array), TypeError);
  assert.throws(() => f.match(null as unknown as Uint8Array), /Uint8Array/);
});

test('match() is false for bytes that are no IPv4/IPv6 packet, even for `true` (WinDivertHelperEvalFilter fails)', () => {
  const f = compileFilter('true');
  assert.equal(f.match(new Uint8Array(0)), false);
  assert.equal(f.match(new Uint8Array(40).fill(0x55)), false, 'version 5');
  const ihl4 = TCP4.slice();
  ihl4[0] = 0x44;
  assert.equal(f.match(ihl4), false, 'IHL 4');
  assert.equal(f.match(WINDIVERT_PACKETS.ipv6_tcp_syn.subarray(0, 39)), false, 'IPv6 shorter than its header');
  assert.equal(f.match(TCP4), true);
});

test('the address: missing means outbound, not loopback, not impostor, interfaces 0, timestamp 0', () => {
  const f = (text: string, a?: FilterAddress): boolean => compileFilter(text).match(TCP4, a);
  assert.equal(f('outbound and not inbound and not loopback and not impostor and ifIdx == 0 and subIfIdx == 0 and timestamp == 0'), true);
  assert.equal(f('inbound', { outbound: false }), true);
  assert.equal(f('outbound', { outbound: false }), false);
});

test('the address: the hook decides the direction; a forwarded packet is outbound, as at WinDivert\'s forward layer', () => {
  const cases: Array<[FilterAddress, boolean, number]> = [
    [{ hook: 'prerouting', ifindex: 3, outIfindex: 0 }, false, 3],
    [{ hook: 'local-in', ifindex: 3, outIfindex: 0 }, false, 3],
    [{ hook: 'forward', ifindex: 3, outIfindex: 5 }, true, 5],
    [{ hook: 'local-out', ifindex: 0, outIfindex: 6 }, true, 6],
    [{ hook: 'postrouting', ifindex: 4, outIfindex: 7 }, true, 7],
    [{ hook: 'prerouting', outbound: true, ifindex: 3 }, false, 3],
    [{ direction: 'inbound', ifindex: 2, outIfindex: 9 }, false, 2],
    [{ direction: 'forward', ifindex: 2, outIfindex: 9 }, true, 9],
    [{ outbound: false, ifIdx: 11, ifindex: 2 }, false, 11],
  ];
  for (const [a, outbound, ifIdx] of cases) {
    assert.equal(compileFilter('outbound').match(TCP4, a), outbound, JSON.stringify(a));
    assert.equal(compileFilter(`ifIdx == ${ifIdx}`).match(TCP4, a), true, JSON.stringify(a));
  }
});

test('the address: impostor is the flag when given, else the mark carries DIVERT_MARK', () => {
  const imp = compileFilter('impostor');
  assert.equal(imp.match(TCP4, { mark: DIVERT_MARK }), true);
  assert.equal(imp.match(TCP4, { mark: DIVERT_MARK | 7 }), true);
  assert.equal(imp.match(TCP4, { mark: 7 }), false);
  assert.equal(imp.match(TCP4, { impostor: true, mark: 0 }), true);
  assert.equal(imp.match(TCP4, { impostor: false, mark: DIVERT_MARK }), false);
});

test('the address: a DivertAddress reads the same (structurally a FilterAddress)', () => {
  const inbound = divertAddress({ hook: 'prerouting', direction: 'inbound', ifindex: 4, loopback: true, mark: DIVERT_MARK, timestamp: 1_700_000_000_500 });
  assert.equal(compileFilter('inbound and ifIdx == 4 and loopback and impostor and timestamp == 1700000000500').match(TCP4, inbound), true);
  const out = divertAddress({ hook: 'postrouting', direction: 'outbound', ifindex: 2, outIfindex: 8 });
  assert.equal(compileFilter('outbound and ifIdx == 8 and not impostor and not loopback').match(TCP4, out), true);
  const fwd = divertAddress({ hook: 'forward', direction: 'forward', ifindex: 2, outIfindex: 8 });
  assert.equal(fwd.outbound, false, "DivertAddress's own getter: forward is not 'outbound'");
  assert.equal(compileFilter('outbound and ifIdx == 8').match(TCP4, fwd), true, "the filter's outbound: the forward layer's view");
});

test('a test on an absent header is false, and so is its not form; a bare field is != 0', () => {
  const t = (text: string, p: Uint8Array = TCP4): boolean => evalFilter(text, p);
  assert.equal(t('udp.DstPort == 53'), false);
  assert.equal(t('udp.DstPort != 53'), false);
  assert.equal(t('not udp.DstPort == 53'), false);
  assert.equal(t('udp.DstPort'), false);
  assert.equal(t('not udp.DstPort'), false);
  assert.equal(t('not udp'), true);
  assert.equal(t('tcp.UrgPtr'), false, 'UrgPtr is 0');
  assert.equal(t('!tcp.UrgPtr'), true);
});

test('values compare as numbers beyond the field width, negative ones included', () => {
  const t = (text: string): boolean => evalFilter(text, TCP4);
  assert.equal(t('tcp.DstPort < 0x10000000000000000'), true);
  assert.equal(t('tcp.DstPort > -5'), true);
  assert.equal(t('tcp.DstPort == -51000'), false);
  assert.equal(t('tcp.Syn == ::'), true, 'an IPv6 literal is just a number');
  assert.equal(t('ip.TTL < ::1:0:0'), true);
  assert.equal(t('ip.DstAddr > 0xffff00000000 and ip.DstAddr < 0x1000000000000'), true);
  assert.equal(t('ip.DstAddr < -1'), false);
  assert.equal(t('ip.DstAddr > -1'), true);
  assert.equal(t('remoteAddr <= 0xffffffffffffffffffffffffffffffff'), true);
});

test('timestamp compares as a signed 64-bit number of whole milliseconds', () => {
  const f = (text: string, ts: number): boolean => compileFilter(text).match(TCP4, { timestamp: ts });
  assert.equal(f('timestamp == 1700000000123', 1_700_000_000_123.9), true);
  assert.equal(f('timestamp > -1', 0), true);
  assert.equal(f('timestamp < 0x7fffffffffffffff', 2 ** 60), true);
  assert.equal(f('timestamp == 0x1000000000000000', 2 ** 60), true);
  assert.equal(f('timestamp > 0x8000000000000000', 5), false, 'past the signed range');
  assert.equal(f('timestamp > -0x8000000000000001', -5), true);
  assert.equal(f('timestamp == -0x1deadbeef1234567', -5), false);
});

test('random8/16/32 are WinDivert\'s hash of the headers and the timestamp, value for value', () => {
  const ctx = new FilterContext();
  for (const h of WINDIVERT_HASHES) {
    const p = PACKETS[h.packet]!;
    const a = { timestamp: h.timestamp };
    const at = `${h.packet} at ${h.timestamp}`;
    assert.equal(ctx.load(p, a), true, at);
    assert.equal(ctx.hash(), h.random64, `${at}: random64`);
    assert.deepEqual(['random8', 'random16', 'random32'].map((f) => fieldValue(f, p, a)), [BigInt(h.random8), BigInt(h.random16), BigInt(h.random32)], at);
    const f = compileFilter(`random8 == ${h.random8} and random16 == ${h.random16} and random32 == ${h.random32}`);
    assert.equal(f.match(p, a), true, at);
    assert.equal(f.match(p, { timestamp: h.timestamp + 1 }), false, `${at}: another timestamp, another hash`);
    assert.equal(compileFilter(`random8 == ${(h.random8 + 1) % 256} or random16 == ${(h.random16 + 1) % 65536} or random32 == ${(h.random32 + 1) % 2 ** 32}`).match(p, a), false, at);
  }
  const kinds = new Set(WINDIVERT_HASHES.map((h) => {
    ctx.load(PACKETS[h.packet]!, undefined);
    return `${ctx.v4 ? 'ipv4' : 'ipv6'} ${ctx.tcp ? 'tcp' : ctx.udp ? 'udp' : ctx.icmp ? 'icmp' : ctx.icmpv6 ? 'icmpv6' : 'none'}`;
  }));
  assert.deepEqual([...kinds].sort(), ['ipv4 icmp', 'ipv4 none', 'ipv4 tcp', 'ipv4 udp', 'ipv6 icmpv6', 'ipv6 tcp', 'ipv6 udp']);
  const seen = new Set<bigint | undefined>();
  for (let ts = 0; ts < 50; ts++) seen.add(fieldValue('random32', ICMP4, { timestamp: ts }));
  assert.ok(seen.size > 45, 'the timestamp changes the hash');
});

/** An IPv6 packet whose fixed header names `next`, then 8 bytes that are a minimal header of any extension type (next header UDP), then UDP to port 53. */
function behindNext(next: number): Uint8Array {
  return ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next }, [17, 0, 0, 0, 0, 0, 0, 0, ...udp(5353, 53, 'q')]);
}

/** WinDivertHelperParsePacketEx's extension headers: hop-by-hop, routing, fragment, AH, destination options, mobility. */
const WINDIVERT_EXT_HEADERS = [0, 43, 44, 51, 60, 135];

test('IPv6: the walk passes exactly WinDivert\'s extension headers (0, 43, 44, 51, 60, 135)', () => {
  const walked: number[] = [];
  for (let next = 0; next < 256; next++) {
    const p = behindNext(next);
    if (evalFilter('udp.DstPort == 53 and protocol == 17', p)) walked.push(next);
    assert.equal(evalFilter('fragment', p), next === 44, `next header ${next}`);
    assert.equal(evalFilter('protocol == 17', p), next === 17 || WINDIVERT_EXT_HEADERS.includes(next), `next header ${next}`);
  }
  assert.deepEqual(walked, WINDIVERT_EXT_HEADERS);
});

test('packet[i] counts words unless written with b, and from the end when negative', () => {
  const t = (text: string): boolean => evalFilter(text, WINDIVERT_PACKETS.echo_request);
  assert.equal(t('packet[0] == 0x45 and packet16[1] == 0x0054 and packet32[3b] == 0x54123440'), true);
  assert.equal(t('packet[-1] == 0x37 and packet16[-1] == 0x3637 and packet32[-5b] == 0x33343536'), true);
  assert.equal(t('packet[84] >= 0 or packet[-85] >= 0'), false, 'both ends are bounds');
});

test('evalFilter() caches compiled filters and still answers each one', () => {
  for (let i = 0; i < 100; i++) assert.equal(evalFilter(`ip.Id == ${0x0200 + (i % 5)}`, TCP4), i % 5 === 2);
});

/**
 * Every field of tcp4_data (IPv4 TCP PSH|ACK 198.18.0.1:443 → 198.18.0.2:51000, see
 * testdata/divert_packets.ts), outbound, timestamp 5, as its bytes say:
 * 45000033 02024000 3906b39b c6120001 c6120002 | 01bbc738 01020304 0a0b0c0d 501801f6 beef0000 | "hello world".
 * Array fields at index 0; undefined: the header is absent.
 */
const TCP4_FIELDS: Readonly<Record<string, bigint | undefined>> = {
  zero: 0n, true: 1n, false: 0n, event: 0n, timestamp: 5n,
  random8: 82n, random16: 21352n, random32: 1573789930n, // WinDivert's hash (testdata/windivert_hash.ts)
  inbound: 0n, outbound: 1n, fragment: 0n, ifIdx: 0n, subIfIdx: 0n, loopback: 0n, impostor: 0n, length: 51n,
  ip: 1n, ipv6: 0n, icmp: 0n, icmpv6: 0n, tcp: 1n, udp: 0n, protocol: 6n,
  localAddr: 0xffff_c612_0001n, remoteAddr: 0xffff_c612_0002n, localPort: 443n, remotePort: 51000n,
  packet: 0x45n, packet16: 0x4500n, packet32: 0x4500_0033n,
  'ip.HdrLength': 5n, 'ip.TOS': 0n, 'ip.Length': 51n, 'ip.Id': 0x0202n, 'ip.DF': 1n, 'ip.MF': 0n, 'ip.FragOff': 0n,
  'ip.TTL': 57n, 'ip.Protocol': 6n, 'ip.Checksum': 0xb39bn, 'ip.SrcAddr': 0xffff_c612_0001n, 'ip.DstAddr': 0xffff_c612_0002n,
  'ipv6.TrafficClass': undefined, 'ipv6.FlowLabel': undefined, 'ipv6.Length': undefined, 'ipv6.NextHdr': undefined,
  'ipv6.HopLimit': undefined, 'ipv6.SrcAddr': undefined, 'ipv6.DstAddr': undefined,
  'icmp.Type': undefined, 'icmp.Code': undefined, 'icmp.Checksum': undefined, 'icmp.Body': undefined,
  'icmpv6.Type': undefined, 'icmpv6.Code': undefined, 'icmpv6.Checksum': undefined, 'icmpv6.Body': undefined,
  'tcp.SrcPort': 443n, 'tcp.DstPort': 51000n, 'tcp.SeqNum': 0x0102_0304n, 'tcp.AckNum': 0x0a0b_0c0dn, 'tcp.HdrLength': 5n,
  'tcp.Urg': 0n, 'tcp.Ack': 1n, 'tcp.Psh': 1n, 'tcp.Rst': 0n, 'tcp.Syn': 0n, 'tcp.Fin': 0n, 'tcp.Window': 502n,
  'tcp.Checksum': 0xbeefn, 'tcp.UrgPtr': 0n, 'tcp.PayloadLength': 11n,
  'tcp.Payload': 0x68n, 'tcp.Payload16': 0x6865n, 'tcp.Payload32': 0x6865_6c6cn, // "hell"
  'udp.SrcPort': undefined, 'udp.DstPort': undefined, 'udp.Length': undefined, 'udp.Checksum': undefined, 'udp.PayloadLength': undefined,
  'udp.Payload': undefined, 'udp.Payload16': undefined, 'udp.Payload32': undefined,
};

/**
 * The fields tcp4_data lacks, on tcp6_ack (IPv6 TCP ACK 2001:db8::1:443 → 2001:db8::2:50000,
 * traffic class 0xb8, flow label 0x12345, hop limit 63, payload "12345"), inbound, timestamp 5:
 * 6b812345 0019063f 20010db8…01 20010db8…02 | 01bbc350 00000063 00000064 5010faf0 00000000 | "12345".
 */
const TCP6_FIELDS: Readonly<Record<string, bigint | undefined>> = {
  random8: 25n, random16: 2427n, random32: 1258620950n, inbound: 1n, outbound: 0n, length: 65n, ip: 0n, ipv6: 1n, protocol: 6n,
  localAddr: 0x2001_0db8_0000_0000_0000_0000_0000_0002n, remoteAddr: 0x2001_0db8_0000_0000_0000_0000_0000_0001n,
  localPort: 50000n, remotePort: 443n, packet32: 0x6b81_2345n,
  'ip.HdrLength': undefined, 'ip.SrcAddr': undefined, 'ip.DstAddr': undefined,
  'ipv6.TrafficClass': 0xb8n, 'ipv6.FlowLabel': 0x12345n, 'ipv6.Length': 25n, 'ipv6.NextHdr': 6n, 'ipv6.HopLimit': 63n,
  'ipv6.SrcAddr': 0x2001_0db8_0000_0000_0000_0000_0000_0001n, 'ipv6.DstAddr': 0x2001_0db8_0000_0000_0000_0000_0000_0002n,
  'tcp.SeqNum': 99n, 'tcp.AckNum': 100n, 'tcp.Ack': 1n, 'tcp.Psh': 0n, 'tcp.Window': 64240n, 'tcp.PayloadLength': 5n, 'tcp.Payload32': 0x3132_3334n,
};

test('fieldValue() reads each field as the packet\'s bytes say', () => {
  assert.deepEqual(Object.keys(TCP4_FIELDS).sort(), [...FIELDS.keys()].sort(), 'every field has an expected value');
  const checks: Array<[Uint8Array, FilterAddress, Readonly<Record<string, bigint | undefined>>]> = [
    [TCP4, { timestamp: 5 }, TCP4_FIELDS],
    [DIVERT_PACKETS.tcp6_ack, { outbound: false, timestamp: 5 }, TCP6_FIELDS],
  ];
  for (const [packet, address, want] of checks) {
    for (const [name, v] of Object.entries(want)) {
      const info = FIELDS.get(name)!;
      const offset = info.kind === 'array' ? 0 : undefined;
      assert.equal(fieldValue(name, packet, address, offset), v, name);
      // The evaluator agrees: the value matches, its neighbour does not; an absent header matches neither.
      const index = info.kind === 'array' ? '[0]' : '';
      const lit = (x: bigint): string => (x > 0xffff_ffffn || info.kind === 'address' ? `0x${x.toString(16)}` : x.toString());
      const probe = v ?? 0n;
      assert.equal(compileFilter(`${name}${index} == ${lit(probe)}`).match(packet, address), v !== undefined, name);
      assert.equal(compileFilter(`${name}${index} == ${lit(probe + 1n)}`).match(packet, address), false, name);
    }
  }
  assert.equal(fieldValue('remoteAddr', TCP4, { outbound: false }), 0xffff_c612_0001n);
  assert.equal(fieldValue('packet', TCP4), undefined, 'an array field needs an offset');
  assert.equal(fieldValue('packet', TCP4, undefined, -1), 0x64n, 'the last byte ("d")');
  assert.equal(fieldValue('tcp.Payload32', TCP4, undefined, 8), undefined, 'past the payload\'s end');
  assert.equal(fieldValue('nope', TCP4), undefined, 'no such field');
  assert.equal(fieldValue('true', new Uint8Array(10)), undefined, 'no IP packet');
});
