/**
 * Turns one queued packet message into a DivertPacket: copies the bytes out of the receive
 * arena (the arena is reused by the next read) and builds the DivertAddress the seed's
 * recvfrom() returned, from the hook, the interfaces and the kernel's metadata.
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

/** The packet `meta` describes in `buf`, held for `sink`'s verdict; `port` is the divert port. */
export function receivedPacket(meta: PacketMeta, buf: Uint8Array, links: LinkTable | undefined, port: number, sink: VerdictSink): DivertPacket {
  const len = meta.payloadLength;
  // One cut holds the program's copy and the original, to tell later if it changed.
  const both = take(len * 2);
  both.set(buf.subarray(meta.payloadOffset, meta.payloadOffset + len));
  both.copyWithin(len, 0, len);
  const bytes = both.subarray(0, len);
  const family: 4 | 6 = len > 0 ? ((bytes[0]! >> 4) === 6 ? 6 : 4) : meta.hwProtocol === 0x86dd ? 6 : 4;
  const hook = HOOKS[meta.hook] ?? 'prerouting';
  const inLink = links?.get(meta.indev);
  const outLink = links?.get(meta.outdev);
  const receiving = meta.indev !== 0 ? (family === 4 ? inLink?.ipv4[0] : inLink?.ipv6[0]) : undefined;
  const address = new DivertAddress({
    family,
    address: receiving ?? anyAddress(family),
    port,
    ifindex: meta.indev,
    ifname: inLink?.name,
    outIfindex: meta.outdev,
    outIfname: outLink?.name,
    direction: directionOf(hook),
    hook,
    mark: meta.mark,
    timestamp: meta.timestamp,
    hwAddr: meta.hwAddr,
    uid: meta.uid,
    gid: meta.gid,
    checksumNotReady: (meta.skbInfo & NFQA_SKB.NFQA_SKB_CSUMNOTREADY) !== 0,
    gso: (meta.skbInfo & NFQA_SKB.NFQA_SKB_GSO) !== 0,
    truncated: meta.capLen !== undefined && meta.capLen > len,
    originalLength: meta.capLen ?? len,
    loopback: (((inLink ?? outLink)?.flags ?? 0) & IFF_LOOPBACK) !== 0,
  });
  return new DivertPacket(sink, meta.id, bytes, both.subarray(len), address, performance.now());
}
