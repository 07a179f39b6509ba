/**
 * Seeded random packets and filters for differential tests (evaluator vs kernel rules). Packets
 * are valid at the IP layer (lengths, IPv4 checksum, non-zero IPv4 id and source, addresses in
 * 198.18.0.0/15 and 2001:db8::/32) so the kernel takes them as they are, and deliberately odd
 * above it: IPv4 options, fragments, IPv6 extension headers (AH, mobility, a second fragment
 * header, a chain cut short), TCP headers cut short or with a data offset below 5.
 * Filters draw their values mostly from the packets they will meet, so tests are often true.
 * @module
 */
import { parseIpv4, parseIpv6 } from '../ip/address.js';
import { internetChecksum } from '../packet/checksum.js';
import { FIELDS, type FieldInfo } from './fields.js';

/** sfc32: small, fast, seedable. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

const V4_ADDRS = ['198.18.0.1', '198.18.0.2', '198.18.7.9', '198.19.255.254', '198.18.200.1'];
const V6_ADDRS = ['2001:db8::1', '2001:db8::2', '2001:db8:7::9', '2001:db8:ffff::1', '2001:db8::aabb:ccdd'];
const PORTS = [53, 80, 443, 22, 8080, 0, 65535, 1234];

const v4 = (a: string): number[] => [...parseIpv4(a)];
const v6 = (a: string): number[] => [...parseIpv6(a)];

/** A random L4 header and payload for `proto`, sometimes malformed. */
function l4(rng: Rng, proto: number): number[] {
  const payload = [...rng.bytes(rng.chance(0.3) ? 0 : rng.int(1, 48))];
  if (proto === 6) {
    if (rng.chance(0.06)) return [...rng.bytes(rng.int(0, 19))];
    const doff = rng.chance(0.05) ? rng.int(0, 4) : rng.chance(0.6) ? 5 : rng.int(5, 15);
    const h = [...rng.bytes(20)];
    const [sp, dp] = [rng.pick(PORTS), rng.pick(PORTS)];
    h[0] = sp >> 8; h[1] = sp & 0xff; h[2] = dp >> 8; h[3] = dp & 0xff;
    h[12] = (doff << 4) | (h[12]! & 0x0f);
    const opts = new Array<number>(Math.max(0, doff * 4 - 20)).fill(1);
    return [...h, ...opts, ...payload];
  }
  if (proto === 17) {
    if (rng.chance(0.05)) return [...rng.bytes(rng.int(0, 7))];
    const [sp, dp] = [rng.pick(PORTS), rng.pick(PORTS)];
    const len = rng.chance(0.9) ? 8 + payload.length : rng.int(0, 0xffff);
    return [sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, len >> 8, len & 0xff, ...rng.bytes(2), ...payload];
  }
  if (proto === 1 || proto === 58) {
    if (rng.chance(0.05)) return [...rng.bytes(rng.int(0, 7))];
    const type = proto === 1 ? rng.pick([8, 0, 3, 11, 5]) : rng.pick([128, 129, 1, 135, 136]);
    return [type, rng.pick([0, 0, 1, 3]), ...rng.bytes(6), ...payload];
  }
  return [...rng.bytes(rng.int(0, 40))];
}

/** A random IPv4 packet. */
function packet4(rng: Rng): Uint8Array {
  const ihl = rng.chance(0.85) ? 5 : rng.int(6, 15);
  const proto = rng.chance(0.85) ? rng.pick([6, 6, 17, 17, 1]) : rng.pick([47, 50, 132, 58, 0, 41]);
  const frag = rng.chance(0.12);
  const later = frag && rng.chance(0.6);
  const body = later ? [...rng.bytes(rng.int(0, 40))] : l4(rng, proto);
  const total = ihl * 4 + body.length;
  const h = new Array<number>(ihl * 4).fill(1); // options: NOPs
  const id = rng.int(1, 0xffff);
  let fl = rng.chance(0.5) && !frag ? 0x4000 : 0;
  if (frag) fl |= (rng.chance(later ? 0.5 : 1) ? 0x2000 : 0) | (later ? rng.int(1, 100) : 0);
  const src = v4(rng.pick(V4_ADDRS));
  const dst = v4(rng.pick(V4_ADDRS));
  h.splice(0, 20, (4 << 4) | ihl, rng.chance(0.7) ? 0 : rng.int(0, 255), total >> 8, total & 0xff, id >> 8, id & 0xff, fl >> 8, fl & 0xff,
    rng.int(1, 255), proto, 0, 0, ...src, ...dst);
  const out = Uint8Array.from([...h, ...body]);
  const sum = internetChecksum(out, 0, ihl * 4);
  out[10] = sum >> 8;
  out[11] = sum & 0xff;
  return out;
}

/** A random IPv6 packet, sometimes with extension headers. */
function packet6(rng: Rng, inbound: boolean): Uint8Array {
  const chain: Array<{ type: number; body: (next: number) => number[] }> = [];
  if (rng.chance(0.3)) {
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      const type = rng.pick(i === 0 ? [0, 60, 43, 44, 44, 51, 135] : [60, 43, 44, 51, 135]);
      chain.push({ type, body: extBody(rng, type) });
    }
  }
  const proto = rng.chance(0.85) ? rng.pick([6, 6, 17, 17, 58]) : rng.pick([59, 47, 50, 1]);
  const later = chain.some((c) => c.type === 44) && rng.chance(0.4);
  let payload: number[] = later ? [...rng.bytes(rng.int(0, 30))] : l4(rng, proto);
  for (let i = chain.length - 1; i >= 0; i--) {
    const next = i === chain.length - 1 ? proto : chain[i + 1]!.type;
    const hdr = chain[i]!.body(next);
    if (later && chain[i]!.type === 44) {
      const w = (rng.int(1, 200) << 3) | (hdr[3]! & 1);
      hdr[2] = w >> 8;
      hdr[3] = w & 0xff;
    }
    payload = [...hdr, ...payload];
  }
  // A chain cut short (not on the input path: the kernel parses hop-by-hop options first).
  if (chain.length > 0 && !inbound && rng.chance(0.1)) payload = payload.slice(0, rng.int(0, payload.length));
  const first = chain.length > 0 ? chain[0]!.type : proto;
  const tc = rng.chance(0.7) ? 0 : rng.int(0, 255);
  const flow = rng.chance(0.6) ? 0 : rng.int(0, 0xfffff);
  const h = [0x60 | (tc >> 4), ((tc & 0xf) << 4) | (flow >> 16), (flow >> 8) & 0xff, flow & 0xff,
    payload.length >> 8, payload.length & 0xff, first, rng.int(1, 255), ...v6(rng.pick(V6_ADDRS)), ...v6(rng.pick(V6_ADDRS))];
  return Uint8Array.from([...h, ...payload]);
}

function extBody(rng: Rng, type: number): (next: number) => number[] {
  if (type === 44) {
    return (next) => {
      const more = rng.chance(0.5) ? 1 : 0;
      return [next, 0, 0, more, ...rng.bytes(4)];
    };
  }
  if (type === 51) return (next) => [next, 1, 0, 0, ...rng.bytes(8)]; // AH: (1 + 2) * 4 = 12 bytes
  const units = rng.int(0, 1);
  if (type === 43) return (next) => [next, units, 0, 0, ...new Array<number>(4 + units * 8).fill(0)]; // type 0, segments left 0
  // Linux drops hop-by-hop headers with more than 7 bytes of padding (ip6_parse_tlv): a longer
  // header holds one experimental option (0x1e: skipped when unknown) instead.
  const pad = 6 + units * 8;
  return (next) => [next, units, pad > 7 ? 0x1e : 1, pad - 2, ...new Array<number>(pad - 2).fill(0)];
}

/** A random packet; `inbound` keeps to what the input path accepts. */
export function randomPacket(rng: Rng, options: { family?: 4 | 6; inbound?: boolean } = {}): Uint8Array {
  const family = options.family ?? (rng.chance(0.55) ? 4 : 6);
  return family === 4 ? packet4(rng) : packet6(rng, options.inbound === true);
}

const FIELD_LIST = [...FIELDS.values()].filter((f) => f.name !== 'timestamp');
const OPS = ['==', '!=', '<', '<=', '>', '>='];

/** Reads a field's value from a reference packet, if it has one; supplied by the caller (the evaluator). */
export type ValueOf = (field: string, packet: Uint8Array, offset?: number) => bigint | undefined;

/**
 * A random filter text of up to `depth` levels whose values come mostly from `packets`.
 */
export function randomFilter(rng: Rng, packets: readonly Uint8Array[], valueOf: ValueOf, depth = 3): string {
  if (depth <= 0 || rng.chance(0.35)) return randomTest(rng, packets, valueOf);
  const r = rng.u32() % 10;
  if (r < 1) {
    return `(${randomFilter(rng, packets, valueOf, depth - 1)} ? ${randomFilter(rng, packets, valueOf, depth - 1)} : ${randomFilter(rng, packets, valueOf, depth - 1)})`;
  }
  const n = rng.int(2, 3);
  const op = r < 6 ? ' and ' : ' or ';
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`(${randomFilter(rng, packets, valueOf, depth - 1)})`);
  return parts.join(rng.chance(0.2) ? (op === ' and ' ? ' && ' : ' || ') : op);
}

function randomTest(rng: Rng, packets: readonly Uint8Array[], valueOf: ValueOf): string {
  const f: FieldInfo = rng.chance(0.02) ? FIELDS.get('timestamp')! : rng.pick(FIELD_LIST);
  let name = f.name;
  let offset: number | undefined;
  if (f.kind === 'array') {
    const neg = rng.chance(0.3);
    const bytes = rng.chance(0.5);
    const n = neg ? rng.int(bytes ? f.size! : 1, 24) : rng.int(0, 48);
    name += `[${neg ? '-' : ''}${n}${bytes ? 'b' : ''}]`;
    offset = (neg ? -1 : 1) * (bytes ? n : n * f.size!);
  }
  const not = rng.chance(0.15) ? (rng.chance(0.5) ? 'not ' : '!') : '';
  if (rng.chance(0.2)) return `${not}${name}`;
  const op = rng.pick(OPS);
  return `${not}${name} ${op} ${randomValue(rng, f, packets, valueOf, offset)}`;
}

function randomValue(rng: Rng, f: FieldInfo, packets: readonly Uint8Array[], valueOf: ValueOf, offset: number | undefined): string {
  const seen = packets.length > 0 ? valueOf(f.name, rng.pick(packets), offset) : undefined;
  const max = f.kind === 'address' ? (1n << 128n) - 1n : f.kind === 'timestamp' ? (1n << 63n) - 1n : (1n << BigInt(f.bits)) - 1n;
  let v: bigint;
  const r = rng.u32() % 20;
  if (seen !== undefined && r < 11) v = seen + BigInt(rng.pick([0, 0, 0, -1, 1]));
  else if (r < 14) v = BigInt(rng.pick([0, 1, 2, 5, 6, 17, 40, 58, 64, 255]));
  else if (r < 16) v = max + BigInt(f.kind === 'address' ? 0 : rng.pick([0, 1]));
  else if (r < 17) v = -BigInt(rng.int(1, 5));
  else v = BigInt(rng.u32()) % (max + 1n);
  if (v < 0n) return `-${-v}`;
  if (f.kind === 'address' && rng.chance(0.7)) {
    if (v >> 32n === 0xffffn) return [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString()).join('.');
    const g: string[] = [];
    for (let s = 112n; s >= 0n; s -= 16n) g.push(((v >> s) & 0xffffn).toString(16));
    return g.join(':');
  }
  return rng.chance(0.3) ? `0x${v.toString(16)}` : v.toString();
}
