/**
 * IP address text for the packet views. The one implementation lives in the netlink layer
 * (`src/netlink/ip_address.ts`, RFC 5952 output, strict RFC 4291 input), which rtnetlink needs
 * too; here bad text is a `SyntaxError`, as for every other unparsable input of the views.
 * @module
 */
import { formatIpv4, formatIpv6, tryParseIpv4, tryParseIpv6 } from '../netlink/ip_address.js';

export { formatIpv4, formatIpv6 };

/**
 * Parse strict dotted-quad IPv4 text into 4 bytes.
 * @throws {SyntaxError} when `text` is not an IPv4 address
 */
export function parseIpv4(text: string): Uint8Array {
  const out = tryParseIpv4(text);
  if (out === undefined) throw new SyntaxError(`Invalid IPv4 address: ${JSON.stringify(text)}`);
  return out;
}

/**
 * Parse IPv6 text (full, `::`-compressed, or with a trailing dotted quad; no zone index) into 16 bytes.
 * @throws {SyntaxError} when `text` is not an IPv6 address
 */
export function parseIpv6(text: string): Uint8Array {
  const out = tryParseIpv6(text);
  if (out === undefined) throw new SyntaxError(`Invalid IPv6 address: ${JSON.stringify(text)}`);
  return out;
}
