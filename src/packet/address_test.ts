import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './address.js';
import { Prng, hex } from './_test_util.js';

test('formatIpv6() writes RFC 5952 canonical text', () => {
  const cases: [string, string][] = [
    ['20010db8000000000000000000000001', '2001:db8::1'], // §4.2.1 longest run
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // §4.2.2 one zero group stays
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // §4.2.3 first of equal runs
    ['20010db8aaaa0000000000000000000b', '2001:db8:aaaa::b'],
    ['20010DB8ABCD00120000000000000000'.toLowerCase(), '2001:db8:abcd:12::'], // §4.3 lower case
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000ffffc6120001', '::ffff:198.18.0.1'], // §5 IPv4-mapped
    ['20010db8000100020003000400050006', '2001:db8:1:2:3:4:5:6'],
  ];
  for (const [bytes, text] of cases) assert.equal(formatIpv6(hex(bytes)), text, text);
});

test('parseIpv6() reads full, compressed and dotted-quad forms', () => {
  assert.deepEqual(parseIpv6('2001:DB8:0:0:0:0:0:1'), hex('20010db8000000000000000000000001'));
  assert.deepEqual(parseIpv6('2001:db8::'), hex('20010db8000000000000000000000000'));
  assert.deepEqual(parseIpv6('::ffff:198.18.0.1'), hex('00000000000000000000ffffc6120001'));
  assert.deepEqual(parseIpv6('::'), new Uint8Array(16));
});

test('parseIpv6() refuses malformed text', () => {
  for (const bad of ['', ':', ':::', '1::2::3', '2001:db8::g', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9',
    '1::2:3:4:5:6:7:8', '12345::', 'fe80::1%eth0', '::1.2.3', ':1::', '1::2:']) {
    assert.throws(() => parseIpv6(bad), SyntaxError, bad);
  }
});

test('parseIpv4() refuses leading zeros, big octets and short forms', () => {
  assert.deepEqual(parseIpv4('198.19.255.254'), new Uint8Array([198, 19, 255, 254]));
  for (const bad of ['198.18.0', '198.18.0.256', '198.18.0.01', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.-4', '']) {
    assert.throws(() => parseIpv4(bad), SyntaxError, bad);
  }
  assert.equal(formatIpv4(new Uint8Array([0, 198, 18, 0, 1]), 1), '198.18.0.1');
});

test('formatIpv6() and parseIpv6() round-trip random addresses (seeded)', () => {
  const rng = new Prng(5952);
  for (let i = 0; i < 2000; i++) {
    const a = rng.bytes(16);
    for (let j = 0; j < 16; j += 2) if (rng.int(0, 2) === 0) a[j] = a[j + 1] = 0; // make zero runs common
    assert.deepEqual(parseIpv6(formatIpv6(a)), a);
  }
});
