/**
 * The protocols with an xtables port match (`-m tcp/udp/dccp/sctp`), each naming its match.
 * Protocol and ICMP type names themselves live in `src/ip/protocols.ts`.
 * @module
 */
export const PORT_PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [6, 'tcp'], [17, 'udp'], [33, 'dccp'], [132, 'sctp'],
]);
