/**
 * DivertRule ⇄ iptables rule specs, in exactly the word order `iptables -S` prints them, so a
 * spec we generate equals the one we read back.
 *
 * ```
 * [! -s A/P] [! -d A/P] [! -i IF] [! -o IF] [! -p PROTO] [-m tcp [! --sport P] [! --dport P]]
 * [-m icmp [!] --icmp-type T[/C]] -m mark ! --mark 0x40000000/0x40000000
 * -m comment --comment "divert:owner=…" -j NFQUEUE (--queue-num N | --queue-balance A:B) [--queue-bypass]
 * ```
 * @module
 */
import { DIVERT_MARK, DIVERT_MARK_MASK } from './mark.js';

const markMatchText = (): string => `0x${DIVERT_MARK.toString(16)}/0x${DIVERT_MARK_MASK.toString(16)}`;
import { IPPROTO_ICMPV6, PORT_PROTOCOLS, protocolName, savedProtocolNumber } from './protocols.js';
import { HOOK_CHAIN, ownChain, portBounds, type DivertRule, type Endpoint, type Family, type NetfilterHook, type PortMatch } from './rule.js';
import { formatPorts } from './format.js';
import { canonicalNetwork } from './validate.js';
import { JUMP_TAG, parseOwnerTag } from './owner.js';
import type { Owner } from './rule.js';

/** The state list whose conntrack match makes the kernel reassemble fragments (see README). */
export const DEFRAG_CTSTATE = 'INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED';

const neg = (n: boolean): string[] => (n ? ['!'] : []);

function address(flag: string, ep: Endpoint | undefined): string[] {
  return ep?.address === undefined ? [] : [...neg(ep.negated), flag, canonicalNetwork(ep.address, ep.prefix ?? 0)];
}

function ports(flag: string, p: PortMatch | undefined): string[] {
  return p ? [...neg(p.negated), flag, formatPorts(p)] : [];
}

/** Match words of a rule (everything before the owner comment). */
export function matchWords(rule: DivertRule): string[] {
  const w = [...address('-s', rule.source), ...address('-d', rule.destination)];
  if (rule.inInterface) w.push(...neg(rule.inInterface.negated), '-i', rule.inInterface.name);
  if (rule.outInterface) w.push(...neg(rule.outInterface.negated), '-o', rule.outInterface.name);
  const p = rule.protocol;
  if (p) w.push(...neg(p.negated), '-p', protocolName(p.number));
  const sp = rule.source?.ports;
  const dp = rule.destination?.ports;
  if (p && (sp || dp)) w.push('-m', PORT_PROTOCOLS.get(p.number) ?? '?', ...ports('--sport', sp), ...ports('--dport', dp));
  const t = rule.icmpType;
  if (t) {
    const six = p?.number === IPPROTO_ICMPV6;
    const value = t.code === undefined ? String(t.type) : `${t.type}/${t.code}`;
    w.push('-m', six ? 'icmp6' : 'icmp', ...neg(t.negated), six ? '--icmpv6-type' : '--icmp-type', value);
  }
  return w;
}

/** Target words: NFQUEUE with the divert port(s), bypass for pass-through. */
export function targetWords(rule: DivertRule): string[] {
  const { first, last } = portBounds(rule.port);
  const q = first === last ? ['--queue-num', String(first)] : ['--queue-balance', `${first}:${last}`];
  return ['-j', 'NFQUEUE', ...q, ...(rule.passThrough ? ['--queue-bypass'] : [])];
}

const comment = (text: string): string[] => ['-m', 'comment', '--comment', `"${text}"`];

/** Full spec of a DIVERT rule (after `-A <chain>`), with the loop-avoidance mark and the owner tag. */
export function ruleSpec(rule: DivertRule, tag: string): string {
  return [...matchWords(rule), '-m', 'mark', '!', '--mark', markMatchText(), ...comment(tag), ...targetWords(rule)].join(' ');
}

/** The counter-only conntrack rule that turns on defragmentation (no target). */
export function defragSpec(tag: string): string {
  return ['-m', 'conntrack', '--ctstate', DEFRAG_CTSTATE, ...comment(tag)].join(' ');
}

/** The jump from a built-in chain to ours. */
export function jumpSpec(hook: NetfilterHook): string {
  return [...comment(JUMP_TAG), '-j', ownChain(hook)].join(' ');
}

/** Identity of a rule for delete: family, hook, matches and target; never the owner. */
export function ruleKey(rule: DivertRule, hook: NetfilterHook): string {
  return [rule.family, hook, ...matchWords(rule), ...targetWords(rule)].join(' ');
}

/** Splits a spec into words, honouring double quotes (`\"` inside) as iptables-save writes them. */
export function splitSpec(spec: string): string[] {
  const out: string[] = [];
  for (const m of spec.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  return out;
}

/** What one line in one of our chains is. */
export type ParsedSpec =
  | { kind: 'divert'; rule: DivertRule; owner: Owner | undefined }
  | { kind: 'defrag'; owner: Owner | undefined }
  | { kind: 'jump'; target: string }
  /** Carries our owner tag but is not a rule we can rebuild: still listed and removable. */
  | { kind: 'raw'; owner: Owner }
  | { kind: 'foreign' };

/**
 * Reads an `iptables -S` spec back into a rule. A spec with our owner tag that is not a rule we
 * can rebuild is `raw` (listed without a rule, removed by its saved text); anything else we did
 * not write is `foreign`.
 */
export function parseSpec(spec: string, hook: NetfilterHook, family: Family): ParsedSpec {
  const p = parseWords(splitSpec(spec), hook, family);
  if (p.kind !== 'foreign') return p;
  const w = splitSpec(spec);
  const at = w.indexOf('--comment');
  const owner = at >= 0 ? parseOwnerTag(w[at + 1] ?? '') : undefined;
  return owner ? { kind: 'raw', owner } : p;
}

function parseWords(w: readonly string[], hook: NetfilterHook, family: Family): ParsedSpec {
  const r: Record<string, unknown> & { passThrough: boolean } = { passThrough: false };
  let owner: Owner | undefined;
  let tag: string | undefined;
  let ct = false;
  let mark = false;
  let target: string | undefined;
  let port: number | { first: number; last: number } | undefined;
  for (let i = 0, n = false; i < w.length; i++, n = false) {
    if (w[i] === '!') [n, i] = [true, i + 1];
    const opt = w[i] ?? '';
    const v = w[i + 1] ?? '';
    switch (opt) {
      case '-s': case '-d': {
        const [a = '', p = ''] = v.split('/');
        const key = opt === '-s' ? 'source' : 'destination';
        r[key] = { ...(r[key] as object | undefined), address: a, prefix: Number(p || (a.includes(':') ? 128 : 32)), negated: n };
        i++; break;
      }
      case '-i': case '-o': r[opt === '-i' ? 'inInterface' : 'outInterface'] = { name: v, negated: n }; i++; break;
      case '-p': {
        const num = savedProtocolNumber(v);
        if (num === undefined || (num === 0 && n)) return { kind: 'foreign' };
        if (num !== 0) r['protocol'] = { number: num, negated: n };
        i++; break;
      }
      case '-m': i++; break;
      case '--sport': case '--dport': {
        const key = opt === '--sport' ? 'source' : 'destination';
        const [a = '', b] = v.split(':');
        const pm: PortMatch = { first: Number(a || 0), last: b === undefined ? Number(a) : Number(b || 65535), negated: n };
        r[key] = { negated: false, ...(r[key] as object | undefined), ports: pm };
        i++; break;
      }
      case '--icmp-type': case '--icmpv6-type': {
        const [t = '', c] = v === 'any' && opt === '--icmp-type' ? ['255'] : v.split('/');
        if (!/^\d+$/.test(t)) return { kind: 'foreign' };
        r['icmpType'] = { type: Number(t), ...(c === undefined ? {} : { code: Number(c) }), negated: n }; i++; break;
      }
      case '--mark': mark = n && v === markMatchText(); i++; break;
      case '--comment': tag = v; owner = parseOwnerTag(v); i++; break;
      case '--ctstate': ct = v === DEFRAG_CTSTATE; i++; break;
      case '-j': target = v; i++; break;
      case '--queue-num': port = Number(v); i++; break;
      case '--queue-balance': {
        const [a = '', b = ''] = v.split(':');
        port = { first: Number(a), last: Number(b) }; i++; break;
      }
      case '--queue-bypass': r.passThrough = true; break;
      case '--queue-cpu-fanout': return { kind: 'foreign' };
      default: return { kind: 'foreign' };
    }
  }
  if (target === undefined) return ct && owner ? { kind: 'defrag', owner } : { kind: 'foreign' };
  if (tag === JUMP_TAG && target.startsWith('DIVERT-')) return { kind: 'jump', target };
  if (target !== 'NFQUEUE' || port === undefined || !mark) return { kind: 'foreign' };
  const rule = { ...r, chain: HOOK_CHAIN[hook], family, port, ...(owner ? { owner } : {}) } as unknown as DivertRule;
  return { kind: 'divert', rule, owner };
}
