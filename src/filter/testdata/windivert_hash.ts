/**
 * WinDivert's own random8/16/32 for a few packets: the values WinDivert 2.2's packet parser and
 * hash (WinDivertHelperParsePacketEx in dll/windivert_shared.c, WinDivertHashPacket in
 * dll/windivert_hash.c, basil00/WinDivert at commit 9710107, built unchanged with gcc for x86-64)
 * print for each packet and timestamp, with `random64 |= 0xFF00000000000000` and the three fields
 * taken as WinDivertExecuteFilter takes them: random8 = bits 48–55, random16 = bits 32–47,
 * random32 = bits 0–31. The seed is the timestamp as a 64-bit two's complement number.
 * Packets are named as in PACKETS (testdata/cases.ts). Test data only.
 * @module
 */

export interface WinDivertHash {
  readonly packet: string;
  readonly timestamp: number;
  readonly random64: bigint;
  readonly random8: number;
  readonly random16: number;
  readonly random32: number;
}

export const WINDIVERT_HASHES: readonly WinDivertHash[] = [
  { packet: 'http_request', timestamp: 0, random64: 0xff077ef3ec1f1cb3n, random8: 7, random16: 32499, random32: 3961461939 }, // IPv4 TCP
  { packet: 'http_request', timestamp: 1700000000123, random64: 0xff3c391828822aa5n, random8: 60, random16: 14616, random32: 679619237 },
  { packet: 'http_request', timestamp: -5, random64: 0xff152fbbb04eee6cn, random8: 21, random16: 12219, random32: 2957962860 },
  { packet: 'ipv6_tcp_syn', timestamp: 0, random64: 0xffab9a5c7e430c0bn, random8: 171, random16: 39516, random32: 2118323211 }, // IPv6 TCP: the last TCP word goes into v2 (`v2 ^= data32[4] << 32`)
  { packet: 'ipv6_tcp_syn', timestamp: 1700000000123, random64: 0xffd4808fa64f92c9n, random8: 212, random16: 32911, random32: 2790232777 },
  { packet: 'ipv6_tcp_syn', timestamp: -5, random64: 0xff9f8a62e4e6dc7bn, random8: 159, random16: 35426, random32: 3840334971 },
  { packet: 'dns_request', timestamp: 0, random64: 0xffd3cf33b27646d3n, random8: 211, random16: 53043, random32: 2994095827 }, // IPv4 UDP
  { packet: 'dns_request', timestamp: 1700000000123, random64: 0xff9883dd94cb62d4n, random8: 152, random16: 33757, random32: 2496357076 },
  { packet: 'dns_request', timestamp: -5, random64: 0xff6cf08e04f5d0d5n, random8: 108, random16: 61582, random32: 83218645 },
  { packet: 'echo_request', timestamp: 0, random64: 0xff6ce1e13ebca189n, random8: 108, random16: 57825, random32: 1052549513 }, // IPv4 ICMP
  { packet: 'echo_request', timestamp: 1700000000123, random64: 0xff8706a63f84154dn, random8: 135, random16: 1702, random32: 1065620813 },
  { packet: 'echo_request', timestamp: -5, random64: 0xffbb78c91145bb96n, random8: 187, random16: 30921, random32: 289782678 },
  { packet: 'ipv6_echo_reply', timestamp: 0, random64: 0xff25ee886b6569bdn, random8: 37, random16: 61064, random32: 1801808317 }, // ICMPv6
  { packet: 'ipv6_echo_reply', timestamp: 1700000000123, random64: 0xfff82ca3c190ed86n, random8: 248, random16: 11427, random32: 3247500678 },
  { packet: 'ipv6_echo_reply', timestamp: -5, random64: 0xff228ea655f15e61n, random8: 34, random16: 36518, random32: 1441881697 },
  { packet: 'ipv6_exthdrs_udp', timestamp: 0, random64: 0xff5a04d31572f43fn, random8: 90, random16: 1235, random32: 359855167 }, // IPv6 UDP behind extension headers
  { packet: 'ipv6_exthdrs_udp', timestamp: 1700000000123, random64: 0xfff8296d02a4a60dn, random8: 248, random16: 10605, random32: 44344845 },
  { packet: 'ipv6_exthdrs_udp', timestamp: -5, random64: 0xffcc2bbab3400b64n, random8: 204, random16: 11194, random32: 3007318884 },
  { packet: 'ipv4_fragment_1', timestamp: 0, random64: 0xffa7f513fa8ce1bfn, random8: 167, random16: 62739, random32: 4203536831 }, // IPv4 later fragment: no layer 4 header, the seed fills its words
  { packet: 'ipv4_fragment_1', timestamp: 1700000000123, random64: 0xff2b53e793bb8546n, random8: 43, random16: 21479, random32: 2478540102 },
  { packet: 'ipv4_fragment_1', timestamp: -5, random64: 0xff8ab6d80a03d326n, random8: 138, random16: 46808, random32: 168022822 },
  { packet: 'tcp6_ah', timestamp: 0, random64: 0xff93a395537776c9n, random8: 147, random16: 41877, random32: 1400338121 }, // IPv6 TCP behind an AH header
  { packet: 'tcp6_ah', timestamp: 1700000000123, random64: 0xff9367a695b1ad83n, random8: 147, random16: 26534, random32: 2511449475 },
  { packet: 'tcp6_ah', timestamp: -5, random64: 0xffde21a271735e5bn, random8: 222, random16: 8610, random32: 1903386203 },
  { packet: 'tcp4_data', timestamp: 5, random64: 0xff5253685dce20ean, random8: 82, random16: 21352, random32: 1573789930 }, // IPv4 TCP
  { packet: 'tcp6_ack', timestamp: 5, random64: 0xff19097b4b050816n, random8: 25, random16: 2427, random32: 1258620950 }, // IPv6 TCP
];
