/// <reference types="node" preserve="true" />
/**
 * divert: divert sockets for Linux.
 *
 * ```ts
 * import { createDivertSocket } from 'divert';
 * const sock = createDivertSocket({ port: 1234, rules: ['-A input -p icmp'] });
 * for await (const p of sock) {
 *   console.log(p.address.address, p.packet.length);
 *   p.reinject();
 * }
 * ```
 * @module
 */
export { createDivertSocket, DivertSocket, type DivertSocketOptions, type DivertStats, type DivertSocketEvents, type OverflowInfo } from './divert/divert_socket.js';
export type { SniffSocketEvents, DivertWorkersEvents } from './divert/events.js';
export { createDivertWorkers, DivertWorkers, type DivertWorkersOptions } from './divert/workers.js';
export type { DivertPacket, ReinjectOptions, VerdictKind } from './divert/divert_packet.js';
export { SniffSocket } from './divert/sniff_socket.js';
export { SniffedPacket } from './divert/sniffed_packet.js';
export { DivertAddress, type Direction, type Hook } from './divert/address.js';
export type { InjectAddress } from './divert/injector.js';
export type { RuleSpec } from './divert/rule_set.js';
export { INJECT_MARK } from './divert/injector.js';
export { DIVERT_MARK, DIVERT_MARK_MASK } from './firewall/mark.js';
export { TcpRewriteError, type TcpRewriteErrorCode } from './seqadj/errors.js';
export type { TcpRewriteWarning } from './seqadj/tracker.js';
export {
  DivertError,
  SystemCallError,
  NetlinkError,
  FirewallError,
  PacketError,
  FilterSyntaxError,
  DivertClosedError,
} from './errors.js';
