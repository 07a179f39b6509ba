/**
 * The evaluator: a filter compiled once into closures (no tree walk per packet), then run on a
 * packet and its address — WinDivertHelperEvalFilter's and pydivert's `packet.matches()`
 * counterpart, the reference the kernel rules are tested against, and the judge of the
 * packets the kernel rules can only over-approximate (the residue).
 *
 * Semantics (WinDivert 2.2): a test on a field whose header is absent is false; a bare field is
 * `field != 0`; `not` inverts the comparison; values compare as numbers — 128-bit for addresses
 * (IPv4 as ::ffff:a.b.c.d), signed 64-bit for `timestamp`, everything else unsigned. An index
 * past either end makes the test false. A packet that is not IPv4/IPv6 matches nothing.
 * @module
 */
import { u16be, u32be } from '../netlink/bytes.js';
import type { FilterAst, FilterNode, Op, TestNode } from './ast.js';
import { effectiveTest, indexOffset } from './ast.js';
import { parseFilter } from './check.js';
import { FilterContext, type FilterAddress } from './context.js';
import { FIELDS } from './fields.js';
import { formatFilter } from './format.js';
import { bigFromBytes } from './_bytes.js';

export type { FilterAddress, FilterHook } from './context.js';

type Pred = (c: FilterContext) => boolean;
/** A field's value, or -1 when its header is absent (values are non-negative). */
type Getter = (c: FilterContext) => number;

/** A filter compiled for evaluation. */
export interface CompiledFilter {
  /** The filter's canonical text (formatFilter). */
  readonly text: string;
  /** The parsed and checked filter. */
  readonly ast: FilterAst;
  /**
   * Whether `packet` (the IP packet's bytes) with `address` (a DivertAddress or a plain object;
   * missing: outbound, not loopback) matches.
   * @throws {TypeError} when `packet` is not a Uint8Array.
   */
  match(packet: Uint8Array, address?: FilterAddress): boolean;
}

/**
 * Compiles a filter for evaluation.
 * @throws {FilterSyntaxError} when the text does not parse or check.
 * @example
 * ```ts
 * const f = compileFilter('outbound and tcp.DstPort == 80');
 * f.match(bytes);                          // outbound by default
 * f.match(bytes, { outbound: false });     // inbound
 * ```
 */
export function compileFilter(filter: string | FilterAst): CompiledFilter {
  const ast = typeof filter === 'string' ? parseFilter(filter) : filter;
  const pred = compileNode(ast.root);
  const ctx = new FilterContext();
  return {
    text: formatFilter(ast),
    ast,
    match(packet: Uint8Array, address?: FilterAddress): boolean {
      if (!(packet instanceof Uint8Array)) throw new TypeError(`match() takes the packet as a Uint8Array, got ${packet === null ? 'null' : typeof packet}`);
      return ctx.load(packet, address) && pred(ctx);
    },
  };
}

const cache = new Map<string, CompiledFilter>();

/**
 * Evaluates `filter` on one packet (compiled filters are cached by text, 64 at most).
 * @throws {FilterSyntaxError} when the filter does not parse; {TypeError} for a packet that is not bytes.
 * @example evalFilter('udp.DstPort == 53', dnsQuery) // true
 */
export function evalFilter(filter: string, packet: Uint8Array, address?: FilterAddress): boolean {
  let f = cache.get(filter);
  if (!f) {
    f = compileFilter(filter);
    if (cache.size >= 64) cache.delete(cache.keys().next().value!);
    cache.set(filter, f);
  }
  return f.match(packet, address);
}

/** The closure of a (checked) filter node. */
function compileNode(n: FilterNode): Pred {
  switch (n.kind) {
    case 'test':
      return compileTest(n);
    case 'and': {
      const ps = n.args.map(compileNode);
      if (ps.length === 2) {
        const [a, b] = ps as [Pred, Pred];
        return (c) => a(c) && b(c);
      }
      return (c) => {
        for (const p of ps) if (!p(c)) return false;
        return true;
      };
    }
    case 'or': {
      const ps = n.args.map(compileNode);
      if (ps.length === 2) {
        const [a, b] = ps as [Pred, Pred];
        return (c) => a(c) || b(c);
      }
      return (c) => {
        for (const p of ps) if (p(c)) return true;
        return false;
      };
    }
    case 'ternary': {
      const cond = compileNode(n.cond);
      const then = compileNode(n.then);
      const otherwise = compileNode(n.else);
      return (c) => (cond(c) ? then(c) : otherwise(c));
    }
  }
}

const TRUE: Pred = () => true;
const FALSE: Pred = () => false;

function compileTest(t: TestNode): Pred {
  const info = FIELDS.get(t.field);
  if (!info) throw new TypeError(`Unknown field ${t.field}: parse the filter with parseFilter()`);
  const { op, value } = effectiveTest(t);
  switch (info.kind) {
    case 'address':
      return addressTest(t.field, op, value);
    case 'timestamp':
      return timestampTest(op, value);
    case 'array':
      return numberTest(arrayGetter(info.base!, info.size!, indexOffset(t.index!, info.size!)), op, value);
    case 'number':
      return numberTest(GETTERS[t.field]!, op, value);
  }
}

/** Whether `sign` (the sign of value − constant) satisfies `op`. */
export function decide(op: Op, sign: number): boolean {
  switch (op) {
    case '==': return sign === 0;
    case '!=': return sign !== 0;
    case '<': return sign < 0;
    case '<=': return sign <= 0;
    case '>': return sign > 0;
    case '>=': return sign >= 0;
  }
}

function numberTest(get: Getter, op: Op, value: bigint): Pred {
  // Every number field fits in 32 bits: a constant outside decides the test by presence alone.
  if (value < 0n || value > 0xffff_ffffn) {
    if (!decide(op, value < 0n ? 1 : -1)) return FALSE;
    return (c) => get(c) >= 0;
  }
  const k = Number(value);
  switch (op) {
    case '==': return (c) => get(c) === k;
    case '!=': return (c) => { const v = get(c); return v >= 0 && v !== k; };
    case '<': return (c) => { const v = get(c); return v >= 0 && v < k; };
    case '<=': return (c) => { const v = get(c); return v >= 0 && v <= k; };
    case '>': return (c) => get(c) > k;
    case '>=': return (c) => get(c) >= k;
  }
}

const flag = (x: boolean): number => (x ? 1 : 0);
const ip = (get: (b: Uint8Array) => number): Getter => (c) => (c.v4 ? get(c.b) : -1);
const ip6 = (get: (b: Uint8Array) => number): Getter => (c) => (c.v6 ? get(c.b) : -1);
const l4 = (layer: 'tcp' | 'udp' | 'icmp' | 'icmpv6', get: (b: Uint8Array, o: number) => number): Getter => (c) => (c[layer] ? get(c.b, c.l4) : -1);

/** WinDivert's localPort / remotePort: TCP/UDP ports; ICMP type on one side, 0 on the other. */
function port(local: boolean): Getter {
  return (c) => {
    const src = c.outbound === local;
    if (c.tcp || c.udp) return u16be(c.b, c.l4 + (src ? 0 : 2));
    if ((c.icmp || c.icmpv6) && src) return c.b[c.l4]!;
    return 0;
  };
}

/** Getters of the number fields, by name. */
const GETTERS: Readonly<Record<string, Getter>> = {
  zero: () => 0,
  true: () => 1,
  false: () => 0,
  event: () => 0,
  random8: (c) => Number((c.hash() >> 48n) & 0xffn),
  random16: (c) => Number((c.hash() >> 32n) & 0xffffn),
  random32: (c) => Number(c.hash() & 0xffff_ffffn),
  inbound: (c) => flag(!c.outbound),
  outbound: (c) => flag(c.outbound),
  fragment: (c) => flag(c.fragment),
  ifIdx: (c) => c.ifIdx >>> 0,
  subIfIdx: (c) => c.subIfIdx >>> 0,
  loopback: (c) => flag(c.loopback),
  impostor: (c) => flag(c.impostor),
  length: (c) => c.len,
  ip: (c) => flag(c.v4),
  ipv6: (c) => flag(c.v6),
  icmp: (c) => flag(c.icmp),
  icmpv6: (c) => flag(c.icmpv6),
  tcp: (c) => flag(c.tcp),
  udp: (c) => flag(c.udp),
  protocol: (c) => c.protocol,
  localPort: port(true),
  remotePort: port(false),
  'ip.HdrLength': ip((b) => b[0]! & 0x0f),
  'ip.TOS': ip((b) => b[1]!),
  'ip.Length': ip((b) => u16be(b, 2)),
  'ip.Id': ip((b) => u16be(b, 4)),
  'ip.DF': ip((b) => (b[6]! >> 6) & 1),
  'ip.MF': ip((b) => (b[6]! >> 5) & 1),
  'ip.FragOff': ip((b) => u16be(b, 6) & 0x1fff),
  'ip.TTL': ip((b) => b[8]!),
  'ip.Protocol': ip((b) => b[9]!),
  'ip.Checksum': ip((b) => u16be(b, 10)),
  'ipv6.TrafficClass': ip6((b) => ((b[0]! & 0x0f) << 4) | (b[1]! >> 4)),
  'ipv6.FlowLabel': ip6((b) => ((b[1]! & 0x0f) << 16) | u16be(b, 2)),
  'ipv6.Length': ip6((b) => u16be(b, 4)),
  'ipv6.NextHdr': ip6((b) => b[6]!),
  'ipv6.HopLimit': ip6((b) => b[7]!),
  'icmp.Type': l4('icmp', (b, o) => b[o]!),
  'icmp.Code': l4('icmp', (b, o) => b[o + 1]!),
  'icmp.Checksum': l4('icmp', (b, o) => u16be(b, o + 2)),
  'icmp.Body': l4('icmp', (b, o) => u32be(b, o + 4)),
  'icmpv6.Type': l4('icmpv6', (b, o) => b[o]!),
  'icmpv6.Code': l4('icmpv6', (b, o) => b[o + 1]!),
  'icmpv6.Checksum': l4('icmpv6', (b, o) => u16be(b, o + 2)),
  'icmpv6.Body': l4('icmpv6', (b, o) => u32be(b, o + 4)),
  'tcp.SrcPort': l4('tcp', (b, o) => u16be(b, o)),
  'tcp.DstPort': l4('tcp', (b, o) => u16be(b, o + 2)),
  'tcp.SeqNum': l4('tcp', (b, o) => u32be(b, o + 4)),
  'tcp.AckNum': l4('tcp', (b, o) => u32be(b, o + 8)),
  'tcp.HdrLength': l4('tcp', (b, o) => b[o + 12]! >> 4),
  'tcp.Urg': l4('tcp', (b, o) => (b[o + 13]! >> 5) & 1),
  'tcp.Ack': l4('tcp', (b, o) => (b[o + 13]! >> 4) & 1),
  'tcp.Psh': l4('tcp', (b, o) => (b[o + 13]! >> 3) & 1),
  'tcp.Rst': l4('tcp', (b, o) => (b[o + 13]! >> 2) & 1),
  'tcp.Syn': l4('tcp', (b, o) => (b[o + 13]! >> 1) & 1),
  'tcp.Fin': l4('tcp', (b, o) => b[o + 13]! & 1),
  'tcp.Window': l4('tcp', (b, o) => u16be(b, o + 14)),
  'tcp.Checksum': l4('tcp', (b, o) => u16be(b, o + 16)),
  'tcp.UrgPtr': l4('tcp', (b, o) => u16be(b, o + 18)),
  'tcp.PayloadLength': (c) => (c.tcp ? c.payloadLen : -1),
  'udp.SrcPort': l4('udp', (b, o) => u16be(b, o)),
  'udp.DstPort': l4('udp', (b, o) => u16be(b, o + 2)),
  'udp.Length': l4('udp', (b, o) => u16be(b, o + 4)),
  'udp.Checksum': l4('udp', (b, o) => u16be(b, o + 6)),
  'udp.PayloadLength': (c) => (c.udp ? c.payloadLen : -1),
};

/**
 * `base[offset]` read big-endian, -1 when the base is absent or the element is not wholly
 * inside it (WinDivertGetData: a negative offset counts from the end).
 */
function arrayGetter(base: 'packet' | 'tcp' | 'udp', size: number, offset: number): Getter {
  const read = size === 1 ? (b: Uint8Array, o: number) => b[o]! : size === 2 ? u16be : u32be;
  if (base === 'packet') {
    return (c) => {
      const o = offset < 0 ? c.len + offset : offset;
      return o >= 0 && o <= c.len - size ? read(c.b, o) : -1;
    };
  }
  return (c) => {
    if (!c[base]) return -1;
    const o = offset < 0 ? c.hdrEnd + c.payloadLen + offset : c.hdrEnd + offset;
    return o >= c.hdrEnd && o <= c.hdrEnd + c.payloadLen - size ? read(c.b, o) : -1;
  };
}

/**
 * Where an address field's value is: the offset of its 4 bytes (IPv4, read as ::ffff:a.b.c.d)
 * or 16 bytes (IPv6) in the packet, -1 when its header is absent. localAddr is the source
 * address outbound and the destination inbound, remoteAddr the other one. Shared by the
 * compiled tests and fieldValue().
 */
function addressOffset(field: string): (c: FilterContext) => number {
  switch (field) {
    case 'ip.SrcAddr': return (c) => (c.v4 ? 12 : -1);
    case 'ip.DstAddr': return (c) => (c.v4 ? 16 : -1);
    case 'ipv6.SrcAddr': return (c) => (c.v6 ? 8 : -1);
    case 'ipv6.DstAddr': return (c) => (c.v6 ? 24 : -1);
    default: {
      const local = field === 'localAddr';
      return (c) => {
        const src = c.outbound === local;
        return c.v4 ? (src ? 12 : 16) : src ? 8 : 24;
      };
    }
  }
}

/**
 * An address test: the field's 128-bit value against `value`, word by word (most significant
 * first), with no allocation.
 */
function addressTest(field: string, op: Op, value: bigint): Pred {
  if (value < 0n) return decide(op, 1) ? addressPresence(field) : FALSE;
  const k = [96n, 64n, 32n, 0n].map((s) => Number((value >> s) & 0xffff_ffffn)) as [number, number, number, number];
  const at = addressOffset(field);
  return (c) => {
    const o = at(c);
    if (o < 0) return false;
    const s = c.v4 ? cmpWords(0, 0, 0xffff, u32be(c.b, o), k) : cmpWords(u32be(c.b, o), u32be(c.b, o + 4), u32be(c.b, o + 8), u32be(c.b, o + 12), k);
    return decide(op, s);
  };
}

function addressPresence(field: string): Pred {
  if (field.startsWith('ip.')) return (c) => c.v4;
  if (field.startsWith('ipv6.')) return (c) => c.v6;
  return TRUE;
}

function cmpWords(a0: number, a1: number, a2: number, a3: number, k: readonly [number, number, number, number]): number {
  if (a0 !== k[0]) return a0 < k[0] ? -1 : 1;
  if (a1 !== k[1]) return a1 < k[1] ? -1 : 1;
  if (a2 !== k[2]) return a2 < k[2] ? -1 : 1;
  if (a3 !== k[3]) return a3 < k[3] ? -1 : 1;
  return 0;
}

/**
 * A field's value on a packet (undefined when its header or element is absent): for tests and
 * tools (the random filter generator draws values from packets with it).
 */
export function fieldValue(field: string, packet: Uint8Array, address?: FilterAddress, offset?: number): bigint | undefined {
  const info = FIELDS.get(field);
  const c = new FilterContext();
  if (!info || !c.load(packet, address)) return undefined;
  if (info.kind === 'timestamp') return BigInt(Math.trunc(c.timestamp));
  if (info.kind === 'array') {
    if (offset === undefined) return undefined;
    const v = arrayGetter(info.base!, info.size!, offset)(c);
    return v < 0 ? undefined : BigInt(v);
  }
  if (info.kind === 'address') {
    const o = addressOffset(field)(c);
    if (o < 0) return undefined;
    return c.v4 ? 0xffff_0000_0000n | BigInt(u32be(c.b, o)) : bigFromBytes(c.b, o, 16);
  }
  const v = GETTERS[field]!(c);
  return v < 0 ? undefined : BigInt(v);
}

/** `timestamp`: a signed 64-bit value (whole milliseconds of the address's timestamp). */
function timestampTest(op: Op, value: bigint): Pred {
  const min = -(1n << 63n);
  const max = (1n << 63n) - 1n;
  if (value < min || value > max) return decide(op, value < min ? 1 : -1) ? TRUE : FALSE;
  const k = Number(value);
  const exact = value >= -(2n ** 53n) && value <= 2n ** 53n;
  return (c) => {
    const ts = Math.trunc(c.timestamp);
    if (exact) return decide(op, ts < k ? -1 : ts > k ? 1 : 0);
    const v = BigInt(ts);
    return decide(op, v < value ? -1 : v > value ? 1 : 0);
  };
}
