/**
 * `formatPacket`: a one-line, tcpdump-like summary of a parsed packet.
 * @module
 */
import { IP_PROTOCOL, icmpTypeName, protocolName } from '../ip/protocols.js';
import type { ParsedPacket } from './parse.js';
import { TCP_FLAGS } from './tcp.js';

const FLAG_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [TCP_FLAGS.FIN, 'F'], [TCP_FLAGS.SYN, 'S'], [TCP_FLAGS.RST, 'R'], [TCP_FLAGS.PSH, 'P'],
  [TCP_FLAGS.ACK, '.'], [TCP_FLAGS.URG, 'U'], [TCP_FLAGS.ECE, 'E'], [TCP_FLAGS.CWR, 'W'],
  [TCP_FLAGS.NS, 'N'],
];

/** tcpdump's flag letters: `S` SYN, `.` ACK, `F` FIN, `R` RST, `P` PSH, `U` URG, `E`, `W`, `N`. */
export function formatTcpFlags(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if ((flags & bit) !== 0) s += letter;
  return s === '' ? 'none' : s;
}

function endpoint(addr: string, port: number, v6: boolean): string {
  return v6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/**
 * One line describing `p`, for logs and the CLI:
 * - `tcp 198.18.0.1:40000 > 198.18.0.2:80 [S] seq=1 win=64240 len=0`
 * - `udp [2001:db8::1]:5353 > [2001:db8::2]:53 len=64`
 * - `IPv4 198.18.0.1 > 198.18.0.2 ttl=64 len=84 icmp echo-request id=1 seq=1`
 * - `IPv4 198.18.0.1 > 198.18.0.2 ttl=64 len=1500 frag id=7 off=1480+ udp`
 */
export function formatPacket(p: ParsedPacket): string {
  const v6 = p.ipVersion === 6;
  const tcp = p.tcp;
  if (tcp) {
    const ack = tcp.ack ? ` ack=${tcp.ackNum}` : '';
    return `${protocolName(IP_PROTOCOL.TCP)} ${endpoint(p.srcAddr, tcp.srcPort, v6)} > ${endpoint(p.dstAddr, tcp.dstPort, v6)} ` +
      `[${formatTcpFlags(tcp.flags)}] seq=${tcp.seqNum}${ack} win=${tcp.window} len=${p.payload.length}`;
  }
  const udp = p.udp;
  if (udp) {
    return `${protocolName(IP_PROTOCOL.UDP)} ${endpoint(p.srcAddr, udp.srcPort, v6)} > ${endpoint(p.dstAddr, udp.dstPort, v6)} len=${p.payload.length}`;
  }
  const head = p.ipv4
    ? `IPv4 ${p.srcAddr} > ${p.dstAddr} ttl=${p.ipv4.ttl} len=${p.ipv4.totalLength}`
    : `IPv6 ${p.srcAddr} > ${p.dstAddr} hlim=${p.ipv6!.hopLimit} len=${40 + p.ipv6!.payloadLength}`;
  const f = p.fragment;
  const frag = f ? ` frag id=${f.ident} off=${f.offset}${f.more ? '+' : ''}` : '';
  const icmp = p.icmp ?? p.icmpv6;
  if (icmp) {
    const name = icmpTypeName(icmp.type, !p.icmp);
    const echo = name === 'echo-request' || name === 'echo-reply' ? ` id=${icmp.id} seq=${icmp.seq}` : ` code=${icmp.code}`;
    return `${head}${frag} ${protocolName(p.icmp ? IP_PROTOCOL.ICMP : IP_PROTOCOL.ICMPV6)} ${name}${echo}`;
  }
  return `${head}${frag} ${protocolName(p.protocol)} len=${p.payload.length}`;
}
