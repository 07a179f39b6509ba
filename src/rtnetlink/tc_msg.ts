/**
 * `struct tcmsg`, the fixed header of every qdisc and filter message, and the `tcm_info` word
 * of filters. Layout in ./tc_constants.ts.
 *
 * ```
 * filter tcm_info:  | prio (u16) | protocol (__be16: ETH_P_ALL 0x0003 is bytes 00 03) |
 *                   = TC_H_MAKE(prio << 16, htons(protocol)), stored as a HOST-order u32
 * ```
 * So on a little-endian host `prio 49152 protocol all` is the u32 0xc0000300, bytes 00 03 00 c0.
 * @module
 */
import { NLA_HDRLEN } from '../netlink/align.js';
import { HOST_LITTLE_ENDIAN, i32ne, putU32ne, u32ne } from '../netlink/bytes.js';
import { NlaFlags } from '../netlink/constants.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { PacketError } from '../errors.js';
import { TC_H_MAKE, TC_H_MIN, TCMSG_LEN, TcHandle } from './tc_constants.js';

/** The fields of `struct tcmsg`. */
export interface TcMsg {
  /** `tcm_family`: AF_UNSPEC (0) for everything here. */
  family: number;
  /** `tcm_ifindex`: the interface. */
  ifindex: number;
  /** `tcm_handle`: the qdisc's or filter's handle (major:minor as a u32). */
  handle: number;
  /** `tcm_parent`: the parent qdisc or hook (TC_H_CLSACT, ffff:fff3 egress…). */
  parent: number;
  /** `tcm_info`: for filters prio and protocol (see the module comment), else 0. */
  info: number;
}

/** A clsact hook: where a filter hangs. */
export type TcDirection = 'ingress' | 'egress';

/** Writes `struct tcmsg` after the open message's header. */
export function putTcmsg(b: MessageBuilder, m: TcMsg): void {
  const off = b.reserve(TCMSG_LEN);
  const buf = b.buffer;
  buf[off] = m.family;
  putU32ne(buf, off + 4, m.ifindex);
  putU32ne(buf, off + 8, m.handle);
  putU32ne(buf, off + 12, m.parent);
  putU32ne(buf, off + 16, m.info);
}

/**
 * Reads `struct tcmsg` at a message's payload.
 * @throws {PacketError} when the payload is shorter than 20 bytes.
 */
export function parseTcmsg(buf: Uint8Array, payloadOffset: number, end: number): TcMsg {
  if (end - payloadOffset < TCMSG_LEN) {
    throw new PacketError('tc', `tcmsg needs ${TCMSG_LEN} bytes, got ${end - payloadOffset}`);
  }
  return {
    family: buf[payloadOffset]!,
    ifindex: i32ne(buf, payloadOffset + 4),
    handle: u32ne(buf, payloadOffset + 8),
    parent: u32ne(buf, payloadOffset + 12),
    info: u32ne(buf, payloadOffset + 16),
  };
}

/** `tcm_parent` of a clsact hook: ffff:fff2 (ingress) or ffff:fff3 (egress). */
export function clsactParent(direction: TcDirection): number {
  return TC_H_MAKE(TcHandle.TC_H_CLSACT, direction === 'egress' ? TcHandle.TC_H_MIN_EGRESS : TcHandle.TC_H_MIN_INGRESS);
}

/** The direction a clsact filter parent stands for, or undefined for any other parent. */
export function clsactDirection(parent: number): TcDirection | undefined {
  if (parent === clsactParent('egress')) return 'egress';
  if (parent === clsactParent('ingress')) return 'ingress';
  return undefined;
}

/**
 * A filter's `tcm_info` from its priority and protocol (an ETH_P_* number, host value).
 * @throws {RangeError} when prio or protocol is outside 0..65535.
 */
export function filterInfo(prio: number, protocol: number): number {
  if (!isU16(prio) || !isU16(protocol)) throw new RangeError(`tc filter prio ${prio} / protocol ${protocol} must be 0..65535`);
  return TC_H_MAKE(prio << 16, htons(protocol));
}

/** Priority and protocol (host value) of a filter's `tcm_info`. */
export function parseFilterInfo(info: number): { prio: number; protocol: number } {
  return { prio: info >>> 16, protocol: htons(TC_H_MIN(info)) };
}

/**
 * `htons` (and `ntohs`, the same swap): the u16 `v` in network order, as a number to store in
 * host order (a tcm_info half, the protocol argument of an AF_PACKET socket()).
 * @internal (its home would be src/netlink/bytes.ts)
 */
export function htons(v: number): number {
  return HOST_LITTLE_ENDIAN ? ((v & 0xff) << 8) | (v >>> 8) : v;
}

function isU16(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

/**
 * Opens a nest WITHOUT NLA_F_NESTED, as tc (iproute2's addattr_l) and the kernel's own dumps do
 * for TCA_OPTIONS and the action lists; close it with `b.nestEnd(handle)`.
 */
export function nestStartPlain(b: MessageBuilder, type: number): number {
  return b.reserveAttr(type & NlaFlags.NLA_TYPE_MASK, 0) - NLA_HDRLEN;
}
