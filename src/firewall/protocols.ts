/**
 * The protocols whose ports a DIVERT rule can match (source and destination port in the first
 * four bytes of the transport header), as ipchains allowed ports with `-p`. Protocol and ICMP
 * type names themselves live in `src/ip/protocols.ts`.
 * @module
 */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 33, 132]); // tcp, udp, dccp, sctp
