/**
 * pcap files written by other programs, for the reader's tests, byte for byte.
 *
 * Provenance (2026-11-30, Debian 12, Wireshark 4.0.17, Linux 6.18): two throwaway namespaces
 * joined by a veth pair, 198.18.0.1 / 2001:db8::1 and 198.18.0.2 / 2001:db8::2 (documentation
 * ranges, RFC 2544 / RFC 3849), permanent neighbour entries so no ARP/ND went by. In the second,
 * `dumpcap -i dvcB -P -c 4 -f 'icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))'` while the
 * first ran divert's own ping (src/cli/demo/ping.ts, 8 data bytes) once to each address. Then
 * `editcap -F pcap -C 14 -T rawip` cut the Ethernet headers and wrote LINKTYPE_RAW (PCAP_US), and
 * `editcap -F nsecpcap` of that file wrote the nanosecond variant (PCAP_NS). Both are
 * little-endian (the capturing host's order); big-endian files are built by hand in the tests.
 * @module
 */
const bytes = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex'));

/** Microsecond pcap, LINKTYPE_RAW, 4 records (272 bytes). */
export const PCAP_US = bytes(`
  d4c3b2a1    # magic 0xa1b2c3d4 (microseconds), written little-endian
  0200        # version_major 2
  0400        # version_minor 4
  00000000    # thiszone 0
  00000000    # sigfigs 0
  00000400    # snaplen 262144
  65000000    # network 101 (LINKTYPE_RAW)
  42120d6b    # record 1: ts_sec 1796018754
  6bdb0900    # ts_frac 645995
  24000000    # incl_len 36
  32000000    # orig_len 50: the Ethernet frame's, kept by editcap -C 14
  4500002444a7400040016a0ac6120001c6120002  # ICMP echo request 198.18.0.1 > 198.18.0.2, id 0xccf7 seq 1
  08000c33ccf70001cae474c22d7fb1ad
  42120d6b    # record 2: ts_sec 1796018754
  7bdb0900    # ts_frac 646011
  24000000    # incl_len 36
  32000000    # orig_len 50: the Ethernet frame's, kept by editcap -C 14
  45000024458a00004001a927c6120002c6120001  # ICMP echo reply 198.18.0.2 > 198.18.0.1
  00001433ccf70001cae474c22d7fb1ad
  42120d6b    # record 3: ts_sec 1796018754
  1ce60900    # ts_frac 648732
  38000000    # incl_len 56
  46000000    # orig_len 70: the Ethernet frame's, kept by editcap -C 14
  6002560300103a4020010db80000000000000000  # ICMPv6 echo request 2001:db8::1 > 2001:db8::2, id 0xccf8 seq 1
  0000000120010db8000000000000000000000002
  800018a3ccf8000111023d24050deb6f
  42120d6b    # record 4: ts_sec 1796018754
  27e60900    # ts_frac 648743
  38000000    # incl_len 56
  46000000    # orig_len 70: the Ethernet frame's, kept by editcap -C 14
  600904b800103a4020010db80000000000000000  # ICMPv6 echo reply 2001:db8::2 > 2001:db8::1
  0000000220010db8000000000000000000000001
  810017a3ccf8000111023d24050deb6f
`);

/** The same capture as a nanosecond pcap (`editcap -F nsecpcap`): only magic and ts_frac differ. */
export const PCAP_NS = bytes(`
  4d3cb2a1    # magic 0xa1b23c4d (nanoseconds), written little-endian
  0200        # version_major 2
  0400        # version_minor 4
  00000000    # thiszone 0
  00000000    # sigfigs 0
  00000400    # snaplen 262144
  65000000    # network 101 (LINKTYPE_RAW)
  42120d6b    # record 1: ts_sec 1796018754
  f8198126    # ts_frac 645995000
  24000000    # incl_len 36
  32000000    # orig_len 50: the Ethernet frame's, kept by editcap -C 14
  4500002444a7400040016a0ac6120001c6120002  # ICMP echo request 198.18.0.1 > 198.18.0.2, id 0xccf7 seq 1
  08000c33ccf70001cae474c22d7fb1ad
  42120d6b    # record 2: ts_sec 1796018754
  78588126    # ts_frac 646011000
  24000000    # incl_len 36
  32000000    # orig_len 50: the Ethernet frame's, kept by editcap -C 14
  45000024458a00004001a927c6120002c6120001  # ICMP echo reply 198.18.0.2 > 198.18.0.1
  00001433ccf70001cae474c22d7fb1ad
  42120d6b    # record 3: ts_sec 1796018754
  60ddaa26    # ts_frac 648732000
  38000000    # incl_len 56
  46000000    # orig_len 70: the Ethernet frame's, kept by editcap -C 14
  6002560300103a4020010db80000000000000000  # ICMPv6 echo request 2001:db8::1 > 2001:db8::2, id 0xccf8 seq 1
  0000000120010db8000000000000000000000002
  800018a3ccf8000111023d24050deb6f
  42120d6b    # record 4: ts_sec 1796018754
  5808ab26    # ts_frac 648743000
  38000000    # incl_len 56
  46000000    # orig_len 70: the Ethernet frame's, kept by editcap -C 14
  600904b800103a4020010db80000000000000000  # ICMPv6 echo reply 2001:db8::2 > 2001:db8::1
  0000000220010db8000000000000000000000001
  810017a3ccf8000111023d24050deb6f
`);
