/**
 * The filter case table: WinDivert's test suite (241 cases, outbound), its documented examples
 * and divert's own cases, with every packet by name. Read by cases_test.ts (evaluator) and by
 * test/integration/filter_kernel_test.ts (the same table against the kernel).
 * @module
 */
import type { FilterAddress } from '../context.js';
import { DIVERT_CASES } from './divert_cases.js';
import { DIVERT_PACKETS } from './divert_packets.js';
import { WINDIVERT_CASES } from './windivert_cases.js';
import { WINDIVERT_PACKETS } from './windivert_packets.js';

export interface FilterCase {
  readonly filter: string;
  readonly packet: string;
  /** The expected answer; 'random' when it depends on random8/16/32 (WinDivert does not check those either). */
  readonly match: boolean | 'random';
  readonly address: FilterAddress | undefined;
  readonly source: 'windivert-test' | 'divert';
  readonly note?: string | undefined;
}

export const PACKETS: Readonly<Record<string, Uint8Array>> = { ...WINDIVERT_PACKETS, ...DIVERT_PACKETS };

export const CASES: readonly FilterCase[] = [
  ...WINDIVERT_CASES.map((c): FilterCase => ({
    filter: c.filter, packet: c.packet, match: c.random ? 'random' : c.match, address: { outbound: true }, source: 'windivert-test',
  })),
  ...DIVERT_CASES.map((c): FilterCase => ({ filter: c.filter, packet: c.packet, match: c.match, address: c.address, source: 'divert', note: c.note })),
];
