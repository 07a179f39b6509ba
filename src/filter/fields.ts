/**
 * The field table of WinDivert's filter language at the network layer (WinDivert 2.2,
 * `dll/windivert_helper.c` token table, `windivert_shared.c` WinDivertExecuteFilter). What each
 * field means on Linux and how the kernel rules decide it: README.md in this folder (its Fields
 * table), lower_atoms.ts and the lowering tests.
 *
 * A test on a field whose header is absent (`tcp.DstPort == 80` on a UDP packet) is false, and
 * so is its `not` form (`not tcp.DstPort == 80` is `tcp.DstPort != 80`): WinDivert's `not`
 * inverts the comparison, it does not negate the test. Values compare as numbers: IPv4
 * addresses as IPv4-mapped IPv6 numbers (`ip.SrcAddr == 0xFFFF0A000001` is 10.0.0.1).
 * @module
 */
import { IP_PROTOCOL } from '../ip/protocols.js';

/** The header a field needs. 'none': the field always has a value. */
export type Layer = 'none' | 'ip' | 'ipv6' | 'icmp' | 'icmpv6' | 'tcp' | 'udp';

/** number: an unsigned integer of `bits` bits; address: 128 bits; timestamp: signed 64 bits; array: `base[i]`. */
export type FieldKind = 'number' | 'address' | 'timestamp' | 'array';

/** One field of the filter language (see {@link FIELDS}). */
export interface FieldInfo {
  /** The field's name as WinDivert spells it (`tcp.DstPort`). */
  readonly name: string;
  /** What its values are: a number, an address, a timestamp, or an array to index. */
  readonly kind: FieldKind;
  /** The header the packet needs for the field to have a value. */
  readonly layer: Layer;
  /** Width of the value: 1 for flags, 8, 13, 16, 20, 32; 128 for addresses; 64 for timestamp. */
  readonly bits: number;
  /** Array fields: element size in bytes, and what index 0 is. */
  readonly size?: 1 | 2 | 4;
  /** Array fields: where index 0 is (the packet's first byte, or the TCP or UDP payload's). */
  readonly base?: 'packet' | 'tcp' | 'udp';
}

function f(name: string, layer: Layer, bits: number, kind: FieldKind = 'number'): FieldInfo {
  return { name, kind, layer, bits };
}

function arr(name: string, base: 'packet' | 'tcp' | 'udp', size: 1 | 2 | 4): FieldInfo {
  return { name, kind: 'array', layer: base === 'packet' ? 'none' : base, bits: size * 8, size, base };
}

const ALL: readonly FieldInfo[] = [
  f('zero', 'none', 1), f('true', 'none', 1), f('false', 'none', 1), f('event', 'none', 8), f('timestamp', 'none', 64, 'timestamp'),
  f('random8', 'none', 8), f('random16', 'none', 16), f('random32', 'none', 32), f('inbound', 'none', 1), f('outbound', 'none', 1),
  f('fragment', 'none', 1), f('ifIdx', 'none', 32), f('subIfIdx', 'none', 32), f('loopback', 'none', 1), f('impostor', 'none', 1),
  f('length', 'none', 32), f('ip', 'none', 1), f('ipv6', 'none', 1), f('icmp', 'none', 1), f('icmpv6', 'none', 1), f('tcp', 'none', 1),
  f('udp', 'none', 1), f('protocol', 'none', 8), f('localAddr', 'none', 128, 'address'), f('remoteAddr', 'none', 128, 'address'),
  f('localPort', 'none', 16), f('remotePort', 'none', 16),
  arr('packet', 'packet', 1), arr('packet16', 'packet', 2), arr('packet32', 'packet', 4),
  f('ip.HdrLength', 'ip', 4), f('ip.TOS', 'ip', 8), f('ip.Length', 'ip', 16), f('ip.Id', 'ip', 16), f('ip.DF', 'ip', 1),
  f('ip.MF', 'ip', 1), f('ip.FragOff', 'ip', 13), f('ip.TTL', 'ip', 8), f('ip.Protocol', 'ip', 8), f('ip.Checksum', 'ip', 16),
  f('ip.SrcAddr', 'ip', 128, 'address'), f('ip.DstAddr', 'ip', 128, 'address'),
  f('ipv6.TrafficClass', 'ipv6', 8), f('ipv6.FlowLabel', 'ipv6', 20), f('ipv6.Length', 'ipv6', 16), f('ipv6.NextHdr', 'ipv6', 8),
  f('ipv6.HopLimit', 'ipv6', 8), f('ipv6.SrcAddr', 'ipv6', 128, 'address'), f('ipv6.DstAddr', 'ipv6', 128, 'address'),
  f('icmp.Type', 'icmp', 8), f('icmp.Code', 'icmp', 8), f('icmp.Checksum', 'icmp', 16), f('icmp.Body', 'icmp', 32),
  f('icmpv6.Type', 'icmpv6', 8), f('icmpv6.Code', 'icmpv6', 8), f('icmpv6.Checksum', 'icmpv6', 16), f('icmpv6.Body', 'icmpv6', 32),
  f('tcp.SrcPort', 'tcp', 16), f('tcp.DstPort', 'tcp', 16), f('tcp.SeqNum', 'tcp', 32), f('tcp.AckNum', 'tcp', 32),
  f('tcp.HdrLength', 'tcp', 4), f('tcp.Urg', 'tcp', 1), f('tcp.Ack', 'tcp', 1), f('tcp.Psh', 'tcp', 1), f('tcp.Rst', 'tcp', 1),
  f('tcp.Syn', 'tcp', 1), f('tcp.Fin', 'tcp', 1), f('tcp.Window', 'tcp', 16), f('tcp.Checksum', 'tcp', 16), f('tcp.UrgPtr', 'tcp', 16),
  f('tcp.PayloadLength', 'tcp', 16), arr('tcp.Payload', 'tcp', 1), arr('tcp.Payload16', 'tcp', 2), arr('tcp.Payload32', 'tcp', 4),
  f('udp.SrcPort', 'udp', 16), f('udp.DstPort', 'udp', 16), f('udp.Length', 'udp', 16), f('udp.Checksum', 'udp', 16),
  f('udp.PayloadLength', 'udp', 16), arr('udp.Payload', 'udp', 1), arr('udp.Payload16', 'udp', 2), arr('udp.Payload32', 'udp', 4),
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
  ['TRUE', 1n], ['FALSE', 0n],
  ['TCP', BigInt(IP_PROTOCOL.TCP)], ['UDP', BigInt(IP_PROTOCOL.UDP)], ['ICMP', BigInt(IP_PROTOCOL.ICMP)], ['ICMPV6', BigInt(IP_PROTOCOL.ICMPV6)],
  ['PACKET', 0n], ['NETWORK', 0n], ['NETWORK_FORWARD', 1n], ['FLOW', 2n], ['SOCKET', 3n], ['REFLECT', 4n],
]);

/** Event macros of WinDivert's other layers: refused with this explanation. */
export const REFUSED_MACROS: ReadonlyMap<string, string> = new Map(
  ['ESTABLISHED', 'DELETED', 'BIND', 'CONNECT', 'ACCEPT', 'LISTEN', 'OPEN', 'CLOSE'].map((m) => [
    m,
    `${m} is an event of WinDivert's flow, socket or reflect layer; divert filters packets at the network layer, where event is always PACKET`,
  ]),
);

/** A known field or macro spelled with other letter cases ("tcp.dstport" → "tcp.DstPort"). */
export function suggestName(word: string): string | undefined {
  const lower = word.toLowerCase();
  for (const name of FIELDS.keys()) if (name.toLowerCase() === lower) return name;
  for (const name of MACROS.keys()) if (name.toLowerCase() === lower) return name;
  // A near miss (tcp.DestPort, udp.SrcPrt): the one field within two edits, if only one is.
  const near = [...FIELDS.keys()].filter((name) => editDistanceAtMost(name.toLowerCase(), lower, 2));
  return near.length === 1 ? near[0] : undefined;
}

/** Whether Levenshtein distance(a, b) <= max (rows cut short once every cell exceeds it). */
function editDistanceAtMost(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    if (Math.min(...row) > max) return false;
    prev = row;
  }
  return prev[b.length]! <= max;
}
