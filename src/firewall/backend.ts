/**
 * The seam between the rule lifecycle (api.ts) and a firewall: install, list, remove, tidy.
 * Operations are plans (generators of commands, see runner.ts) so the same code runs async,
 * sync (exit cleanup) and against a recording runner in unit tests.
 * @module
 */
import type { Plan } from './runner.js';
import type { DivertChain, DivertRule, Family, NetfilterHook, Owner } from './rule.js';

/** What to install: a DIVERT rule, or the defragmentation rule of a family. */
export type InstallEntry =
  | { readonly kind: 'divert'; readonly rule: DivertRule; readonly tag: string; readonly position?: number }
  | { readonly kind: 'defrag'; readonly family: Family; readonly tag: string };

/** Enough to find an installed rule again and delete it. */
export interface InstalledRule {
  readonly kind: 'divert' | 'defrag';
  readonly family: Family;
  readonly hook: NetfilterHook;
  /** Backend-specific rule text (an iptables spec, or an nft rule body). */
  readonly spec: string;
}

/** A rule found in one of our chains, with its counters. */
export interface ListedRule extends InstalledRule {
  /** Seed name of the chain (`input` for PREROUTING …). */
  readonly chain: DivertChain;
  /** 1-based position in our chain. */
  readonly position: number;
  /** The DIVERT rule; absent for the defrag rule. */
  readonly rule?: DivertRule;
  readonly owner?: Owner;
  /** Owner process is gone (never true for CLI-owned rules). */
  readonly stale: boolean;
  readonly packets: number;
  readonly bytes: number;
}

export interface FirewallBackend {
  readonly name: 'iptables' | 'nftables' | 'recording';
  /** Adds the entries atomically (creating our chains and jumps first when missing). */
  install(entries: readonly InstallEntry[]): Plan<InstalledRule[]>;
  /** Our rules (DIVERT and defrag) of the given families. */
  list(families?: readonly Family[]): Plan<ListedRule[]>;
  /** Deletes those of `rules` that are still present; returns how many were deleted. */
  remove(rules: readonly InstalledRule[]): Plan<number>;
  /** Best effort: drops our empty chains and their jumps, and duplicate jumps. */
  tidy(families?: readonly Family[]): Plan<void>;
}

export const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];
