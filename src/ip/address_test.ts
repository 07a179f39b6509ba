import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv4, formatIpv6, netmaskPrefix, parseIpv4, parseIpv6, tryParseIpv6 } from './address.js';

test('formatIpv4() formats dotted quads at an offset', () => {
  assert.equal(formatIpv4(Uint8Array.from([9, 198, 18, 0, 1]), 1), '198.18.0.1');
  assert.throws(() => formatIpv4(new Uint8Array(3)), RangeError);
});

test('formatIpv6() follows RFC 5952', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'], // single zero group stays
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:0000:0000:0001:0000:0000:0000:0001', '2001:0:0:1::1'], // longest run wins
    ['fe80:0000:0000:0000:0000:0000:0000:0000', 'fe80::'],
    ['2001:0DB8:ABCD:0012:0000:0000:0000:0000', '2001:db8:abcd:12::'],
    ['0000:0000:0000:0000:0000:ffff:c000:0201', '::ffff:192.0.2.1'], // IPv4-mapped
  ];
  for (const [full, want] of cases) assert.equal(formatIpv6(parseIpv6(full)), want, full);
});

test('parseIpv6() accepts "::" anywhere and a trailing dotted quad', () => {
  assert.deepEqual([...parseIpv6('::')], new Array(16).fill(0));
  assert.deepEqual([...parseIpv6('::1')].slice(14), [0, 1]);
  assert.deepEqual([...parseIpv6('1::')].slice(0, 2), [0, 1]);
  assert.deepEqual([...parseIpv6('::ffff:192.0.2.1')].slice(10), [0xff, 0xff, 192, 0, 2, 1]);
  assert.deepEqual([...parseIpv6('64:ff9b::198.51.100.7')].slice(12), [198, 51, 100, 7]);
});

test('parseIpv6() rejects malformed text with SyntaxError', () => {
  for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '::1%eth0', '1:2:3:4:5:6:7::8:9', '::1.2.3', '1.2.3.4::', '1:2:3:4:5:6:7:8::', ':1::', '1::2:', '2001:db8::g', '1::2:3:4:5:6:7:8']) {
    assert.throws(() => parseIpv6(bad), SyntaxError, bad);
    assert.equal(tryParseIpv6(bad), undefined, bad);
  }
});

test('parseIpv4() parses strict dotted quads and rejects the rest with SyntaxError', () => {
  assert.deepEqual([...parseIpv4('192.0.2.255')], [192, 0, 2, 255]);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', ' 1.2.3.4', '0x1.2.3.4', '198.18.0.01']) {
    assert.throws(() => parseIpv4(bad), SyntaxError, bad);
  }
});

test('formatIpv6() round-trips through parseIpv6()', () => {
  let seed = 7;
  for (let i = 0; i < 500; i++) {
    const b = new Uint8Array(16);
    for (let j = 0; j < 16; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      b[j] = (seed >>> 16) % 3 === 0 ? 0 : (seed >>> 8) & 0xff; // many zero bytes → runs
    }
    assert.deepEqual(parseIpv6(formatIpv6(b)), b);
  }
});

test('netmaskPrefix() reads contiguous dotted netmasks only', () => {
  const cases: [string, number | undefined][] = [
    ['255.255.255.0', 24], ['255.255.255.255', 32], ['0.0.0.0', 0], ['255.255.254.0', 23],
    ['128.0.0.0', 1], ['255.0.255.0', undefined], ['0.255.255.255', undefined], ['255.255.255', undefined],
  ];
  for (const [mask, want] of cases) assert.equal(netmaskPrefix(mask), want, mask);
});
