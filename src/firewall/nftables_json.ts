/**
 * Reading `nft -j [-n] list table inet divert` (libnftables-json(5), schema version 1) back into
 * our model: each rule's chain, handle, comment, counters, and the DivertRule rebuilt from its
 * expressions. Accepts both numeric (`-n`) and symbolic values where nft can print either.
 *
 * NB: nft drops dependencies that another match implies (`meta nfproto ipv4` before `ip saddr`,
 * `meta l4proto tcp` before `tcp dport`), so family and protocol are also inferred from payloads.
 * @module
 */
import { FirewallError } from '../errors.js';
import type { DivertRule, Endpoint, Family, IcmpTypeMatch, InterfaceMatch, PortMatch, ProtocolMatch } from './rule.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, PORT_PROTOCOLS, icmpTypeNumber, protocolNumber } from './protocols.js';
import { DIVERT_MARK_MASK } from './mark.js';

type Json = unknown;

/** One rule of the table as nft lists it. */
export interface NftRule {
  readonly chain: string;
  readonly handle: number;
  readonly comment?: string;
  readonly expr: readonly Json[];
}

export interface NftTable {
  readonly handle: number;
  readonly chains: readonly string[];
  readonly objects: readonly string[];
  readonly rules: readonly NftRule[];
}

/** What a rule's expressions say. `rule` is set only when everything was understood. */
export interface NftParsed {
  readonly kind: 'divert' | 'defrag' | 'other';
  readonly family?: Family;
  readonly rule?: Omit<DivertRule, 'chain'>;
  readonly packets: number;
  readonly bytes: number;
}

const obj = (v: Json): Record<string, Json> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : undefined;

/** Parses the JSON document of one table. @throws FirewallError when it is not nft's JSON. */
export function parseNftTable(text: string, table: string): NftTable {
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FirewallError(`nft printed no JSON: ${(err as Error).message}`, { backend: 'nftables', argv: ['nft', '-j'], exitCode: null, stderr: text.slice(0, 200) });
  }
  const items = obj(doc)?.['nftables'];
  if (!Array.isArray(items)) throw new FirewallError('nft JSON has no "nftables" array', { backend: 'nftables', argv: ['nft', '-j'], exitCode: null, stderr: text.slice(0, 200) });
  let handle = -1;
  const chains: string[] = [];
  const objects: string[] = [];
  const rules: NftRule[] = [];
  for (const item of items) {
    const o = obj(item) ?? {};
    const [key] = Object.keys(o);
    const v = obj(key === undefined ? undefined : o[key]);
    if (!key || !v || v['family'] !== 'inet' || (v['table'] ?? v['name']) !== table) continue;
    if (key === 'table') handle = Number(v['handle']);
    else if (key === 'chain') chains.push(String(v['name']));
    else if (key === 'rule' && Array.isArray(v['expr'])) {
      const comment = typeof v['comment'] === 'string' ? { comment: v['comment'] } : {};
      rules.push({ chain: String(v['chain']), handle: Number(v['handle']), ...comment, expr: v['expr'] });
    } else if (key !== 'metainfo') objects.push(`${key} ${String(v['name'])}`);
  }
  return { handle, chains, objects, rules };
}

interface Draft {
  family?: Family;
  protocol?: ProtocolMatch;
  impliedProtocol?: number;
  saddr?: Endpoint;
  daddr?: Endpoint;
  sport?: PortMatch;
  dport?: PortMatch;
  inInterface?: InterfaceMatch;
  outInterface?: InterfaceMatch;
  icmpType?: { type: number; negated: boolean };
  icmpCode?: number;
  queue?: { first: number; last: number; bypass: boolean };
  ct: boolean;
  unknown: boolean;
}

const num = (v: Json): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

function values(v: Json): { first: number; last: number } | undefined {
  const n = num(v);
  if (n !== undefined) return { first: n, last: n };
  const r = obj(v)?.['range'];
  if (Array.isArray(r) && r.length === 2 && num(r[0]) !== undefined && num(r[1]) !== undefined) return { first: num(r[0]) ?? 0, last: num(r[1]) ?? 0 };
  return undefined;
}

function address(v: Json, negated: boolean): Endpoint | undefined {
  if (typeof v === 'string') return { address: v, prefix: v.includes(':') ? 128 : 32, negated };
  const p = obj(obj(v)?.['prefix']);
  if (p && typeof p['addr'] === 'string' && num(p['len']) !== undefined) return { address: p['addr'], prefix: num(p['len']) ?? 0, negated };
  return undefined;
}

const FAMILY: Readonly<Record<string, Family>> = { ipv4: 'ipv4', ipv6: 'ipv6', '2': 'ipv4', '10': 'ipv6', ip: 'ipv4', ip6: 'ipv6', icmp: 'ipv4', icmpv6: 'ipv6' };

/** One `match` expression into the draft; unknown matches mark the draft as not understood. */
function match(d: Draft, m: Record<string, Json>): void {
  const op = m['op'] ?? '==';
  const negated = op === '!=';
  const left = obj(m['left']) ?? {};
  const right = m['right'];
  const meta = obj(left['meta'])?.['key'];
  const payload = obj(left['payload']);
  const and = left['&'];
  if (op !== '==' && op !== '!=' && !(op === 'in' && obj(left['ct']))) d.unknown = true;
  else if (meta === 'nfproto' && !negated && FAMILY[String(right)]) d.family = FAMILY[String(right)];
  else if (meta === 'l4proto') {
    const n = num(right) ?? (typeof right === 'string' ? protocolNumber(right) : undefined);
    if (n === undefined) d.unknown = true;
    else d.protocol = { number: n, negated };
  } else if ((meta === 'iifname' || meta === 'oifname') && typeof right === 'string') {
    const i = { name: right.replace(/\*$/, '+'), negated };
    if (meta === 'iifname') d.inInterface = i;
    else d.outInterface = i;
  } else if (Array.isArray(and) && obj(and[0])?.['meta'] && obj(obj(and[0])?.['meta'])?.['key'] === 'mark' && and[1] === DIVERT_MARK_MASK) {
    // The loop-avoidance mark test: on every rule of ours, not part of the DivertRule.
  } else if (obj(left['ct'])?.['key'] === 'state') d.ct = true;
  else if (payload) payloadMatch(d, String(payload['protocol']), String(payload['field']), right, negated);
  else if (Array.isArray(left['concat'])) icmpConcat(d, left['concat'], right, negated);
  else d.unknown = true;
}

/** `icmp type . icmp code != { T . C }`: our form of a negated `--icmp-type T/C`. */
function icmpConcat(d: Draft, parts: readonly Json[], right: Json, negated: boolean): void {
  const [a, b] = parts.map((p) => obj(obj(p)?.['payload']));
  const proto = a?.['protocol'];
  const set = obj(right)?.['set'];
  const pair = Array.isArray(set) && set.length === 1 ? obj(set[0])?.['concat'] : undefined;
  const [type, code] = Array.isArray(pair) ? pair.map((v) => num(v)) : [];
  const ok = parts.length === 2 && (proto === 'icmp' || proto === 'icmpv6') && b?.['protocol'] === proto
    && a?.['field'] === 'type' && b['field'] === 'code' && negated && type !== undefined && code !== undefined;
  if (!ok) {
    d.unknown = true;
    return;
  }
  const fam = FAMILY[String(proto)];
  if (fam) d.family ??= fam;
  d.impliedProtocol = proto === 'icmp' ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  d.icmpType = { type, negated: true };
  d.icmpCode = code;
}

function payloadMatch(d: Draft, proto: string, field: string, right: Json, negated: boolean): void {
  const fam = FAMILY[proto];
  if (fam) d.family ??= fam;
  if ((proto === 'ip' || proto === 'ip6') && (field === 'saddr' || field === 'daddr')) {
    const ep = address(right, negated);
    if (ep) d[field] = ep;
    else d.unknown = true;
    return;
  }
  const portProto = [...PORT_PROTOCOLS].find(([, name]) => name === proto)?.[0];
  const v = values(right);
  if (portProto !== undefined && (field === 'sport' || field === 'dport') && v) {
    d.impliedProtocol = portProto;
    d[field] = { ...v, negated };
    return;
  }
  if ((proto === 'icmp' || proto === 'icmpv6') && (field === 'type' || field === 'code')) {
    d.impliedProtocol = proto === 'icmp' ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    const n = num(right) ?? (typeof right === 'string' && field === 'type' ? icmpTypeNumber(right, proto === 'icmpv6') : undefined);
    if (n === undefined) d.unknown = true;
    else if (field === 'type') d.icmpType = { type: n, negated };
    else if (negated) d.unknown = true;
    else d.icmpCode = n;
    return;
  }
  d.unknown = true;
}

/** Interprets a rule's expressions (see {@link NftParsed}). */
export function parseNftExpr(expr: readonly Json[]): NftParsed {
  const d: Draft = { ct: false, unknown: false };
  let packets = 0;
  let bytes = 0;
  for (const e of expr) {
    const o = obj(e) ?? {};
    if (obj(o['match'])) match(d, obj(o['match']) ?? {});
    else if ('counter' in o) {
      const c = obj(o['counter']);
      if (c) [packets, bytes] = [num(c['packets']) ?? 0, num(c['bytes']) ?? 0];
    } else if ('queue' in o) {
      const q = obj(o['queue']) ?? {};
      const flags = ([] as Json[]).concat(q['flags'] ?? []);
      const v = q['num'] === undefined ? { first: 0, last: 0 } : values(q['num']);
      if (v) d.queue = { ...v, bypass: flags.includes('bypass') };
      else d.unknown = true;
    } else if (!('accept' in o)) d.unknown = true;
  }
  if (d.family === undefined && d.protocol && !d.protocol.negated) d.family = FAMILY[d.protocol.number === IPPROTO_ICMPV6 ? 'icmpv6' : d.protocol.number === IPPROTO_ICMP ? 'icmp' : ''];
  if (d.family === undefined && d.impliedProtocol !== undefined) d.family = FAMILY[d.impliedProtocol === IPPROTO_ICMPV6 ? 'icmpv6' : d.impliedProtocol === IPPROTO_ICMP ? 'icmp' : ''];
  const base = { ...(d.family ? { family: d.family } : {}), packets, bytes };
  if (d.ct && !d.queue) return { kind: 'defrag', ...base };
  if (!d.queue || d.unknown || !d.family) return { kind: d.queue ? 'divert' : 'other', ...base };
  return { kind: 'divert', ...base, rule: toRule(d, d.family, d.queue) };
}

function toRule(d: Draft, family: Family, q: NonNullable<Draft['queue']>): Omit<DivertRule, 'chain'> {
  const protocol = d.protocol ?? (d.impliedProtocol === undefined ? undefined : { number: d.impliedProtocol, negated: false });
  const endpoint = (ep: Endpoint | undefined, ports: PortMatch | undefined): Endpoint | undefined =>
    ep || ports ? { ...(ep ?? { negated: false }), ...(ports ? { ports } : {}) } : undefined;
  const source = endpoint(d.saddr, d.sport);
  const destination = endpoint(d.daddr, d.dport);
  const icmpType: IcmpTypeMatch | undefined = d.icmpType && { ...d.icmpType, ...(d.icmpCode === undefined ? {} : { code: d.icmpCode }) };
  return {
    family,
    ...(protocol ? { protocol } : {}),
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    ...(d.inInterface ? { inInterface: d.inInterface } : {}),
    ...(d.outInterface ? { outInterface: d.outInterface } : {}),
    ...(icmpType ? { icmpType } : {}),
    port: q.first === q.last ? q.first : { first: q.first, last: q.last },
    passThrough: q.bypass,
  };
}
