import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ICMP_ECHO, ICMP_MULTICAST, TCP_SYN, UDP6 } from './format/_fixtures.js';
import { packetRecord, type RecordAddress } from './format/record.js';
import { formatClock, formatLine } from './format/line.js';
import { formatJson, jsonRecord } from './format/json.js';
import { formatHex } from './format/hex.js';
import { classicHex, formatClassicPacket, formatClassicReinject, isMulticast } from './format/classic.js';
import { formatStatus, formatSummary } from './format/status.js';

const T = Date.UTC(2024, 0, 2, 3, 4, 5) + 0.678; // 03:04:05.000678 UTC
const inbound: RecordAddress = { direction: 'inbound', ifname: 'eth0', outIfname: undefined, timestamp: T };
const outbound: RecordAddress = { direction: 'outbound', ifname: undefined, outIfname: 'eth1', timestamp: T };
const forward: RecordAddress = { direction: 'forward', ifname: 'eth0', outIfname: 'eth1', timestamp: undefined };

test('packetRecord() takes every field of an ICMP echo', () => {
  assert.deepEqual(packetRecord(ICMP_ECHO, inbound, 'reinject'), {
    time: T, direction: 'in', interface: 'eth0', family: 4, src: '198.18.9.1', dst: '198.18.9.2',
    srcPort: null, dstPort: null, protocol: 'icmp', flags: null, info: 'echo-request id 17724 seq 1',
    length: 84, verdict: 'reinject',
  });
});

test('packetRecord() gives TCP ports and flags, forward interfaces and the fallback time', () => {
  const r = packetRecord(TCP_SYN, forward, 'drop', 42);
  assert.equal(r.time, 42);
  assert.equal(r.direction, 'fwd');
  assert.equal(r.interface, 'eth0>eth1');
  assert.equal(r.srcPort, 40000);
  assert.equal(r.dstPort, 80);
  assert.equal(r.protocol, 'tcp');
  assert.equal(r.flags, 'S');
  assert.equal(r.length, 40);
  assert.equal(r.verdict, 'drop');
});

test('packetRecord() reads IPv6 UDP and a malformed packet', () => {
  const r = packetRecord(UDP6, outbound, 'reinject');
  assert.equal(r.family, 6);
  assert.equal(r.src, '2001:db8:1::1');
  assert.equal(r.dst, '2001:db8:2::2');
  assert.equal(r.interface, 'eth1');
  assert.equal(r.protocol, 'udp');
  assert.equal(r.length, 52);
  const bad = packetRecord(Uint8Array.of(0x45, 0), inbound, 'drop');
  assert.equal(bad.protocol, 'malformed');
  assert.equal(bad.length, 2);
});

test('formatClock() prints HH:MM:SS.microseconds', () => {
  assert.equal(formatClock(T, true), '03:04:05.000678');
});

test('formatLine() prints the tcpdump-like line', () => {
  assert.equal(
    formatLine(packetRecord(ICMP_ECHO, inbound, 'reinject'), { utc: true }),
    '03:04:05.000678 in  eth0 IP 198.18.9.1 > 198.18.9.2: icmp echo-request id 17724 seq 1, length 84, reinject',
  );
  assert.equal(
    formatLine(packetRecord(TCP_SYN, { ...forward, timestamp: T }, 'drop'), { utc: true }),
    '03:04:05.000678 fwd eth0>eth1 IP 198.18.1.1.40000 > 198.18.2.2.80: tcp [S], length 40, drop',
  );
  assert.equal(
    formatLine(packetRecord(UDP6, outbound, 'reinject'), { utc: true }),
    '03:04:05.000678 out eth1 IP6 2001:db8:1::1.1234 > 2001:db8:2::2.53: udp, length 52, reinject',
  );
});

test('formatJson() carries the line fields, time in ISO 8601', () => {
  const r = packetRecord(TCP_SYN, inbound, 'reinject');
  assert.deepEqual(JSON.parse(formatJson(r)), {
    time: '2024-01-02T03:04:05.000Z', direction: 'in', interface: 'eth0', family: 4,
    src: '198.18.1.1', dst: '198.18.2.2', srcPort: 40000, dstPort: 80, protocol: 'tcp', flags: 'S',
    info: null, length: 40, verdict: 'reinject',
  });
  assert.deepEqual(Object.keys(jsonRecord(r)), ['time', 'direction', 'interface', 'family', 'src', 'dst', 'srcPort', 'dstPort', 'protocol', 'flags', 'info', 'length', 'verdict']);
});

test('formatHex() prints tcpdump -x lines', () => {
  assert.equal(formatHex(TCP_SYN), '\t0x0000:  4500 0028 0001 0000 4006 0000 c612 0101\n\t0x0010:  c612 0202 9c40 0050 0000 0001 0000 0000\n\t0x0020:  5002 faf0 0000 0000\n');
  assert.equal(formatHex(Uint8Array.of(1, 2, 3)), '\t0x0000:  0102 03\n');
});

test('classicHex() prints the first 40 bytes as the C loop did', () => {
  assert.equal(
    classicHex(ICMP_ECHO),
    '45 00 00 54 ec c8 40 00 40 01 af b8 c6 12 09 01 \n' +
      'c6 12 09 02 08 00 ae 53 45 3c 00 01 59 b5 08 6b \n' +
      '00 00 00 00 d7 7b 0c 00 \n',
  );
  assert.equal(classicHex(new Uint8Array(16)), '00 '.repeat(16) + '\n');
});

test('formatClassicPacket() and formatClassicReinject() follow the seed printf formats', () => {
  assert.equal(
    formatClassicPacket('./interceptor', ICMP_ECHO, { address: '198.18.9.2' }) + formatClassicReinject('./interceptor', 84, 84),
    './interceptor: The packet looks like this:\n' +
      classicHex(ICMP_ECHO) +
      './interceptor: Source address: 198.18.9.1\n' +
      './interceptor: Destination address: 198.18.9.2\n' +
      './interceptor: Receiving IF address: 198.18.9.2\n' +
      './interceptor: Protocol number: 1\n' +
      './interceptor Reinjecting DIVERT 84 bytes\n' +
      './interceptor: 84 bytes reinjected.\n',
  );
  assert.match(formatClassicReinject('p', 10, -1, 90), /p: -1 bytes reinjected\.\np: Oops: errno = 90\n$/);
});

test('formatClassicPacket() reports multicast, with set_interface for outgoing packets', () => {
  const text = formatClassicPacket('p', ICMP_MULTICAST, { address: '0.0.0.0' });
  assert.match(text, /p: Receiving IF address: 0\.0\.0\.0\np: Protocol number: 1\np: Multicast address!\np: set_interface returns 0 with errno =0\n$/);
  assert.equal(isMulticast('239.1.2.3'), true);
  assert.equal(isMulticast('198.18.0.1'), false);
  assert.equal(isMulticast('ff02::1'), true);
});

test('formatStatus() and formatSummary() print counts and kernel drops', () => {
  const k = { queue: 7, portid: 1, waiting: 2, copyMode: 2, copyRange: 65531, queueDropped: 3, userDropped: 4, idSequence: 9 };
  assert.equal(formatStatus({ received: 10, reinjected: 8, dropped: 2 }, 4.6, k), '10 pkts (5/s)  reinjected 8  dropped 2  kernel: waiting 2, queue-full drops 3, socket drops 4');
  assert.equal(formatSummary({ received: 1, reinjected: 1, dropped: 0 }, undefined), '1 packet received, 1 reinjected, 0 dropped');
  assert.equal(formatSummary({ received: 3, reinjected: 1, dropped: 2 }, k), '3 packets received, 1 reinjected, 2 dropped, 7 dropped by the kernel');
});
