/**
 * IP protocol names and ICMP type names accepted in rules (any case), without /etc/protocols,
 * so parsing is the same on every machine.
 * @module
 */

/** Name → IANA protocol number. The first name listed for a number is the one we print. */
const NAMES: ReadonlyArray<readonly [string, number]> = [
  ['icmp', 1], ['igmp', 2], ['ipencap', 4], ['tcp', 6], ['egp', 8], ['udp', 17], ['dccp', 33],
  ['ipv6', 41], ['rsvp', 46], ['gre', 47], ['esp', 50], ['ah', 51], ['ipv6-icmp', 58], ['icmpv6', 58],
  ['icmp6', 58], ['ospf', 89], ['pim', 103], ['vrrp', 112], ['l2tp', 115], ['sctp', 132], ['mh', 135],
  ['ipv6-mh', 135], ['udplite', 136],
];

const BY_NAME = new Map(NAMES);
const BY_NUMBER = new Map<number, string>();
for (const [name, num] of NAMES) if (!BY_NUMBER.has(num)) BY_NUMBER.set(num, name);

export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;

/** Protocols with an xtables port match (`-m tcp/udp/dccp/sctp`); each names its match. */
export const PORT_PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [6, 'tcp'], [17, 'udp'], [33, 'dccp'], [132, 'sctp'],
]);

/** Protocol number for a name (any case); undefined when unknown. */
export function protocolNumber(name: string): number | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Name iptables prints for a protocol number, or the number itself. */
export function protocolName(num: number): string {
  return BY_NUMBER.get(num) ?? String(num);
}

/** ICMP (v4) type names as iptables spells them, with their numbers. */
const ICMP_TYPES: ReadonlyMap<string, number> = new Map([
  ['echo-reply', 0], ['destination-unreachable', 3], ['source-quench', 4], ['redirect', 5],
  ['echo-request', 8], ['router-advertisement', 9], ['router-solicitation', 10], ['time-exceeded', 11],
  ['parameter-problem', 12], ['timestamp-request', 13], ['timestamp-reply', 14],
]);

/** ICMPv6 type names with their numbers. */
const ICMPV6_TYPES: ReadonlyMap<string, number> = new Map([
  ['destination-unreachable', 1], ['packet-too-big', 2], ['time-exceeded', 3], ['parameter-problem', 4],
  ['echo-request', 128], ['echo-reply', 129], ['router-solicitation', 133], ['router-advertisement', 134],
  ['neighbour-solicitation', 135], ['neighbor-solicitation', 135], ['neighbour-advertisement', 136],
  ['neighbor-advertisement', 136], ['redirect', 137],
]);

/** ICMP type number for a name (any case) in a family; undefined when unknown. */
export function icmpTypeNumber(name: string, ipv6: boolean): number | undefined {
  return (ipv6 ? ICMPV6_TYPES : ICMP_TYPES).get(name.toLowerCase());
}
