/**
 * divert's own test packets, beside WinDivert's ten: the corners where Linux and WinDivert
 * parsing meet (IPv4 options, IPv6 extension headers nf_tables walks differently, headers cut
 * short). Documentation addresses only (198.18.0.0/15, 2001:db8::/32).
 * @module
 */
import { ah, ext, frag, icmp, ipv4, ipv6, tcp, udp } from './_build.js';

const A4 = '198.18.0.1';
const B4 = '198.18.0.2';
const A6 = '2001:db8::1';
const B6 = '2001:db8::2';

export const DIVERT_PACKETS = {
  /** IPv4 with 4 bytes of options (IHL 6), TCP SYN 198.18.0.1:40000 → 198.18.0.2:80, data offset 6 (MSS 1460), no payload. */
  tcp4_options: ipv4({ src: A4, dst: B4, protocol: 6, id: 0x0101, options: [1, 1, 1, 0] },
    tcp({ src: 40000, dst: 80, seq: 7, flags: 0x02, options: [2, 4, 0x05, 0xb4] })),
  /** IPv4 TCP PSH|ACK 198.18.0.1:443 → 198.18.0.2:51000, window 502, urgent 0, payload "hello world". */
  tcp4_data: ipv4({ src: A4, dst: B4, protocol: 6, id: 0x0202, frag: 0x4000, ttl: 57 },
    tcp({ src: 443, dst: 51000, seq: 0x01020304, ack: 0x0a0b0c0d, flags: 0x18, window: 502, checksum: 0xbeef, payload: 'hello world' })),
  /** IPv4 protocol 6 with 12 bytes where TCP needs 20: no TCP header. */
  tcp4_short: ipv4({ src: A4, dst: B4, protocol: 6, id: 0x0303 }, tcp({ src: 1, dst: 2, flags: 0x10 }).slice(0, 12)),
  /** IPv4 TCP whose data offset says 4 (below the minimum 5): no TCP header. */
  tcp4_doff4: ipv4({ src: A4, dst: B4, protocol: 6, id: 0x0404 }, tcp({ src: 1, dst: 2, flags: 0x02, dataOffset: 4, payload: 'xyzw' })),
  /** IPv4 UDP 198.18.0.2:53000 → 198.18.0.53:53, 12 bytes of payload. */
  udp4_dns: ipv4({ src: B4, dst: '198.18.0.53', protocol: 17, id: 0x0505 }, udp(53000, 53, 'query-bytes!')),
  /** IPv4 first fragment (MF, offset 0) carrying a UDP header. */
  udp4_mf: ipv4({ src: A4, dst: B4, protocol: 17, id: 0x0606, frag: 0x2000 }, udp(5000, 6000, 'frag-one', 100)),
  /** IPv4 later fragment (offset 3 × 8 bytes) of UDP: no UDP header. */
  udp4_later: ipv4({ src: A4, dst: B4, protocol: 17, id: 0x0606, frag: 3 }, [0x13, 0x88, 0x17, 0x70, 0, 8, 0, 0]),
  /** ICMP destination unreachable (3/3) from 198.18.0.2 to 198.18.0.1. */
  icmp4_unreach: ipv4({ src: B4, dst: A4, protocol: 1, id: 0x0707 }, icmp(3, 3, 0, [0x45, 0, 0, 28])),
  /** IPv4 GRE (protocol 47), 4 bytes. */
  gre4: ipv4({ src: A4, dst: B4, protocol: 47, id: 0x0808, tos: 0x28 }, [0, 0, 0x08, 0]),
  /** IPv6 TCP ACK 2001:db8::1:443 → 2001:db8::2:50000, traffic class 0xb8, flow label 0x12345, payload "12345". */
  tcp6_ack: ipv6({ src: A6, dst: B6, next: 6, trafficClass: 0xb8, flowLabel: 0x12345, hopLimit: 63 },
    tcp({ src: 443, dst: 50000, seq: 99, ack: 100, flags: 0x10, payload: '12345' })),
  /** IPv6 first fragment (offset 0, M) of UDP 2001:db8::1:7000 → 2001:db8::2:7001. */
  udp6_frag0: ipv6({ src: A6, dst: B6, next: 44 }, [...frag(17, 0, true), ...udp(7000, 7001, 'first', 40)]),
  /** IPv6 later fragment (offset 4 units) of UDP: no UDP header. */
  udp6_frag1: ipv6({ src: A6, dst: B6, next: 44 }, [...frag(17, 4, false), ...[1, 2, 3, 4, 5, 6, 7, 8]]),
  /** IPv6, AH, TCP to port 22: WinDivert walks over AH; nf_tables stops at it (l4proto 51). */
  tcp6_ah: ipv6({ src: A6, dst: B6, next: 51 }, [...ah(6), ...tcp({ src: 50001, dst: 22, flags: 0x02 })]),
  /** IPv6, mobility header (135), UDP: WinDivert walks over it; nf_tables stops at it. */
  udp6_mh: ipv6({ src: A6, dst: B6, next: 135 }, [...ext(17), ...udp(9000, 9001, 'mh')]),
  /** IPv6, two fragment headers (offset 0), UDP: WinDivert stops at the second (protocol 44). */
  udp6_2frag: ipv6({ src: A6, dst: B6, next: 44 }, [...frag(44, 0, false), ...frag(17, 0, false), ...udp(1, 2, 'x')]),
  /** IPv6, destination options claiming 16 bytes where 10 remain: the chain is cut short (protocol 60). */
  ipv6_cut: ipv6({ src: A6, dst: B6, next: 60 }, [...ext(6, 1)].slice(0, 10)),
  /** IPv6 next header UDP with 3 bytes where the header needs 8: no UDP header (a disagreement the random run found). */
  udp6_short: ipv6({ src: A6, dst: B6, next: 17 }, [0xba, 0xb5, 0x91]),
  /** IPv6, fragment header first (offset 0, M), TCP SYN to port 443 with data offset 6. */
  tcp6_frag0: ipv6({ src: A6, dst: B6, next: 44 }, [...frag(6, 0, true), ...tcp({ src: 50002, dst: 443, flags: 0x02, options: [2, 4, 0x05, 0xa0], payload: 'abc' })]),
  /** IPv6, hop-by-hop, ICMPv6 echo request id 0x0102 seq 3 from 2001:db8::2 to 2001:db8::1. */
  icmp6_echo: ipv6({ src: B6, dst: A6, next: 0, hopLimit: 255 }, [...ext(58), ...icmp(128, 0, 0x01020003, [0xde, 0xad])]),
};

export type DivertPacketName = keyof typeof DIVERT_PACKETS;
