/**
 * What Linux 6.18 dumps back for each expression value divert sends, and how nft 1.0.6 prints
 * that dump (`nft --debug=netlink list chain inet dump c`). Each rule was committed alone to
 * `table inet dump { chain c (filter prerouting -150); chain c2; set ports (inet_service) }`
 * through NftConnection, then dumped with NftConnection.listRules(). The kernel fills in what its
 * `*_dump` always writes (counter numbers, lookup/exthdr flags, bitwise op, numgen offset, log
 * level) and pads xtables info to XT_ALIGN; `position` is the handle of the rule before.
 * Addresses: RFC 5737.
 * @module
 */
import { IP_CT_DIR, NF_LOG, NFT_BITWISE, NFT_CMP, NFT_CT, NFT_EXTHDR_F, NFT_EXTHDR_OP, NFT_LOGLEVEL, NFT_LOOKUP_F, NFT_META, NFT_NG, NFT_PAYLOAD, NFT_PAYLOAD_CSUM, NFT_RANGE, NFT_REG } from '../expr_constants.js';
import { NFT_VERDICT } from '../constants.js';
import { be16, ipv4, ne32 } from '../data.js';
import type { Expr } from '../expr_types.js';
import type { Rule } from '../rule.js';

export interface DumpedRule {
  /** The expressions committed. */
  sent: Expr[];
  /** The rule as the kernel dumped it (handles from a fresh table: chains 1–2, set 3, rules from 4). */
  dumped: Rule;
  /** nft's --debug=netlink text of the dump. */
  text: string;
}

export const DUMPED_RULES: readonly DumpedRule[] = [
  {
    sent: [{ type: 'meta', key: NFT_META.NFT_META_L4PROTO, dreg: NFT_REG.NFT_REG_1 }, { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: NFT_REG.NFT_REG_1, data: Uint8Array.of(6) }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'meta', key: 16, dreg: 1 }, { type: 'cmp', sreg: 1, op: 0, data: Uint8Array.of(0x06) }], chain: 'c', handle: 4 },
    text: 'inet dump c 4\n  [ meta load l4proto => reg 1 ]\n  [ cmp eq reg 1 0x00000006 ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_1, data: { value: ne32(0x2a) } }, { type: 'meta', key: NFT_META.NFT_META_MARK, sreg: NFT_REG.NFT_REG_1 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 1, data: { value: Uint8Array.of(0x2a, 0x00, 0x00, 0x00) } }, { type: 'meta', key: 3, sreg: 1 }], chain: 'c', handle: 5, position: 4 },
    text: 'inet dump c 5 4\n  [ immediate reg 1 0x0000002a ]\n  [ meta set mark with reg 1 ]',
  },
  {
    sent: [{ type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_NETWORK_HEADER, offset: 12, len: 4, dreg: NFT_REG.NFT_REG_1 }, { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: NFT_REG.NFT_REG_1, data: ipv4('192.0.2.1') }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'payload', dreg: 1, base: 1, offset: 12, len: 4 }, { type: 'cmp', sreg: 1, op: 0, data: Uint8Array.of(0xc0, 0x00, 0x02, 0x01) }], chain: 'c', handle: 6, position: 5 },
    text: 'inet dump c 6 5\n  [ payload load 4b @ network header + 12 => reg 1 ]\n  [ cmp eq reg 1 0x010200c0 ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_1, data: { value: be16(8080) } }, { type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, sreg: NFT_REG.NFT_REG_1, csumType: NFT_PAYLOAD_CSUM.NFT_PAYLOAD_CSUM_INET, csumOffset: 16 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 1, data: { value: Uint8Array.of(0x1f, 0x90) } }, { type: 'payload', sreg: 1, base: 2, offset: 2, len: 2, csumType: 1, csumOffset: 16, csumFlags: 0 }], chain: 'c', handle: 7, position: 6 },
    text: 'inet dump c 7 6\n  [ immediate reg 1 0x0000901f ]\n  [ payload write reg 1 => 2b @ transport header + 2 csum_type 1 csum_off 16 csum_flags 0x0 ]',
  },
  {
    sent: [{ type: 'exthdr', op: NFT_EXTHDR_OP.NFT_EXTHDR_OP_IPV6, exthdrType: 0, offset: 0, len: 1, dreg: NFT_REG.NFT_REG_1, flags: NFT_EXTHDR_F.NFT_EXTHDR_F_PRESENT }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'exthdr', dreg: 1, exthdrType: 0, offset: 0, len: 1, flags: 1, op: 0 }], chain: 'c', handle: 8, position: 7 },
    text: 'inet dump c 8 7\n  [ exthdr load ipv6 1b @ 0 + 0 present => reg 1 ]',
  },
  {
    sent: [{ type: 'exthdr', op: NFT_EXTHDR_OP.NFT_EXTHDR_OP_TCPOPT, exthdrType: 2, offset: 2, len: 2, dreg: NFT_REG.NFT_REG_1 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'exthdr', dreg: 1, exthdrType: 2, offset: 2, len: 2, flags: 0, op: 1 }], chain: 'c', handle: 9, position: 8 },
    text: 'inet dump c 9 8\n  [ exthdr load tcpopt 2b @ 2 + 2 => reg 1 ]',
  },
  {
    sent: [{ type: 'exthdr', op: NFT_EXTHDR_OP.NFT_EXTHDR_OP_IPV4, exthdrType: 7, offset: 0, len: 1, dreg: NFT_REG.NFT_REG_1, flags: NFT_EXTHDR_F.NFT_EXTHDR_F_PRESENT }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'exthdr', dreg: 1, exthdrType: 7, offset: 0, len: 1, flags: 1, op: 2 }], chain: 'c', handle: 10, position: 9 },
    text: 'inet dump c 10 9\n  [ exthdr load ipv4 1b @ 7 + 0 present => reg 1 ]',
  },
  {
    sent: [{ type: 'meta', key: NFT_META.NFT_META_MARK, dreg: NFT_REG.NFT_REG_1 }, { type: 'bitwise', sreg: NFT_REG.NFT_REG_1, dreg: NFT_REG.NFT_REG_1, len: 4, mask: ne32(0xff), xor: ne32(0) }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'meta', key: 3, dreg: 1 }, { type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 0, mask: Uint8Array.of(0xff, 0x00, 0x00, 0x00), xor: Uint8Array.of(0x00, 0x00, 0x00, 0x00) }], chain: 'c', handle: 11, position: 10 },
    text: 'inet dump c 11 10\n  [ meta load mark => reg 1 ]\n  [ bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00000000 ]',
  },
  {
    sent: [{ type: 'meta', key: NFT_META.NFT_META_MARK, dreg: NFT_REG.NFT_REG_1 }, { type: 'bitwise', sreg: NFT_REG.NFT_REG_1, dreg: NFT_REG.NFT_REG_1, len: 4, op: NFT_BITWISE.NFT_BITWISE_LSHIFT, data: ne32(1) }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'meta', key: 3, dreg: 1 }, { type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 1, data: Uint8Array.of(0x01, 0x00, 0x00, 0x00) }], chain: 'c', handle: 12, position: 11 },
    text: 'inet dump c 12 11\n  [ meta load mark => reg 1 ]\n  [ bitwise reg 1 = ( reg 1 << 0x00000001 ) ]',
  },
  {
    sent: [{ type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: NFT_REG.NFT_REG_1 }, { type: 'range', op: NFT_RANGE.NFT_RANGE_NEQ, sreg: NFT_REG.NFT_REG_1, from: be16(1000), to: be16(2000) }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'payload', dreg: 1, base: 2, offset: 2, len: 2 }, { type: 'range', sreg: 1, op: 1, from: Uint8Array.of(0x03, 0xe8), to: Uint8Array.of(0x07, 0xd0) }], chain: 'c', handle: 13, position: 12 },
    text: 'inet dump c 13 12\n  [ payload load 2b @ transport header + 2 => reg 1 ]\n  [ range neq reg 1 0x0000e803 0x0000d007 ]',
  },
  {
    sent: [{ type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: NFT_REG.NFT_REG_1 }, { type: 'lookup', set: 'ports', sreg: NFT_REG.NFT_REG_1 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'payload', dreg: 1, base: 2, offset: 2, len: 2 }, { type: 'lookup', set: 'ports', sreg: 1, flags: 0 }], chain: 'c', handle: 14, position: 13 },
    text: 'inet dump c 14 13\n  [ payload load 2b @ transport header + 2 => reg 1 ]\n  [ lookup reg 1 set ports 0x0 ]',
  },
  {
    sent: [{ type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: NFT_REG.NFT_REG_1 }, { type: 'lookup', set: 'ports', sreg: NFT_REG.NFT_REG_1, flags: NFT_LOOKUP_F.NFT_LOOKUP_F_INV }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'payload', dreg: 1, base: 2, offset: 2, len: 2 }, { type: 'lookup', set: 'ports', sreg: 1, flags: 1 }], chain: 'c', handle: 15, position: 14 },
    text: 'inet dump c 15 14\n  [ payload load 2b @ transport header + 2 => reg 1 ]\n  [ lookup reg 1 set ports 0x1 ]',
  },
  {
    sent: [{ type: 'counter' }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'counter', bytes: 0, packets: 0 }], chain: 'c', handle: 16, position: 15 },
    text: 'inet dump c 16 15\n  [ counter pkts 0 bytes 0 ]',
  },
  {
    sent: [{ type: 'counter', packets: 5, bytes: 10 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'counter', bytes: 10, packets: 5 }], chain: 'c', handle: 17, position: 16 },
    text: 'inet dump c 17 16\n  [ counter pkts 5 bytes 10 ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_VERDICT, data: { verdict: { code: NFT_VERDICT.NFT_JUMP, chain: 'c2' } } }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 0, data: { verdict: { code: -3, chain: 'c2' } } }], chain: 'c', handle: 18, position: 17 },
    text: 'inet dump c 18 17\n  [ immediate reg 0 jump -> c2 ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_VERDICT, data: { verdict: { code: NFT_VERDICT.NFT_GOTO, chain: 'c2' } } }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 0, data: { verdict: { code: -4, chain: 'c2' } } }], chain: 'c', handle: 19, position: 18 },
    text: 'inet dump c 19 18\n  [ immediate reg 0 goto -> c2 ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_VERDICT, data: { verdict: { code: NFT_VERDICT.NFT_RETURN } } }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 0, data: { verdict: { code: -5 } } }], chain: 'c', handle: 20, position: 19 },
    text: 'inet dump c 20 19\n  [ immediate reg 0 return ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_VERDICT, data: { verdict: { code: NFT_VERDICT.NFT_CONTINUE } } }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 0, data: { verdict: { code: -1 } } }], chain: 'c', handle: 21, position: 20 },
    text: 'inet dump c 21 20\n  [ immediate reg 0 continue ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_VERDICT, data: { verdict: { code: NFT_VERDICT.NF_DROP } } }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 0, data: { verdict: { code: 0 } } }], chain: 'c', handle: 22, position: 21 },
    text: 'inet dump c 22 21\n  [ immediate reg 0 drop ]',
  },
  {
    sent: [{ type: 'ct', key: NFT_CT.NFT_CT_STATE, dreg: NFT_REG.NFT_REG_1 }, { type: 'bitwise', sreg: NFT_REG.NFT_REG_1, dreg: NFT_REG.NFT_REG_1, len: 4, mask: ne32(6), xor: ne32(0) }, { type: 'cmp', op: NFT_CMP.NFT_CMP_NEQ, sreg: NFT_REG.NFT_REG_1, data: ne32(0) }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'ct', dreg: 1, key: 0 }, { type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 0, mask: Uint8Array.of(0x06, 0x00, 0x00, 0x00), xor: Uint8Array.of(0x00, 0x00, 0x00, 0x00) }, { type: 'cmp', sreg: 1, op: 1, data: Uint8Array.of(0x00, 0x00, 0x00, 0x00) }], chain: 'c', handle: 23, position: 22 },
    text: 'inet dump c 23 22\n  [ ct load state => reg 1 ]\n  [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]\n  [ cmp neq reg 1 0x00000000 ]',
  },
  {
    sent: [{ type: 'ct', key: NFT_CT.NFT_CT_SRC_IP, dreg: NFT_REG.NFT_REG_1, direction: IP_CT_DIR.IP_CT_DIR_ORIGINAL }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'ct', dreg: 1, key: 19, direction: 0 }], chain: 'c', handle: 24, position: 23 },
    text: 'inet dump c 24 23\n  [ ct load src_ip => reg 1 , dir original ]',
  },
  {
    sent: [{ type: 'immediate', dreg: NFT_REG.NFT_REG_1, data: { value: ne32(1) } }, { type: 'ct', key: NFT_CT.NFT_CT_MARK, sreg: NFT_REG.NFT_REG_1 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'immediate', dreg: 1, data: { value: Uint8Array.of(0x01, 0x00, 0x00, 0x00) } }, { type: 'ct', sreg: 1, key: 3 }], chain: 'c', handle: 25, position: 24 },
    text: 'inet dump c 25 24\n  [ immediate reg 1 0x00000001 ]\n  [ ct set mark with reg 1 ]',
  },
  {
    sent: [{ type: 'numgen', dreg: NFT_REG.NFT_REG_1, modulus: 2, ngType: NFT_NG.NFT_NG_INCREMENTAL }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'numgen', dreg: 1, modulus: 2, ngType: 0, offset: 0 }], chain: 'c', handle: 26, position: 25 },
    text: 'inet dump c 26 25\n  [ numgen reg 1 = inc mod 2 ]',
  },
  {
    sent: [{ type: 'numgen', dreg: NFT_REG.NFT_REG_1, modulus: 2, ngType: NFT_NG.NFT_NG_RANDOM, offset: 5 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'numgen', dreg: 1, modulus: 2, ngType: 1, offset: 5 }], chain: 'c', handle: 27, position: 26 },
    text: 'inet dump c 27 26\n  [ numgen reg 1 = random mod 2 offset 5 ]',
  },
  {
    sent: [{ type: 'log' }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'log', level: 4 }], chain: 'c', handle: 28, position: 27 },
    text: 'inet dump c 28 27\n  [ log level 4 ]',
  },
  {
    sent: [{ type: 'log', prefix: 'x', level: NFT_LOGLEVEL.NFT_LOGLEVEL_WARNING, flags: NF_LOG.NF_LOG_MASK }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'log', prefix: 'x', level: 4, flags: 47 }], chain: 'c', handle: 29, position: 28 },
    text: 'inet dump c 29 28\n  [ log prefix x level 4 tcpseq tcpopt ipopt uid macdecode ]',
  },
  {
    sent: [{ type: 'log', group: 5, snaplen: 100, qthreshold: 10 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'log', group: 5, snaplen: 100, qthreshold: 10 }], chain: 'c', handle: 30, position: 29 },
    text: 'inet dump c 30 29\n  [ log group 5 snaplen 100 qthreshold 10 ]',
  },
  {
    sent: [{ type: 'log', group: 5 }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'log', group: 5 }], chain: 'c', handle: 31, position: 30 },
    text: 'inet dump c 31 30\n  [ log group 5 snaplen 0 qthreshold 0 ]',
  },
  {
    sent: [{ type: 'target', name: 'NFQUEUE', rev: 3, info: Uint8Array.of(5, 0, 1, 0, 1, 0) }],
    dumped: { family: 1, table: 'dump', exprs: [{ type: 'target', name: 'NFQUEUE', rev: 3, info: Uint8Array.of(0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00) }], chain: 'c', handle: 32, position: 31 },
    text: 'inet dump c 32 31\n  [ target name NFQUEUE rev 3 ]',
  },
];
