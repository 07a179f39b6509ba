/**
 * What a filter test reads: the packet's layers, found as WinDivertHelperParsePacketEx finds
 * them, and the address fields, mapped from a DivertAddress or a plain object. One context is
 * reused for every packet a compiled filter sees: loading a packet allocates nothing.
 *
 * Layers (WinDivert 2.2 dll/windivert_shared.c):
 * - IPv4 needs IHL >= 5 and a total length covering the header; IPv6 needs 40 bytes. Anything
 *   else matches no filter, not even `true` (WinDivertHelperEvalFilter fails).
 * - IPv6 extension headers walked (IPV6_EXT_HEADERS): hop-by-hop (0), routing (43), destination
 *   options (60), mobility (135), AH (51), fragment (44); the walk stops at a truncated header, a
 *   second fragment header, or after the fragment header of a later fragment (offset != 0).
 * - A later fragment has no L4 header. TCP needs 20 bytes and a data offset >= 5 (the header
 *   length is then capped at the bytes present); UDP, ICMP (IPv4 only), ICMPv6 (IPv6 only) 8.
 * - `length` and `packet[i]` see every byte given; the L4 payload ends at the IP length.
 *
 * Address fields: see {@link FilterAddress}.
 * @module
 */
import { DIVERT_MARK } from '../firewall/mark.js';
import { IP_PROTOCOL } from '../ip/protocols.js';
import { hashPacket } from './_hash.js';

/** How an IPv6 extension header gives its length: (hdr[1] + 1) * 8, (hdr[1] + 2) * 4 (AH), or 8 (fragment). */
export type Ipv6ExtLength = 'units8' | 'ah' | 'fragment';

/**
 * The next headers WinDivert walks over as IPv6 extension headers (WinDivertHelperParsePacketEx),
 * and how each gives its length. The evaluator walks them; the lowering (lower_atoms.ts) tells
 * them from a protocol with the same set.
 */
export const IPV6_EXT_HEADERS: ReadonlyMap<number, Ipv6ExtLength> = new Map([
  [IP_PROTOCOL.HOP_BY_HOP, 'units8'], [IP_PROTOCOL.IPV6_ROUTE, 'units8'], [IP_PROTOCOL.IPV6_FRAG, 'fragment'],
  [IP_PROTOCOL.AH, 'ah'], [IP_PROTOCOL.IPV6_OPTS, 'units8'], [IP_PROTOCOL.MH, 'units8'],
]);

const NOT_EXT = 0;
const UNITS8 = 1;
const AH = 2;
const FRAGMENT = 3;
/** IPV6_EXT_HEADERS by next header, for the walk each packet takes (numbers: as fast as a switch, strings are not). */
const EXT_BY_NEXT: Uint8Array = Uint8Array.from({ length: 256 }, (_, i) => {
  const ext = IPV6_EXT_HEADERS.get(i);
  return ext === undefined ? NOT_EXT : ext === 'units8' ? UNITS8 : ext === 'ah' ? AH : FRAGMENT;
});

/** A netfilter hook, as DivertAddress names it. */
export type FilterHook = 'prerouting' | 'local-in' | 'forward' | 'local-out' | 'postrouting';

/**
 * The address a filter reads: a DivertAddress (structurally) or a plain object with
 * WinDivert's names. Missing: an outbound, non-loopback, non-impostor packet, interfaces 0.
 *
 * - `outbound`: from `hook` when given (local-out, postrouting and forward are outbound; a
 *   forwarded packet is outbound as at WinDivert's forward layer), else `direction`, else
 *   `outbound`. `inbound` is its negation.
 * - `ifIdx`: `ifIdx` when given, else the receiving interface (`ifindex`) inbound and the
 *   sending interface (`outIfindex`) outbound.
 * - `impostor`: `impostor` when given, else `mark & DIVERT_MARK`.
 * - `loopback`, `subIfIdx` (0 on Linux), `timestamp` (ms since the epoch; 0 when unknown).
 */
export interface FilterAddress {
  /** WinDivert's `outbound`; used only when neither `hook` nor `direction` is given. */
  readonly outbound?: boolean | undefined;
  /** The packet is on a loopback interface (`loopback`). */
  readonly loopback?: boolean | undefined;
  /** The packet was injected by divert (`impostor`); default: `mark & DIVERT_MARK`. */
  readonly impostor?: boolean | undefined;
  /** WinDivert's `ifIdx`; default: `ifindex` inbound, `outIfindex` outbound. */
  readonly ifIdx?: number | undefined;
  /** WinDivert's `subIfIdx` (0 on Linux). */
  readonly subIfIdx?: number | undefined;
  /** When the packet was seen, in ms since the epoch (`timestamp`); 0 when unknown. */
  readonly timestamp?: number | undefined;
  /** The netfilter hook the packet was queued at; decides `outbound` when given. */
  readonly hook?: FilterHook | undefined;
  /** The packet's direction; decides `outbound` when `hook` is absent (`forward` counts as outbound). */
  readonly direction?: 'inbound' | 'outbound' | 'forward' | undefined;
  /** Index of the interface the packet came in on (0 for none). */
  readonly ifindex?: number | undefined;
  /** Index of the interface the packet goes out on (0 for none). */
  readonly outIfindex?: number | undefined;
  /** The packet's firewall mark (u32); gives `impostor` when that is absent. */
  readonly mark?: number | undefined;
}

const EMPTY = new Uint8Array(0);

/** One packet and address, as the compiled tests read them. Fields are public for speed. */
export class FilterContext {
  b: Uint8Array = EMPTY;
  /** Bytes given (WinDivert's packet length: `length`, `packet[i]`). */
  len = 0;
  v4 = false;
  v6 = false;
  protocol = 0;
  fragment = false;
  tcp = false;
  udp = false;
  icmp = false;
  icmpv6 = false;
  /** Offset of the L4 header (meaningful when one of tcp/udp/icmp/icmpv6 is set). */
  l4 = 0;
  /** Where the L4 payload starts, and its length (to the IP length). */
  hdrEnd = 0;
  payloadLen = 0;
  outbound = true;
  loopback = false;
  impostor = false;
  ifIdx = 0;
  subIfIdx = 0;
  timestamp = 0;
  #hash: bigint | undefined;

  /** Loads `bytes` and `address`; returns whether the packet parsed. */
  load(bytes: Uint8Array, address: FilterAddress | undefined): boolean {
    this.#hash = undefined;
    this.#address(address);
    return this.#parse(bytes);
  }

  /** The 64-bit packet hash (random8/16/32), computed on first use per packet. */
  hash(): bigint {
    this.#hash ??= hashPacket(BigInt.asUintN(64, BigInt(Math.trunc(this.timestamp))), {
      b: this.b, v4: this.v4, v6: this.v6, tcp: this.tcp, short8: this.udp || this.icmp || this.icmpv6, l4: this.l4,
    });
    return this.#hash;
  }

  #address(a: FilterAddress | undefined): void {
    if (a === undefined) {
      this.outbound = true;
      this.loopback = this.impostor = false;
      this.ifIdx = this.subIfIdx = this.timestamp = 0;
      return;
    }
    const hook = a.hook;
    this.outbound = hook !== undefined ? hook === 'local-out' || hook === 'postrouting' || hook === 'forward'
      : a.direction !== undefined ? a.direction !== 'inbound'
      : a.outbound ?? true;
    this.ifIdx = typeof a.ifIdx === 'number' ? a.ifIdx : (this.outbound ? a.outIfindex : a.ifindex) ?? 0;
    this.subIfIdx = a.subIfIdx ?? 0;
    this.loopback = a.loopback === true;
    this.impostor = typeof a.impostor === 'boolean' ? a.impostor : ((a.mark ?? 0) & DIVERT_MARK) !== 0;
    this.timestamp = a.timestamp ?? 0;
  }

  #parse(b: Uint8Array): boolean {
    this.b = b;
    const len = (this.len = b.length);
    this.v4 = this.v6 = this.fragment = this.tcp = this.udp = this.icmp = this.icmpv6 = false;
    this.protocol = this.l4 = this.hdrEnd = this.payloadLen = 0;
    if (len < 20) return false;
    let data: number;
    let dataLen: number;
    let fragOff = 0;
    let protocol: number;
    const version = b[0]! >> 4;
    if (version === 4) {
      const hdrLen = (b[0]! & 0x0f) * 4;
      const total = (b[2]! << 8) | b[3]!;
      if (hdrLen < 20 || total < hdrLen || len < hdrLen) return false;
      this.v4 = true;
      protocol = b[9]!;
      fragOff = ((b[6]! << 8) | b[7]!) & 0x1fff;
      this.fragment = fragOff !== 0 || (b[6]! & 0x20) !== 0;
      data = hdrLen;
      dataLen = Math.min(total, len) - hdrLen;
    } else if (version === 6) {
      if (len < 40) return false;
      this.v6 = true;
      protocol = b[6]!;
      data = 40;
      dataLen = Math.min(((b[4]! << 8) | b[5]!) + 40, len) - 40;
      while (fragOff === 0 && dataLen >= 2) {
        const ext = EXT_BY_NEXT[protocol]!;
        if (ext === NOT_EXT) break;
        let hl = 8;
        if (ext === FRAGMENT) {
          if (this.fragment || dataLen < 8) break;
          fragOff = ((b[data + 2]! << 8) | b[data + 3]!) & 0xfff8;
          this.fragment = true;
        } else if (ext === AH) hl = (b[data + 1]! + 2) * 4;
        else hl = (b[data + 1]! + 1) * 8;
        if (dataLen < hl) break;
        protocol = b[data]!;
        data += hl;
        dataLen -= hl;
      }
    } else {
      return false;
    }
    this.protocol = protocol;
    this.l4 = data;
    if (fragOff === 0) {
      let hl = 0;
      if (protocol === IP_PROTOCOL.TCP) {
        if (dataLen >= 20 && b[data + 12]! >> 4 >= 5) {
          this.tcp = true;
          hl = Math.min((b[data + 12]! >> 4) * 4, dataLen);
        }
      } else if (dataLen >= 8) {
        if (protocol === IP_PROTOCOL.UDP) this.udp = true;
        else if (protocol === IP_PROTOCOL.ICMP && this.v4) this.icmp = true;
        else if (protocol === IP_PROTOCOL.ICMPV6 && this.v6) this.icmpv6 = true;
        if (this.udp || this.icmp || this.icmpv6) hl = 8;
      }
      data += hl;
      dataLen -= hl;
    }
    this.hdrEnd = data;
    this.payloadLen = dataLen;
    return true;
  }
}
