import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DivertAddress } from '../divert/address.js';
import { DIVERT_MARK } from '../firewall/mark.js';
import { compileFilter, evalFilter, fieldValue, type FilterAddress } from './evaluate.js';
import { FIELDS } from './fields.js';
import { DIVERT_PACKETS } from './testdata/divert_packets.js';
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

test('random8/16/32 hash the headers and the timestamp: deterministic, in range, different per timestamp', () => {
  const seen = new Set<number>();
  for (let ts = 0; ts < 50; ts++) {
    const v = [8, 16, 32].map((bits) => {
      for (let lo = 0, hi = 2 ** bits - 1; ; ) {
        if (lo === hi) return lo;
        const mid = Math.floor((lo + hi) / 2);
        if (compileFilter(`random${bits} <= ${mid}`).match(ICMP4, { timestamp: ts })) hi = mid;
        else lo = mid + 1;
      }
    });
    assert.equal(compileFilter(`random8 == ${v[0]} and random16 == ${v[1]} and random32 == ${v[2]}`).match(ICMP4, { timestamp: ts }), true);
    seen.add(v[2]!);
  }
  assert.ok(seen.size > 45, 'the timestamp changes the hash');
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

test('fieldValue() reads every field the evaluator reads', () => {
  for (const info of FIELDS.values()) {
    const offset = info.kind === 'array' ? 0 : undefined;
    const v = fieldValue(info.name, TCP4, { timestamp: 5 }, offset);
    if (v === undefined) continue;
    const lit = v > 0xffff_ffffn || info.kind === 'address' ? `0x${v.toString(16)}` : v.toString();
    const index = info.kind === 'array' ? '[0]' : '';
    assert.equal(compileFilter(`${info.name}${index} == ${lit}`).match(TCP4, { timestamp: 5 }), true, info.name);
  }
  assert.equal(fieldValue('udp.DstPort', TCP4), undefined);
  assert.equal(fieldValue('ip.SrcAddr', TCP4), 0xffff_c612_0001n);
  assert.equal(fieldValue('remoteAddr', TCP4, { outbound: false }), 0xffff_c612_0001n);
});
