/**
 * `divert/filter`: WinDivert's filter language on Linux. Parse and check a filter, evaluate it
 * on packets (WinDivertHelperEvalFilter, pydivert's `packet.matches()`), print its canonical text,
 * and lower it to nf_tables rules the firewall installs (exact where the kernel can decide,
 * residual where user space must). See README.md in this folder.
 *
 * @example
 * ```ts
 * import { compileFilter, lowerFilter } from 'divert/filter';
 * const f = compileFilter('outbound and !loopback and (tcp.DstPort == 80 or udp.DstPort == 53)');
 * f.match(packetBytes, address);             // address: a DivertAddress or { outbound, loopback, … }
 * console.log(lowerFilter(f.ast).explain()); // the kernel rules, and what user space decides
 * ```
 * @module
 */
export { FilterSyntaxError, type FilterSyntaxErrorOptions } from '../errors.js';
export type { FilterAst, FilterNode, TestNode, AndNode, OrNode, TernaryNode, IndexNode, ValueNode, Op } from './ast.js';
export { parseFilter } from './check.js';
export type { FilterAddress, FilterHook } from './context.js';
export { compileFilter, evalFilter, fieldValue, type CompiledFilter } from './evaluate.js';
export { FIELDS, MACROS, REFUSED_FIELDS, type FieldInfo, type Layer } from './fields.js';
export { formatFilter } from './format.js';
export { lowerFilter, MAX_RULE_EXPRS, type LowerOptions, type LoweredFilter, type LoweredRule, type LoweredSet, type RuleHook } from './lower_nft.js';
