/**
 * sockaddr encodings for the addon's bind/sendto. The family field is host byte order; ports
 * and IP addresses are network order; netlink pids are host order.
 *
 * ```
 * sockaddr_nl  { u16 nl_family; u16 pad; u32 nl_pid; u32 nl_groups }            12 bytes
 * sockaddr_in  { u16 sin_family; be16 sin_port; be32 sin_addr; u8 zero[8] }      16 bytes
 * sockaddr_in6 { u16 family; be16 port; be32 flowinfo; u8 addr[16]; u32 scope } 28 bytes
 * sockaddr_ll  { u16 family; be16 protocol; i32 ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8] } 20 bytes
 * ```
 * @module
 */
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET } from '../ip/socket_constants.js';

export { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, SOCK_DGRAM, SOCK_RAW } from '../ip/socket_constants.js';

export function sockaddrNl(pid = 0, groups = 0): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_NETLINK, LE);
  v.setUint32(4, pid, LE);
  v.setUint32(8, groups, LE);
  return b;
}

/** Reads nl_pid out of a sockaddr_nl filled by getsockname. */
export function sockaddrNlPid(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, LE);
}

export function sockaddrIn(addr: Uint8Array, port = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, LE);
  v.setUint16(2, port, false);
  b.set(addr.subarray(0, 4), 4);
  return b;
}

export function sockaddrIn6(addr: Uint8Array, port = 0, scopeId = 0): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, LE);
  v.setUint16(2, port, false);
  b.set(addr.subarray(0, 16), 8);
  v.setUint32(24, scopeId, LE);
  return b;
}

export function sockaddrLl(ifindex: number, protocol: number, hwAddr: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_PACKET, LE);
  v.setUint16(2, protocol, false);
  v.setInt32(4, ifindex, LE);
  b[11] = Math.min(hwAddr.length, 8);
  b.set(hwAddr.subarray(0, 8), 12);
  return b;
}
