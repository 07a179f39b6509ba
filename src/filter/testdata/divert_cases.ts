/**
 * divert's own filter cases: WinDivert's documented examples, the address mapping on Linux,
 * and the packet corners of divert_packets.ts. Each expectation was worked out by hand from
 * WinDivert's semantics (dll/windivert_shared.c) before the evaluator ran it.
 * @module
 */
import type { FilterAddress } from '../context.js';
import type { DivertPacketName } from './divert_packets.js';
import type { WinDivertPacketName } from './windivert_packets.js';

export interface DivertCase {
  readonly filter: string;
  readonly packet: DivertPacketName | WinDivertPacketName;
  readonly match: boolean;
  /** Default: outbound, not loopback, not impostor, interfaces 0. */
  readonly address?: FilterAddress;
  readonly note?: string;
}

const IN: FilterAddress = { outbound: false };
const PRE: FilterAddress = { hook: 'prerouting', direction: 'inbound', ifindex: 3, outIfindex: 0, loopback: false, mark: 0 };
const POST: FilterAddress = { hook: 'postrouting', direction: 'outbound', ifindex: 0, outIfindex: 7, loopback: false, mark: 0 };
const FWD: FilterAddress = { hook: 'forward', direction: 'forward', ifindex: 3, outIfindex: 5, loopback: false, mark: 0 };

/** `f >= a and f <= b or …` (`f >= a` alone when b is omitted). */
function ranges(field: string, list: ReadonlyArray<readonly [string | number, (string | number)?]>): string {
  return list.map(([a, b]) => (b === undefined ? `${field} >= ${a}` : `${field} >= ${a} and ${field} <= ${b}`)).join(' or ');
}

// Sets of more than 256 values and more than 4 gaps: an interval-set lookup (NFT_SET_INTERVAL).
// The packets sit on the elements: an interval's first value (a start element), the value after
// it (an end element: no match), below the first start, in an interval open to the top.
const PORT_RANGES = ranges('tcp.DstPort', [[10, 79], [81, 442], [444, 999], [2000, 2999], [40000, 49999], [50001]]);
const PORT_HOLES = 'tcp.DstPort != 22 and tcp.DstPort != 80 and tcp.DstPort != 443 and tcp.DstPort != 50000 and (tcp.DstPort < 1000 or tcp.DstPort > 1999)';
const V4_RANGES = ranges('ip.DstAddr', [['198.18.0.2', '198.18.0.52'], ['198.18.0.54', '198.18.1.0'], ['198.18.2.0', '198.18.2.255'], ['198.18.4.0', '198.18.4.255'], ['198.18.6.0', '198.18.6.255'], ['198.18.8.0', '198.18.9.255']]);
const V6_RANGES = ranges('ipv6.SrcAddr', [['2001:db8::2', '2001:db8::ffff'], ['2001:db8:1::', '2001:db8:1::ffff'], ['2001:db8:2::', '2001:db8:2::ffff'], ['2001:db8:3::', '2001:db8:3::ffff'], ['2001:db8:4::', '2001:db8:4::ffff'], ['2001:db8:5::', '2001:db8:5::ffff']]);
const FLOW_RANGES = ranges('ipv6.FlowLabel', [['0x100', '0x1ff'], ['0x1000', '0x12345'], ['0x12347', '0x20000'], ['0x30000', '0x3ffff'], ['0x50000', '0x5ffff'], ['0x70000', '0xfffff']]);

export const DIVERT_CASES: readonly DivertCase[] = [
  // WinDivert's documented examples (doc §7.1 and WinDivertOpen).
  { filter: 'outbound and !loopback and (tcp.DstPort == 80 or udp.DstPort == 53)', packet: 'udp4_dns', match: true },
  { filter: 'outbound and !loopback and (tcp.DstPort == 80 or udp.DstPort == 53)', packet: 'udp4_dns', match: false, address: { loopback: true } },
  { filter: 'outbound and !loopback and (tcp.DstPort == 80 or udp.DstPort == 53)', packet: 'udp4_dns', match: false, address: IN },
  { filter: 'outbound and !loopback and (tcp.DstPort == 80 or udp.DstPort == 53)', packet: 'http_request', match: true },
  { filter: 'inbound and tcp.Syn', packet: 'tcp4_options', match: true, address: IN },
  { filter: 'inbound and tcp.Syn', packet: 'tcp4_options', match: false },
  { filter: 'inbound and tcp.Syn', packet: 'ipv6_tcp_syn', match: true, address: PRE },
  { filter: 'outbound and tcp.PayloadLength > 0 and tcp.DstPort == 80', packet: 'http_request', match: true },
  { filter: 'outbound and tcp.PayloadLength > 0 and tcp.DstPort == 80', packet: 'tcp4_options', match: false },
  { filter: 'true', packet: 'gre4', match: true },
  { filter: 'false', packet: 'gre4', match: false },
  // IPv4 options: IHL 6, TCP data offset 6, no payload.
  { filter: 'ip.HdrLength == 6', packet: 'tcp4_options', match: true },
  { filter: 'tcp.HdrLength == 6 and tcp.PayloadLength == 0', packet: 'tcp4_options', match: true },
  { filter: 'tcp.Syn and not tcp.Ack', packet: 'tcp4_options', match: true },
  { filter: 'tcp.Payload[0] >= 0', packet: 'tcp4_options', match: false, note: 'no payload: the index is out of bounds' },
  { filter: 'tcp.DstPort == 80 and ip.Length == 48', packet: 'tcp4_options', match: true },
  { filter: 'length == 48', packet: 'tcp4_options', match: true },
  { filter: 'packet[24] == 0x9c', packet: 'tcp4_options', match: true, note: 'source port 40000 = 0x9c40 after a 24-byte header' },
  { filter: 'packet16[24b] == 40000', packet: 'tcp4_options', match: true },
  { filter: 'packet32[20b] == 0x01010100', packet: 'tcp4_options', match: true, note: 'the option bytes' },
  { filter: 'localPort == 40000 and remotePort == 80', packet: 'tcp4_options', match: true },
  { filter: 'localPort == 80 and remotePort == 40000', packet: 'tcp4_options', match: true, address: IN },
  { filter: 'localAddr == 198.18.0.2', packet: 'tcp4_options', match: true, address: IN },
  { filter: 'remoteAddr == 198.18.0.2', packet: 'tcp4_options', match: true },
  { filter: 'tcp.Payload32[-1] > 0', packet: 'tcp4_options', match: false },
  { filter: 'udp or icmp', packet: 'tcp4_options', match: false },
  { filter: 'ip.DF', packet: 'tcp4_options', match: false },
  // A TCP segment with data.
  { filter: 'tcp.PayloadLength == 11', packet: 'tcp4_data', match: true },
  { filter: 'tcp.Payload[0] == 0x68', packet: 'tcp4_data', match: true },
  { filter: 'tcp.Payload16[-1] == 0x6c64', packet: 'tcp4_data', match: true },
  { filter: 'tcp.Payload32[1b] == 0x656c6c6f', packet: 'tcp4_data', match: true },
  { filter: 'tcp.Payload[-12] == 0', packet: 'tcp4_data', match: false, note: '11 bytes of payload: [-12] is before it' },
  { filter: 'tcp.Payload[10] == 0x64', packet: 'tcp4_data', match: true },
  { filter: 'tcp.Payload[11] == 0x64', packet: 'tcp4_data', match: false },
  { filter: 'tcp.SeqNum == 0x01020304 and tcp.AckNum == 168496141', packet: 'tcp4_data', match: true },
  { filter: 'tcp.Psh and tcp.Ack and !tcp.Syn and !tcp.Fin and !tcp.Rst and !tcp.Urg', packet: 'tcp4_data', match: true },
  { filter: 'tcp.Window == 502 and tcp.Checksum == 0xbeef and tcp.UrgPtr == 0', packet: 'tcp4_data', match: true },
  { filter: 'ip.DF == 1 and ip.MF == 0 and ip.TTL == 57 and ip.Id == 0x0202', packet: 'tcp4_data', match: true },
  { filter: 'ip.Protocol == TCP and protocol == 6', packet: 'tcp4_data', match: true },
  { filter: 'not tcp.DstPort == 51000', packet: 'tcp4_data', match: false },
  { filter: '!udp.DstPort == 53', packet: 'tcp4_data', match: false, note: "not inverts the comparison: no UDP header, so false" },
  { filter: '(udp.DstPort == 53? false: true)', packet: 'tcp4_data', match: true },
  { filter: 'tcp.DstPort > -1', packet: 'tcp4_data', match: true },
  { filter: 'tcp.DstPort < 70000', packet: 'tcp4_data', match: true },
  { filter: 'tcp.DstPort >= 70000', packet: 'tcp4_data', match: false },
  { filter: 'udp.DstPort < 70000', packet: 'tcp4_data', match: false },
  { filter: 'udp.DstPort != 53', packet: 'tcp4_data', match: false },
  { filter: 'tcp.Syn == 2', packet: 'tcp4_data', match: false },
  { filter: 'tcp.Syn != 2', packet: 'tcp4_data', match: true },
  { filter: 'ip.SrcAddr == ::ffff:198.18.0.1', packet: 'tcp4_data', match: true },
  { filter: 'ip.SrcAddr == 0xFFFFC6120001', packet: 'tcp4_data', match: true },
  { filter: 'ip.SrcAddr < 0xFFFF00000000', packet: 'tcp4_data', match: false },
  { filter: 'ip.SrcAddr > 198.17.255.255 and ip.SrcAddr < 198.18.0.2', packet: 'tcp4_data', match: true },
  { filter: 'ipv6.SrcAddr == ::ffff:198.18.0.1', packet: 'tcp4_data', match: false },
  { filter: 'localAddr >= 198.18.0.0 and localAddr <= 198.19.255.255', packet: 'tcp4_data', match: true },
  { filter: 'remoteAddr == 198.18.0.2', packet: 'tcp4_data', match: true },
  { filter: 'tcp.HdrLength == 5', packet: 'tcp4_data', match: true },
  { filter: 'packet[-1] == 0x64', packet: 'tcp4_data', match: true },
  { filter: 'packet32[-4b] == 0x6f726c64', packet: 'tcp4_data', match: true, note: 'the last 4 bytes: "orld"' },
  { filter: 'packet16[-1] == 0x6c64', packet: 'tcp4_data', match: true },
  { filter: 'packet[65534] == 0', packet: 'tcp4_data', match: false },
  { filter: '(tcp? tcp.DstPort == 51000: udp.DstPort == 51000)', packet: 'tcp4_data', match: true },
  { filter: '(ip? (tcp? (tcp.Ack? true: false): false): false)', packet: 'tcp4_data', match: true },
  { filter: 'ip.SrcAddr', packet: 'tcp4_data', match: true },
  { filter: 'ipv6.SrcAddr', packet: 'tcp4_data', match: false },
  { filter: 'tcp.DstPort = 51000 && ip', packet: 'tcp4_data', match: true },
  { filter: '!ipv6 || udp', packet: 'tcp4_data', match: true },
  // Layer 4 headers that are not there.
  { filter: 'tcp', packet: 'tcp4_short', match: false },
  { filter: 'protocol == 6 and ip.Protocol == 6', packet: 'tcp4_short', match: true },
  { filter: 'not tcp', packet: 'tcp4_short', match: true },
  { filter: 'tcp.SrcPort == 1', packet: 'tcp4_short', match: false },
  { filter: 'not tcp.SrcPort == 1', packet: 'tcp4_short', match: false },
  { filter: 'localPort == 0', packet: 'tcp4_short', match: true },
  { filter: 'length == 32', packet: 'tcp4_short', match: true },
  { filter: 'tcp', packet: 'tcp4_doff4', match: false },
  { filter: 'tcp.HdrLength == 4', packet: 'tcp4_doff4', match: false },
  { filter: 'protocol == TCP', packet: 'tcp4_doff4', match: true },
  // UDP.
  { filter: 'udp.DstPort == 53 and udp.Length == 20 and udp.PayloadLength == 12', packet: 'udp4_dns', match: true },
  { filter: 'udp.Payload[0] == 0x71', packet: 'udp4_dns', match: true },
  { filter: 'udp.Payload32[-1] == 0x74657321', packet: 'udp4_dns', match: true },
  { filter: 'remotePort == 53', packet: 'udp4_dns', match: true },
  { filter: 'localPort == 53', packet: 'udp4_dns', match: true, address: IN },
  { filter: 'udp.PayloadLength == 12 and length == 40', packet: 'udp4_dns', match: true },
  // IPv4 fragments.
  { filter: 'fragment and udp and ip.MF', packet: 'udp4_mf', match: true },
  { filter: 'udp.PayloadLength == 8', packet: 'udp4_mf', match: true },
  { filter: 'udp.Length == 100', packet: 'udp4_mf', match: true },
  { filter: 'fragment and not udp and protocol == 17', packet: 'udp4_later', match: true },
  { filter: 'ip.FragOff == 3 and ip.MF == 0', packet: 'udp4_later', match: true },
  { filter: 'udp.SrcPort == 5000', packet: 'udp4_later', match: false },
  { filter: 'remotePort == 0 and localPort == 0', packet: 'udp4_later', match: true },
  // ICMP.
  { filter: 'icmp.Type == 3 and icmp.Code == 3', packet: 'icmp4_unreach', match: true },
  { filter: 'localPort == 3', packet: 'icmp4_unreach', match: true, note: 'outbound: localPort is the ICMP type' },
  { filter: 'localPort == 0 and remotePort == 3', packet: 'icmp4_unreach', match: true, address: IN },
  { filter: 'icmp.Body == 0', packet: 'icmp4_unreach', match: true },
  { filter: 'icmpv6', packet: 'icmp4_unreach', match: false },
  // Other protocols.
  { filter: 'protocol == 47 and not tcp and not udp and not icmp', packet: 'gre4', match: true },
  { filter: 'ip.TOS == 0x28', packet: 'gre4', match: true },
  { filter: 'localPort == 0 and remotePort == 0', packet: 'gre4', match: true },
  // IPv6.
  { filter: 'ipv6.TrafficClass == 0xb8 and ipv6.FlowLabel == 0x12345', packet: 'tcp6_ack', match: true, note: 'WinDivert 2.2 byte-swaps FlowLabel; divert reads the 20-bit field' },
  { filter: 'ipv6.HopLimit == 63 and ipv6.NextHdr == 6 and ipv6.Length == 25', packet: 'tcp6_ack', match: true },
  { filter: 'tcp.PayloadLength == 5 and tcp.Payload[4] == 0x35', packet: 'tcp6_ack', match: true },
  { filter: 'ipv6.SrcAddr == 2001:db8::1 and ipv6.DstAddr == 2001:db8::2', packet: 'tcp6_ack', match: true },
  { filter: 'localAddr == 2001:db8::2', packet: 'tcp6_ack', match: true, address: IN },
  { filter: 'ip.SrcAddr == 2001:db8::1', packet: 'tcp6_ack', match: false },
  { filter: 'ipv6.SrcAddr > 2001:db8:: and ipv6.SrcAddr < 2001:db8::2', packet: 'tcp6_ack', match: true },
  { filter: 'packet[0] == 0x6b', packet: 'tcp6_ack', match: true },
  { filter: 'fragment and udp and udp.DstPort == 7001', packet: 'udp6_frag0', match: true },
  { filter: 'protocol == UDP and ipv6.NextHdr == 44', packet: 'udp6_frag0', match: true },
  { filter: 'fragment and protocol == 17 and not udp', packet: 'udp6_frag1', match: true },
  { filter: 'udp.DstPort == 7001', packet: 'udp6_frag1', match: false },
  { filter: 'tcp and tcp.DstPort == 22 and protocol == 6', packet: 'tcp6_ah', match: true, note: 'WinDivert walks over AH' },
  { filter: 'ipv6.NextHdr == 51', packet: 'tcp6_ah', match: true },
  { filter: 'not tcp', packet: 'tcp6_ah', match: false },
  { filter: 'udp and udp.DstPort == 9001', packet: 'udp6_mh', match: true, note: 'WinDivert walks over mobility headers' },
  { filter: 'protocol == 17', packet: 'udp6_mh', match: true },
  { filter: 'protocol == 44 and fragment and not udp', packet: 'udp6_2frag', match: true, note: 'the walk stops at a second fragment header' },
  { filter: 'udp', packet: 'udp6_2frag', match: false },
  { filter: 'protocol == 60 and not tcp and not fragment', packet: 'ipv6_cut', match: true, note: 'the walk stops at a header cut short' },
  { filter: 'ipv6.Length == 10', packet: 'ipv6_cut', match: true },
  { filter: 'length == 50', packet: 'ipv6_cut', match: true },
  { filter: 'udp.PayloadLength <= 64', packet: 'udp6_short', match: false, note: 'found by the random run: the kernel rule lacked the 8-byte check' },
  { filter: 'udp or udp.DstPort != 0', packet: 'udp6_short', match: false },
  { filter: 'protocol == UDP and not udp', packet: 'udp6_short', match: true },
  { filter: 'tcp.DstPort == 443 and tcp.HdrLength == 6 and tcp.PayloadLength == 3 and fragment', packet: 'tcp6_frag0', match: true },
  { filter: 'tcp.Payload[2] == 0x63 and protocol == TCP and ipv6.NextHdr == 44', packet: 'tcp6_frag0', match: true },
  { filter: 'not fragment or not tcp', packet: 'tcp6_frag0', match: false },
  { filter: 'icmpv6 and icmpv6.Type == 128 and icmpv6.Body == 0x01020003', packet: 'icmp6_echo', match: true },
  { filter: 'ipv6.NextHdr == 0 and protocol == ICMPV6', packet: 'icmp6_echo', match: true },
  { filter: 'localPort == 128', packet: 'icmp6_echo', match: true },
  { filter: 'remotePort == 128', packet: 'icmp6_echo', match: true, address: IN },
  { filter: 'localPort == 0', packet: 'icmp6_echo', match: true, address: IN },
  { filter: 'icmp', packet: 'icmp6_echo', match: false },
  // The address on Linux.
  { filter: 'inbound', packet: 'tcp4_data', match: true, address: PRE },
  { filter: 'outbound', packet: 'tcp4_data', match: false, address: PRE },
  { filter: 'outbound', packet: 'tcp4_data', match: true, address: FWD, note: "forwarded: outbound, as at WinDivert's forward layer" },
  { filter: 'ifIdx == 5', packet: 'tcp4_data', match: true, address: FWD, note: 'forwarded: the sending interface' },
  { filter: 'ifIdx == 3', packet: 'tcp4_data', match: true, address: PRE, note: 'inbound: the receiving interface' },
  { filter: 'ifIdx == 7', packet: 'tcp4_data', match: true, address: POST, note: 'outbound: the sending interface' },
  { filter: 'ifIdx == 9', packet: 'tcp4_data', match: true, address: { ifIdx: 9 } },
  { filter: 'ifIdx == 0', packet: 'tcp4_data', match: true },
  { filter: 'ifIdx == 3 and inbound', packet: 'tcp4_data', match: true, address: { hook: 'local-in', ifindex: 3 } },
  { filter: 'inbound', packet: 'tcp4_data', match: false, address: { hook: 'local-out' } },
  { filter: 'outbound', packet: 'tcp4_data', match: false, address: { direction: 'inbound' } },
  { filter: 'impostor', packet: 'tcp4_data', match: true, address: { mark: 0x40000000 } },
  { filter: 'impostor', packet: 'tcp4_data', match: true, address: { mark: 0x40d10001 } },
  { filter: 'impostor', packet: 'tcp4_data', match: false, address: { mark: 0x1 } },
  { filter: 'impostor', packet: 'tcp4_data', match: true, address: { impostor: true } },
  { filter: 'impostor == 0', packet: 'tcp4_data', match: true, address: { impostor: false, mark: 0x40000000 } },
  { filter: 'loopback', packet: 'tcp4_data', match: true, address: { loopback: true } },
  { filter: 'subIfIdx == 4', packet: 'tcp4_data', match: true, address: { subIfIdx: 4 } },
  { filter: 'subIfIdx == 0', packet: 'tcp4_data', match: true },
  { filter: 'timestamp == 1700000000123', packet: 'tcp4_data', match: true, address: { timestamp: 1700000000123 } },
  { filter: 'timestamp < 0', packet: 'tcp4_data', match: false },
  { filter: 'timestamp == 0', packet: 'tcp4_data', match: true },
  { filter: 'event == PACKET', packet: 'tcp4_data', match: true },
  { filter: 'zero == 0 and true == 1 and false == 0', packet: 'tcp4_data', match: true },
  // Interval sets (see PORT_RANGES).
  { filter: PORT_RANGES, packet: 'tcp4_options', match: false, note: 'port 80: the end element of 10..79' },
  { filter: PORT_RANGES, packet: 'tcp4_data', match: true, note: 'port 51000: in 50001.. (no end element: open to 65535)' },
  { filter: PORT_RANGES, packet: 'tcp6_ack', match: false, note: 'port 50000: the end element of 40000..49999' },
  { filter: PORT_RANGES, packet: 'tcp6_frag0', match: false, note: 'port 443 after a fragment header: the end element of 81..442' },
  { filter: PORT_RANGES, packet: 'tcp6_ah', match: true, note: 'port 22 behind AH: user space decides' },
  { filter: PORT_RANGES, packet: 'udp4_dns', match: false },
  { filter: PORT_HOLES, packet: 'tcp4_options', match: false, note: 'inverted interval set: port 80 is a start element of a hole' },
  { filter: PORT_HOLES, packet: 'tcp4_data', match: true },
  { filter: PORT_HOLES, packet: 'tcp6_ack', match: false },
  { filter: PORT_HOLES, packet: 'tcp6_frag0', match: false },
  { filter: PORT_HOLES, packet: 'tcp6_ah', match: false },
  { filter: V4_RANGES, packet: 'tcp4_data', match: true, note: '198.18.0.2: a start element (4-byte key)' },
  { filter: V4_RANGES, packet: 'udp4_dns', match: false, note: '198.18.0.53: an end element' },
  { filter: V4_RANGES, packet: 'icmp4_unreach', match: false, note: '198.18.0.1: below the first start' },
  { filter: V4_RANGES, packet: 'gre4', match: true },
  { filter: V4_RANGES, packet: 'tcp6_ack', match: false },
  { filter: V6_RANGES, packet: 'icmp6_echo', match: true, note: '2001:db8::2: a start element (16-byte key)' },
  { filter: V6_RANGES, packet: 'tcp6_ack', match: false, note: '2001:db8::1: below the first start' },
  { filter: V6_RANGES, packet: 'udp6_frag0', match: false },
  { filter: V6_RANGES, packet: 'tcp4_data', match: false },
  { filter: FLOW_RANGES, packet: 'tcp6_ack', match: true, note: 'flow label 0x12345: the last value of 0x1000..0x12345 (20 bits under a mask)' },
  { filter: FLOW_RANGES, packet: 'icmp6_echo', match: false, note: 'flow label 0: below the first start' },
  { filter: FLOW_RANGES, packet: 'tcp4_data', match: false },
];
