import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ICMPV6_TYPE, ICMP_TYPE, IP_PROTOCOL, icmpTypeName, icmpTypeNumber, protocolName, protocolNumber } from './protocols.js';

test('protocolName() and protocolNumber() agree, in any case, with aliases', () => {
  assert.equal(protocolName(IP_PROTOCOL.TCP), 'tcp');
  assert.equal(protocolName(IP_PROTOCOL.ICMPV6), 'icmpv6');
  for (const alias of ['ICMPv6', 'ipv6-icmp', 'icmp6']) assert.equal(protocolNumber(alias), 58, alias);
  for (const [, num] of Object.entries(IP_PROTOCOL)) {
    if (num === 0) continue; // "any" in a rule: deliberately unnamed
    assert.equal(protocolNumber(protocolName(num)), num, String(num));
  }
  assert.equal(protocolName(0), '0');
  assert.equal(protocolName(253), '253');
  assert.equal(protocolNumber('hopopt'), undefined);
  assert.equal(protocolNumber('constructor'), undefined);
});

test('icmpTypeName() and icmpTypeNumber() keep the two families apart', () => {
  assert.equal(icmpTypeName(ICMP_TYPE.ECHO_REQUEST, false), 'echo-request');
  assert.equal(icmpTypeName(ICMPV6_TYPE.ECHO_REQUEST, true), 'echo-request');
  assert.equal(icmpTypeNumber('echo-request', false), 8);
  assert.equal(icmpTypeNumber('Echo-Request', true), 128);
  assert.equal(icmpTypeNumber('packet-too-big', false), undefined);
  assert.equal(icmpTypeNumber('neighbour-solicitation', true), 135);
  assert.equal(icmpTypeName(135, true), 'neighbor-solicitation');
  for (const table of [ICMP_TYPE, ICMPV6_TYPE]) {
    const v6 = table === ICMPV6_TYPE;
    for (const [key, num] of Object.entries(table)) assert.equal(icmpTypeNumber(icmpTypeName(num, v6), v6), num, key);
  }
  assert.equal(icmpTypeName(200, false), '200');
});
