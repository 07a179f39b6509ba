import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter } from './check.js';
import { formatFilter, ipv6Text } from './format.js';

test('formatFilter() writes words for keywords, == for =, one space around operators', () => {
  assert.equal(formatFilter('!tcp&&udp.DstPort=53||icmp'), 'not tcp and udp.DstPort == 53 or icmp');
  assert.equal(formatFilter('  outbound\n and\ttcp  '), 'outbound and tcp');
});

test('formatFilter() folds not into the operator of a comparison and keeps it on a bare field', () => {
  assert.equal(formatFilter('not tcp.DstPort == 80'), 'tcp.DstPort != 80');
  assert.equal(formatFilter('!tcp.DstPort < 80'), 'tcp.DstPort >= 80');
  assert.equal(formatFilter('not not not tcp'), 'not tcp');
  assert.equal(formatFilter('!!tcp.Syn'), 'tcp.Syn');
});

test('formatFilter() puts parentheses only where or sits inside and, and keeps ternaries', () => {
  assert.equal(formatFilter('tcp or udp and icmp'), 'tcp or udp and icmp');
  assert.equal(formatFilter('(tcp or udp) and icmp'), '(tcp or udp) and icmp');
  assert.equal(formatFilter('((tcp))'), 'tcp');
  assert.equal(formatFilter('(tcp?udp:(icmp?true:false))'), '(tcp ? udp : (icmp ? true : false))');
  assert.equal(formatFilter('(tcp or udp? icmp and ip: ipv6)'), '(tcp or udp ? icmp and ip : ipv6)');
});

test('formatFilter() writes addresses as addresses, hex as hex, macros by name', () => {
  assert.equal(formatFilter('ip.SrcAddr == 0xFFFF0A000001'), 'ip.SrcAddr == 10.0.0.1');
  assert.equal(formatFilter('localAddr == ::ffff:10.0.0.1'), 'localAddr == 10.0.0.1');
  assert.equal(formatFilter('ipv6.SrcAddr == 0:0:0:0:0:0:0:1'), 'ipv6.SrcAddr == ::1');
  assert.equal(formatFilter('ipv6.SrcAddr == 1234:5678:1:0:0:0:aabb:ccdd'), 'ipv6.SrcAddr == 1234:5678:1::aabb:ccdd');
  assert.equal(formatFilter('tcp.Syn == ::1'), 'tcp.Syn == ::1');
  assert.equal(formatFilter('tcp.DstPort == 0X50'), 'tcp.DstPort == 0x50');
  assert.equal(formatFilter('protocol == TCP and tcp.Syn != TRUE'), 'protocol == TCP and tcp.Syn != TRUE');
  assert.equal(formatFilter('timestamp > -0x10'), 'timestamp > -0x10');
  assert.equal(formatFilter('timestamp > -16'), 'timestamp > -16');
  assert.equal(formatFilter('event = -PACKET'), 'event == -PACKET');
});

test('formatFilter() keeps indices as written', () => {
  assert.equal(formatFilter('packet[55b]=0x1b and packet16[-1] and tcp.Payload32[-4b] > 0'), 'packet[55b] == 0x1b and packet16[-1] and tcp.Payload32[-4b] > 0');
});

test('formatFilter() takes a parsed filter too', () => {
  assert.equal(formatFilter(parseFilter('tcp&&udp')), 'tcp and udp');
});

test('ipv6Text() compresses the longest run of zero groups (RFC 5952)', () => {
  assert.equal(ipv6Text(0n), '::');
  assert.equal(ipv6Text(1n), '::1');
  assert.equal(ipv6Text(0x2001_0db8_0000_0000_0001_0000_0000_0001n), '2001:db8::1:0:0:1');
  assert.equal(ipv6Text(0x2001_0db8_0001_0001_0001_0001_0001_0001n), '2001:db8:1:1:1:1:1:1');
});
