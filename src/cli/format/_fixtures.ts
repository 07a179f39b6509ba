/**
 * Fixed packets for the formatter tests (documentation addresses only).
 * @module
 */
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** ICMP echo request 198.18.9.1 > 198.18.9.2, id 0x453c seq 1, 84 bytes (captured by `divert intercept -x`). */
export const ICMP_ECHO = hex(`
  4500 0054 ecc8 4000 4001 afb8 c612 0901
  c612 0902 0800 ae53 453c 0001 59b5 086b
  0000 0000 d77b 0c00 0000 0000 1011 1213
  1415 1617 1819 1a1b 1c1d 1e1f 2021 2223
  2425 2627 2829 2a2b 2c2d 2e2f 3031 3233
  3435 3637`);

/** TCP SYN 198.18.1.1:40000 > 198.18.2.2:80, 40 bytes (checksums zero: formatters don't care). */
export const TCP_SYN = hex(`
  4500 0028 0001 0000 4006 0000 c612 0101
  c612 0202 9c40 0050 0000 0001 0000 0000
  5002 faf0 0000 0000`);

/** UDP over IPv6 [2001:db8:1::1]:1234 > [2001:db8:2::2]:53, payload "abcd", 52 bytes. */
export const UDP6 = hex(`
  6000 0000 000c 1140
  2001 0db8 0001 0000 0000 0000 0000 0001
  2001 0db8 0002 0000 0000 0000 0000 0002
  04d2 0035 000c 0000 6162 6364`);

/** ICMP echo request to the multicast group 224.0.0.1 (short: 28 bytes). */
export const ICMP_MULTICAST = hex(`
  4500 001c 0000 0000 0101 0000 c612 0101
  e000 0001 0800 f7fe 0001 0000`);
