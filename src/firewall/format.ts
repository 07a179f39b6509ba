/**
 * {@link DivertRule} → ipchains text, the inverse of `parseRule`:
 * `parseRule(formatRule(r))` deep-equals `r` (owner aside) for every valid rule.
 * @module
 */
import type { DivertRule, Endpoint, PortRange } from './rule.js';
import { protocolName } from '../ip/protocols.js';

/** `80` or `1024:65535`. */
export function formatPorts(p: PortRange): string {
  return p.first === p.last ? String(p.first) : `${p.first}:${p.last}`;
}

function endpoint(flag: string, portFlag: string, ep: Endpoint | undefined): string[] {
  if (!ep) return [];
  const out: string[] = [];
  if (ep.address !== undefined) out.push(...(ep.negated ? ['!'] : []), flag, `${ep.address}/${ep.prefix ?? 0}`);
  if (ep.ports) out.push(...(ep.ports.negated ? ['!'] : []), portFlag, formatPorts(ep.ports));
  return out;
}

/**
 * Formats a rule as `-A <chain> …` ipchains words (the chain as stored, `-6` for IPv6).
 * @example formatRule(parseRule('-A input -p ICMP -j DIVERT 1234')) // '-A input -p icmp -j DIVERT 1234'
 */
export function formatRule(rule: DivertRule, op: '-A' | '-I' | '-D' = '-A'): string {
  const w: string[] = [op, rule.chain];
  if (rule.family === 'ipv6') w.push('-6');
  if (rule.protocol) w.push(...(rule.protocol.negated ? ['!'] : []), '-p', protocolName(rule.protocol.number));
  w.push(...endpoint('-s', '--sport', rule.source), ...endpoint('-d', '--dport', rule.destination));
  if (rule.icmpType) {
    const t = rule.icmpType;
    w.push(...(t.negated ? ['!'] : []), '--icmp-type', t.code === undefined ? String(t.type) : `${t.type}/${t.code}`);
  }
  if (rule.inInterface) w.push(...(rule.inInterface.negated ? ['!'] : []), '-i', rule.inInterface.name);
  if (rule.outInterface) w.push(...(rule.outInterface.negated ? ['!'] : []), '-o', rule.outInterface.name);
  w.push('-j', 'DIVERT', typeof rule.port === 'number' ? String(rule.port) : formatPorts(rule.port));
  if (rule.passThrough) w.push('--pass-through');
  if (rule.cpuFanout) w.push('--queue-cpu-fanout');
  return w.join(' ');
}
