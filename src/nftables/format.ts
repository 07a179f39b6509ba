/**
 * Renders expressions in `nft --debug=netlink` notation, exactly as nft 1.0.6 prints them
 * (the text comes from libnftnl 1.2.4's `*_snprintf`), so tests and debugging compare text
 * with nft:
 *
 * ```
 * inet t c
 *   [ meta load l4proto => reg 1 ]
 *   [ cmp eq reg 1 0x00000006 ]
 *   [ payload load 2b @ transport header + 2 => reg 1 ]
 *   [ target name NFQUEUE rev 3 ]
 *   userdata = { \x00\x03hi\x00 }
 * ```
 * Register data prints as 32-bit words read in HOST order, zero-padded (libnftnl prints its
 * `uint32_t val[]`), so port 443 (bytes 01 bb) reads 0x0000bb01 on little-endian hosts.
 * Quirks kept on purpose: `ct` key 23 (id) and `meta` keys past 34 print "unknown".
 * @module
 */
import { u32ne } from '../netlink/bytes.js';
import { familyName, NFT_VERDICT } from './constants.js';
import { NF_LOG, NFT_BITWISE, NFT_EXTHDR_F, NFT_EXTHDR_OP, NFT_NG, NFT_QUEUE_FLAG } from './expr_constants.js';
import type { CtExpr, Expr, ExthdrExpr, LogExpr, NftData, PayloadExpr, QueueExpr } from './expr_types.js';
import type { Rule } from './rule.js';

const META_KEYS = [
  'len', 'protocol', 'priority', 'mark', 'iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'skuid', 'skgid',
  'nftrace', 'rtclassid', 'secmark', 'nfproto', 'l4proto', 'bri_iifname', 'bri_oifname', 'pkttype', 'cpu', 'iifgroup',
  'oifgroup', 'cgroup', 'prandom', 'secpath', 'iifkind', 'oifkind', 'bri_iifpvid', 'bri_iifvproto', 'time', 'day',
  'hour', 'sdif', 'sdifname',
];
const CT_KEYS = [
  'state', 'direction', 'status', 'mark', 'secmark', 'expiration', 'helper', 'l3protocol', 'src', 'dst', 'protocol',
  'proto_src', 'proto_dst', 'label', 'packets', 'bytes', 'avgpkt', 'zone', 'event', 'src_ip', 'dst_ip', 'src_ip6', 'dst_ip6',
];
const BASES = ['link', 'network', 'transport', 'inner'];
const CMP_OPS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte'];

/** One expression: `[ cmp eq reg 1 0x00000006 ]`. */
export function formatExpr(e: Expr): string {
  const name = e.type === 'unknown' ? e.name : e.type;
  return `[ ${name} ${body(e)}]`;
}

/** An expression list, one `  [ … ]` line each, as nft prints a rule's body. */
export function formatExprs(exprs: readonly Expr[]): string {
  return exprs.map((e) => `  ${formatExpr(e)}`).join('\n');
}

/** A rule as `nft --debug=netlink` prints it: header line, expressions, user data. */
export function formatRule(r: Rule): string {
  const head = [familyName(r.family), r.table, r.chain, r.handle, r.position, r.id, r.positionId].filter((x) => x !== undefined).join(' ');
  const lines = [head];
  if (r.exprs.length > 0) lines.push(formatExprs(r.exprs));
  if (r.userdata !== undefined && r.userdata.length > 0) lines.push(`  userdata = { ${escapeBytes(r.userdata)} }`);
  return lines.join('\n');
}

/** The words after the expression name, each followed by a space (libnftnl's snprintf output). */
function body(e: Expr): string {
  switch (e.type) {
    case 'meta':
      return e.sreg !== undefined ? `set ${metaKey(e.key)} with reg ${e.sreg} ` : e.dreg !== undefined ? `load ${metaKey(e.key)} => reg ${e.dreg} ` : '';
    case 'payload':
      return payload(e);
    case 'exthdr':
      return exthdr(e);
    case 'cmp':
      return `${CMP_OPS[e.op] ?? 'unknown'} reg ${e.sreg} ${words(e.data)}`;
    case 'bitwise':
      return bitwise(e.op ?? 0, e.dreg, e.sreg, e.mask, e.xor, e.data);
    case 'range':
      return `${['eq', 'neq'][e.op] ?? 'unknown'} reg ${e.sreg} ${words(e.from)}${words(e.to)}`;
    case 'lookup':
      return `reg ${e.sreg} set ${e.set ?? '(null)'} ${e.dreg !== undefined ? `dreg ${e.dreg} ` : ''}${e.flags !== undefined ? `0x${e.flags.toString(16)} ` : ''}`;
    case 'counter':
      return `pkts ${e.packets ?? 0} bytes ${e.bytes ?? 0} `;
    case 'immediate':
      return `reg ${e.dreg} ${data(e.data)}`;
    case 'ct':
      return ct(e);
    case 'numgen': {
      const kind = e.ngType === NFT_NG.NFT_NG_INCREMENTAL ? 'inc' : e.ngType === NFT_NG.NFT_NG_RANDOM ? 'random' : undefined;
      if (!kind) return '';
      return `reg ${e.dreg} = ${kind} mod ${e.modulus} ${e.offset ? `offset ${e.offset} ` : ''}`;
    }
    case 'log':
      return log(e);
    case 'queue':
      return queue(e);
    case 'target':
    case 'match':
      return `name ${e.name} rev ${e.rev} `;
    case 'unknown':
      return '';
  }
}

function metaKey(key: number): string {
  return META_KEYS[key] ?? 'unknown';
}

function payload(e: PayloadExpr): string {
  const base = BASES[e.base] ?? 'unknown';
  if (e.sreg) {
    return `write reg ${e.sreg} => ${e.len}b @ ${base} header + ${e.offset} csum_type ${e.csumType ?? 0} csum_off ${e.csumOffset ?? 0} csum_flags 0x${(e.csumFlags ?? 0).toString(16)} `;
  }
  return `load ${e.len}b @ ${base} header + ${e.offset} => reg ${e.dreg ?? 0} `;
}

function exthdr(e: ExthdrExpr): string {
  const op = e.op === NFT_EXTHDR_OP.NFT_EXTHDR_OP_TCPOPT ? ' tcpopt' : e.op === NFT_EXTHDR_OP.NFT_EXTHDR_OP_IPV6 ? ' ipv6'
    : e.op === NFT_EXTHDR_OP.NFT_EXTHDR_OP_IPV4 ? ' ipv4' : '';
  if (e.dreg !== undefined) {
    const present = ((e.flags ?? 0) & NFT_EXTHDR_F.NFT_EXTHDR_F_PRESENT) !== 0 ? ' present' : '';
    return `load${op} ${e.len}b @ ${e.exthdrType} + ${e.offset}${present} => reg ${e.dreg} `;
  }
  if (e.sreg !== undefined) return `write${op} reg ${e.sreg} => ${e.len}b @ ${e.exthdrType} + ${e.offset} `;
  if (e.op === NFT_EXTHDR_OP.NFT_EXTHDR_OP_TCPOPT && e.len === 0) return `reset tcpopt ${e.exthdrType} `;
  return `op ${e.op ?? 0} len ${e.len} type ${e.exthdrType} offset ${e.offset} `;
}

function bitwise(op: number, dreg: number, sreg: number, mask?: Uint8Array, xor?: Uint8Array, shift?: Uint8Array): string {
  if (op === NFT_BITWISE.NFT_BITWISE_MASK_XOR) return `reg ${dreg} = ( reg ${sreg} & ${words(mask)}) ^ ${words(xor)}`;
  if (op === NFT_BITWISE.NFT_BITWISE_LSHIFT) return `reg ${dreg} = ( reg ${sreg} << ${words(shift)}) `;
  if (op === NFT_BITWISE.NFT_BITWISE_RSHIFT) return `reg ${dreg} = ( reg ${sreg} >> ${words(shift)}) `;
  return '';
}

function ct(e: CtExpr): string {
  const key = e.key < CT_KEYS.length ? CT_KEYS[e.key]! : 'unknown';
  let out = e.dreg !== undefined ? `load ${key} => reg ${e.dreg} ` : e.sreg !== undefined ? `set ${key} with reg ${e.sreg} ` : '';
  if (e.direction !== undefined) out += `, dir ${['original', 'reply'][e.direction] ?? 'unknown'} `;
  return out;
}

function log(e: LogExpr): string {
  let out = e.prefix !== undefined ? `prefix ${e.prefix} ` : '';
  if (e.group !== undefined) return `${out}group ${e.group} snaplen ${e.snaplen ?? 0} qthreshold ${e.qthreshold ?? 0} `;
  if (e.level !== undefined) out += `level ${e.level} `;
  if (e.flags !== undefined) {
    const names: Array<[number, string]> = [
      [NF_LOG.NF_LOG_TCPSEQ, 'tcpseq'], [NF_LOG.NF_LOG_TCPOPT, 'tcpopt'], [NF_LOG.NF_LOG_IPOPT, 'ipopt'],
      [NF_LOG.NF_LOG_UID, 'uid'], [NF_LOG.NF_LOG_MACDECODE, 'macdecode'],
    ];
    for (const [bit, name] of names) if (e.flags & bit) out += `${name} `;
  }
  return out;
}

function queue(e: QueueExpr): string {
  let out = '';
  if (e.num !== undefined) {
    const last = (e.num + (e.total ?? 0) - 1) & 0xffff;
    out += `num ${e.num}${e.total && last !== e.num ? `-${last}` : ''} `;
  }
  if (e.sregQnum !== undefined) out += `sreg_qnum ${e.sregQnum} `;
  if (e.flags !== undefined) {
    if (e.flags & NFT_QUEUE_FLAG.NFT_QUEUE_FLAG_BYPASS) out += 'bypass ';
    if (e.flags & NFT_QUEUE_FLAG.NFT_QUEUE_FLAG_CPU_FANOUT) out += 'fanout ';
  }
  return out;
}

function data(d: NftData): string {
  if ('value' in d) return words(d.value);
  return `${verdictName(d.verdict.code)} ${d.verdict.chain !== undefined ? `-> ${d.verdict.chain} ` : ''}`;
}

const VERDICT_NAMES = new Map<number, string>([
  [NFT_VERDICT.NF_ACCEPT, 'accept'], [NFT_VERDICT.NF_DROP, 'drop'], [NFT_VERDICT.NF_STOLEN, 'stolen'],
  [NFT_VERDICT.NF_QUEUE, 'queue'], [NFT_VERDICT.NF_REPEAT, 'repeat'], [NFT_VERDICT.NF_STOP, 'stop'],
  [NFT_VERDICT.NFT_RETURN, 'return'], [NFT_VERDICT.NFT_JUMP, 'jump'], [NFT_VERDICT.NFT_GOTO, 'goto'],
  [NFT_VERDICT.NFT_CONTINUE, 'continue'], [NFT_VERDICT.NFT_BREAK, 'break'],
]);

/** libnftnl's name of a verdict code ("accept", "jump"…), "unknown" otherwise. */
export function verdictName(code: number): string {
  return VERDICT_NAMES.get(code | 0) ?? 'unknown';
}

/** `0x%08x ` per host-order 32-bit word of `bytes`, the last word zero-padded. */
function words(bytes: Uint8Array | undefined): string {
  if (!bytes) return '';
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  let out = '';
  for (let i = 0; i < padded.length; i += 4) out += `0x${u32ne(padded, i).toString(16).padStart(8, '0')} `;
  return out;
}

/** Printable ASCII as is, other bytes as `\xNN` (libnftnl's userdata dump). */
function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const c of bytes) out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}
