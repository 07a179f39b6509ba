import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRule } from './validate_rule.js';
import { addRule, deleteRule } from './api.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { parseRule } from './parse.js';
import { FilterSyntaxError } from '../errors.js';
import type { DivertRule } from './rule.js';

const base: DivertRule = { chain: 'input', family: 'ipv4', port: 1234, passThrough: false };
const tcp = { number: 6, negated: false };

test('validateRule() accepts every rule the parser makes', () => {
  for (const text of [
    '-A input -p ICMP -j DIVERT 1234', '-A output -p TCP -s 198.18.0.1 -d ! 198.19.0.0/16 1024:65535 -o veth+ -j DIVERT 4321:4323 --pass-through',
    '-A local-in -6 -p icmpv6 --icmp-type 128/0 -i ! lo -j DIVERT 3', '-A forward -i eth0 -p udp ! --sport 53 -j DIVERT 7',
    '-A input -i abcdefghijklmno -j DIVERT 1', '-A input -i abcdefghijklmn+ -j DIVERT 0:65534',
  ]) validateRule(parseRule(text));
});

test('validateRule() refuses what would be unsafe, silently dropped or rewritten', () => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /must be an object/],
    [{ ...base, chain: 'INPUT\nCOMMIT' }, /Unknown chain/],
    [{ ...base, chain: 'toString' }, /Unknown chain/],
    [{ ...base, family: 'ipx' }, /Unknown family/],
    [{ ...base, inInterface: { name: 'eth0\nCOMMIT\n*filter\n-F INPUT', negated: false } }, /Bad interface name/],
    [{ ...base, inInterface: { name: 'eth0" accept', negated: false } }, /Bad interface name/],
    [{ ...base, inInterface: { name: 'a/b', negated: false } }, /Bad interface name/],
    [{ ...base, inInterface: { name: '+', negated: false } }, /bare "\+"/],
    [{ ...base, inInterface: { name: 'abcdefghijklmno+', negated: false } }, /1–15 characters/],
    [{ ...base, inInterface: { name: 'eth0', negated: 'no' } }, /negated must be true or false/],
    [{ ...base, outInterface: { name: 'eth0', negated: false } }, /-o .* not valid at prerouting/],
    [{ ...base, destination: { negated: false, ports: { first: 80, last: 80, negated: false } } }, /Ports need protocol tcp/],
    [{ ...base, protocol: { number: 1, negated: false }, source: { negated: false, ports: { first: 1, last: 2, negated: false } } }, /Ports need .*ICMP type/],
    [{ ...base, protocol: { ...tcp, negated: true }, source: { negated: false, ports: { first: 1, last: 2, negated: false } } }, /Ports need/],
    [{ ...base, protocol: tcp, source: { negated: false, ports: { first: 9, last: 2, negated: false } } }, /reversed/],
    [{ ...base, protocol: tcp, source: { negated: false, ports: { first: 0, last: 70000, negated: false } } }, /0–65535/],
    [{ ...base, protocol: tcp, source: { negated: false, ports: { first: 0, last: 65535, negated: false } } }, /every port/],
    [{ ...base, protocol: { number: 256, negated: false } }, /Protocol number must be an integer 1–255/],
    [{ ...base, protocol: { number: 0, negated: false } }, /leave out protocol/],
    [{ ...base, protocol: { number: 58, negated: false } }, /IPv6 only/],
    [{ ...base, family: 'ipv6', protocol: { number: 1, negated: false } }, /use icmpv6/],
    [{ ...base, icmpType: { type: 8, negated: false } }, /ICMP type needs -p icmp/],
    [{ ...base, protocol: tcp, icmpType: { type: 8, negated: false } }, /ICMP type needs -p icmp/],
    [{ ...base, protocol: { number: 1, negated: false }, icmpType: { type: 255, negated: false } }, /"any"/],
    [{ ...base, protocol: { number: 1, negated: false }, icmpType: { type: 8, code: 256, negated: false } }, /ICMP code/],
    [{ ...base, source: { address: '198.18.0.1; drop', prefix: 32, negated: false } }, /not an IPv4 address/],
    [{ ...base, source: { address: '2001:db8::1', prefix: 128, negated: false } }, /not an IPv4 address/],
    [{ ...base, source: { address: '198.18.0.1', negated: false } }, /prefix must be an integer 1–32/],
    [{ ...base, source: { address: '198.18.0.1', prefix: 0, negated: false } }, /matches every address/],
    [{ ...base, family: 'ipv6', source: { address: '::', prefix: 129, negated: false } }, /1–128/],
    [{ ...base, source: { negated: true } }, /give source.address/],
    [{ ...base, port: 70000 }, /Divert port must be an integer 0–65535/],
    [{ ...base, port: '1' }, /Divert port/],
    [{ ...base, port: { first: 5, last: 2 } }, /reversed/],
    [{ ...base, port: { first: 0, last: 65535 } }, /spans 65536 ports: at most 65535/],
    [{ ...base, passThrough: 1 }, /passThrough/],
  ];
  for (const [rule, msg] of bad) assert.throws(() => validateRule(rule), msg, JSON.stringify(rule));
});

test('the parser ends in the same checks (interface length, bare +, divert span)', () => {
  assert.throws(() => parseRule('-A input -i abcdefghijklmno+ -j DIVERT 1'), (e: unknown) => e instanceof FilterSyntaxError && /1–15 characters/.test(e.message));
  assert.throws(() => parseRule('-A input -i + -j DIVERT 1'), /bare "\+"/);
  assert.throws(() => parseRule('-A input -i eth:0 -j DIVERT 1'), /not allowed/);
  assert.throws(() => parseRule('-A input -j DIVERT 0:65535'), /spans 65536 ports: at most 65535/);
  assert.throws(() => parseRule('-A input -p icmp --icmp-type 255 -j DIVERT 1'), /"any"/);
  assert.throws(() => parseRule('-A input -d 198.18.0.1 80 -j DIVERT 1'), /Ports need -p tcp/);
});

test('addRule()/deleteRule() validate rule objects before anything reaches the kernel', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  const evil: DivertRule = { ...base, inInterface: { name: 'eth0\nCOMMIT\n*filter\n-F INPUT', negated: false } };
  const portsOnly: DivertRule = { ...base, destination: { negated: false, ports: { first: 80, last: 80, negated: false } } };
  await assert.rejects(addRule(evil, { owner: 'cli' }), TypeError);
  await assert.rejects(addRule([parseRule('-A input -j DIVERT 1'), portsOnly], { owner: 'cli' }), /Ports need/);
  await assert.rejects(addRule('-A input -j DIVERT 1', { owner: 'cli', position: 0 }), RangeError);
  await assert.rejects(addRule('-A input -j DIVERT 1', { priority: 30001 }), /priority must be an integer from -30000 to 30000/);
  await assert.rejects(deleteRule(evil), TypeError);
  assert.deepEqual(kernel.nftables.batches, [], 'no batch reached the kernel');
  assert.deepEqual(kernel.sockets, [], 'no socket was even opened');
});
