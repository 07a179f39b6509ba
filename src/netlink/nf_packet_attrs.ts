/**
 * Attributes nfnetlink_queue and nfnetlink_log encode alike in their packet messages
 * (NFQA_/NFULA_ TIMESTAMP, HWADDR, VLAN and the string ones): one decoder for both families.
 * The VLAN nest numbers its members the same in both (PROTO 1, TCI 2: nfqnl_vlan_attr and
 * nfulnl_vlan_attr).
 * @module
 */
import type { AttrDecoder } from './attr_decoder.js';
import { u16be, u64beNumber } from './bytes.js';
import { formatHwAddr } from './hw_address.js';
import { PacketError } from '../errors.js';

/** struct nfqnl_msg_packet_timestamp / nfulnl_msg_packet_timestamp: be64 sec, be64 usec. */
const TIMESTAMP_LEN = 16;
/** struct nfq(n)l_msg_packet_hw: be16 hw_addrlen, 2 bytes of padding, then the address. */
const HWADDR_HDR_LEN = 4;
const VLAN_PROTO = 1;
const VLAN_TCI = 2;
const textDecoder = new TextDecoder();

/** Where a packet message's timestamp goes. */
export interface TimestampTarget {
  timestamp: number | undefined;
  timestampSec: number | undefined;
  timestampUsec: number | undefined;
}

/** Where a packet message's VLAN goes. */
export interface VlanTarget {
  vlanTci: number | undefined;
  vlanProto: number | undefined;
}

/**
 * Reads a TIMESTAMP attribute into `m` (ms since the epoch, and its two parts).
 * @throws {PacketError} of `family` when the attribute is short.
 */
export function decodeTimestampAttr(ad: AttrDecoder, m: TimestampTarget, family: string, name: string): void {
  if (ad.length < TIMESTAMP_LEN) throw shortAttr(family, name, ad.length, TIMESTAMP_LEN);
  const sec = u64beNumber(ad.buffer, ad.offset);
  const usec = u64beNumber(ad.buffer, ad.offset + 8);
  m.timestampSec = sec;
  m.timestampUsec = usec;
  m.timestamp = sec * 1000 + usec / 1000;
}

/**
 * The HWADDR attribute's address as text ("02:00:5e:00:53:01").
 * @throws {PacketError} of `family` when the attribute is short.
 */
export function decodeHwAddrAttr(ad: AttrDecoder, family: string, name: string): string {
  if (ad.length < HWADDR_HDR_LEN) throw shortAttr(family, name, ad.length, HWADDR_HDR_LEN);
  // hw_addrlen is what the device's header parser gave (6 for Ethernet); never past the attribute or 8.
  const len = Math.min(u16be(ad.buffer, ad.offset), 8, ad.length - HWADDR_HDR_LEN);
  // A link's packets come from few neighbours: the last address's text is kept, keyed by its bytes.
  const b = ad.buffer;
  const o = ad.offset + HWADDR_HDR_LEN;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < len; i++) {
    if (i < 4) hi = hi * 256 + b[o + i]!;
    else lo = lo * 256 + b[o + i]!;
  }
  if (len === lastHw.len && hi === lastHw.hi && lo === lastHw.lo) return lastHw.text;
  const text = formatHwAddr(b, o, len);
  lastHw.len = len;
  lastHw.hi = hi;
  lastHw.lo = lo;
  lastHw.text = text;
  return text;
}

/** The last hardware address decodeHwAddrAttr formatted: its length, bytes (as two numbers) and text. */
const lastHw = { len: -1, hi: 0, lo: 0, text: '' };

/**
 * Reads a VLAN nest into `m`, walking it with `nest` (a decoder of the caller's, reused).
 * @throws {PacketError} for a malformed nest.
 */
export function decodeVlanAttr(ad: AttrDecoder, nest: AttrDecoder, m: VlanTarget): void {
  const inner = ad.nestedInto(nest);
  while (inner.next()) {
    if (inner.type === VLAN_TCI) m.vlanTci = inner.u16be();
    else if (inner.type === VLAN_PROTO) m.vlanProto = inner.u16be();
  }
  if (inner.err) throw inner.err;
}

/** A string attribute's text, trailing NULs trimmed (some are sent with one, some without). */
export function decodeStringAttr(buf: Uint8Array, off: number, len: number): string {
  let end = off + len;
  while (end > off && buf[end - 1] === 0) end--;
  return textDecoder.decode(buf.subarray(off, end));
}

/** A PacketError of `family` ("nfqueue", "nflog") for an attribute shorter than its struct. */
export function shortAttr(family: string, name: string, got: number, need: number): PacketError {
  return new PacketError(family, `${name} has ${got} bytes, needs ${need}`);
}
