/**
 * `divert/firewall`: DIVERT rules in the seed's ipchains syntax, on nf_tables over divert's own
 * netlink (no iptables or nft binary). See README.md in this folder for the chain mapping and
 * the tables.
 * @module
 */
export { DIVERT_MARK, DIVERT_MARK_MASK, INJECT_MARK, INJECT_TC_PRIO, INJECT_REDIRECT } from './mark.js';
export type {
  DivertChain, DivertRule, Endpoint, Family, Hook, IcmpTypeMatch, InterfaceMatch, Owner,
  PortMatch, PortRange, ProtocolMatch,
} from './rule.js';
export { CHAIN_HOOK, HOOK_CHAIN, resolveChain } from './rule.js';
export { parseRule, parseRuleCommand, type RuleCommand, type RuleOp } from './parse.js';
export { formatRule } from './format.js';
export { compileRule, compileMatches, compileDefrag, logTail, queueExpr, type QueueVerdict, type SniffTarget } from './compile.js';
export { cliOwner, currentOwner, formatOwner, ownerAlive, ownerTag, parseOwnerTag } from './owner.js';
export { SHARED_TABLE, ownedTable, chainName, chainPriority, MANGLE_PRIORITY, PRIORITY_MAX, type RuleKind } from './layout.js';
export { capabilities, probeKernel, type Capabilities, type ProbeReport } from './kernel.js';
export {
  addFilter, addRule, deleteRule, enableAlwaysDefragment, flushRules, listRules, releaseOwnedTable, sweepStaleRules,
  type AddOptions, type DeleteOptions, type FilterHandle, type FilterOptions, type FirewallOptions, type InstallEntry, type InstalledRule, type ListOptions, type ListedRule,
  type RemoveOptions, type RuleHandle,
} from './api.js';
export { installExitCleanup } from './cleanup.js';
export { sweepStaleInjectFilters, type InjectSweep, type InjectSweepOptions } from './inject_filters.js';
export type { SniffSpec } from './ruleset.js';
