/**
 * Golden packets for this folder's tests, one field per line. Addresses are documentation
 * ranges only (198.18.0.0/15, RFC 2544; 2001:db8::/32, RFC 3849).
 *
 * Provenance: "captured" vectors were read with an AF_PACKET socket on `lo` inside a throwaway
 * network namespace (`unshare -rn`, Linux, Python 3), with 198.18.0.1/2 and 2001:db8::1/2 on
 * `lo`. `lo` leaves TCP and UDP checksums CHECKSUM_PARTIAL, so those two fields were recomputed
 * with an independent Python RFC 1071 implementation. "built" vectors were assembled by hand
 * from the RFC layouts and checksummed with that same Python code.
 * @module
 */
import { hex } from './_test_util.js';

const PING_DATA = '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344454647';

/** Captured: ICMP echo request 198.18.0.1 > 198.18.0.2 (IPv4 header by the kernel, raw ICMP socket). */
export const ICMP_ECHO_REQUEST = hex(`
  45          # version 4, IHL 5
  00          # DSCP 0, ECN 0
  0054        # total length 84
  f0ec        # identification 0xf0ec
  4000        # flags DF, fragment offset 0
  40          # TTL 64
  01          # protocol ICMP
  bd94        # header checksum
  c6120001    # source 198.18.0.1
  c6120002    # destination 198.18.0.2
  08          # ICMP type 8, echo request
  00          # code 0
  3f29        # ICMP checksum
  0001        # identifier 1
  0001        # sequence 1
  ${PING_DATA} # 56 data bytes 0x10..0x47
`.replace(/#[^\n]*/g, ''));

/** Captured: the kernel's ICMP echo reply to `ICMP_ECHO_REQUEST` (every checksum by the kernel). */
export const ICMP_ECHO_REPLY = hex(`
  45 00 0054  # version 4, IHL 5, TOS 0, total length 84
  dae9 0000   # identification 0xdae9, no flags
  40 01 1398  # TTL 64, protocol ICMP, header checksum
  c6120002    # source 198.18.0.2
  c6120001    # destination 198.18.0.1
  00 00 4729  # echo reply, code 0, checksum
  0001 0001   # identifier 1, sequence 1
  ${PING_DATA} # 56 data bytes
`.replace(/#[^\n]*/g, ''));

/** Captured: Linux's TCP SYN 198.18.0.1:40000 > 198.18.0.2:80 (checksum recomputed, see above). */
export const TCP_SYN = hex(`
  45 00 003c  # version 4, IHL 5, TOS 0, total length 60
  7fce 4000   # identification 0x7fce, DF
  40 06 2ec6  # TTL 64, protocol TCP, header checksum
  c6120001    # source 198.18.0.1
  c6120002    # destination 198.18.0.2
  9c40        # source port 40000
  0050        # destination port 80
  5e40d1e1    # sequence number 1581306337
  00000000    # acknowledgment number 0
  a0          # data offset 10 (40 bytes)
  02          # flags SYN
  ffd7        # window 65495
  cf09        # checksum
  0000        # urgent pointer 0
  0204 ffd7   # option MSS 65495
  0402        # option SACK permitted
  080a 66b1bf6b 00000000 # option timestamps TSval 0x66b1bf6b, TSecr 0
  01          # option NOP
  03030a      # option window scale 10
`.replace(/#[^\n]*/g, ''));

/** Built: UDP 198.18.0.1:5353 > 198.18.0.2:53 carrying "divert". */
export const UDP4 = hex(`
  45 00 0022  # version 4, IHL 5, TOS 0, total length 34
  1234 4000   # identification 0x1234, DF
  40 11 9c6f  # TTL 64, protocol UDP, header checksum
  c6120001    # source 198.18.0.1
  c6120002    # destination 198.18.0.2
  14e9        # source port 5353
  0035        # destination port 53
  000e        # length 14
  1149        # checksum
  646976657274 # "divert"
`.replace(/#[^\n]*/g, ''));

/** Captured: UDP [2001:db8::1]:5353 > [2001:db8::2]:53 carrying "divert" (checksum recomputed). */
export const UDP6 = hex(`
  6 00 fae06  # version 6, traffic class 0, flow label 0xfae06
  000e        # payload length 14
  11          # next header UDP
  40          # hop limit 64
  20010db8000000000000000000000001 # source 2001:db8::1
  20010db8000000000000000000000002 # destination 2001:db8::2
  14e9 0035   # ports 5353 > 53
  000e        # length 14
  41fc        # checksum
  646976657274 # "divert"
`.replace(/#[^\n]*/g, ''));

/** Captured: ICMPv6 echo request 2001:db8::1 > 2001:db8::2 (checksum by the kernel). */
export const ICMPV6_ECHO_REQUEST = hex(`
  6 00 ad7a9  # version 6, traffic class 0, flow label 0xad7a9
  0010        # payload length 16
  3a          # next header ICMPv6
  40          # hop limit 64
  20010db8000000000000000000000001 # source 2001:db8::1
  20010db8000000000000000000000002 # destination 2001:db8::2
  80          # type 128, echo request
  00          # code 0
  d7ed        # checksum
  0001 0001   # identifier 1, sequence 1
  1011121314151617 # 8 data bytes
`.replace(/#[^\n]*/g, ''));

/** Built: IPv6 + hop-by-hop (Router Alert, PadN) + fragment header: first fragment of a UDP datagram. */
export const IPV6_HBH_FRAG = hex(`
  6 00 00000  # version 6, traffic class 0, flow label 0
  0020        # payload length 32
  00          # next header hop-by-hop
  40          # hop limit 64
  20010db8000000000000000000000001 # source 2001:db8::1
  20010db8000000000000000000000002 # destination 2001:db8::2
  2c 00       # HBH: next header fragment (44), length 0 (8 bytes)
  05 02 0000  # HBH option Router Alert (RFC 2711), value 0 (MLD)
  01 00       # HBH option PadN, 0 bytes
  11 00       # fragment: next header UDP, reserved
  0001        # fragment offset 0, M = 1
  00c0ffee    # identification 0x00c0ffee
  14e9 0035   # UDP ports 5353 > 53
  03e8 beef   # UDP length 1000 (whole datagram), checksum 0xbeef
  0001020304050607 # first 8 data bytes
`.replace(/#[^\n]*/g, ''));

/** Built: IPv4 with options Router Alert (copied) + Record Route (not copied) + EOL, carrying UDP. */
export const IPV4_OPTIONS = hex(`
  48 00 002e  # version 4, IHL 8 (32 bytes), TOS 0, total length 46
  0bad 0000   # identification 0x0bad, no flags
  01 11 7fe1  # TTL 1, protocol UDP, header checksum
  c6120001    # source 198.18.0.1
  c613fffe    # destination 198.19.255.254
  94 04 0000  # option Router Alert (RFC 2113): copied, class 0, number 20
  07 07 04 00000000 # option Record Route (RFC 791): not copied, pointer 4, one empty slot
  00          # End of Option List
  0400 0800   # UDP ports 1024 > 2048
  000e 1a69   # UDP length 14, checksum
  646976657274 # "divert"
`.replace(/#[^\n]*/g, ''));
