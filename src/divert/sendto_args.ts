/**
 * The seed's sendto(packet, address) arguments, shared by the diverting and the sniffing socket:
 * checked, and the address turned into where an injection goes.
 * @module
 */
import { DivertAddress } from './address.js';
import type { InjectAddress } from './injector.js';
import { show } from './options.js';

/**
 * Checks sendto()'s arguments.
 * @throws {TypeError} for a packet that is not bytes or an address of the wrong type.
 */
export function checkSendtoArgs(packet: unknown, address: unknown): void {
  if (!(packet instanceof Uint8Array)) throw new TypeError(`sendto() takes the packet as a Uint8Array (or Buffer), got ${show(packet)}`);
  if (address !== undefined && typeof address !== 'string' && (typeof address !== 'object' || address === null)) {
    throw new TypeError(`sendto() takes a DivertAddress, an address string or { address, interface, outbound }, got ${show(address)}`);
  }
}

/**
 * Where sendto() injects for `address`: a packet's own address means where it was taken
 * (outbound, or inbound on its interface); a string is a local address to enter by.
 */
export function injectionTarget(address: DivertAddress | InjectAddress | string | undefined): InjectAddress | undefined {
  if (address instanceof DivertAddress) return address.outbound ? undefined : { interface: address.ifindex };
  return typeof address === 'string' ? { address } : address;
}
