/**
 * One test as kernel terms, for one hook and family: a disjunction that covers every packet the
 * test matches, whose exact terms match nothing else (see lower_nft.ts for how they combine).
 *
 * The layer a test needs is found the way WinDivert finds it:
 * - IPv4: `meta l4proto` (nf_tables' protocol, the IPv4 protocol field; the load fails for a
 *   header nf_tables rejects, as WinDivert rejects the packet: every IPv4 rule carries it), the
 *   fragment offset (`network + 6 & 0x1fff == 0`: no layer 4 in a later fragment), then
 *   transport-header loads (nf_tables' offset is IHL * 4, WinDivert's too).
 * - IPv6, two shapes at fixed offsets, exact: no extension header (next header not in
 *   context.ts's IPV6_EXT_HEADERS, 0, 43, 44, 51, 60 and 135: the protocol, transport header at
 *   40), and a fragment header first (next header 44, 8 bytes present, its next header not an
 *   extension header: the protocol, `network + 42 & 0xfff8` the offset, transport header at 48
 *   in a first fragment).
 * - IPv6, any other chain: nf_tables and WinDivert walk it differently (ipv6_find_hdr skips AH
 *   but stops at a mobility header, reads two bytes of each header where WinDivert wants it whole,
 *   walks past a second fragment header), so those packets take a residual term. (For the same
 *   reasons `exthdr` is no help: `exthdr frag present` is neither exact nor an over-approximation.)
 * TCP needs 20 bytes and a data offset >= 5: one 8-byte load at transport + 12 checks both.
 * @module
 */
import { DIVERT_MARK } from '../firewall/mark.js';
import { IP_PROTOCOL } from '../ip/protocols.js';
import { NFT_PAYLOAD } from '../nftables/expr_constants.js';
import type { Op } from './ast.js';
import * as iv from './_intervals.js';
import type { ValueSet } from './_intervals.js';
import {
  ALL, cond, conj, IIF_SPEC, IIFTYPE_SPEC, L4PROTO_SPEC, loosen, markSpec, NFPROTO_SPEC, OIF_SPEC, OIFTYPE_SPEC, payloadSpec, residual, term, virtualSpec,
  type KCond, type KDisj, type KTerm, type LoadSpec,
} from './_kterm.js';
import { IPV6_EXT_HEADERS } from './context.js';
import { FIELDS } from './fields.js';
import type { Atom, Env } from './normalize.js';

const NH = NFT_PAYLOAD.NFT_PAYLOAD_NETWORK_HEADER;
const TH = NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER;
const nh = (offset: number, len: number, mask?: bigint): LoadSpec => payloadSpec(NH, offset, len, mask);
const th = (offset: number, len: number, mask?: bigint): LoadSpec => payloadSpec(TH, offset, len, mask);

/** ARPHRD_LOOPBACK (include/uapi/linux/if_arp.h). */
export const ARPHRD_LOOPBACK = 772;
/** The next headers WinDivert walks over as IPv6 extension headers: the evaluator's own set. */
const IPV6_EXT = iv.points([...IPV6_EXT_HEADERS.keys()].map(BigInt));
const FRAG_HEADER = BigInt(IP_PROTOCOL.IPV6_FRAG);
/** The protocol a layer 4 header needs. */
const LAYER_PROTOCOL = {
  tcp: BigInt(IP_PROTOCOL.TCP), udp: BigInt(IP_PROTOCOL.UDP), icmp: BigInt(IP_PROTOCOL.ICMP), icmpv6: BigInt(IP_PROTOCOL.ICMPV6),
} as const;

const FRAG4 = nh(6, 2, 0x1fffn);
const FRAGBITS4 = nh(6, 2, 0x3fffn);
const IHL = nh(0, 1, 0x0fn);
const TOT = nh(2, 2);
const NEXT6 = nh(6, 1);
const PLEN = nh(4, 2);
/** Next header and fragment offset of a fragment header right after the IPv6 header. */
const FNEXT6 = nh(40, 1);
const FOFF6 = nh(42, 2, 0xfff8n);
/** TCP data offset; loading bytes 12–19 also proves the 20-byte header is there. */
const DOFF = th(12, 8, 0xf0n << 56n);
/** Byte 7 of an 8-byte UDP/ICMP header: its load proves the header is there. */
const L4_8 = th(7, 1);
const MARK = markSpec(DIVERT_MARK);

const EXT_REASON = 'IPv6 extension headers: nf_tables walks them unlike WinDivert, user space decides';
const ONE = iv.point(1n);
const ZERO = iv.point(0n);

function t(...conds: KCond[]): KTerm[] {
  const x = term(conds);
  return x ? [x] : [];
}

function r(reason: string, ...conds: KCond[]): KTerm[] {
  const x = residual(reason, conds);
  return x ? [x] : [];
}

/** The conditions every rule of this hook and family starts from. */
export function baseTerm(env: Env): KTerm {
  const hook = env.hook === 'prerouting'
    ? cond(IIFTYPE_SPEC, iv.minus(IIFTYPE_SPEC.domain, iv.point(BigInt(ARPHRD_LOOPBACK))))
    : cond(IIF_SPEC, ZERO);
  const fam = env.family === 4 ? [cond(NFPROTO_SPEC, iv.point(2n)), cond(L4PROTO_SPEC, L4PROTO_SPEC.domain)] : [cond(NFPROTO_SPEC, iv.point(10n))];
  return term([...fam, hook])!;
}

const layerIs = (layer: string, v: bigint): KCond => cond(virtualSpec(`layer ${layer}`), iv.point(v));
const PROTOCOL = virtualSpec('protocol', iv.range(0n, 255n));
/** The layer is there: so the walk ended at its protocol (which makes TCP and UDP exclusive). */
const has = (layer: string, proto: bigint): KCond[] => [layerIs(layer, 1n), cond(PROTOCOL, iv.point(proto))];
const proto4 = (set: ValueSet): KCond => cond(L4PROTO_SPEC, set);
const nofrag4 = cond(FRAG4, ZERO);

/** An IPv6 header chain the kernel reads exactly (see the module comment). */
interface Shape6 {
  /** What tells this shape from the others (so a condition meant for one never lands on another). */
  readonly conds: readonly KCond[];
  /** Where the protocol (the next header that ends the walk) is. */
  readonly next: LoadSpec;
  /** Bytes of extension headers (the transport header is at 40 + headers). */
  readonly headers: bigint;
  readonly fragment: bigint;
  /** Not a later fragment (a layer 4 header may follow) / a later fragment. */
  readonly whole: readonly KCond[];
  readonly later: readonly KCond[] | undefined;
}

const SHAPES6: readonly Shape6[] = [
  { conds: [cond(NEXT6, iv.minus(iv.range(0n, 255n), IPV6_EXT))], next: NEXT6, headers: 0n, fragment: 0n, whole: [], later: undefined },
  {
    conds: [cond(NEXT6, iv.point(FRAG_HEADER)), cond(PLEN, iv.range(8n, 0xffffn))], next: FNEXT6, headers: 8n, fragment: 1n,
    whole: [cond(FOFF6, ZERO)], later: [cond(FOFF6, iv.range(1n, 0x1fffn))],
  },
];

/** The shape with its protocol in `set` (never an extension header: that is another chain). */
function shaped(s: Shape6, set: ValueSet, ...more: KCond[]): KTerm[] {
  return t(...s.conds, cond(s.next, iv.minus(set, IPV6_EXT)), ...more);
}

/** Every other IPv6 chain: residual, with what user space will check as virtual conditions. */
const v6ext = (...facts: KCond[]): KTerm[] => [
  ...r(EXT_REASON, cond(NEXT6, iv.minus(IPV6_EXT, iv.point(FRAG_HEADER))), ...facts),
  ...r(EXT_REASON, cond(NEXT6, iv.point(FRAG_HEADER)), cond(FNEXT6, IPV6_EXT), ...facts),
  ...r(EXT_REASON, cond(NEXT6, iv.point(FRAG_HEADER)), cond(PLEN, iv.range(0n, 7n)), ...facts),
];

/** The IPv6 packets whose layer is `proto` with `more` true of it (exact shapes), and the residue. */
function present6(layer: string, proto: bigint, ...more: KCond[]): KTerm[] {
  return [...SHAPES6.flatMap((s) => shaped(s, iv.point(proto), ...s.whole, ...more)), ...v6ext(...has(layer, proto))];
}

/** The packets that have the layer. */
export function present(layer: string, env: Env): KDisj {
  const v4 = env.family === 4;
  switch (layer) {
    case 'ip': return v4 ? [ALL] : [];
    case 'ipv6': return v4 ? [] : [ALL];
    case 'tcp': {
      const p = LAYER_PROTOCOL.tcp;
      return v4 ? t(proto4(iv.point(p)), nofrag4, cond(DOFF, iv.range(5n, 15n))) : present6(layer, p, cond(DOFF, iv.range(5n, 15n)));
    }
    case 'udp': {
      const p = LAYER_PROTOCOL.udp;
      return v4 ? t(proto4(iv.point(p)), nofrag4, cond(L4_8, L4_8.domain)) : present6(layer, p, cond(L4_8, L4_8.domain));
    }
    case 'icmp': return v4 ? t(proto4(iv.point(LAYER_PROTOCOL.icmp)), nofrag4, cond(L4_8, L4_8.domain)) : [];
    case 'icmpv6': return v4 ? [] : present6(layer, LAYER_PROTOCOL.icmpv6, cond(L4_8, L4_8.domain));
    default: return [ALL];
  }
}

/** The packets that lack the layer. */
export function absent(layer: string, env: Env): KDisj {
  const v4 = env.family === 4;
  const proto = LAYER_PROTOCOL[layer as keyof typeof LAYER_PROTOCOL];
  switch (layer) {
    case 'ip': return v4 ? [] : [ALL];
    case 'ipv6': return v4 ? [ALL] : [];
    case 'icmp': if (!v4) return [ALL]; break;
    case 'icmpv6': if (v4) return [ALL]; break;
    case 'tcp': case 'udp': break;
    default: return [];
  }
  const need = layer === 'tcp' ? 20n : 8n;
  if (v4) {
    const p = iv.point(proto);
    return [
      ...t(proto4(iv.minus(L4PROTO_SPEC.domain, p))),
      ...t(cond(FRAG4, iv.range(1n, 0x1fffn))),
      // Fewer bytes than the header needs: exact with a 20-byte IPv4 header, residual with options.
      ...t(cond(IHL, iv.point(5n)), cond(TOT, iv.range(0n, 20n + need - 1n))),
      ...(layer === 'tcp' ? t(cond(DOFF, iv.range(0n, 4n))) : []),
      ...r('IPv4 options: the layer 4 header length is not checked in the kernel', proto4(p), nofrag4, cond(IHL, iv.range(6n, 15n)), cond(TOT, iv.range(0n, 60n + need - 1n))),
    ];
  }
  const p = iv.point(proto);
  return [
    ...SHAPES6.flatMap((s) => [
      ...shaped(s, iv.minus(iv.range(0n, 255n), p)),
      ...(s.later ? shaped(s, p, ...s.later) : []),
      ...shaped(s, p, ...s.whole, cond(PLEN, iv.range(0n, s.headers + need - 1n))),
      ...(layer === 'tcp' ? shaped(s, p, ...s.whole, cond(DOFF, iv.range(0n, 4n))) : []),
    ]),
    ...v6ext(layerIs(layer, 0n)),
  ];
}

/**
 * Each exact presence term with `more` conditions added; residual ones (IPv6 extension headers,
 * where the kernel's transport offset may differ) get them as virtual conditions only. NB: a
 * virtual condition must state a fact about WinDivert's value at that place (the layer 4 header
 * at WinDivert's offset), true behind extension headers too.
 */
function within(layer: string, env: Env, ...more: KCond[]): KTerm[] {
  const extra = term(more);
  if (!extra) return [];
  const facts = term(more.map((c) => cond(virtualSpec(c.spec), c.set)))!;
  return present(layer, env).flatMap((x) => [conj(x, x.exact ? extra : facts)].filter((y): y is KTerm => y !== undefined));
}

/** {x in [0, 1] : x op c} as the layer present / absent. */
function booleanAtom(op: Op, c: bigint, yes: () => KDisj, no: () => KDisj): KDisj {
  const v = iv.fromOp(op, c, 0n, 1n);
  return [...(iv.subset(ONE, v) ? yes() : []), ...(iv.subset(ZERO, v) ? no() : [])];
}

/** {raw : raw + add op c} over the spec's domain. */
function valueSet(spec: LoadSpec, op: Op, c: bigint, add = 0n): ValueSet {
  const [lo, hi] = [spec.domain[0]![0], spec.domain[spec.domain.length - 1]![1]];
  return iv.shift(iv.fromOp(op, c, lo + add, hi + add), add, lo, hi);
}

interface FieldSpec {
  readonly spec: LoadSpec;
  readonly add?: bigint;
}

const MAPPED = 0xffff_0000_0000n;

/** Fixed-position fields: the header they need and where they are. */
const FIXED: Readonly<Record<string, FieldSpec>> = {
  'ip.HdrLength': { spec: IHL }, 'ip.TOS': { spec: nh(1, 1) }, 'ip.Length': { spec: TOT }, 'ip.Id': { spec: nh(4, 2) },
  'ip.DF': { spec: nh(6, 1, 0x40n) }, 'ip.MF': { spec: nh(6, 1, 0x20n) }, 'ip.FragOff': { spec: FRAG4 }, 'ip.TTL': { spec: nh(8, 1) },
  'ip.Protocol': { spec: nh(9, 1) }, 'ip.Checksum': { spec: nh(10, 2) },
  'ip.SrcAddr': { spec: nh(12, 4), add: MAPPED }, 'ip.DstAddr': { spec: nh(16, 4), add: MAPPED },
  'ipv6.TrafficClass': { spec: nh(0, 2, 0x0ff0n) }, 'ipv6.FlowLabel': { spec: nh(0, 4, 0x000f_ffffn) }, 'ipv6.Length': { spec: PLEN },
  'ipv6.NextHdr': { spec: NEXT6 }, 'ipv6.HopLimit': { spec: nh(7, 1) }, 'ipv6.SrcAddr': { spec: nh(8, 16) }, 'ipv6.DstAddr': { spec: nh(24, 16) },
  'icmp.Type': { spec: th(0, 1) }, 'icmp.Code': { spec: th(1, 1) }, 'icmp.Checksum': { spec: th(2, 2) }, 'icmp.Body': { spec: th(4, 4) },
  'icmpv6.Type': { spec: th(0, 1) }, 'icmpv6.Code': { spec: th(1, 1) }, 'icmpv6.Checksum': { spec: th(2, 2) }, 'icmpv6.Body': { spec: th(4, 4) },
  'tcp.SrcPort': { spec: th(0, 2) }, 'tcp.DstPort': { spec: th(2, 2) }, 'tcp.SeqNum': { spec: th(4, 4) }, 'tcp.AckNum': { spec: th(8, 4) },
  'tcp.HdrLength': { spec: DOFF }, 'tcp.Urg': { spec: th(13, 1, 0x20n) }, 'tcp.Ack': { spec: th(13, 1, 0x10n) }, 'tcp.Psh': { spec: th(13, 1, 0x08n) },
  'tcp.Rst': { spec: th(13, 1, 0x04n) }, 'tcp.Syn': { spec: th(13, 1, 0x02n) }, 'tcp.Fin': { spec: th(13, 1, 0x01n) }, 'tcp.Window': { spec: th(14, 2) },
  'tcp.Checksum': { spec: th(16, 2) }, 'tcp.UrgPtr': { spec: th(18, 2) },
  'udp.SrcPort': { spec: th(0, 2) }, 'udp.DstPort': { spec: th(2, 2) }, 'udp.Length': { spec: th(4, 2) }, 'udp.Checksum': { spec: th(6, 2) },
};

/** The kernel terms of one (normalized) test. */
export function lowerAtom(a: Atom, env: Env): KDisj {
  const { field, op, value: c } = a;
  const info = FIELDS.get(field)!;
  const fixed = FIXED[field];
  if (fixed) {
    const set = valueSet(fixed.spec, op, c, fixed.add ?? 0n);
    return set.length === 0 ? [] : within(info.layer, env, cond(fixed.spec, set));
  }
  switch (field) {
    case 'ip': case 'ipv6': case 'tcp': case 'udp': case 'icmp': case 'icmpv6':
      return booleanAtom(op, c, () => present(field, env), () => absent(field, env));
    case 'length':
      return env.family === 4 ? nonEmpty(TOT, valueSet(TOT, op, c)) : nonEmpty(PLEN, valueSet(PLEN, op, c, 40n));
    case 'protocol': {
      const set = iv.fromOp(op, c, 0n, 255n);
      if (set.length === 0) return [];
      return env.family === 4 ? t(proto4(set)) : [...SHAPES6.flatMap((s) => shaped(s, set)), ...v6ext(cond(PROTOCOL, set))];
    }
    case 'fragment':
      return env.family === 4
        ? booleanAtom(op, c, () => t(cond(FRAGBITS4, iv.range(1n, 0x3fffn))), () => t(cond(FRAGBITS4, ZERO)))
        : booleanAtom(op, c, () => fragment6(1n), () => fragment6(0n));
    case 'ifIdx': {
      const spec = env.hook === 'prerouting' ? IIF_SPEC : OIF_SPEC;
      return nonEmpty(spec, valueSet(spec, op, c));
    }
    case 'loopback':
      return booleanAtom(op, c, () => t(cond(OIFTYPE_SPEC, iv.point(BigInt(ARPHRD_LOOPBACK)))), () => t(cond(OIFTYPE_SPEC, iv.minus(OIFTYPE_SPEC.domain, iv.point(BigInt(ARPHRD_LOOPBACK))))));
    case 'impostor':
      return nonEmpty(MARK, valueSet(MARK, op, c));
    case 'timestamp':
      return userSpace(iv.fromOp(op, c, -(1n << 63n), (1n << 63n) - 1n), iv.range(-(1n << 63n), (1n << 63n) - 1n), `${field} is decided in user space`);
    case 'random8': case 'random16': case 'random32': {
      const dom = iv.range(0n, (1n << BigInt(info.bits)) - 1n);
      return userSpace(iv.fromOp(op, c, 0n, (1n << BigInt(info.bits)) - 1n), dom, `${field} hashes the packet and its timestamp: decided in user space`);
    }
    case 'tcp.PayloadLength':
      return tcpPayloadLength(op, c, env);
    case 'udp.PayloadLength': {
      // Behind other chains the payload length is not `ipv6.Length - headers - 8`: no fact to carry.
      if (env.family === 6) {
        return [...SHAPES6.flatMap((s) => within('udp', env, ...s.conds, cond(PLEN, valueSet(PLEN, op, c, -8n - s.headers))).filter((x) => x.exact)), ...v6ext(...has('udp', 17n))];
      }
      const exact = within('udp', env, cond(IHL, iv.point(5n)), cond(TOT, valueSet(TOT, op, c, -28n)));
      return [...exact, ...within('udp', env, cond(IHL, iv.range(6n, 15n))).map((x) => loosen(x, 'IPv4 options: udp.PayloadLength is decided in user space'))];
    }
    default:
      if (info.kind === 'array') return arrayAtom(a, env);
      throw new Error(`lowerAtom: no lowering for ${field}`);
  }
}

/** IPv6 `fragment == v`: the shapes that have that value, and the residue. */
function fragment6(v: bigint): KDisj {
  return [...SHAPES6.filter((s) => s.fragment === v).flatMap((s) => shaped(s, iv.range(0n, 255n))), ...v6ext(layerIs('fragment', v))];
}

function nonEmpty(spec: LoadSpec, set: ValueSet): KDisj {
  return set.length === 0 ? [] : t(cond(spec, set));
}

/** A test the kernel cannot make: nothing, everything, or everything for user space to decide. */
function userSpace(set: ValueSet, domain: ValueSet, reason: string): KDisj {
  if (set.length === 0) return [];
  if (iv.equal(set, domain)) return [ALL];
  return r(reason);
}

/**
 * tcp.PayloadLength = max(0, IP length − IP header − 4 × data offset): one term per data offset
 * (5–15), exact for a 20-byte IPv4 header and for IPv6 without extension headers.
 */
function tcpPayloadLength(op: Op, c: bigint, env: Env): KDisj {
  const out: KTerm[] = [];
  // IPv4 with IHL 5: total length − 20 − 4d; IPv6 (a shape): payload length − headers − 4d.
  const bases = env.family === 4 ? [{ extra: [cond(IHL, iv.point(5n))], len: TOT, headers: 20n }]
    : SHAPES6.map((s) => ({ extra: [...s.conds], len: PLEN, headers: s.headers }));
  for (const { extra, len, headers } of bases) {
    for (let d = 5n; d <= 15n; d++) {
      const base = headers + 4n * d;
      const zero = iv.fromOp(op, c, 0n, 0n).length > 0 ? iv.range(0n, base) : iv.EMPTY;
      const set = iv.union(zero, iv.shift(iv.fromOp(op, c, 1n, 0xffffn), -base, base + 1n, 0xffffn));
      if (set.length === 0) continue;
      out.push(...within('tcp', env, cond(DOFF, iv.point(d)), cond(len, set), ...extra).filter((x) => x.exact));
    }
  }
  if (env.family === 4) {
    out.push(...within('tcp', env, cond(IHL, iv.range(6n, 15n))).map((x) => loosen(x, 'IPv4 options: tcp.PayloadLength is decided in user space')));
  } else out.push(...present('tcp', env).filter((x) => !x.exact));
  return out;
}

/** packet[i], tcp.Payload[i], udp.Payload[i] (16/32-bit too); negative indices go to user space. */
function arrayAtom(a: Atom, env: Env): KDisj {
  const info = FIELDS.get(a.field)!;
  const size = info.size!;
  const off = a.offset!;
  const value = (spec: LoadSpec): ValueSet => valueSet(spec, a.op, a.value);
  if (off < 0) {
    const reason = `${a.field}[-${-off}b] counts from the end of the packet: decided in user space`;
    if (info.base === 'packet') {
      const k = BigInt(-off);
      const need = env.family === 4 ? cond(TOT, iv.range(k, 0xffffn)) : cond(PLEN, iv.range(k > 40n ? k - 40n : 0n, 0xffffn));
      return value(nh(0, size)).length === 0 ? [] : r(reason, need);
    }
    return value(th(0, size)).length === 0 ? [] : present(info.layer, env).map((x) => loosen(x, reason));
  }
  if (info.base === 'packet') return nonEmpty(nh(off, size), value(nh(off, size)));
  if (info.base === 'udp') return 8 + off + size - 1 > 0xffff ? [] : within('udp', env, cond(th(8 + off, size), value(th(8 + off, size))));
  const out: KTerm[] = [];
  for (let d = 5; d <= 15; d++) {
    const at = 4 * d + off;
    if (at + size - 1 > 0xffff) continue;
    const spec = th(at, size);
    out.push(...within('tcp', env, cond(DOFF, iv.point(BigInt(d))), cond(spec, value(spec))).filter((x) => x.exact));
  }
  if (env.family === 6) out.push(...present('tcp', env).filter((x) => !x.exact));
  return out;
}
