/**
 * A TCP segment builder for tests only (this folder's and src/seqadj's): IPv4 or IPv6 by the
 * address form, options as given, every length and checksum filled.
 * @module
 */
import { fillChecksums } from './checksum.js';
import { Ipv4Packet } from './ipv4.js';
import { Ipv6Packet } from './ipv6.js';
import { TCP_FLAGS, TcpPacket, encodeTcpOptions, type TcpOption } from './tcp.js';

export interface TestSegment {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  /** Flag bits (TCP_FLAGS); default ACK. */
  flags?: number;
  payload?: Uint8Array | string;
  options?: readonly TcpOption[];
}

export function tcpSegment(s: TestSegment): Uint8Array {
  const payload = typeof s.payload === 'string' ? new TextEncoder().encode(s.payload) : (s.payload ?? new Uint8Array(0));
  const opts = encodeTcpOptions(s.options ?? []);
  const v6 = s.src.includes(':');
  const ipLen = v6 ? 40 : 20;
  const tcpLen = 20 + opts.length;
  const bytes = new Uint8Array(ipLen + tcpLen + payload.length);
  if (v6) {
    const ip = new Ipv6Packet(bytes);
    ip.version = 6;
    ip.payloadLength = tcpLen + payload.length;
    ip.nextHeader = 6;
    ip.hopLimit = 64;
    ip.src = s.src;
    ip.dst = s.dst;
  } else {
    const ip = new Ipv4Packet(bytes);
    ip.version = 4;
    ip.ihl = 5;
    ip.totalLength = bytes.length;
    ip.ttl = 64;
    ip.protocol = 6;
    ip.src = s.src;
    ip.dst = s.dst;
  }
  const t = new TcpPacket(bytes, ipLen);
  t.srcPort = s.srcPort;
  t.dstPort = s.dstPort;
  t.seqNum = s.seq >>> 0;
  t.ackNum = (s.ack ?? 0) >>> 0;
  t.dataOffset = tcpLen / 4;
  t.flags = s.flags ?? TCP_FLAGS.ACK;
  t.window = 65535;
  t.options = opts;
  bytes.set(payload, ipLen + tcpLen);
  fillChecksums(bytes);
  return bytes;
}
