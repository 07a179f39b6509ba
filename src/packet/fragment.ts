/**
 * `fragmentPacket`: split an IP packet to fit an MTU (RFC 791 §2.3 and §3.2 for IPv4, RFC 8200
 * §4.5 for IPv6). Every fragment is a fresh `Uint8Array`; the input is never modified.
 * @module
 */
import { PacketError } from '../errors.js';
import { setU16be, setU32be } from './_bytes.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';

/** Options for `fragmentPacket`. */
export interface FragmentOptions {
  /** IPv6 fragment Identification; random (Web Crypto when present) when omitted (RFC 7739). */
  ident?: number;
}

/** An IPv4 packet with DF set does not fit the MTU (the sender would get ICMP "frag needed"). */
export class FragmentationNeededError extends PacketError {
  /** The packet's total length. */
  readonly size: number;
  /** The MTU it had to fit. */
  readonly mtu: number;
  /** A packet of `size` bytes with DF set, for a path of `mtu`. */
  constructor(size: number, mtu: number) {
    super('IPv4', `packet of ${size} bytes is larger than MTU ${mtu} and DF is set`);
    this.name = 'FragmentationNeededError';
    this.message = `Cannot fragment IPv4 packet: ${this.reason}`;
    this.size = size;
    this.mtu = mtu;
  }
}

/**
 * The options of an IPv4 header that must be copied into every fragment (copied flag, the top
 * bit of the option type, RFC 791 §3.1), zero-padded to a multiple of 4.
 * @throws {PacketError} when the option list is malformed
 */
export function copiedIpv4Options(options: Uint8Array): Uint8Array {
  const keep: number[] = [];
  for (let i = 0; i < options.length; ) {
    const type = options[i]!;
    if (type === 0) break; // End of Option List
    if (type === 1) { i++; continue; } // NOP: copy flag 0
    const len = options[i + 1];
    if (len === undefined || len < 2 || i + len > options.length) {
      throw new PacketError('IPv4', `option ${type} at ${i} has a bad length`);
    }
    if ((type & 0x80) !== 0) for (let j = 0; j < len; j++) keep.push(options[i + j]!);
    i += len;
  }
  const out = new Uint8Array((keep.length + 3) & ~3);
  out.set(keep);
  return out;
}

function dataRoom(mtu: number, headerLen: number): number {
  const room = Math.floor((mtu - headerLen) / 8) * 8;
  if (room < 8) {
    throw new RangeError(`Cannot fragment: MTU ${mtu} leaves no room for 8 data bytes after ${headerLen} header bytes`);
  }
  return room;
}

function fragmentIpv4(bytes: Uint8Array, mtu: number): Uint8Array[] {
  const ip = Ipv4Packet.checked(bytes);
  const total = ip.totalLength;
  if (total <= mtu) return [bytes.slice(0, total)];
  if (ip.df) throw new FragmentationNeededError(total, mtu);
  const hl = ip.hdrLen;
  const later = copiedIpv4Options(ip.options);
  const base = ip.fragOffsetBytes;
  const lastMore = ip.mf; // fragmenting a fragment keeps its MF on the last piece
  const data = ip.payload;
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < data.length; ) {
    const first = pos === 0;
    const hlen = first ? hl : 20 + later.length;
    const n = Math.min(dataRoom(mtu, hlen), data.length - pos);
    const f = new Uint8Array(hlen + n);
    f.set(bytes.subarray(0, 20));
    f.set(first ? ip.options : later, 20);
    f.set(data.subarray(pos, pos + n), hlen);
    const v = new Ipv4Packet(f);
    v.ihl = hlen / 4;
    v.totalLength = hlen + n;
    v.mf = pos + n < data.length || lastMore;
    v.fragOffsetBytes = base + pos;
    v.fillChecksum();
    out.push(f);
    pos += n;
  }
  return out;
}

function randomIdent(): number {
  const c = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } }).crypto;
  if (c) return c.getRandomValues(new Uint32Array(1))[0]!;
  return Math.floor(Math.random() * 0x100000000);
}

/**
 * End of the upper-layer header at `at` (where the header chain ends), clipped to `end`: TCP
 * by its data offset, UDP and ICMPv6 8 bytes, No Next Header (59) and unknown protocols nothing
 * past the chain (their header length is not known here).
 */
function upperHeaderEnd(b: Uint8Array, at: number, protocol: number, end: number): number {
  const len = protocol === 6 ? Math.max(b[at + 12]! >> 4, 5) * 4 : protocol === 17 || protocol === 58 ? 8 : 0;
  return Math.min(at + len, end);
}

function fragmentIpv6(bytes: Uint8Array, mtu: number, options: FragmentOptions | undefined): Uint8Array[] {
  const ip = Ipv6Packet.checked(bytes);
  const total = 40 + ip.payloadLength;
  if (total <= mtu) return [bytes.slice(0, total)];
  const chain = ip.chain();
  if (chain.fragmentOffset >= 0) throw new PacketError('IPv6', 'packet already has a fragment header');
  const ident = options?.ident ?? randomIdent();
  const unfrag = chain.unfragmentableEnd;
  const prevNext = chain.unfragmentablePrevNext;
  const nextHeader = bytes[prevNext]!;
  const room = dataRoom(mtu, unfrag + 8);
  // RFC 8200 §4.5: the first fragment holds the whole header chain, up to and including the
  // upper-layer header, so a firewall or receiver never sees a chain cut in two.
  const chainEnd = upperHeaderEnd(bytes, chain.offset, chain.protocol, total);
  if (chainEnd - unfrag > room) {
    const need = unfrag + 8 + Math.ceil((chainEnd - unfrag) / 8) * 8;
    throw new RangeError(
      `Cannot fragment IPv6 packet: MTU ${mtu} cannot carry the header chain in the first fragment ` +
        `(${chainEnd} bytes up to the end of the upper-layer header, plus the 8-byte fragment header; ` +
        `the MTU must be at least ${need}, RFC 8200 §4.5)`,
    );
  }
  const out: Uint8Array[] = [];
  for (let pos = 0; unfrag + pos < total; pos += room) {
    const n = Math.min(room, total - unfrag - pos);
    const f = new Uint8Array(unfrag + 8 + n);
    f.set(bytes.subarray(0, unfrag));
    f[prevNext] = 44; // the last unfragmentable header now names the fragment header
    f[unfrag] = nextHeader;
    setU16be(f, unfrag + 2, pos | (unfrag + pos + n < total ? 1 : 0));
    setU32be(f, unfrag + 4, ident >>> 0);
    f.set(bytes.subarray(unfrag + pos, unfrag + pos + n), unfrag + 8);
    setU16be(f, 4, f.length - 40);
    out.push(f);
  }
  return out;
}

/**
 * Split the IP packet in `bytes` into fragments of at most `mtu` bytes each. A packet that
 * fits comes back as a single copy. IPv4 fragments carry the original Identification and, after
 * the first, only the options whose copied flag is set; IPv6 fragments get a fragment header
 * after the unfragmentable part (RFC 8200 §4.5), with `options.ident` as Identification; the
 * first IPv6 fragment always holds the whole extension-header chain and the upper-layer header.
 * @throws {FragmentationNeededError} when an IPv4 packet has DF set and is larger than `mtu`
 * @throws {PacketError} when the bytes are malformed or an IPv6 packet is already a fragment
 * @throws {RangeError} when `mtu` leaves no room for 8 data bytes, or (IPv6) for the header chain
 * in the first fragment
 */
export function fragmentPacket(bytes: Uint8Array, mtu: number, options?: FragmentOptions): Uint8Array[] {
  if (!Number.isInteger(mtu) || mtu < 0) throw new RangeError(`Cannot fragment: MTU ${mtu} is not a valid size`);
  const version = bytes.length > 0 ? bytes[0]! >> 4 : -1;
  if (version === 4) return fragmentIpv4(bytes, mtu);
  if (version === 6) return fragmentIpv6(bytes, mtu, options);
  throw new PacketError('IP', bytes.length === 0 ? 'empty buffer' : `unknown IP version ${version}`);
}
