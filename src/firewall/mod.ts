/**
 * `divert/firewall`: DIVERT rules in the seed's ipchains syntax, installed on iptables (mangle
 * table, own chains) and removed safely. See README.md in this folder for the chain mapping.
 * @module
 */
export { DIVERT_MARK, DIVERT_MARK_MASK } from './mark.js';
export type {
  DivertChain, DivertRule, Endpoint, Family, IcmpTypeMatch, InterfaceMatch, NetfilterHook, Owner,
  PortMatch, PortRange, ProtocolMatch,
} from './rule.js';
export { CHAIN_HOOK, HOOK_CHAIN, ownChain, resolveChain } from './rule.js';
export { parseRule, parseRuleCommand, type RuleCommand, type RuleOp } from './parse.js';
export { formatRule } from './format.js';
export { cliOwner, currentOwner, formatOwner, ownerAlive, ownerTag, parseOwnerTag } from './owner.js';
export type { FirewallBackend, InstallEntry, InstalledRule, ListedRule } from './backend.js';
export { IptablesBackend, type IptablesBackendOptions, type IptablesFlavour } from './iptables.js';
export { RecordingBackend, RecordingRunner, type ScriptedAnswer } from './recording.js';
export { execRunner, drive, driveSync, type Command, type CommandResult, type CommandRunner, type Plan } from './runner.js';
export { detectBackend, type BackendInfo } from './detect.js';
export { nftRuleText, nftTableText, probeNftQueue } from './nftables.js';
export { NftablesBackend } from './nftables_backend.js';
export { ruleSpec, defragSpec } from './iptables_text.js';
export {
  addRule, deleteRule, enableAlwaysDefragment, flushRules, listRules, sweepStaleRules,
  type AddOptions, type DeleteOptions, type DeleteOwner, type FirewallOptions, type ListOptions, type RuleHandle,
} from './api.js';
export { installExitCleanup } from './cleanup.js';
export { INJECT_MARK, INJECT_TC_PRIO, INJECT_REDIRECT } from './mark.js';
export { sweepStaleInjectFilters, type InjectSweep, type InjectSweepOptions } from './inject_filters.js';
