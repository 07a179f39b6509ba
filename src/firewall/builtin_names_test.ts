import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule, parseRuleCommand } from './parse.js';
import { icmpTypeNumber, protocolNumber } from '../ip/protocols.js';
import { CHAIN_HOOK, HOOK_CHAIN, resolveChain, type DivertChain, type Hook } from './rule.js';
import { validateRule } from './validate_rule.js';
import { FilterSyntaxError } from '../errors.js';

/**
 * Every name an object literal inherits (`constructor`, `__proto__`, `toString`, `hasOwnProperty`,
 * `valueOf`, …): as lookup keys into `{}`-based tables they would find a function or an object.
 */
const BUILTIN = Object.getOwnPropertyNames(Object.prototype);

/** Parsing `text` throws a FilterSyntaxError whose message matches `re`. */
function refuses(text: string, re: RegExp): void {
  assert.throws(() => parseRuleCommand(text), (e: unknown) => e instanceof FilterSyntaxError && re.test(e.message), text);
}

test('the list of built-in names covers the usual suspects', () => {
  for (const w of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) assert.ok(BUILTIN.includes(w), w);
});

for (const w of BUILTIN) {
  test(`parseRuleCommand() does not take "${w}" for an operation: it is an unknown chain`, () => {
    refuses(`${w} input -j DIVERT 1`, new RegExp(`^Unknown chain ${JSON.stringify(w)}`));
    refuses(`${w} -j DIVERT 1`, /Unknown chain/);
  });

  test(`parseRule() refuses "${w}" as a chain, option, option alias, protocol, ICMP type and target`, () => {
    refuses(`-A ${w} -j DIVERT 1`, /^Unknown chain/);
    refuses(`-I ${w} 1 -j DIVERT 1`, /^Unknown chain/);
    refuses(`-A input ${w} -j DIVERT 1`, new RegExp(`^Unknown option ${JSON.stringify(w)}`));
    refuses(`-A input ! ${w} -p tcp -j DIVERT 1`, /must be followed by an option/);
    refuses(`-A input -p ${w} -j DIVERT 1`, /^Unknown protocol/);
    refuses(`-A input -p icmp --icmp-type ${w} -j DIVERT 1`, /^Bad ICMP type/);
    refuses(`-A input -6 -p icmpv6 --icmp-type ${w}/0 -j DIVERT 1`, /^Bad ICMP type/);
    refuses(`-A input -j ${w} 1`, /^Unsupported target/);
  });

  test(`lookups by name find nothing for "${w}" (protocols, ICMP types, chains, hooks)`, () => {
    assert.equal(protocolNumber(w), undefined);
    assert.equal(icmpTypeNumber(w, false), undefined);
    assert.equal(icmpTypeNumber(w, true), undefined);
    assert.equal(resolveChain(w), undefined);
    assert.equal(CHAIN_HOOK[w as DivertChain], undefined);
    assert.equal(HOOK_CHAIN[w as Hook], undefined);
  });

  test(`validateRule() refuses "${w}" as a chain or family`, () => {
    const base = { chain: 'input', family: 'ipv4', port: 1, passThrough: false };
    assert.throws(() => validateRule({ ...base, chain: w }), /^TypeError: Unknown chain/);
    assert.throws(() => validateRule({ ...base, family: w }), /^TypeError: Unknown family/);
  });
}

test('the real names still parse after the lookups became exact', () => {
  assert.equal(parseRuleCommand('--insert input 2 -p udp -j DIVERT 7').op, 'insert');
  assert.equal(parseRuleCommand('--delete forward -j DIVERT 7').op, 'delete');
  assert.deepEqual(parseRule('-A input --protocol tcp --destination-port 80 --jump DIVERT 1').destination, {
    negated: false, ports: { first: 80, last: 80, negated: false },
  });
});
