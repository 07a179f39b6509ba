import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPacket, formatTcpFlags } from './format.js';
import { parsePacket } from './parse.js';
import { TCP_FLAGS } from './tcp.js';
import { ICMP_ECHO_REQUEST, ICMPV6_ECHO_REQUEST, IPV6_HBH_FRAG, TCP_SYN, UDP4, UDP6 } from './_test_vectors.js';

test('formatPacket() writes one line per packet', () => {
  assert.equal(formatPacket(parsePacket(ICMP_ECHO_REQUEST)), 'IPv4 198.18.0.1 > 198.18.0.2 ttl=64 len=84 icmp echo-request id=1 seq=1');
  assert.equal(formatPacket(parsePacket(TCP_SYN)), 'tcp 198.18.0.1:40000 > 198.18.0.2:80 [S] seq=1581306337 win=65495 len=0');
  assert.equal(formatPacket(parsePacket(UDP4)), 'udp 198.18.0.1:5353 > 198.18.0.2:53 len=6');
  assert.equal(formatPacket(parsePacket(UDP6)), 'udp [2001:db8::1]:5353 > [2001:db8::2]:53 len=6');
  assert.equal(formatPacket(parsePacket(ICMPV6_ECHO_REQUEST)), 'IPv6 2001:db8::1 > 2001:db8::2 hlim=64 len=56 icmpv6 echo-request id=1 seq=1');
});

test('formatPacket() shows fragments and unknown protocols', () => {
  const p = parsePacket(IPV6_HBH_FRAG);
  assert.equal(formatPacket(p), 'udp [2001:db8::1]:5353 > [2001:db8::2]:53 len=8');
  const b = UDP4.slice();
  b[9] = 47;
  b[7] = 10; // fragment offset 80 bytes: no L4 view
  assert.equal(formatPacket(parsePacket(b)), 'IPv4 198.18.0.1 > 198.18.0.2 ttl=64 len=34 frag id=4660 off=80 gre len=14');
});

test('formatTcpFlags() uses tcpdump letters', () => {
  assert.equal(formatTcpFlags(TCP_FLAGS.SYN | TCP_FLAGS.ACK), 'S.');
  assert.equal(formatTcpFlags(TCP_FLAGS.FIN | TCP_FLAGS.PSH | TCP_FLAGS.ACK), 'FP.');
  assert.equal(formatTcpFlags(0), 'none');
});
