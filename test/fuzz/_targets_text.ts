/**
 * Fuzz targets for the two text languages: the ipchains rule parser (src/firewall) and the
 * WinDivert filter parser (src/filter). Inputs are built from each language's own words, then
 * mutated at the word and the character level. Documented errors: FilterSyntaxError (both) and
 * RangeError (a number out of range in a rule). Round trips: parseRule(formatRule(r)) is r, and
 * formatFilter() is a fixed point that answers as the original filter does.
 * @module
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FilterSyntaxError } from '../../src/errors.js';
import { compileFilter, fieldValue } from '../../src/filter/evaluate.js';
import { formatFilter } from '../../src/filter/format.js';
import { parseFilter } from '../../src/filter/check.js';
import { Rng, randomFilter, randomPacket } from '../../src/filter/_random.js';
import { formatRule } from '../../src/firewall/format.js';
import { parseRule } from '../../src/firewall/parse.js';
import { onlyThrows } from './_mutate.js';
import { counter, type FuzzTarget } from './_target.js';

// ---- ipchains rules ----------------------------------------------------------------------------

const OPTION_WORDS = ['-A', '-I', '-D', '--append', '-4', '-6', '-p', '!', '-s', '-d', '--sport', '--dport', '--icmp-type', '-i', '-o', '-j', 'DIVERT', '--pass-through', '--source', '--destination', '-P', '-X'];
const VALUE_WORDS = [
  'input', 'output', 'forward', 'prerouting', 'local-in', 'local-out', 'postrouting', 'INPUT', 'constructor', '__proto__',
  'tcp', 'udp', 'icmp', 'icmpv6', 'ipv6-icmp', 'sctp', 'dccp', 'all', '0', '6', '17', '255', '256', '-1',
  '198.18.0.1', '198.18.0.0/15', '198.18.0.0/255.254.0.0', '198.18.0.1/33', '2001:db8::1', '2001:db8::/32', '::/0', '0.0.0.0/0', '1.2.3', '::ffff:1.2.3.4',
  '80', '1024:65535', '65535', '65536', ':80', '80:', '99999999999999999999', '1e3', '0x50', ' 80', '80:79',
  'echo-request', '8/0', '8/256', '3/4', 'destination-unreachable',
  'eth0', 'veth+', 'lo', 'a'.repeat(15), 'a'.repeat(16), 'bad name', 'x\ny', 'x\u0000y', '.', '..', 'a/b',
  '1234', '0:65534', '0:65535', '7', '',
];

const ruleWords = fc.array(fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...OPTION_WORDS) },
  { weight: 6, arbitrary: fc.constantFrom(...VALUE_WORDS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
), { maxLength: 14 });

/** Mostly rules that parse: a chain, some options, a target; then word-level edits. */
const likelyRule = fc.tuple(
  fc.constantFrom('-A input', '-A output', '-I forward', '-A prerouting -6', '-A postrouting', '-D local-in'),
  fc.constantFrom('', '-p tcp', '-p udp', '-p icmp', '! -p tcp', '-6 -p icmpv6', '-p sctp'),
  fc.constantFrom('', '-s 198.18.0.0/15', '-d 198.18.1.2', '! -s 198.19.0.0/16 80', '-s 2001:db8::/32', '-d 2001:db8::1/128 443'),
  fc.constantFrom('', '--dport 80', '--sport 1024:65535', '--dport ! 22', '--icmp-type 8', '--icmp-type echo-request', '-i eth0', '-o veth+', '! -i lo'),
  fc.constantFrom('-j DIVERT 1234', '-j DIVERT 0', '-j DIVERT 7:9', '-j DIVERT 65535'),
  fc.constantFrom('', '--pass-through'),
).map((parts) => parts.filter((p) => p !== '').join(' ').split(' '));

const rulesParsed = counter();
const ruleTarget: FuzzTarget = {
  deep: rulesParsed,
  name: 'firewall: parseRule() throws only FilterSyntaxError/RangeError; parseRule(formatRule(r)) is r',
  property: fc.property(fc.oneof(ruleWords, likelyRule, fc.tuple(likelyRule, ruleWords, fc.nat()).map(([a, b, at]) => [...a.slice(0, at % (a.length + 1)), ...b, ...a.slice(at % (a.length + 1))])), fc.boolean(), (words, asText) => {
    let rule;
    const input = asText ? words.join(' ') : words;
    const err = onlyThrows([FilterSyntaxError, RangeError], () => { rule = parseRule(input); });
    if (err) {
      assert.ok(err.message.length > 10 && !/undefined|\[object/.test(err.message), `unhelpful message: ${err.message}`);
      return;
    }
    const text = formatRule(rule!);
    assert.deepEqual(parseRule(text), rule, `formatRule() gave ${text}`);
    rulesParsed.count++;
  }),
};

// ---- filters -----------------------------------------------------------------------------------

const FILTER_TOKENS = [
  'true', 'false', 'and', 'or', 'not', '!', '&&', '||', '(', ')', '?', ':', '==', '!=', '<', '<=', '>', '>=', '=',
  'ip', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'inbound', 'outbound', 'loopback', 'impostor', 'fragment',
  'ip.SrcAddr', 'ip.DstAddr', 'ipv6.SrcAddr', 'tcp.DstPort', 'udp.SrcPort', 'tcp.Syn', 'ip.TTL', 'ipv6.HopLimit',
  'packet[0]', 'packet16[-2]', 'packet32[4b]', 'packet[', ']', 'tcp.Payload[3]', 'ifIdx', 'timestamp', 'length', 'random8',
  '0', '1', '80', '0x50', '65535', '65536', '4294967296', '-1', '198.18.0.1', '2001:db8::1', '::', '1.2.3.4.5', 'TCP', 'ICMP_ECHO', 'Tcp',
  '"', '$', '\u0000', '\n', '   ',
];

const tokenFilter = fc.array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...FILTER_TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 4 }) }), { maxLength: 16 })
  .chain((t) => fc.constantFrom(' ', '').map((sep) => t.join(sep)));

/** A random filter from the filter tests' generator (values from real packets), seeded here. */
const generated = fc.nat({ max: 0xffffffff }).map((seed) => {
  const rng = new Rng(seed);
  const refs = [randomPacket(rng), randomPacket(rng)];
  return { filter: randomFilter(rng, refs, (f, p, o) => fieldValue(f, p, undefined, o), 2), refs };
});

/** A generated filter with a character cut, inserted or replaced. */
const mutatedFilter = fc.tuple(generated, fc.nat(), fc.constantFrom('', '(', ')', '!', ' and ', '[', '"', '0x', ':', '.', '9'), fc.boolean())
  .map(([g, at, s, replace]) => {
    const i = at % (g.filter.length + 1);
    return g.filter.slice(0, i) + s + g.filter.slice(replace ? i + 1 : i);
  });

const filtersParsed = counter();
const filterParseTarget: FuzzTarget = {
  deep: filtersParsed,
  name: 'filter: parseFilter() throws only FilterSyntaxError with an offset inside the text',
  property: fc.property(fc.oneof(tokenFilter, mutatedFilter, generated.map((g) => g.filter)), (text) => {
    const err = onlyThrows([FilterSyntaxError], () => void parseFilter(text));
    if (err instanceof FilterSyntaxError) {
      assert.ok(err.offset >= 0 && err.offset <= text.length, `offset ${err.offset} outside a ${text.length}-char filter`);
      return;
    }
    const canonical = formatFilter(text);
    assert.equal(formatFilter(canonical), canonical);
    filtersParsed.count++;
  }),
};

const filterRoundTrip: FuzzTarget = {
  name: 'filter: formatFilter() is a fixed point and answers as the original on its packets',
  cost: 3,
  property: fc.property(generated, fc.boolean(), ({ filter, refs }, outbound) => {
    const canonical = formatFilter(filter);
    assert.equal(formatFilter(canonical), canonical);
    const a = compileFilter(filter);
    const b = compileFilter(canonical);
    for (const p of refs) {
      const address = { outbound, timestamp: 3 };
      assert.equal(b.match(p, address), a.match(p, address), `${filter} → ${canonical}`);
    }
  }),
};

export const TEXT_TARGETS: readonly FuzzTarget[] = [ruleTarget, filterParseTarget, filterRoundTrip];
