/**
 * Cross-option checks that turn a parsed draft into a {@link DivertRule}: family agreement,
 * ports only with port protocols, ICMP types only with ICMP, `-i`/`-o` only where the hook
 * has that device. Ends in {@link validateRule}, the same check as rule objects get.
 * @module
 */
import type { Cursor, Word } from './_words.js';
import {
  CHAIN_HOOK, hasInInterface, hasOutInterface,
  type DivertChain, type DivertRule, type Endpoint, type Family, type IcmpTypeMatch, type InterfaceMatch,
  type PortMatch, type PortRange, type ProtocolMatch,
} from './rule.js';
import { IP_PROTOCOL, icmpTypeNumber, protocolName } from '../ip/protocols.js';
import { PORT_PROTOCOLS } from './protocols.js';
import { validateRule } from './validate_rule.js';

/** Mutable rule under construction, with the words to blame in errors. */
export interface Draft {
  chain: DivertChain;
  passThrough: boolean;
  cpuFanout?: boolean;
  cpuFanoutAt?: Word;
  seen: Set<string>;
  family?: Family;
  familyAt?: Word;
  protocol?: ProtocolMatch;
  protocolAt?: Word;
  source?: Endpoint;
  sourceAt?: Word;
  /** Family of the address written after -s, even when it was dropped as "any" (`::/0`). */
  sourceFamily?: Family;
  destination?: Endpoint;
  destinationAt?: Word;
  destinationFamily?: Family;
  sport?: { ports: PortMatch; at: Word };
  dport?: { ports: PortMatch; at: Word };
  icmpType?: Omit<IcmpTypeMatch, 'type'> & { type: number | string };
  icmpAt?: Word;
  /** The `--icmp-type` value, for errors about a name resolved once the family is known. */
  icmpValue?: Word;
  inInterface?: InterfaceMatch;
  inAt?: Word;
  outInterface?: InterfaceMatch;
  outAt?: Word;
  port?: number | PortRange;
}

/** Validates the draft as a whole and returns the rule. */
export function checkRule(d: Draft, c: Cursor): DivertRule {
  if (d.port === undefined) throw c.error('Missing target: every rule needs -j DIVERT <port> (e.g. -j DIVERT 1234)', undefined);
  const family = resolveFamily(d, c);
  const source = mergePorts(d.source, d.sport, d.sourceAt, c);
  const destination = mergePorts(d.destination, d.dport, d.destinationAt, c);
  checkProtocol(d, c, family, source, destination);
  checkInterfaces(d, c);
  const icmpType = resolveIcmpType(d, c, family);
  const rule: DivertRule = {
    chain: d.chain,
    family,
    ...(d.protocol ? { protocol: d.protocol } : {}),
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    ...(d.inInterface ? { inInterface: d.inInterface } : {}),
    ...(d.outInterface ? { outInterface: d.outInterface } : {}),
    ...(icmpType ? { icmpType } : {}),
    port: d.port,
    passThrough: d.passThrough,
    ...(d.cpuFanout ? { cpuFanout: true } : {}),
  };
  if (rule.cpuFanout && typeof rule.port === 'number') throw c.error('--queue-cpu-fanout spreads packets over a range of divert ports: give one (-j DIVERT 10:13)', d.cpuFanoutAt);
  validateRule(rule);
  return rule;
}

function resolveFamily(d: Draft, c: Cursor): Family {
  let family = d.family;
  let at = d.familyAt;
  for (const [f, ep, w] of [[d.sourceFamily, d.source, d.sourceAt], [d.destinationFamily, d.destination, d.destinationAt]] as const) {
    if (!f) continue;
    if (family && family !== f) {
      throw c.error(`${w?.text ?? 'address'} ${ep?.address ?? (f === 'ipv6' ? '::/0' : '0.0.0.0/0')} is ${f === 'ipv6' ? 'IPv6' : 'IPv4'} but ${at?.text ?? 'the rule'} makes the rule ${family === 'ipv6' ? 'IPv6' : 'IPv4'}: write one rule per family`, w);
    }
    family = f;
    at = w;
  }
  return family ?? 'ipv4';
}

/** Joins `--sport` into `-s`'s ports (and `--dport` into `-d`'s); full ranges drop out. */
function mergePorts(ep: Endpoint | undefined, opt: { ports: PortMatch; at: Word } | undefined, at: Word | undefined, c: Cursor): Endpoint | undefined {
  if (opt && ep?.ports) throw c.error(`${opt.at.text} repeats the port already given after ${at?.text ?? 'the address'}: give it once`, opt.at);
  const ports = opt?.ports ?? ep?.ports;
  if (ports && ports.first === 0 && ports.last === 65535 && ports.negated) {
    throw c.error('A negated full port range 0:65535 matches no packet: remove the "!"', opt?.at ?? at);
  }
  const keep = ports && !(ports.first === 0 && ports.last === 65535) ? ports : undefined;
  const base: Endpoint = { ...(ep?.address ? { address: ep.address, prefix: ep.prefix ?? 0 } : {}), negated: ep?.negated ?? false };
  const out: Endpoint = keep ? { ...base, ports: keep } : base;
  return out.address || out.ports ? out : undefined;
}

function checkProtocol(d: Draft, c: Cursor, family: Family, src?: Endpoint, dst?: Endpoint): void {
  const p = d.protocol;
  if (p?.number === IP_PROTOCOL.ICMP && family === 'ipv6') throw c.error('-p icmp in an IPv6 rule matches nothing: use -p icmpv6', d.protocolAt);
  if (p?.number === IP_PROTOCOL.ICMPV6 && family === 'ipv4') throw c.error('-p icmpv6 is IPv6 only: add -6 (or use -p icmp for IPv4)', d.protocolAt);
  const portAt = d.sport?.at ?? d.dport?.at ?? (src?.ports ? d.sourceAt : dst?.ports ? d.destinationAt : undefined);
  if (portAt && (!p || p.negated || !PORT_PROTOCOLS.has(p.number))) {
    const what = p ? `${p.negated ? '! ' : ''}-p ${protocolName(p.number)}` : 'no -p';
    throw c.error(`Ports need -p tcp, udp, sctp or dccp (the rule has ${what})${p?.number === IP_PROTOCOL.ICMP ? '; for ICMP use --icmp-type' : ''}`, portAt);
  }
  if (d.icmpType) {
    const want = family === 'ipv6' ? IP_PROTOCOL.ICMPV6 : IP_PROTOCOL.ICMP;
    if (!p || p.negated || p.number !== want) throw c.error(`--icmp-type needs -p ${family === 'ipv6' ? 'icmpv6' : 'icmp'}`, d.icmpAt);
  }
}

/** An ICMP type name means different numbers in ICMP and ICMPv6: resolved once the family is known. */
function resolveIcmpType(d: Draft, c: Cursor, family: Family): IcmpTypeMatch | undefined {
  const t = d.icmpType;
  if (!t) return undefined;
  const type = typeof t.type === 'number' ? t.type : icmpTypeNumber(t.type, family === 'ipv6');
  if (type === undefined) {
    throw c.error(`Unknown ${family === 'ipv6' ? 'ICMPv6' : 'ICMP'} type ${JSON.stringify(t.type)}: give type[/code] as numbers (e.g. ${family === 'ipv6' ? '128/0' : '8/0'}) or a name such as echo-request`, d.icmpValue);
  }
  if (type === 255 && family === 'ipv4') throw c.error('--icmp-type 255 is iptables\' "any" (every type): leave out --icmp-type to match every ICMP type', d.icmpValue);
  return { ...t, type };
}

function checkInterfaces(d: Draft, c: Cursor): void {
  const hook = CHAIN_HOOK[d.chain];
  if (d.inInterface && !hasInInterface(hook)) {
    throw c.error(`-i is not valid on chain ${d.chain}: netfilter offers no input interface at ${hook}; use -o <iface> for the interface packets leave by (ipchains' -i on output meant that)`, d.inAt);
  }
  if (d.outInterface && !hasOutInterface(hook)) {
    throw c.error(`-o is not valid on chain ${d.chain}: packets have no output interface yet at ${hook}; use -i <iface> for the interface they arrive on`, d.outAt);
  }
}
