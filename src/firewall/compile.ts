/**
 * A DIVERT rule as nf_tables expressions, for a rule in an `inet` table (both families, so the
 * family is a match of its own). What `nft --debug=netlink` would print for
 * `-A input -p tcp -s 198.18.0.0/24 --dport 80 -i eth0 -j DIVERT 1234`:
 *
 * ```
 * [ meta load nfproto => reg 1 ]                         family
 * [ cmp eq reg 1 0x00000002 ]
 * [ meta load l4proto => reg 1 ]                         -p tcp
 * [ cmp eq reg 1 0x00000006 ]
 * [ payload load 4b @ network header + 12 => reg 1 ]     -s 198.18.0.0/24
 * [ bitwise reg 1 = ( reg 1 & 0x00ffffff ) ^ 0x00000000 ]
 * [ cmp eq reg 1 0x000012c6 ]
 * [ payload load 2b @ transport header + 2 => reg 1 ]    --dport 80
 * [ cmp eq reg 1 0x00005000 ]
 * [ meta load iifname => reg 1 ]                         -i eth0
 * [ cmp eq reg 1 0x30687465 0x00000000 0x00000000 0x00000000 ]
 * [ meta load mark => reg 1 ]                            not a packet divert injected (no loops)
 * [ bitwise reg 1 = ( reg 1 & 0x40000000 ) ^ 0x00000000 ]
 * [ cmp eq reg 1 0x00000000 ]
 * [ counter pkts 0 bytes 0 ]
 * [ queue num 1234 ]                                     where the kernel has nft_queue, else
 * [ immediate reg 0 jump queue-1234 ]                    to a chain holding the one rule
 *                                                        [ target name NFQUEUE rev 3 ]
 * ```
 * Why a chain for the xtables target: every rule that brings an nft_compat expression makes the
 * kernel wait for pending destructors (an RCU grace period, 10–25 ms) when it is added after a
 * deletion; a rule that only jumps is added in a fraction of a millisecond. So the compat
 * target sits once per port (range, bypass) in its own chain, and DIVERT rules jump to it.
 * The protocol match comes before any transport-header load, so a port or ICMP type is only
 * read from a packet of that protocol; on a non-first fragment a transport load finds no header
 * and the rule does not match (as iptables' port matches). `meta l4proto` skips IPv6 extension
 * headers.
 * @module
 */
import type { Expr } from '../nftables/expr_types.js';
import { NFT_CMP, NFT_CT, NFT_META, NFT_PAYLOAD, NFT_RANGE, NFT_REG, CT_STATE, NFQ_FLAG } from '../nftables/expr_constants.js';
import { NFT_VERDICT } from '../nftables/constants.js';
import { NFPROTO } from '../netlink/netfilter.js';
import { tryParseIpv4, tryParseIpv6 } from '../ip/address.js';
import { DIVERT_MARK, DIVERT_MARK_MASK } from './mark.js';
import { portBounds, type DivertRule, type Endpoint, type Family, type InterfaceMatch, type PortMatch } from './rule.js';
import { PORT_PROTOCOLS } from './protocols.js';

const R1 = NFT_REG.NFT_REG_1;
const { NFT_CMP_EQ: EQ, NFT_CMP_NEQ: NEQ } = NFT_CMP;

/** How the kernel is asked to queue: the native `queue` expression or the xtables NFQUEUE target. */
export type QueueVerdict = 'queue' | 'compat';

/** The chain holding the compat NFQUEUE target of a port (range) and its bypass and fanout settings. */
export function queueChainName(rule: Pick<DivertRule, 'port' | 'passThrough' | 'cpuFanout'>): string {
  const { first, last } = portBounds(rule.port);
  return `queue-${first}${last === first ? '' : `-${last}`}${rule.passThrough ? '-bypass' : ''}${rule.cpuFanout ? '-fanout' : ''}`;
}

/**
 * The expressions of a DIVERT rule, its verdict included: the queue expression, or (compat) a
 * jump to {@link queueChainName}'s chain, which holds {@link queueExpr}'s target.
 */
export function compileRule(rule: DivertRule, verdict: QueueVerdict): Expr[] {
  return [...compileMatches(rule), ...divertTail(rule, verdict, true)];
}

/** The matches of a DIVERT rule, without what ends it ({@link divertTail} or {@link logTail}). */
export function compileMatches(rule: DivertRule): Expr[] {
  const six = rule.family === 'ipv6';
  const out: Expr[] = [...family(rule.family)];
  const p = rule.protocol;
  if (p) out.push(meta(NFT_META.NFT_META_L4PROTO), cmp(p.negated ? NEQ : EQ, Uint8Array.of(p.number)));
  out.push(...address(rule.source, six ? 8 : 12, six), ...address(rule.destination, six ? 24 : 16, six));
  if (p && !p.negated && PORT_PROTOCOLS.has(p.number)) {
    out.push(...ports(rule.source?.ports, 0), ...ports(rule.destination?.ports, 2));
  }
  const t = rule.icmpType;
  if (t) {
    if (t.code !== undefined && t.negated) {
      // "! --icmp-type T/C" is "not (type T and code C)": both bytes in one comparison.
      out.push(load(NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2), cmp(NEQ, Uint8Array.of(t.type, t.code)));
    } else {
      out.push(load(NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1), cmp(t.negated ? NEQ : EQ, Uint8Array.of(t.type)));
      if (t.code !== undefined) out.push(load(NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, 1, 1), cmp(EQ, Uint8Array.of(t.code)));
    }
  }
  out.push(...iface(NFT_META.NFT_META_IIFNAME, rule.inInterface), ...iface(NFT_META.NFT_META_OIFNAME, rule.outInterface));
  return out;
}

/**
 * What ends every rule that diverts: the loop-avoidance test (unless `skipInjected` is false), the
 * counter, and the queue verdict or the jump to the queue chain.
 */
export function divertTail(target: Pick<DivertRule, 'port' | 'passThrough' | 'cpuFanout'>, verdict: QueueVerdict, skipInjected: boolean): Expr[] {
  const jump: Expr = { type: 'immediate', dreg: NFT_REG.NFT_REG_VERDICT, data: { verdict: { code: NFT_VERDICT.NFT_JUMP, chain: queueChainName(target) } } };
  return [...(skipInjected ? notInjected() : []), { type: 'counter', packets: 0, bytes: 0 }, verdict === 'queue' ? queueExpr(target, 'queue') : jump];
}

/** Where a sniffing rule sends its copies: NFLOG group `group` (the sniffing socket's port). */
export interface SniffTarget {
  /** The NFLOG group (0–65535). */
  readonly group: number;
  /** Bytes of each packet the kernel copies (NFTA_LOG_SNAPLEN); default: as the group's copy range says. */
  readonly snaplen?: number | undefined;
}

/**
 * What ends every rule that sniffs (`log group N`, in nft's words): the loop-avoidance test
 * (unless `skipInjected` is false), the counter, and the log expression. It has no verdict: the
 * kernel hands a copy to NFLOG group N and the packet goes on to the next rule at once, whether
 * anyone listens, reads slowly or not at all (a copy that finds no room is lost, never the packet).
 */
export function logTail(target: SniffTarget, skipInjected: boolean): Expr[] {
  return [...(skipInjected ? notInjected() : []), { type: 'counter', packets: 0, bytes: 0 }, logExpr(target)];
}

/** `log group N [snaplen S]`: no prefix (the kernel then sends an empty one), no level (EINVAL with a group). */
export function logExpr(target: SniffTarget): Expr {
  return { type: 'log', group: target.group, ...(target.snaplen !== undefined ? { snaplen: target.snaplen } : {}) };
}

/**
 * The always-defragment rule of a family: a conntrack-state match that every packet passes. Any
 * `ct` expression makes the kernel register conntrack and its defragmenter (nf_defrag, priority
 * -400) in the namespace, so packets reach the divert chains whole. NB: in an inet table that is
 * for IPv4 *and* IPv6, whatever the family match (which only limits what the rule counts).
 */
export function compileDefrag(f: Family): Expr[] {
  const all = CT_STATE.invalid | CT_STATE.established | CT_STATE.related | CT_STATE.new | CT_STATE.untracked;
  return [
    ...family(f),
    { type: 'ct', key: NFT_CT.NFT_CT_STATE, dreg: R1 },
    bitwise(u32ne(all)),
    cmp(NEQ, u32ne(0)),
    { type: 'counter', packets: 0, bytes: 0 },
  ];
}

function family(f: Family): Expr[] {
  return [meta(NFT_META.NFT_META_NFPROTO), cmp(EQ, Uint8Array.of(f === 'ipv6' ? NFPROTO.NFPROTO_IPV6 : NFPROTO.NFPROTO_IPV4))];
}

function meta(key: number): Expr {
  return { type: 'meta', key, dreg: R1 };
}

function load(base: number, offset: number, len: number): Expr {
  return { type: 'payload', base, offset, len, dreg: R1 };
}

function cmp(op: number, data: Uint8Array): Expr {
  return { type: 'cmp', op, sreg: R1, data };
}

function bitwise(mask: Uint8Array): Expr {
  return { type: 'bitwise', sreg: R1, dreg: R1, len: mask.length, mask, xor: new Uint8Array(mask.length) };
}

/** A host-order u32 as a register holds it (meta mark, ct state). */
function u32ne(n: number): Uint8Array {
  return new Uint8Array(new Uint32Array([n >>> 0]).buffer);
}

/** `-s`/`-d`: the address bytes at `offset` of the network header, masked to the prefix. */
function address(ep: Endpoint | undefined, offset: number, six: boolean): Expr[] {
  if (ep?.address === undefined) return [];
  const bytes = six ? tryParseIpv6(ep.address) : tryParseIpv4(ep.address);
  if (!bytes) throw new TypeError(`Not an ${six ? 'IPv6' : 'IPv4'} address: ${JSON.stringify(ep.address)}`);
  const prefix = ep.prefix ?? bytes.length * 8;
  const mask = prefixMask(bytes.length, prefix);
  const net = bytes.map((b, i) => b & mask[i]!);
  const out: Expr[] = [load(NFT_PAYLOAD.NFT_PAYLOAD_NETWORK_HEADER, offset, bytes.length)];
  if (prefix < bytes.length * 8) out.push(bitwise(mask));
  out.push(cmp(ep.negated ? NEQ : EQ, net));
  return out;
}

/** `prefix` leading one bits in `len` bytes. */
function prefixMask(len: number, prefix: number): Uint8Array {
  const mask = new Uint8Array(len);
  for (let i = 0; i < len; i++) mask[i] = (0xff << (8 - Math.max(0, Math.min(8, prefix - i * 8)))) & 0xff;
  return mask;
}

/** A port or port range at `offset` of the transport header (big-endian u16). */
function ports(p: PortMatch | undefined, offset: number): Expr[] {
  if (!p) return [];
  const be = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
  const l = load(NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset, 2);
  if (p.first === p.last) return [l, cmp(p.negated ? NEQ : EQ, be(p.first))];
  return [l, { type: 'range', op: p.negated ? NFT_RANGE.NFT_RANGE_NEQ : NFT_RANGE.NFT_RANGE_EQ, sreg: R1, from: be(p.first), to: be(p.last) }];
}

/**
 * `-i`/`-o`: the interface name as a 16-byte register (IFNAMSIZ, NUL padded); a trailing `+`
 * compares only the bytes before it (nft's `"eth*"`).
 */
function iface(key: number, m: InterfaceMatch | undefined): Expr[] {
  if (!m) return [];
  const wildcard = m.name.endsWith('+');
  const name = new TextEncoder().encode(wildcard ? m.name.slice(0, -1) : m.name);
  const data = wildcard ? name : new Uint8Array(16);
  if (!wildcard) data.set(name);
  return [meta(key), cmp(m.negated ? NEQ : EQ, data)];
}

/** `meta mark & DIVERT_MARK == 0`: packets divert injected carry the mark and pass untouched. */
function notInjected(): Expr[] {
  if (DIVERT_MARK_MASK !== DIVERT_MARK) throw new Error('DIVERT_MARK must be a single bit mask');
  return [meta(NFT_META.NFT_META_MARK), bitwise(u32ne(DIVERT_MARK_MASK)), cmp(EQ, u32ne(0))];
}

/** NFQUEUE to the rule's port or ports, bypassing when nobody listens if the rule says so. */
export function queueExpr(rule: Pick<DivertRule, 'port' | 'passThrough' | 'cpuFanout'>, verdict: QueueVerdict): Expr {
  const { first, last } = portBounds(rule.port);
  const total = last - first + 1;
  const flags = (rule.passThrough ? NFQ_FLAG.NFQ_FLAG_BYPASS : 0) | (rule.cpuFanout ? NFQ_FLAG.NFQ_FLAG_CPU_FANOUT : 0);
  if (verdict === 'queue') return { type: 'queue', num: first, total, flags };
  // struct xt_NFQ_info_v3 { __u16 queuenum; __u16 queues_total; __u16 flags; } in host order.
  const info = new Uint8Array(new Uint16Array([first, total, flags]).buffer);
  return { type: 'target', name: 'NFQUEUE', rev: 3, info };
}
