/**
 * Every fuzz target, for the fixed-seed unit run (fuzz_test.ts) and `npm run fuzz` (run.ts).
 * @module
 */
import { CODEC_TARGETS } from './_targets_codec.js';
import { EXPR_TARGETS } from './_targets_expr.js';
import { PACKET_TARGETS } from './_targets_packet.js';
import { PCAP_TARGETS } from './_targets_pcap.js';
import { TEXT_TARGETS } from './_targets_text.js';
import type { FuzzTarget } from './_target.js';

export type { FuzzTarget } from './_target.js';
export const TARGETS: readonly FuzzTarget[] = [...CODEC_TARGETS, ...EXPR_TARGETS, ...PACKET_TARGETS, ...PCAP_TARGETS, ...TEXT_TARGETS];
