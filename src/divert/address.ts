/**
 * DivertAddress: what `recvfrom()` says about where a packet was taken, as the seed's
 * `struct sockaddr_in` did, grown with the metadata nfnetlink_queue gives.
 *
 * `address` is the IPv4 (or IPv6) address of the interface that received the packet, and
 * `0.0.0.0` (`::`) for a packet going out, so passing the address back to `sendto()` reinjects
 * the packet where it was taken, exactly as with FreeBSD and the 2.2-era Linux divert sockets.
 * @module
 */

import { DIVERT_MARK } from '../firewall/mark.js';
import type { Hook } from '../netlink/netfilter.js';

export type { Hook } from '../netlink/netfilter.js';

/** @internal The packet a socket received with `a`, while it is held (see DivertSocket's sendto). */
export let heldPacketOf: (a: DivertAddress) => object | undefined;
/** @internal Sets or clears heldPacketOf(a). */
export let setHeldPacket: (a: DivertAddress, p: object | undefined) => void;

/** inbound: arrived on an interface; outbound: leaving the host (locally made or forwarded); forward: on the forward hook. */
export type Direction = 'inbound' | 'outbound' | 'forward';

export interface DivertAddressInit {
  family: 4 | 6;
  address: string;
  port: number;
  ifindex: number;
  ifname: string | undefined;
  outIfindex: number;
  outIfname: string | undefined;
  direction: Direction;
  hook: Hook;
  mark: number;
  timestamp: number | undefined;
  hwAddr: string | undefined;
  uid: number | undefined;
  gid: number | undefined;
  checksumNotReady: boolean;
  gso: boolean;
  truncated: boolean;
  originalLength: number;
  /** The interface it came in on (or, outbound, leaves by) is a loopback device. */
  loopback: boolean;
}

/**
 * Where a diverted packet was taken (the seed's `sockaddr_in` from recvfrom(), with more): its
 * interfaces, direction, hook, mark and timestamp. Pass it back to `sendto()` to reinject there.
 */
export class DivertAddress {
  /** 4 or 6: the IP version of the packet. */
  readonly family: 4 | 6;
  /** Receiving interface's address; `0.0.0.0` / `::` for outbound packets. */
  readonly address: string;
  /** The divert port (queue number) the packet came from. */
  readonly port: number;
  /** Receiving interface index (0 when the packet is outbound). */
  readonly ifindex: number;
  /** Receiving interface name, when known. */
  readonly ifname: string | undefined;
  /** Interface the packet leaves by (0 on the input side). */
  readonly outIfindex: number;
  /** Name of the interface the packet leaves by, when known. */
  readonly outIfname: string | undefined;
  /** `inbound`, `outbound` or `forward`: which way the packet was going when it was taken. */
  readonly direction: Direction;
  /** The netfilter hook it was taken at: prerouting, local-in, forward, local-out or postrouting. */
  readonly hook: Hook;
  /** The packet's firewall mark (skb->mark) when it was taken. */
  readonly mark: number;
  /** Kernel receive time in ms since the epoch, when the kernel stamped the packet. */
  readonly timestamp: number | undefined;
  /** Source link-layer address (inbound packets on Ethernet-like interfaces). */
  readonly hwAddr: string | undefined;
  /** Owning socket's user and group (only when asked for with `uidGid: true`). */
  readonly uid: number | undefined;
  /** See {@link uid}. */
  readonly gid: number | undefined;
  /** The kernel left L4 checksums to offload (NFQA_SKB_CSUMNOTREADY): they look wrong but are fine. */
  readonly checksumNotReady: boolean;
  /** The packet is a GSO/GRO super-packet, larger than the MTU (not with `gso: false`). */
  readonly gso: boolean;
  /** The copy is shorter than the packet (copyRange). Such a packet can be reinjected only unchanged. */
  readonly truncated: boolean;
  /** Length of the packet in the kernel. */
  readonly originalLength: number;
  /** The interface it came in on (or, outbound, leaves by) is a loopback device (WinDivert's `Loopback`). */
  readonly loopback: boolean;
  /** Its packet while held: a private field, so a copy of the address is not that packet's (sendto injects a copy). */
  #packet: object | undefined = undefined;

  static {
    heldPacketOf = (a) => a.#packet;
    setHeldPacket = (a, p) => {
      a.#packet = p;
    };
  }

  /** An address with these fields (the socket makes one per received packet). */
  constructor(init: DivertAddressInit) {
    this.family = init.family;
    this.address = init.address;
    this.port = init.port;
    this.ifindex = init.ifindex;
    this.ifname = init.ifname;
    this.outIfindex = init.outIfindex;
    this.outIfname = init.outIfname;
    this.direction = init.direction;
    this.hook = init.hook;
    this.mark = init.mark;
    this.timestamp = init.timestamp;
    this.hwAddr = init.hwAddr;
    this.uid = init.uid;
    this.gid = init.gid;
    this.checksumNotReady = init.checksumNotReady;
    this.gso = init.gso;
    this.truncated = init.truncated;
    this.originalLength = init.originalLength;
    this.loopback = init.loopback;
  }

  /** True for packets going out (the seed's zeroed sockaddr). */
  get outbound(): boolean {
    return this.direction === 'outbound';
  }

  /** The packet carries divert's injection mark: divert itself injected it (WinDivert's `Impostor`). */
  get impostor(): boolean {
    return (this.mark & DIVERT_MARK) !== 0;
  }
}

/**
 * Direction from the hook: prerouting and local-in see packets coming in, forward sees forwarded
 * ones, local-out and postrouting see packets leaving (made here or forwarded).
 */
export function directionOf(hook: Hook): Direction {
  if (hook === 'forward') return 'forward';
  if (hook === 'prerouting' || hook === 'local-in') return 'inbound';
  return 'outbound';
}

/** `0.0.0.0` or `::`: the seed's "outbound" address. */
export function anyAddress(family: 4 | 6): string {
  return family === 4 ? '0.0.0.0' : '::';
}
