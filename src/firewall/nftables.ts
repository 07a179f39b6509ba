/**
 * nftables: detection of the native `queue` statement and the text a native backend would load.
 *
 * Status: this kernel has CONFIG_NFT_QUEUE unset, so `queue` is refused ("No such file or
 * directory") and `detectBackend()` selects iptables (whose xt NFQUEUE target works on
 * iptables-nft too). The generated text is checked with `nft -c` (parses, and only the queue
 * statement is refused here); a full `FirewallBackend` on top of it is TODO(#3).
 *
 * Layout: table `inet divert`, one base chain per hook at priority mangle (-150), output as
 * `type route` like iptables' mangle OUTPUT; every rule carries the owner tag as its comment.
 * @module
 */
import type { Plan } from './runner.js';
import { FirewallError } from '../errors.js';
import { CHAIN_HOOK, HOOKS, portBounds, type DivertRule, type Endpoint, type NetfilterHook, type PortMatch } from './rule.js';
import { IPPROTO_ICMPV6, PORT_PROTOCOLS, protocolName } from './protocols.js';
import { DIVERT_MARK, DIVERT_MARK_MASK } from './mark.js';
import { canonicalNetwork } from './validate.js';

export const NFT_TABLE = 'divert';

const NFT_HOOK: Readonly<Record<NetfilterHook, string>> = {
  PREROUTING: 'prerouting', INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', POSTROUTING: 'postrouting',
};

/** The table with one base chain per hook (idempotent with `nft -f`). */
export function nftTableText(table = NFT_TABLE): string {
  const chains = HOOKS.map((h) => {
    const type = h === 'OUTPUT' ? 'route' : 'filter';
    return `\tchain ${NFT_HOOK[h]} {\n\t\ttype ${type} hook ${NFT_HOOK[h]} priority mangle; policy accept;\n\t}\n`;
  });
  return `table inet ${table} {\n${chains.join('')}}\n`;
}

const ne = (negated: boolean): string => (negated ? '!= ' : '');
const range = (p: { first: number; last: number }): string => (p.first === p.last ? String(p.first) : `${p.first}-${p.last}`);

function nftAddress(dir: 'saddr' | 'daddr', ep: Endpoint | undefined, six: boolean): string[] {
  if (ep?.address === undefined) return [];
  const net = canonicalNetwork(ep.address, ep.prefix ?? 0);
  const value = net.endsWith(six ? '/128' : '/32') ? net.slice(0, net.lastIndexOf('/')) : net;
  return [`${six ? 'ip6' : 'ip'} ${dir} ${ne(ep.negated)}${value}`];
}

function nftPorts(proto: string, dir: 'sport' | 'dport', p: PortMatch | undefined): string[] {
  return p ? [`${proto} ${dir} ${ne(p.negated)}${range(p)}`] : [];
}

/** `add rule inet divert <hook> …` for one DIVERT rule (native `queue` statement). */
export function nftRuleText(rule: DivertRule, tag: string, table = NFT_TABLE): string {
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
    w.push(`${kw} type ${ne(t.negated)}${t.type}`, ...(t.code === undefined ? [] : [`${kw} code ${t.code}`]));
  }
  w.push(`meta mark & 0x${DIVERT_MARK_MASK.toString(16)} != 0x${DIVERT_MARK.toString(16)}`, 'counter');
  const b = portBounds(rule.port);
  w.push(`queue ${rule.passThrough ? 'flags bypass ' : ''}to ${range(b)}`, `comment "${tag}"`);
  return `add rule inet ${table} ${NFT_HOOK[CHAIN_HOOK[rule.chain]]} ${w.join(' ')}`;
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
