/**
 * Turns one queued packet message into a DivertPacket: copies the bytes out of the receive
 * arena (the arena is reused by the next read) and builds the DivertAddress the seed's
 * recvfrom() returned, from the hook, the interfaces and the kernel's metadata (the address part
 * is shared with sniffed packets, whose metadata comes from NFLOG).
 * @module
 */
import type { PacketMeta } from '../nfqueue/packet_msg.js';
import { NFQA_SKB } from '../nfqueue/constants.js';
import { DivertAddress, anyAddress, directionOf } from './address.js';
import { HOOKS } from '../netlink/netfilter.js';
import { DivertPacket, type VerdictSink } from './divert_packet.js';
import type { LinkTable } from '../rtnetlink/link_table.js';

/** `IFF_LOOPBACK` (include/uapi/linux/if.h). */
const IFF_LOOPBACK = 0x8;

/**
 * Copies are cut from shared slabs, as Node's Buffer pool does: a typed array over 64 bytes has
 * its own malloc'd store (and a sweep when collected), which cost more than the rest of a small
 * packet's copy. A slab lives while any packet cut from it does.
 */
const SLAB_BYTES = 64 * 1024;
/** Larger copies get an allocation of their own (a few of them would fill a slab). */
const SLAB_MAX_TAKE = SLAB_BYTES / 8;
let slab = new Uint8Array(0);
let slabUsed = 0;

/** `n` zeroed or fresh bytes of their own, for one packet's copy. */
function take(n: number): Uint8Array {
  if (n > SLAB_MAX_TAKE) return new Uint8Array(n);
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += (n + 7) & ~7; // 8-byte aligned starts, so DataViews and wider reads stay aligned
  return out;
}

/**
 * From this size on, a packet's original (kept to tell whether the program changed it) is not
 * copied: it stays a view into the receive arena until the next read (see `borrowed`). A GSO
 * super-packet then costs one 64 KiB copy instead of two copies and a 128 KiB allocation.
 */
export const BORROW_MIN = SLAB_MAX_TAKE / 2;

/**
 * The packet `meta` describes in `buf`, held for `sink`'s verdict (and made an address by it).
 * A packet of BORROW_MIN bytes or more has its original in `buf`: it is pushed on `borrowed`,
 * whose packets must releaseOriginal() before `buf` is read into again.
 */
export function receivedPacket(meta: PacketMeta, buf: Uint8Array, sink: VerdictSink, borrowed: DivertPacket[]): DivertPacket {
  const len = meta.payloadLength;
  const off = meta.payloadOffset;
  let bytes: Uint8Array;
  let original: Uint8Array;
  if (len >= BORROW_MIN) {
    bytes = buf.slice(off, off + len);
    original = buf.subarray(off, off + len);
  } else {
    const both = copyOut(buf, off, len);
    bytes = both.subarray(0, len);
    original = both.subarray(len);
  }
  // The address is made when first read (most loops never read it, see addressOfMeta): the
  // packet keeps the metadata instead of an address, its init object and its strings.
  const p = new DivertPacket(sink, meta.id, bytes, original, meta, performance.now(), (meta.capLen ?? len) > len, familyOf(meta, bytes));
  if (len >= BORROW_MIN) borrowed.push(p);
  return p;
}

/**
 * `len` bytes at `offset` of the arena, twice in one cut of a slab: the packet's own copy
 * (`subarray(0, len)`) and the original (`subarray(len)`), to tell later whether it changed.
 */
export function copyOut(buf: Uint8Array, offset: number, len: number): Uint8Array {
  const both = take(len * 2);
  both.set(buf.subarray(offset, offset + len));
  both.copyWithin(len, 0, len);
  return both;
}

/** What the kernel says about a packet, NFQUEUE and NFLOG alike, for its DivertAddress. */
export interface AddressSource {
  hwProtocol: number;
  hook: number;
  indev: number;
  outdev: number;
  mark: number;
  timestamp: number | undefined;
  hwAddr: string | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

/** The address of a packet received with `meta` (see receivedPacket): made when the program first reads it. */
export function addressOfMeta(meta: PacketMeta, family: 4 | 6, links: LinkTable | undefined, port: number): DivertAddress {
  const len = meta.payloadLength;
  const skb = meta.skbInfo;
  return addressOf(meta, family, len, links, port, (skb & NFQA_SKB.NFQA_SKB_CSUMNOTREADY) !== 0, (skb & NFQA_SKB.NFQA_SKB_GSO) !== 0, meta.capLen ?? len);
}

/** The packet's IP version: from its first byte, else (no bytes copied) from the ethertype. */
export function familyOf(m: AddressSource, bytes: Uint8Array): 4 | 6 {
  return bytes.length > 0 ? ((bytes[0]! >> 4) === 6 ? 6 : 4) : m.hwProtocol === 0x86dd ? 6 : 4;
}

/**
 * The seed's address of a packet (`len` bytes of it copied): the receiving interface's address
 * (the first of the packet's family), `0.0.0.0` / `::` for one going out, and the metadata beside
 * it. `originalLength` is the packet's length in the kernel (more than `len` when the copy was cut).
 */
export function addressOf(m: AddressSource, family: 4 | 6, len: number, links: LinkTable | undefined, port: number, checksumNotReady: boolean, gso: boolean, originalLength: number): DivertAddress {
  const hook = HOOKS[m.hook] ?? 'prerouting';
  const inLink = links?.get(m.indev);
  const outLink = links?.get(m.outdev);
  const receiving = m.indev !== 0 ? (family === 4 ? inLink?.ipv4[0] : inLink?.ipv6[0]) : undefined;
  return new DivertAddress({
    family,
    address: receiving ?? anyAddress(family),
    port,
    ifindex: m.indev,
    ifname: inLink?.name,
    outIfindex: m.outdev,
    outIfname: outLink?.name,
    direction: directionOf(hook),
    hook,
    mark: m.mark,
    timestamp: m.timestamp,
    hwAddr: m.hwAddr,
    uid: m.uid,
    gid: m.gid,
    checksumNotReady,
    gso,
    truncated: originalLength > len,
    originalLength,
    loopback: (((inLink ?? outLink)?.flags ?? 0) & IFF_LOOPBACK) !== 0,
  });
}
