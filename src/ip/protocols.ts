/**
 * IP protocol numbers and ICMP/ICMPv6 type numbers with their names: one table each, used to
 * parse rules (any case), print rules, packets and CLI records. No /etc/protocols, so every
 * machine reads and prints the same. Names are the lowercase ones nft and iptables take
 * (`tcp`, `icmpv6`, `echo-request`); an unnamed number prints as itself.
 * IANA "Assigned Internet Protocol Numbers" (IPv4 Protocol and IPv6 Next Header share it,
 * RFC 8200 §3); RFC 792; RFC 4443 §2.1; RFC 4861 §4.
 * @module
 */

/** IP protocol / next-header numbers divert's code refers to by name. */
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
  /** IPv6 mobility header (RFC 6275). */
  MH: 135,
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

/** Number, the name printed, then other names accepted. 0 is absent: in a rule it means "any". */
type Entry = readonly [number, string, ...string[]];

const PROTOCOLS: readonly Entry[] = [
  [1, 'icmp'], [2, 'igmp'], [4, 'ipencap'], [6, 'tcp'], [8, 'egp'], [17, 'udp'], [33, 'dccp'],
  [41, 'ipv6'], [43, 'ipv6-route'], [44, 'ipv6-frag'], [46, 'rsvp'], [47, 'gre'], [50, 'esp'],
  [51, 'ah'], [58, 'icmpv6', 'ipv6-icmp', 'icmp6'], [59, 'ipv6-nonxt'], [60, 'ipv6-opts'],
  [89, 'ospf'], [103, 'pim'], [112, 'vrrp'], [115, 'l2tp'], [132, 'sctp'], [135, 'mh', 'ipv6-mh'],
  [136, 'udplite'],
];

const ICMP_TYPES: readonly Entry[] = [
  [0, 'echo-reply'], [3, 'destination-unreachable'], [4, 'source-quench'], [5, 'redirect'],
  [8, 'echo-request'], [9, 'router-advertisement'], [10, 'router-solicitation'],
  [11, 'time-exceeded'], [12, 'parameter-problem'], [13, 'timestamp-request'], [14, 'timestamp-reply'],
];

const ICMPV6_TYPES: readonly Entry[] = [
  [1, 'destination-unreachable'], [2, 'packet-too-big'], [3, 'time-exceeded'], [4, 'parameter-problem'],
  [128, 'echo-request'], [129, 'echo-reply'], [133, 'router-solicitation'], [134, 'router-advertisement'],
  [135, 'neighbor-solicitation', 'neighbour-solicitation'], [136, 'neighbor-advertisement', 'neighbour-advertisement'],
  [137, 'redirect'],
];

interface Lookup {
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
}

// Maps, not object literals: "constructor" or "__proto__" must find nothing.
function lookup(entries: readonly Entry[]): Lookup {
  const byName = new Map<string, number>();
  const byNumber = new Map<number, string>();
  for (const [num, name, ...aliases] of entries) {
    byNumber.set(num, name);
    for (const n of [name, ...aliases]) byName.set(n, num);
  }
  return { byName, byNumber };
}

const PROTOCOL = lookup(PROTOCOLS);
const ICMP = lookup(ICMP_TYPES);
const ICMPV6 = lookup(ICMPV6_TYPES);

/** Protocol name (`6` → `"tcp"`, `58` → `"icmpv6"`), or the number as text when it has none. */
export function protocolName(num: number): string {
  return PROTOCOL.byNumber.get(num) ?? String(num);
}

/** Protocol number of a name in any case (`"TCP"`, `"ipv6-icmp"`); undefined when unknown. */
export function protocolNumber(name: string): number | undefined {
  return PROTOCOL.byName.get(name.toLowerCase());
}

/** ICMP (or, with `ipv6`, ICMPv6) type name (`8` → `"echo-request"`), or the number as text. */
export function icmpTypeName(type: number, ipv6: boolean): string {
  return (ipv6 ? ICMPV6 : ICMP).byNumber.get(type) ?? String(type);
}

/** ICMP (or ICMPv6) type number of a name in any case; undefined when unknown. */
export function icmpTypeNumber(name: string, ipv6: boolean): number | undefined {
  return (ipv6 ? ICMPV6 : ICMP).byName.get(name.toLowerCase());
}
