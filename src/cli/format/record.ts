/**
 * PacketRecord: the fields the line and JSON formats share (time, direction, interface,
 * addresses, ports, protocol, TCP flags, IP length, verdict), taken from one diverted packet.
 * @module
 */
import { formatTcpFlags, icmpTypeName, protocolName, tryParsePacket } from '../../packet/mod.js';
import type { DivertAddress } from '../../mod.js';

/** What the CLI did with a packet. */
export type CliVerdict = 'reinject' | 'drop';

/** What a record's last column says: the verdict given, or `sniffed` (a copy: the packet went on). */
export type RecordVerdict = CliVerdict | 'sniffed';

export interface PacketRecord {
  /** Kernel timestamp (or receive time) in ms since the epoch. */
  time: number;
  direction: 'in' | 'out' | 'fwd';
  /** Receiving interface (in), sending interface (out), `in>out` (fwd); `?` when unknown. */
  interface: string;
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number | null;
  dstPort: number | null;
  /** Protocol name (`tcp`, `udp`, `icmp`, `icmpv6`, …) or its number as text. */
  protocol: string;
  /** tcpdump flag letters for TCP (`S.`), else null. */
  flags: string | null;
  /** ICMP type and echo id/seq, else null. */
  info: string | null;
  /** IP length (IPv4 total length, IPv6 40 + payload length), else the bytes received. */
  length: number;
  verdict: RecordVerdict;
}

/** The subset of DivertAddress a record needs (so tests can pass plain objects). */
export type RecordAddress = Pick<DivertAddress, 'direction' | 'ifname' | 'outIfname' | 'timestamp'>;

function iface(a: RecordAddress): string {
  if (a.direction === 'inbound') return a.ifname ?? '?';
  if (a.direction === 'outbound') return a.outIfname ?? '?';
  return `${a.ifname ?? '?'}>${a.outIfname ?? '?'}`;
}

/**
 * Builds the record of `bytes` (an IP packet) taken at `address`.
 * @param now fallback time when the kernel gave no timestamp.
 */
export function packetRecord(bytes: Uint8Array, address: RecordAddress, verdict: RecordVerdict, now = Date.now()): PacketRecord {
  const direction = address.direction === 'inbound' ? 'in' : address.direction === 'outbound' ? 'out' : 'fwd';
  const base = { time: address.timestamp ?? now, direction, interface: iface(address), verdict } as const;
  const p = tryParsePacket(bytes);
  if (!p) {
    const v = (bytes[0] ?? 0) >> 4 === 6 ? 6 : 4;
    return { ...base, family: v, src: '?', dst: '?', srcPort: null, dstPort: null, protocol: 'malformed', flags: null, info: null, length: bytes.length };
  }
  let info: string | null = null;
  const icmp = p.icmp ?? p.icmpv6;
  if (icmp) {
    const name = icmpTypeName(icmp.type, !p.icmp);
    info = name === 'echo-request' || name === 'echo-reply' ? `${name} id ${icmp.id} seq ${icmp.seq}` : `${name} code ${icmp.code}`;
  }
  return {
    ...base,
    family: p.ipVersion,
    src: p.srcAddr,
    dst: p.dstAddr,
    srcPort: p.srcPort ?? null,
    dstPort: p.dstPort ?? null,
    protocol: protocolName(p.protocol),
    flags: p.tcp ? formatTcpFlags(p.tcp.flags) : null,
    info,
    length: p.ipv4 ? p.ipv4.totalLength : 40 + p.ipv6!.payloadLength,
  };
}
