/**
 * IP protocol numbers (IANA "Assigned Internet Protocol Numbers"; the IPv4 Protocol and IPv6 Next
 * Header fields share the registry, RFC 8200 §3) and ICMP/ICMPv6 type numbers.
 * @module
 */

/** IP protocol / next-header numbers used by this package. */
export const IP_PROTOCOL = {
  HOP_BY_HOP: 0,
  ICMP: 1,
  IGMP: 2,
  TCP: 6,
  UDP: 17,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_OPTS: 60,
  SCTP: 132,
} as const;

/** ICMP message types (RFC 792). */
export const ICMP_TYPE = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  ROUTER_ADVERT: 9,
  ROUTER_SOLICIT: 10,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
} as const;

/** ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4). */
export const ICMPV6_TYPE = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
} as const;

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'HOPOPT', 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 43: 'IPv6-Route', 44: 'IPv6-Frag',
  47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'ICMPv6', 59: 'IPv6-NoNxt', 60: 'IPv6-Opts', 132: 'SCTP',
};

const ICMP_NAMES: Readonly<Record<number, string>> = {
  0: 'echo-reply', 3: 'dest-unreachable', 4: 'source-quench', 5: 'redirect', 8: 'echo-request',
  9: 'router-advert', 10: 'router-solicit', 11: 'time-exceeded', 12: 'parameter-problem',
  13: 'timestamp', 14: 'timestamp-reply',
};

const ICMPV6_NAMES: Readonly<Record<number, string>> = {
  1: 'dest-unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'parameter-problem',
  128: 'echo-request', 129: 'echo-reply', 133: 'router-solicit', 134: 'router-advert',
  135: 'neighbor-solicit', 136: 'neighbor-advert', 137: 'redirect',
};

/** IANA keyword for a protocol number (`6` → `"TCP"`), or `"proto-<n>"` when unknown. */
export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? `proto-${protocol}`;
}

/** Short name of an ICMP type (`8` → `"echo-request"`), or `"type-<n>"` when unknown. */
export function icmpTypeName(type: number): string {
  return ICMP_NAMES[type] ?? `type-${type}`;
}

/** Short name of an ICMPv6 type (`128` → `"echo-request"`), or `"type-<n>"` when unknown. */
export function icmpv6TypeName(type: number): string {
  return ICMPV6_NAMES[type] ?? `type-${type}`;
}
