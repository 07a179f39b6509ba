/**
 * A model of how the kernel (Linux 6.x, net/netfilter) runs the expressions divert's lowering
 * emits, for tests: meta (nfproto, l4proto, iif, oif, iiftype, oiftype, mark), payload (network
 * and transport header, fast path included), bitwise, cmp, range, lookup (hash/bitmap sets: the
 * key itself; interval sets as nft_set_rbtree looks up: the nearest element at or below the key
 * must be a start element, not an interval end). Layer 4 comes from
 * nft_set_pktinfo_ipv4/ipv6_validate (ipv6_find_hdr with IP6_FH_F_AUTH). The real-kernel run
 * (test/integration/filter_kernel_test.ts) checks the model on the same packets.
 * @module
 */
import { IP_PROTOCOL } from '../ip/protocols.js';
import { u16be } from '../netlink/bytes.js';
import { NFT_SET, NFT_SET_ELEM } from '../nftables/constants.js';
import type { Expr } from '../nftables/expr_types.js';
import type { LoweredFilter, LoweredRule, RuleHook } from './lower_nft.js';

/** What the kernel knows about a packet at a hook besides its bytes. */
export interface SimMeta {
  readonly hook: RuleHook;
  /** Input / output interface index (0: none) and type (ARPHRD_*). */
  readonly iif: number;
  readonly oif: number;
  readonly iiftype: number;
  readonly oiftype: number;
  readonly mark: number;
}

interface PktInfo {
  l4: boolean;
  tprot: number;
  thoff: number;
  fragoff: number;
}

const P = IP_PROTOCOL;
/** The kernel's extension headers (ipv6_ext_hdr, include/net/ipv6.h): not WinDivert's set (no mobility header; no next header). */
const EXT = new Set<number>([P.HOP_BY_HOP, P.IPV6_ROUTE, P.IPV6_FRAG, P.AH, P.IPV6_NONXT, P.IPV6_OPTS]);

function pktinfo(b: Uint8Array): PktInfo {
  const none: PktInfo = { l4: false, tprot: 0, thoff: 0, fragoff: 0 };
  const v = b[0]! >> 4;
  if (v === 4) {
    if (b.length < 20) return none;
    const ihl = b[0]! & 0x0f;
    const len = u16be(b, 2);
    if (ihl < 5 || b.length < len || len < ihl * 4) return none;
    return { l4: true, tprot: b[9]!, thoff: ihl * 4, fragoff: (u16be(b, 6) & 0x1fff) * 8 };
  }
  if (v === 6) {
    if (b.length < 40 || u16be(b, 4) + 40 > b.length) return none;
    return findHdr(b) ?? none;
  }
  return none;
}

/** ipv6_find_hdr(skb, &thoff, -1, &fragoff, IP6_FH_F_AUTH). */
function findHdr(b: Uint8Array): PktInfo | undefined {
  let start = 40;
  let nh = b[6]!;
  for (;;) {
    if (!EXT.has(nh) || nh === P.IPV6_NONXT) break;
    if (start + 2 > b.length) return undefined;
    if (nh === P.IPV6_ROUTE && start + 4 > b.length) return undefined;
    let hdrlen: number;
    if (nh === P.IPV6_FRAG) {
      if (start + 4 > b.length) return undefined;
      const off = u16be(b, start + 2) & ~7;
      if (off) {
        const next = b[start]!;
        if (!EXT.has(next) || next === P.IPV6_NONXT) return start > 0xffff ? undefined : { l4: true, tprot: next, thoff: start, fragoff: off };
        return undefined; // -ENOENT
      }
      hdrlen = 8;
    } else if (nh === P.AH) {
      break; // IP6_FH_F_AUTH: AH is the transport
    } else hdrlen = (b[start + 1]! + 1) * 8;
    nh = b[start]!;
    start += hdrlen;
  }
  return start > 0xffff ? undefined : { l4: true, tprot: nh, thoff: start, fragoff: 0 };
}

const BREAK = Symbol('break');

/** A set as the lookup sees it: its elements, and whether they are interval starts and ends. */
export interface SimSet {
  readonly interval: boolean;
  readonly elements: ReadonlyArray<{ readonly key: Uint8Array; readonly end: boolean }>;
}

/**
 * Runs one rule's expressions; true when every expression passes (the verdict would be reached).
 * `sets` maps set names to their elements.
 */
export function simulateRule(exprs: readonly Expr[], b: Uint8Array, meta: SimMeta, sets: ReadonlyMap<string, SimSet>): boolean {
  const info = pktinfo(b);
  const family = b[0]! >> 4 === 4 ? 2 : 10;
  let reg: Uint8Array = new Uint8Array(16);
  for (const e of exprs) {
    const r = step(e, reg, b, meta, info, family, sets);
    if (r === BREAK) return false;
    reg = r;
  }
  return true;
}

function step(e: Expr, reg: Uint8Array, b: Uint8Array, meta: SimMeta, info: PktInfo, family: number, sets: ReadonlyMap<string, SimSet>): Uint8Array | typeof BREAK {
  switch (e.type) {
    case 'meta': {
      const out = new Uint8Array(16);
      const v = new DataView(out.buffer);
      const inDev = meta.hook === 'prerouting' || meta.iif !== 0;
      switch (e.key) {
        case 15: out[0] = family; break; // NFT_META_NFPROTO
        case 16: if (!info.l4) return BREAK; out[0] = info.tprot; break;
        case 4: v.setUint32(0, meta.iif, true); break;
        case 5: v.setUint32(0, meta.oif, true); break;
        case 8: if (!inDev) return BREAK; v.setUint16(0, meta.iiftype, true); break;
        case 9: if (meta.hook !== 'postrouting') return BREAK; v.setUint16(0, meta.oiftype, true); break;
        case 3: v.setUint32(0, meta.mark >>> 0, true); break;
        default: throw new Error(`sim: meta key ${e.key}`);
      }
      return out;
    }
    case 'payload': {
      let at: number;
      if (e.base === 1) at = e.offset;
      else if (e.base === 2) {
        if (!info.l4) return BREAK;
        // nft_payload_fast_eval does not look at the fragment offset; the slow path does.
        const fast = e.len <= 4 && (e.len & (e.len - 1)) === 0 && e.offset % e.len === 0;
        if (!fast && info.fragoff) return BREAK;
        at = info.thoff + e.offset;
      } else throw new Error(`sim: payload base ${e.base}`);
      if (at + e.len > b.length) return BREAK;
      const out = new Uint8Array(16);
      out.set(b.subarray(at, at + e.len));
      return out;
    }
    case 'bitwise': {
      const out = new Uint8Array(16);
      for (let i = 0; i < e.len; i++) out[i] = (reg[i]! & e.mask![i]!) ^ e.xor![i]!;
      return out;
    }
    case 'cmp': {
      const c = compare(reg, e.data);
      const ok = [c === 0, c !== 0, c < 0, c <= 0, c > 0, c >= 0][e.op];
      return ok ? reg : BREAK;
    }
    case 'range': {
      const inside = compare(reg, e.from) >= 0 && compare(reg, e.to) <= 0;
      return inside === (e.op === 0) ? reg : BREAK;
    }
    case 'lookup': {
      const set = sets.get(e.set!) ?? { interval: false, elements: [] };
      const found = set.interval ? inInterval(set, reg) : set.elements.some((el) => compare(reg, el.key) === 0);
      return found !== ((e.flags ?? 0) & 1) > 0 ? reg : BREAK;
    }
    default:
      throw new Error(`sim: expression ${e.type}`);
  }
}

/** nft_rbtree_lookup: the greatest element at or below the key decides (a start matches; an end, or none, does not). */
function inInterval(set: SimSet, reg: Uint8Array): boolean {
  let best: { key: Uint8Array; end: boolean } | undefined;
  for (const el of set.elements) {
    const c = compare(reg, el.key);
    if (c < 0) continue;
    const d = best === undefined ? 1 : compare(el.key, best.key);
    // At equal keys an end element wins (an exact match on an end is no match in an anonymous set).
    if (d > 0 || (d === 0 && el.end)) best = el;
  }
  return best !== undefined && !best.end;
}

function compare(reg: Uint8Array, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) if (reg[i] !== data[i]) return reg[i]! < data[i]! ? -1 : 1;
  return 0;
}

/** The first rule at the packet's hook that matches, or undefined. */
export function simulate(lowered: LoweredFilter, b: Uint8Array, meta: SimMeta): LoweredRule | undefined {
  const sets = new Map<string, SimSet>(lowered.sets.map((s) => [s.set.name, {
    interval: ((s.set.flags ?? 0) & NFT_SET.NFT_SET_INTERVAL) !== 0,
    elements: s.elements.map((e) => ({ key: e.key, end: ((e.flags ?? 0) & NFT_SET_ELEM.NFT_SET_ELEM_INTERVAL_END) !== 0 })),
  }]));
  return lowered.rules.find((r) => r.hook === meta.hook && simulateRule(r.exprs, b, meta, sets));
}
