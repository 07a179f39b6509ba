/**
 * {@link validateRule}: the one check every {@link DivertRule} passes before a backend sees it,
 * whether it came from the parser (which ends in it) or as an object from a program. It refuses
 * anything that would not be safe text for iptables-restore or nft, anything a backend would
 * silently drop or rewrite (so the rule could not be found again), and impossible combinations.
 * @module
 */
import { CHAIN_HOOK, hasInInterface, hasOutInterface, type DivertRule, type Hook } from './rule.js';
import { IP_PROTOCOL, protocolName } from '../ip/protocols.js';
import { PORT_PROTOCOLS } from './protocols.js';
import { tryParseIpv4, tryParseIpv6 } from '../ip/address.js';
import { interfaceNameProblem } from './validate.js';

/** Most divert ports one `-j DIVERT first:last` may span (the kernel refuses 0:65535). */
export const MAX_DIVERT_SPAN = 65535;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

function int(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer ${min}–${max}, got ${show(v)}`);
  return v;
}

function bool(v: unknown, what: string): void {
  if (typeof v !== 'boolean') throw new TypeError(`${what} must be true or false, got ${show(v)}`);
}

function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new TypeError(`${what} must be an object, got ${show(v)}`);
  return v;
}

interface Proto {
  readonly number: number;
  readonly negated: boolean;
}

/** 1-based insert position: an integer 1–65535. */
export function validatePosition(position: unknown): number {
  return int(position, 1, 65535, 'Insert position');
}

/**
 * Throws TypeError (shape, names, combinations) or RangeError (numbers) unless `rule` is a valid
 * DIVERT rule: known chain and family; protocol 1–255 (absent = all; icmp only IPv4, icmpv6 only
 * IPv6); addresses of the rule's family with prefix 1–32/128; ports 0–65535 (first <= last, not
 * the full range) only with tcp/udp/sctp/dccp; ICMP type/code 0–255 only with icmp/icmpv6 (IPv4
 * type 255 is iptables' "any", refused); interface names by {@link interfaceNameProblem}, `-i`/`-o`
 * only at hooks that have that device; divert port 0–65535 or a range of at most 65535 ports.
 * @example validateRule({ chain: 'input', family: 'ipv4', port: 1234, passThrough: false })
 */
export function validateRule(rule: unknown): asserts rule is DivertRule {
  const r = obj(rule, 'A rule');
  if (typeof r['chain'] !== 'string' || !Object.hasOwn(CHAIN_HOOK, r['chain'])) {
    throw new TypeError(`Unknown chain ${show(r['chain'])}: use input, output, forward, prerouting, local-in, local-out or postrouting`);
  }
  const hook = CHAIN_HOOK[r['chain'] as DivertRule['chain']];
  if (r['family'] !== 'ipv4' && r['family'] !== 'ipv6') throw new TypeError(`Unknown family ${show(r['family'])}: use ipv4 or ipv6`);
  const six = r['family'] === 'ipv6';
  const proto = checkProtocol(r['protocol'], six);
  checkEndpoint(r['source'], 'source', six, proto);
  checkEndpoint(r['destination'], 'destination', six, proto);
  checkInterface(r['inInterface'], 'inInterface', hook);
  checkInterface(r['outInterface'], 'outInterface', hook);
  checkIcmp(r['icmpType'], six, proto);
  checkDivertPort(r['port']);
  bool(r['passThrough'], 'passThrough');
  if (r['cpuFanout'] !== undefined) {
    bool(r['cpuFanout'], 'cpuFanout');
    if (r['cpuFanout'] === true && typeof r['port'] === 'number') throw new TypeError('cpuFanout spreads packets over a range of divert ports: give port as { first, last }');
  }
}

function checkProtocol(v: unknown, six: boolean): Proto | undefined {
  if (v === undefined) return undefined;
  const p = obj(v, 'protocol');
  if (p['number'] === 0) throw new RangeError('protocol 0 is "all": leave out protocol to match every protocol');
  const number = int(p['number'], 1, 255, 'Protocol number');
  bool(p['negated'], 'protocol.negated');
  if (number === IP_PROTOCOL.ICMP && six) throw new TypeError('Protocol icmp in an IPv6 rule matches nothing: use icmpv6 (58)');
  if (number === IP_PROTOCOL.ICMPV6 && !six) throw new TypeError('Protocol icmpv6 is IPv6 only: use family ipv6 (or icmp for IPv4)');
  return { number, negated: p['negated'] as boolean };
}

function needs(proto: Proto | undefined): string {
  return proto ? `${proto.negated ? '! ' : ''}-p ${protocolName(proto.number)}` : 'no protocol';
}

function checkEndpoint(v: unknown, what: 'source' | 'destination', six: boolean, proto: Proto | undefined): void {
  if (v === undefined) return;
  const ep = obj(v, what);
  bool(ep['negated'], `${what}.negated`);
  if (ep['address'] !== undefined) {
    const a = ep['address'];
    if (typeof a !== 'string' || (six ? tryParseIpv6(a) : tryParseIpv4(a)) === undefined) {
      throw new TypeError(`${what}.address ${show(a)} is not an ${six ? 'IPv6' : 'IPv4'} address (the rule's family is ${six ? 'ipv6' : 'ipv4'}; host names are not resolved)`);
    }
    if (ep['prefix'] === 0) throw new RangeError(`${what}.prefix 0 matches every address: leave out ${what}.address`);
    int(ep['prefix'], 1, six ? 128 : 32, `${what}.prefix`);
  } else {
    if (ep['prefix'] !== undefined) throw new TypeError(`${what}.prefix needs ${what}.address`);
    if (ep['negated']) throw new TypeError(`${what}.negated negates the address: give ${what}.address (negate ports with ports.negated)`);
  }
  if (ep['ports'] === undefined) return;
  const p = obj(ep['ports'], `${what}.ports`);
  const first = int(p['first'], 0, 65535, `${what}.ports.first`);
  const last = int(p['last'], 0, 65535, `${what}.ports.last`);
  bool(p['negated'], `${what}.ports.negated`);
  if (first > last) throw new RangeError(`${what}.ports ${first}:${last} is reversed: write ${last}:${first}`);
  if (first === 0 && last === 65535) throw new RangeError(`${what}.ports 0:65535 ${p['negated'] ? 'negated match no packet' : 'are every port'}: leave them out`);
  if (!proto || proto.negated || !PORT_PROTOCOLS.has(proto.number)) {
    throw new TypeError(`Ports need protocol tcp, udp, sctp or dccp (the rule has ${needs(proto)})${proto?.number === IP_PROTOCOL.ICMP ? '; for ICMP use an ICMP type' : ''}`);
  }
}

function checkInterface(v: unknown, what: 'inInterface' | 'outInterface', hook: Hook): void {
  if (v === undefined) return;
  const i = obj(v, what);
  const problem = interfaceNameProblem(i['name']);
  if (problem) throw new TypeError(`Bad interface name ${show(i['name'])} in ${what}: ${problem}`);
  bool(i['negated'], `${what}.negated`);
  if (what === 'inInterface' && !hasInInterface(hook)) throw new TypeError(`-i (inInterface) is not valid at ${hook}: packets have no input interface there; use -o`);
  if (what === 'outInterface' && !hasOutInterface(hook)) throw new TypeError(`-o (outInterface) is not valid at ${hook}: packets have no output interface yet; use -i`);
}

function checkIcmp(v: unknown, six: boolean, proto: Proto | undefined): void {
  if (v === undefined) return;
  const t = obj(v, 'icmpType');
  const type = int(t['type'], 0, 255, 'ICMP type');
  if (t['code'] !== undefined) int(t['code'], 0, 255, 'ICMP code');
  bool(t['negated'], 'icmpType.negated');
  const want = six ? IP_PROTOCOL.ICMPV6 : IP_PROTOCOL.ICMP;
  if (!proto || proto.negated || proto.number !== want) throw new TypeError(`An ICMP type needs -p ${six ? 'icmpv6' : 'icmp'} (the rule has ${needs(proto)})`);
  if (!six && type === 255) throw new RangeError('ICMP type 255 is iptables\' "any" (every type), not type 255: leave out the ICMP type to match every type');
}

function checkDivertPort(v: unknown): void {
  if (typeof v === 'number' || !isObj(v)) {
    int(v, 0, 65535, 'Divert port');
    return;
  }
  const first = int(v['first'], 0, 65535, 'Divert port');
  const last = int(v['last'], 0, 65535, 'Divert port');
  if (first > last) throw new RangeError(`Divert port range ${first}:${last} is reversed: write ${last}:${first}`);
  if (last - first > MAX_DIVERT_SPAN - 1) throw new RangeError(`Divert port range ${first}:${last} spans ${last - first + 1} ports: at most ${MAX_DIVERT_SPAN} (e.g. 0:65534)`);
}
