/**
 * The field table of WinDivert's filter language at the network layer (WinDivert 2.2,
 * `dll/windivert_helper.c` token table, `windivert_shared.c` WinDivertExecuteFilter), with what
 * each field means on Linux and how the kernel rules decide it.
 *
 * A test on a field whose header is absent (`tcp.DstPort == 80` on a UDP packet) is false, and
 * so is its `not` form (`not tcp.DstPort == 80` is `tcp.DstPort != 80`): WinDivert's `not`
 * inverts the comparison, it does not negate the test. Values compare as numbers: IPv4
 * addresses as IPv4-mapped IPv6 numbers (`ip.SrcAddr == 0xFFFF0A000001` is 10.0.0.1).
 * @module
 */

/** The header a field needs. 'none': the field always has a value. */
export type Layer = 'none' | 'ip' | 'ipv6' | 'icmp' | 'icmpv6' | 'tcp' | 'udp';

/** number: an unsigned integer of `bits` bits; address: 128 bits; timestamp: signed 64 bits; array: `base[i]`. */
export type FieldKind = 'number' | 'address' | 'timestamp' | 'array';

/** How divert's kernel rules decide a test on the field. */
export type KernelSupport = 'exact' | 'partial' | 'residue';

export interface FieldInfo {
  readonly name: string;
  readonly kind: FieldKind;
  readonly layer: Layer;
  /** Width of the value: 1 for flags, 8, 13, 16, 20, 32; 128 for addresses; 64 for timestamp. */
  readonly bits: number;
  /** Array fields: element size in bytes, and what index 0 is. */
  readonly size?: 1 | 2 | 4;
  readonly base?: 'packet' | 'tcp' | 'udp';
  readonly kernel: KernelSupport;
  /** What the field means on Linux (the README table). */
  readonly linux: string;
}

function f(name: string, layer: Layer, bits: number, kernel: KernelSupport, linux: string, kind: FieldKind = 'number'): FieldInfo {
  return { name, kind, layer, bits, kernel, linux };
}

function arr(name: string, base: 'packet' | 'tcp' | 'udp', size: 1 | 2 | 4, linux: string): FieldInfo {
  return { name, kind: 'array', layer: base === 'packet' ? 'none' : base, bits: size * 8, size, base, kernel: 'partial', linux };
}

const ALL: readonly FieldInfo[] = [
  f('zero', 'none', 1, 'exact', 'always 0'),
  f('true', 'none', 1, 'exact', 'always 1 (the test `true`)'),
  f('false', 'none', 1, 'exact', 'always 0 (the test `false`)'),
  f('event', 'none', 8, 'exact', 'always PACKET (0): the network layer has no other event'),
  f('timestamp', 'none', 64, 'residue', 'the address timestamp: ms since the epoch when the kernel stamped the packet, else 0', 'timestamp'),
  f('random8', 'none', 8, 'residue', 'a hash of the headers and timestamp (WinDivert\'s xxHash variant): deterministic per packet'),
  f('random16', 'none', 16, 'residue', 'as random8, 16 bits'),
  f('random32', 'none', 32, 'residue', 'as random8, 32 bits'),
  f('inbound', 'none', 1, 'exact', 'taken at prerouting/local-in (kernel: the prerouting rules)'),
  f('outbound', 'none', 1, 'exact', 'taken at local-out/postrouting/forward (kernel: the postrouting rules)'),
  f('fragment', 'none', 1, 'partial', 'IPv4 MF or offset; IPv6 fragment header (kernel: residue behind IPv6 extension headers)'),
  f('ifIdx', 'none', 32, 'exact', 'inbound: receiving interface (meta iif); outbound: sending interface (meta oif)'),
  f('subIfIdx', 'none', 32, 'exact', 'always 0: Linux has no sub-interface index'),
  f('loopback', 'none', 1, 'exact', 'the interface is a loopback device (ARPHRD_LOOPBACK; meta oiftype)'),
  f('impostor', 'none', 1, 'exact', 'the packet carries divert\'s injection mark (meta mark & DIVERT_MARK)'),
  f('length', 'none', 32, 'exact', 'bytes of the packet (IPv4 total length, IPv6 40 + payload length)'),
  f('ip', 'none', 1, 'exact', 'IPv4'),
  f('ipv6', 'none', 1, 'exact', 'IPv6'),
  f('icmp', 'none', 1, 'partial', 'an ICMP header (IPv4, not a later fragment, 8 bytes)'),
  f('icmpv6', 'none', 1, 'partial', 'an ICMPv6 header (not a later fragment, 8 bytes)'),
  f('tcp', 'none', 1, 'partial', 'a TCP header (not a later fragment, 20 bytes, data offset >= 5)'),
  f('udp', 'none', 1, 'partial', 'a UDP header (not a later fragment, 8 bytes)'),
  f('protocol', 'none', 8, 'partial', 'the upper-layer protocol after IPv6 extension headers'),
  f('localAddr', 'none', 128, 'exact', 'outbound: source address; inbound: destination address', 'address'),
  f('remoteAddr', 'none', 128, 'exact', 'outbound: destination address; inbound: source address', 'address'),
  f('localPort', 'none', 16, 'partial', 'TCP/UDP local port; ICMP/ICMPv6 type outbound, 0 inbound; else 0'),
  f('remotePort', 'none', 16, 'partial', 'TCP/UDP remote port; ICMP/ICMPv6 type inbound, 0 outbound; else 0'),
  arr('packet', 'packet', 1, 'byte i of the packet ([-i] from the end, [ib] a byte offset)'),
  arr('packet16', 'packet', 2, 'big-endian 16 bits at word i (or byte offset ib)'),
  arr('packet32', 'packet', 4, 'big-endian 32 bits at word i (or byte offset ib)'),
  f('ip.HdrLength', 'ip', 4, 'exact', 'IHL, in 32-bit words'),
  f('ip.TOS', 'ip', 8, 'exact', 'DSCP and ECN'),
  f('ip.Length', 'ip', 16, 'exact', 'total length'),
  f('ip.Id', 'ip', 16, 'exact', 'identification'),
  f('ip.DF', 'ip', 1, 'exact', 'don\'t fragment'),
  f('ip.MF', 'ip', 1, 'exact', 'more fragments'),
  f('ip.FragOff', 'ip', 13, 'exact', 'fragment offset in 8-byte units'),
  f('ip.TTL', 'ip', 8, 'exact', 'time to live'),
  f('ip.Protocol', 'ip', 8, 'exact', 'protocol'),
  f('ip.Checksum', 'ip', 16, 'exact', 'header checksum'),
  f('ip.SrcAddr', 'ip', 128, 'exact', 'source address, as ::ffff:a.b.c.d', 'address'),
  f('ip.DstAddr', 'ip', 128, 'exact', 'destination address, as ::ffff:a.b.c.d', 'address'),
  f('ipv6.TrafficClass', 'ipv6', 8, 'exact', 'traffic class'),
  f('ipv6.FlowLabel', 'ipv6', 20, 'exact', 'flow label (20 bits)'),
  f('ipv6.Length', 'ipv6', 16, 'exact', 'payload length'),
  f('ipv6.NextHdr', 'ipv6', 8, 'exact', 'next header of the fixed header'),
  f('ipv6.HopLimit', 'ipv6', 8, 'exact', 'hop limit'),
  f('ipv6.SrcAddr', 'ipv6', 128, 'exact', 'source address', 'address'),
  f('ipv6.DstAddr', 'ipv6', 128, 'exact', 'destination address', 'address'),
  f('icmp.Type', 'icmp', 8, 'partial', 'type'),
  f('icmp.Code', 'icmp', 8, 'partial', 'code'),
  f('icmp.Checksum', 'icmp', 16, 'partial', 'checksum'),
  f('icmp.Body', 'icmp', 32, 'partial', 'bytes 4–7 (rest of header)'),
  f('icmpv6.Type', 'icmpv6', 8, 'partial', 'type'),
  f('icmpv6.Code', 'icmpv6', 8, 'partial', 'code'),
  f('icmpv6.Checksum', 'icmpv6', 16, 'partial', 'checksum'),
  f('icmpv6.Body', 'icmpv6', 32, 'partial', 'bytes 4–7 (rest of header)'),
  f('tcp.SrcPort', 'tcp', 16, 'partial', 'source port'),
  f('tcp.DstPort', 'tcp', 16, 'partial', 'destination port'),
  f('tcp.SeqNum', 'tcp', 32, 'partial', 'sequence number'),
  f('tcp.AckNum', 'tcp', 32, 'partial', 'acknowledgment number'),
  f('tcp.HdrLength', 'tcp', 4, 'partial', 'data offset, in 32-bit words'),
  f('tcp.Urg', 'tcp', 1, 'partial', 'URG flag'),
  f('tcp.Ack', 'tcp', 1, 'partial', 'ACK flag'),
  f('tcp.Psh', 'tcp', 1, 'partial', 'PSH flag'),
  f('tcp.Rst', 'tcp', 1, 'partial', 'RST flag'),
  f('tcp.Syn', 'tcp', 1, 'partial', 'SYN flag'),
  f('tcp.Fin', 'tcp', 1, 'partial', 'FIN flag'),
  f('tcp.Window', 'tcp', 16, 'partial', 'window'),
  f('tcp.Checksum', 'tcp', 16, 'partial', 'checksum'),
  f('tcp.UrgPtr', 'tcp', 16, 'partial', 'urgent pointer'),
  f('tcp.PayloadLength', 'tcp', 16, 'partial', 'bytes after the TCP header'),
  arr('tcp.Payload', 'tcp', 1, 'byte i of the TCP payload'),
  arr('tcp.Payload16', 'tcp', 2, 'big-endian 16 bits of the TCP payload'),
  arr('tcp.Payload32', 'tcp', 4, 'big-endian 32 bits of the TCP payload'),
  f('udp.SrcPort', 'udp', 16, 'partial', 'source port'),
  f('udp.DstPort', 'udp', 16, 'partial', 'destination port'),
  f('udp.Length', 'udp', 16, 'partial', 'UDP length field'),
  f('udp.Checksum', 'udp', 16, 'partial', 'checksum'),
  f('udp.PayloadLength', 'udp', 16, 'partial', 'bytes after the UDP header (from the IP length)'),
  arr('udp.Payload', 'udp', 1, 'byte i of the UDP payload'),
  arr('udp.Payload16', 'udp', 2, 'big-endian 16 bits of the UDP payload'),
  arr('udp.Payload32', 'udp', 4, 'big-endian 32 bits of the UDP payload'),
];

/** Every field divert accepts, by its (case-sensitive) name. */
export const FIELDS: ReadonlyMap<string, FieldInfo> = new Map(ALL.map((x) => [x.name, x]));

/** WinDivert fields that exist at other layers only, and why Linux has nothing to offer for them. */
export const REFUSED_FIELDS: ReadonlyMap<string, string> = new Map([
  ['processId', 'processId has no meaning on Linux at the network layer: a packet in a netfilter hook carries no process (WinDivert has it at the flow, socket and reflect layers only)'],
  ['endpointId', 'endpointId has no meaning on Linux: it names a WinDivert flow/socket endpoint, which packets at the network layer do not carry'],
  ['parentEndpointId', 'parentEndpointId has no meaning on Linux: it names a WinDivert flow/socket endpoint, which packets at the network layer do not carry'],
  ['layer', 'layer has no meaning on Linux: divert has one layer, the network layer (WinDivert has it at the reflect layer only)'],
  ['priority', 'priority has no meaning in a filter on Linux: set the priority with the socket option (WinDivert has the field at the reflect layer only)'],
]);

/** Value macros (upper case, as in WinDivert). */
export const MACROS: ReadonlyMap<string, bigint> = new Map([
  ['TRUE', 1n], ['FALSE', 0n], ['TCP', 6n], ['UDP', 17n], ['ICMP', 1n], ['ICMPV6', 58n],
  ['PACKET', 0n], ['NETWORK', 0n], ['NETWORK_FORWARD', 1n], ['FLOW', 2n], ['SOCKET', 3n], ['REFLECT', 4n],
]);

/** Event macros of WinDivert's other layers: refused with this explanation. */
export const REFUSED_MACROS: ReadonlyMap<string, string> = new Map(
  ['ESTABLISHED', 'DELETED', 'BIND', 'CONNECT', 'ACCEPT', 'LISTEN', 'OPEN', 'CLOSE'].map((m) => [
    m,
    `${m} is an event of WinDivert's flow, socket or reflect layer; divert filters packets at the network layer, where event is always PACKET`,
  ]),
);

/** The field named `name`, or undefined. */
export function fieldInfo(name: string): FieldInfo | undefined {
  return FIELDS.get(name);
}

/** The largest value a number field holds: 2^bits − 1. */
export function fieldMax(info: FieldInfo): bigint {
  return (1n << BigInt(info.bits)) - 1n;
}

/** A known field or macro spelled with other letter cases ("tcp.dstport" → "tcp.DstPort"). */
export function suggestName(word: string): string | undefined {
  const lower = word.toLowerCase();
  for (const name of FIELDS.keys()) if (name.toLowerCase() === lower) return name;
  for (const name of MACROS.keys()) if (name.toLowerCase() === lower) return name;
  return undefined;
}
