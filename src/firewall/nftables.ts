/**
 * nftables text: the table `inet divert`, DIVERT rules with the native `queue` statement, the
 * defrag rule, and detection of `queue` support ({@link probeNftQueue}).
 *
 * Layout: table `inet divert` with a named counter `in_use` and one base chain per hook at
 * priority mangle (-150; output is `type route` like iptables' mangle OUTPUT). Every rule of
 * ours references `in_use`, so the kernel refuses to delete that counter (EBUSY) while any rule
 * remains: tidy's `delete counter …; delete table …` transaction is an atomic "delete the table
 * if it is empty". Every rule carries the owner tag as its comment.
 * @module
 */
import type { Plan } from './runner.js';
import { FirewallError } from '../errors.js';
import { CHAIN_HOOK, HOOKS, portBounds, type DivertRule, type Endpoint, type Family, type NetfilterHook, type PortMatch } from './rule.js';
import { IPPROTO_ICMPV6, PORT_PROTOCOLS, protocolName } from './protocols.js';
import { DIVERT_MARK, DIVERT_MARK_MASK } from './mark.js';
import { canonicalNetwork } from './validate.js';
import { validateRule } from './validate_rule.js';
import { parseOwnerTag } from './owner.js';

export const NFT_TABLE = 'divert';
/** Named counter every rule of ours references (see the module comment). */
export const NFT_GUARD = 'in_use';

/** Netfilter hook → our base chain (named after the nft hook). */
export const NFT_HOOK: Readonly<Record<NetfilterHook, string>> = {
  PREROUTING: 'prerouting', INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', POSTROUTING: 'postrouting',
};

/** The table with the guard counter and one base chain per hook (idempotent with `nft -f`). */
export function nftTableText(table = NFT_TABLE): string {
  const chains = HOOKS.map((h) => {
    const type = h === 'OUTPUT' ? 'route' : 'filter';
    return `\tchain ${NFT_HOOK[h]} {\n\t\ttype ${type} hook ${NFT_HOOK[h]} priority mangle; policy accept;\n\t}\n`;
  });
  return `table inet ${table} {\n\tcounter ${NFT_GUARD} {\n\t}\n${chains.join('')}}\n`;
}

const ne = (negated: boolean): string => (negated ? '!= ' : '');
const range = (p: { first: number; last: number }): string => (p.first === p.last ? String(p.first) : `${p.first}-${p.last}`);

function nftAddress(dir: 'saddr' | 'daddr', ep: Endpoint | undefined, six: boolean): string[] {
  if (ep?.address === undefined) return [];
  const net = canonicalNetwork(ep.address, ep.prefix ?? (six ? 128 : 32));
  const value = net.endsWith(six ? '/128' : '/32') ? net.slice(0, net.lastIndexOf('/')) : net;
  return [`${six ? 'ip6' : 'ip'} ${dir} ${ne(ep.negated)}${value}`];
}

function nftPorts(proto: string, dir: 'sport' | 'dport', p: PortMatch | undefined): string[] {
  return p ? [`${proto} ${dir} ${ne(p.negated)}${range(p)}`] : [];
}

/** The common tail: loop-avoidance mark test, guard reference and the rule's own counter. */
const TAIL = `meta mark & 0x${DIVERT_MARK_MASK.toString(16)} != 0x${DIVERT_MARK.toString(16)} counter name "${NFT_GUARD}" counter`;

/**
 * Rule body (what follows `add rule inet divert <chain>`) of one DIVERT rule. `verdict`
 * replaces the `queue` statement (internal: tests on kernels without CONFIG_NFT_QUEUE).
 * @throws TypeError/RangeError when a field would not be safe nft text (see {@link checkNftRule}).
 */
export function nftRuleBody(rule: DivertRule, tag: string, verdict?: string): string {
  checkNftRule(rule);
  checkTag(tag);
  const six = rule.family === 'ipv6';
  const w = [`meta nfproto ${rule.family}`, ...nftAddress('saddr', rule.source, six), ...nftAddress('daddr', rule.destination, six)];
  const iface = (kw: string, m: { name: string; negated: boolean }): string => `${kw} ${ne(m.negated)}"${m.name.replace(/\+$/, '*')}"`;
  if (rule.inInterface) w.push(iface('iifname', rule.inInterface));
  if (rule.outInterface) w.push(iface('oifname', rule.outInterface));
  const p = rule.protocol;
  if (p) w.push(`meta l4proto ${ne(p.negated)}${p.number === IPPROTO_ICMPV6 ? 'ipv6-icmp' : protocolName(p.number)}`);
  const pname = p ? PORT_PROTOCOLS.get(p.number) : undefined;
  if (pname) w.push(...nftPorts(pname, 'sport', rule.source?.ports), ...nftPorts(pname, 'dport', rule.destination?.ports));
  const t = rule.icmpType;
  if (t) {
    const kw = six ? 'icmpv6' : 'icmp';
    // ! --icmp-type T/C is "not (type T and code C)": one concatenated match (nft takes a
    // concatenation only against a set, here of one element), not "type != T and code C".
    if (t.code !== undefined && t.negated) w.push(`${kw} type . ${kw} code != { ${t.type} . ${t.code} }`);
    else w.push(`${kw} type ${ne(t.negated)}${t.type}`, ...(t.code === undefined ? [] : [`${kw} code ${t.code}`]));
  }
  const b = portBounds(rule.port);
  w.push(TAIL, verdict ?? `queue ${rule.passThrough ? 'flags bypass ' : ''}to ${range(b)}`, `comment "${tag}"`);
  return w.join(' ');
}

/** `add rule inet divert <hook> …` for one DIVERT rule (native `queue` statement). */
export function nftRuleText(rule: DivertRule, tag: string, table = NFT_TABLE): string {
  return `add rule inet ${table} ${NFT_HOOK[CHAIN_HOOK[rule.chain]]} ${nftRuleBody(rule, tag)}`;
}

/** The conntrack states whose match turns on defragmentation (every state: matches all). */
export const NFT_CT_STATES = 'invalid,new,related,established,untracked';

/**
 * Body of the defrag rule (prerouting): a `ct` expression makes the kernel register conntrack
 * and nf_defrag for the table's family in that netns. NB: the table is `inet`, so that means
 * IPv4 *and* IPv6 whatever the rule's `meta nfproto`, which only limits what it counts.
 */
export function nftDefragBody(family: Family, tag: string): string {
  checkTag(tag);
  if (family !== 'ipv4' && family !== 'ipv6') throw new TypeError(`Unknown family ${JSON.stringify(family)}`);
  return `meta nfproto ${family} ct state ${NFT_CT_STATES} counter name "${NFT_GUARD}" counter comment "${tag}"`;
}

function checkTag(tag: string): void {
  if (parseOwnerTag(tag) === undefined) throw new TypeError(`Not an owner tag: ${JSON.stringify(tag)} (expected divert:owner=…)`);
}

/**
 * Checks every field of a rule that ends up in nft text (rules may come as objects, not only
 * through the parser): the same {@link validateRule} as every other path.
 */
export function checkNftRule(rule: DivertRule): void {
  validateRule(rule);
}

/**
 * Asks the kernel (check mode, nothing is committed) whether it accepts the native `queue`
 * statement. False when it refuses, or when nft is missing or not permitted.
 */
export function* probeNftQueue(): Plan<boolean> {
  const text = `${nftTableText('divert_probe')}add rule inet divert_probe output queue flags bypass to 0\n`;
  try {
    yield { file: 'nft', args: ['-c', '-f', '-'], input: text };
    return true;
  } catch (err) {
    if (err instanceof FirewallError) return false;
    throw err;
  }
}
