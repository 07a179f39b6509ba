/**
 * Tiny packet builders for the test packets: every field named, lengths and the IPv4 header
 * checksum filled in, layer 4 checksums left as given (filters may test them; nobody verifies
 * them). Test data only.
 * @module
 */
import { parseIpv4, parseIpv6 } from '../../ip/address.js';
import { internetChecksum } from '../../packet/checksum.js';

const addr4 = (a: string): number[] => [...parseIpv4(a)];
const addr6 = (a: string): number[] => [...parseIpv6(a)];

const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const text = (s: string): number[] => [...new TextEncoder().encode(s)];

export interface Ipv4Init {
  src: string;
  dst: string;
  protocol: number;
  id?: number;
  tos?: number;
  ttl?: number;
  /** Flags and fragment offset word: 0x4000 DF, 0x2000 MF, low 13 bits the offset in 8-byte units. */
  frag?: number;
  /** Option bytes (a multiple of 4). */
  options?: number[];
}

/** An IPv4 packet around `body`; total length and header checksum filled in. */
export function ipv4(h: Ipv4Init, body: number[]): Uint8Array {
  const opts = h.options ?? [];
  const ihl = 5 + opts.length / 4;
  const total = ihl * 4 + body.length;
  const bytes = Uint8Array.from([
    0x40 | ihl, h.tos ?? 0, ...be16(total), ...be16(h.id ?? 0x1111), ...be16(h.frag ?? 0),
    h.ttl ?? 64, h.protocol, 0, 0, ...addr4(h.src), ...addr4(h.dst), ...opts, ...body,
  ]);
  const sum = internetChecksum(bytes, 0, ihl * 4);
  bytes[10] = sum >> 8;
  bytes[11] = sum & 0xff;
  return bytes;
}

export interface Ipv6Init {
  src: string;
  dst: string;
  /** Next header of the fixed header (the first extension header, or the protocol). */
  next: number;
  trafficClass?: number;
  flowLabel?: number;
  hopLimit?: number;
}

/** An IPv6 packet around `body` (extension headers included); payload length filled in. */
export function ipv6(h: Ipv6Init, body: number[]): Uint8Array {
  const tc = h.trafficClass ?? 0;
  const fl = h.flowLabel ?? 0;
  return Uint8Array.from([
    0x60 | (tc >> 4), ((tc & 0x0f) << 4) | (fl >> 16), (fl >> 8) & 0xff, fl & 0xff, ...be16(body.length), h.next, h.hopLimit ?? 64,
    ...addr6(h.src), ...addr6(h.dst), ...body,
  ]);
}

export interface TcpInit {
  src: number;
  dst: number;
  seq?: number;
  ack?: number;
  /** FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20. */
  flags: number;
  window?: number;
  checksum?: number;
  urgent?: number;
  /** Option bytes (a multiple of 4); the data offset follows unless `dataOffset` says otherwise. */
  options?: number[];
  dataOffset?: number;
  payload?: string;
}

export function tcp(t: TcpInit): number[] {
  const opts = t.options ?? [];
  const doff = t.dataOffset ?? 5 + opts.length / 4;
  return [
    ...be16(t.src), ...be16(t.dst), ...be32(t.seq ?? 1000), ...be32(t.ack ?? 0), doff << 4, t.flags,
    ...be16(t.window ?? 64240), ...be16(t.checksum ?? 0), ...be16(t.urgent ?? 0), ...opts, ...text(t.payload ?? ''),
  ];
}

/** A UDP header (length from the payload unless given) and payload. */
export function udp(src: number, dst: number, payload: string, length?: number): number[] {
  const p = text(payload);
  return [...be16(src), ...be16(dst), ...be16(length ?? 8 + p.length), 0, 0, ...p];
}

/** An ICMP or ICMPv6 header (type, code, checksum 0, 4-byte body) and data. */
export function icmp(type: number, code: number, body: number, data: number[] = []): number[] {
  return [type, code, 0, 0, ...be32(body), ...data];
}

/**
 * An IPv6 extension header of `units` 8-byte units (hop-by-hop, destination options, mobility),
 * filled with one PadN option, or with an experimental option (0x1e, skipped when unknown) when
 * longer: Linux drops more than 7 bytes of padding on input.
 */
export function ext(next: number, units = 0): number[] {
  const pad = 6 + units * 8;
  return [next, units, pad > 7 ? 0x1e : 1, pad - 2, ...new Array<number>(pad - 2).fill(0)];
}

/** An IPv6 fragment header: `offset` in 8-byte units, M flag, identification. */
export function frag(next: number, offset: number, more: boolean, ident = 0x01020304): number[] {
  const w = (offset << 3) | (more ? 1 : 0);
  return [next, 0, ...be16(w), ...be32(ident)];
}

/** An IPv6 authentication header of 12 bytes (payload length 1). */
export function ah(next: number): number[] {
  return [next, 1, 0, 0, ...be32(0x100), ...be32(1)];
}
