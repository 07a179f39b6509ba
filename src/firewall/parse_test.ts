import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule, parseRuleCommand } from './parse.js';
import { formatRule } from './format.js';
import { FilterSyntaxError } from '../errors.js';

test('parseRule() reads the seed example -A input -p ICMP -j DIVERT 1234', () => {
  assert.deepEqual(parseRule('-A input -p ICMP -j DIVERT 1234'), {
    chain: 'input', family: 'ipv4', protocol: { number: 1, negated: false }, port: 1234, passThrough: false,
  });
});

test('parseRule() reads the seed example with its address restored', () => {
  assert.deepEqual(parseRule('-A output -p TCP -s 198.18.0.1 -j DIVERT 4321'), {
    chain: 'output', family: 'ipv4', protocol: { number: 6, negated: false },
    source: { address: '198.18.0.1', prefix: 32, negated: false }, port: 4321, passThrough: false,
  });
});

test('parseRule() takes argv words as well as a string', () => {
  assert.deepEqual(parseRule(['-A', 'input', '-p', 'ICMP', '-j', 'DIVERT', '1234']), parseRule('-A input -p ICMP -j DIVERT 1234'));
});

test('parseRule() reads every option', () => {
  const r = parseRule('-A forward -p ! udp -i ! eth0 -o veth+ -j DIVERT 7:9 --pass-through');
  assert.deepEqual(r.protocol, { number: 17, negated: true });
  assert.deepEqual(r.inInterface, { name: 'eth0', negated: true });
  assert.deepEqual(r.outInterface, { name: 'veth+', negated: false });
  assert.deepEqual(r.port, { first: 7, last: 9 });
  assert.equal(r.passThrough, true);
  const t = parseRule('-A output -p tcp -s ! 198.18.0.0/255.254.0.0 ! 80:90 -d 0/0 1024: -j DIVERT 5');
  assert.deepEqual(t.source, { address: '198.18.0.0', prefix: 15, negated: true, ports: { first: 80, last: 90, negated: true } });
  assert.deepEqual(t.destination, { negated: false, ports: { first: 1024, last: 65535, negated: false } });
  const u = parseRule('-A input -p udp ! --sport :1023 --dport 53 -j divert 1');
  assert.deepEqual(u.source, { negated: false, ports: { first: 0, last: 1023, negated: true } });
  assert.deepEqual(u.destination, { negated: false, ports: { first: 53, last: 53, negated: false } });
  const i = parseRule('-A local-in -p icmp --icmp-type echo-request -j DIVERT 2');
  assert.deepEqual(i.icmpType, { type: 8, negated: false });
  assert.equal(i.chain, 'local-in');
  assert.deepEqual(parseRule('-A input -6 -p icmpv6 ! --icmp-type 128/0 -j DIVERT 3').icmpType, { type: 128, code: 0, negated: true });
});

test('parseRule() infers IPv6 from an address and canonicalises nothing it does not need to', () => {
  const r = parseRule('-A input -d 2001:db8::1/64 -j DIVERT 1');
  assert.equal(r.family, 'ipv6');
  assert.deepEqual(r.destination, { address: '2001:db8::1', prefix: 64, negated: false });
});

test('parseRule() maps chain names: seed names any case, INPUT/OUTPUT upper case are netfilter', () => {
  const chain = (w: string): string => parseRule(`-A ${w} -j DIVERT 1`).chain;
  assert.equal(chain('Input'), 'input');
  assert.equal(chain('INPUT'), 'local-in');
  assert.equal(chain('OUTPUT'), 'local-out');
  assert.equal(chain('PREROUTING'), 'prerouting');
  assert.equal(chain('Local-Out'), 'local-out');
  assert.equal(chain('forward'), 'forward');
});

test('parseRuleCommand() reads -I with a position, -D, and a bare chain', () => {
  assert.equal(parseRuleCommand('-I input 3 -j DIVERT 1').position, 3);
  assert.equal(parseRuleCommand('-D input -j DIVERT 1').op, 'delete');
  assert.equal(parseRuleCommand('input -j DIVERT 1').op, 'append');
  assert.equal(parseRuleCommand('-p all -A input -j DIVERT 1' .replace('-p all ', '')).rule.protocol, undefined);
  assert.equal(parseRule('-A input -p all -j DIVERT 1').protocol, undefined);
  assert.equal(parseRule('-A input -p 47 -j DIVERT 1').protocol?.number, 47);
});

/** Golden error messages: each names the word and says how to fix it. */
const ERRORS: ReadonlyArray<readonly [string, RegExp]> = [
  ['-A output -p TCP -s -j DIVERT 4321', /^-s needs an address, got "-j" \(write an address such as -s 198\.18\.0\.1.*0\/0 for any; the seed's "-s -j DIVERT 4321" lost its address in formatting\) at offset 20/],
  ['-A input -p icmp', /^Missing target: every rule needs -j DIVERT <port>/],
  ['-A bogus -j DIVERT 1', /^Unknown chain "bogus": use input, output or forward/],
  ['-j DIVERT 1', /^the rule needs a chain, got "-j"/],
  ['-A input -j ACCEPT', /^Unsupported target "ACCEPT": divert rules only take -j DIVERT <port>/],
  ['-A input -j DIVERT', /^DIVERT needs a divert port, got nothing/],
  ['-A input -j DIVERT abc', /^Bad divert port "abc"/],
  ['-A input -j DIVERT 9:3', /^Port range "9:3" is reversed: write 3:9/],
  ['-A input -p frob -j DIVERT 1', /^Unknown protocol "frob"/],
  ['-A input ! -p all -j DIVERT 1', /^"! -p all" matches no packet/],
  ['-A input -s www.example.com -j DIVERT 1', /^Bad address "www\.example\.com": host names are not resolved/],
  ['-A input -s 198.18.0.1/33 -j DIVERT 1', /^Bad mask "33" in "198\.18\.0\.1\/33": use a prefix length 0–32/],
  ['-A input -s 198.18.0.1/255.0.255.0 -j DIVERT 1', /^Bad mask "255\.0\.255\.0"/],
  ['-A input -s 0 -j DIVERT 1', /^Bad address "0": write 0\/0 for any address/],
  ['-A input ! -s 0/0 -j DIVERT 1', /matches no packet/],
  ['-A input -p icmp --dport 80 -j DIVERT 1', /^Ports need -p tcp, udp, sctp or dccp \(the rule has -p icmp\); for ICMP use --icmp-type/],
  ['-A input -s 198.18.0.1 80 -j DIVERT 1', /^Ports need -p tcp, udp, sctp or dccp \(the rule has no -p\)/],
  ['-A input -p tcp -s 198.18.0.1 80 --sport 81 -j DIVERT 1', /^--sport repeats the port already given after -s/],
  ['-A input -p tcp --dport http -j DIVERT 1', /^Bad port "http": give a number 0–65535.*service names are not looked up/],
  ['-A input -p tcp ! --dport 0:65535 -j DIVERT 1', /^A negated full port range 0:65535 matches no packet/],
  ['-A input --icmp-type 8 -j DIVERT 1', /^--icmp-type needs -p icmp/],
  ['-A input -p icmp --icmp-type foo -j DIVERT 1', /^Bad ICMP type "foo"/],
  ['-A input -6 -p icmp -j DIVERT 1', /^-p icmp in an IPv6 rule matches nothing: use -p icmpv6/],
  ['-A input -p icmpv6 -j DIVERT 1', /^-p icmpv6 is IPv6 only: add -6/],
  ['-A input -6 -s 198.18.0.1 -j DIVERT 1', /^-s 198\.18\.0\.1 is IPv4 but -6 makes the rule IPv6/],
  ['-A input -s 198.18.0.1 -d 2001:db8::1 -j DIVERT 1', /^-d 2001:db8::1 is IPv6 but -s makes the rule IPv4/],
  ['-A input -4 -6 -j DIVERT 1', /^-6 contradicts the other family flag/],
  ['-A output -i eth0 -j DIVERT 1', /^-i is not valid on chain output: .*use -o <iface>/],
  ['-A input -o eth0 -j DIVERT 1', /^-o is not valid on chain input: .*use -i <iface>/],
  ['-A local-out -i eth0 -j DIVERT 1', /^-i is not valid on chain local-out/],
  ['-A input -i bad/name -j DIVERT 1', /^Bad interface name "bad\/name"/],
  ['-A input -i abcdefghijklmnopq -j DIVERT 1', /^Bad interface name/],
  ['-A input -p tcp -p udp -j DIVERT 1', /^-p is given twice/],
  ['-A input -j DIVERT 1 -j DIVERT 2', /^-j is given twice/],
  ['-A input -p ! ! tcp -j DIVERT 1', /^-p is negated twice/],
  ['-A input ! -p ! tcp -j DIVERT 1', /^-p is negated twice/],
  ['-A input ! --pass-through -j DIVERT 1', /^--pass-through cannot be negated/],
  ['-A input ! tcp -j DIVERT 1', /^"!" must be followed by an option/],
  ['-A input --frob -j DIVERT 1', /^Unknown option "--frob"/],
];

for (const [text, message] of ERRORS) {
  test(`parseRule() rejects ${JSON.stringify(text)}`, () => {
    assert.throws(() => parseRule(text), (err: unknown) => {
      assert.ok(err instanceof FilterSyntaxError, `not a FilterSyntaxError: ${String(err)}`);
      assert.match(err.message, message);
      assert.equal(err.filter, text);
      return true;
    });
  });
}

test('parseRule() throws RangeError for numbers out of range', () => {
  assert.throws(() => parseRule('-A input -j DIVERT 65536'), { name: 'RangeError', message: /Divert port 65536 .* out of range 0–65535/ });
  assert.throws(() => parseRule('-A input -j DIVERT 1:70000'), RangeError);
  assert.throws(() => parseRule('-A input -p tcp --dport 65536 -j DIVERT 1'), { name: 'RangeError', message: /^Port 65536/ });
  assert.throws(() => parseRule('-A input -p 256 -j DIVERT 1'), RangeError);
  assert.throws(() => parseRule('-I input 0 -j DIVERT 1'), RangeError);
  assert.throws(() => parseRule('-A input -p icmp --icmp-type 300 -j DIVERT 1'), RangeError);
});

test('FilterSyntaxError offset points at the word to blame', () => {
  const text = '-A input -p tcp -s 198.18.0.1 --dport x -j DIVERT 1';
  assert.throws(() => parseRule(text), (e: FilterSyntaxError) => e.offset === text.indexOf('x'));
});

test('formatRule() ↔ parseRule() round-trips every option', () => {
  const texts = [
    '-A input -p icmp -j DIVERT 1234',
    '-A output -p tcp -s 198.18.0.1/32 -j DIVERT 4321',
    '-A forward ! -p udp ! -i eth0 -o veth+ -j DIVERT 7:9 --pass-through',
    '-A output -p tcp ! -s 198.18.0.0/15 ! --sport 80:90 --dport 1024:65535 -j DIVERT 5',
    '-A local-in -6 -p ipv6-icmp ! -d 2001:db8::/32 ! --icmp-type 128/0 -j DIVERT 3',
    '-A postrouting -p sctp --sport 5 -o eth1 -j DIVERT 0',
    '-A local-out -p 47 -j DIVERT 65535',
    '-A prerouting -p icmp --icmp-type 8 -i lo -j DIVERT 1',
  ];
  for (const t of texts) {
    const r = parseRule(t);
    assert.deepEqual(parseRule(formatRule(r)), r, t);
  }
  assert.equal(formatRule(parseRule(texts[0] ?? '')), texts[0]);
  assert.equal(formatRule(parseRule('-A input -p ICMP -j DIVERT 1234'), '-D'), '-D input -p icmp -j DIVERT 1234');
});

test('ICMP type names are resolved in the rule\'s family, whichever option comes first', () => {
  const cases: Array<[string, number]> = [
    ['-A input -p icmpv6 -d 2001:db8::1 --icmp-type echo-request -j DIVERT 1', 128],
    ['-A input -p icmpv6 --icmp-type destination-unreachable -d 2001:db8::1 -j DIVERT 1', 1],
    ['-A input -p icmpv6 --icmp-type echo-reply -6 -j DIVERT 1', 129],
    ['-A input -6 -p icmpv6 --icmpv6-type neighbour-solicitation -j DIVERT 1', 135],
    ['-A input -p icmp --icmp-type destination-unreachable -j DIVERT 1', 3],
    ['-A input -p icmp --icmp-type echo-request -d 198.18.0.1 -j DIVERT 1', 8],
  ];
  for (const [text, type] of cases) assert.equal(parseRule(text).icmpType?.type, type, text);
  assert.throws(() => parseRule('-A input -p icmp --icmp-type packet-too-big -j DIVERT 1'), (e: unknown) => e instanceof FilterSyntaxError && /^Unknown ICMP type "packet-too-big"/.test(e.message));
  assert.throws(() => parseRule('-A input -p icmpv6 --icmp-type source-quench -6 -j DIVERT 1'), /Unknown ICMPv6 type "source-quench"/);
});

test('-s/-d ::/0 keeps the rule IPv6 (an IPv6 "any"), 0/0 stays family-neutral', () => {
  assert.equal(parseRule('-A input -d ::/0 -j DIVERT 1').family, 'ipv6');
  assert.equal(parseRule('-A input -s ::/0 -p tcp --dport 80 -j DIVERT 1').family, 'ipv6');
  assert.equal(parseRule('-A input -s 0.0.0.0/0 -j DIVERT 1').family, 'ipv4');
  assert.equal(parseRule('-A input -6 -s 0/0 -j DIVERT 1').family, 'ipv6');
  assert.equal(parseRule('-A input -s 0/0 -j DIVERT 1').family, 'ipv4');
  assert.throws(() => parseRule('-A input -s ::/0 -d 198.18.0.1 -j DIVERT 1'), /is IPv4 but -s makes the rule IPv6/);
  assert.throws(() => parseRule('-A input -4 -d ::/0 -j DIVERT 1'), /-d ::\/0 is IPv6 but -4 makes the rule IPv4/);
});

test('--queue-cpu-fanout: read, written back, compiled into the queue flags and the compat chain name; refused on one port', async () => {
  const rule = parseRule('-A input -p udp -j DIVERT 10:13 --queue-cpu-fanout');
  assert.equal(rule.cpuFanout, true);
  assert.equal(formatRule(rule), '-A input -p udp -j DIVERT 10:13 --queue-cpu-fanout');
  assert.equal(parseRule('-A input -p udp -j DIVERT 10:13').cpuFanout, undefined);
  const { queueExpr, queueChainName } = await import('./compile.js');
  const { NFQ_FLAG } = await import('../nftables/expr_constants.js');
  const q = queueExpr({ ...rule, passThrough: true }, 'queue') as { flags: number; num: number; total: number };
  assert.deepEqual([q.num, q.total, q.flags], [10, 4, NFQ_FLAG.NFQ_FLAG_BYPASS | NFQ_FLAG.NFQ_FLAG_CPU_FANOUT]);
  const target = queueExpr(rule, 'compat') as { info: Uint8Array };
  assert.deepEqual([...new Uint16Array(target.info.buffer, target.info.byteOffset, 3)], [10, 4, NFQ_FLAG.NFQ_FLAG_CPU_FANOUT]);
  assert.equal(queueChainName(rule), 'queue-10-13-fanout');
  assert.throws(() => parseRule('-A input -j DIVERT 10 --queue-cpu-fanout'), (e: FilterSyntaxError) => {
    assert.match(e.message, /--queue-cpu-fanout spreads packets over a range of divert ports/);
    return true;
  });
});
