/**
 * How Linux 6.18 refuses batch messages: errno name (as `FirewallError.code`) and the attribute
 * its extended ACK points at, with the offset it gave, measured with NftConnection in a throwaway
 * namespace. The unit tests hold the fake to these answers and attr_path.ts to the offsets (the
 * fake finds an attribute's offset with the same walk the client reads it back with, so its
 * answers alone cannot show a wrong offset); the integration test holds the kernel to them.
 * Every case runs against `setupRefusals()`'s table.
 * @module
 */
import type { NftBatch } from '../batch.js';
import type { Expr } from '../expr_types.js';

const INET = 1;
const T = 'z';
const counter: Expr = { type: 'counter' };

/** Table inet z: regular chains y (handle 1) and w (2), set s (3, 2-byte keys); y holds a counter (4) and a jump to w (5). */
export function setupRefusals(b: NftBatch): void {
  b.addTable({ family: INET, name: T });
  b.addChain({ family: INET, table: T, name: 'y' });
  b.addChain({ family: INET, table: T, name: 'w' });
  b.addSet({ family: INET, table: T, name: 's', keyLen: 2 });
  b.addRule({ family: INET, table: T, chain: 'y', exprs: [counter] });
  b.addRule({ family: INET, table: T, chain: 'y', exprs: [{ type: 'immediate', dreg: 0, data: { verdict: { code: -3, chain: 'w' } } }] });
}

export interface Refusal {
  what: string;
  build: (b: NftBatch) => void;
  code: string;
  /** undefined: the kernel gave no NLMSGERR_ATTR_OFFS. */
  attribute: string | undefined;
  /**
   * The NLMSGERR_ATTR_OFFS the kernel gave (bytes from the refused message's nlmsghdr), which
   * names `attribute`; undefined with it. Measured on Linux 6.18 with each case alone in a batch.
   */
  offset: number | undefined;
}

const chain = (b: NftBatch, c: Parameters<NftBatch['addChain']>[0]): void => void b.addChain(c);
const rule = (b: NftBatch, exprs: Expr[], more: { position?: number } = {}): void => void b.addRule({ family: INET, table: T, chain: 'y', exprs, ...more });

export const REFUSALS: readonly Refusal[] = [
  { what: 'a chain of an unknown type', build: (b) => chain(b, { family: INET, table: T, name: 'x', type: 'bogus' as 'filter', hook: { hooknum: 0, priority: 0 } }), code: 'ENOENT', attribute: 'NFTA_CHAIN_TYPE', offset: 36 },
  { what: 'a route chain outside output', build: (b) => chain(b, { family: INET, table: T, name: 'x', type: 'route', hook: { hooknum: 0, priority: 0 } }), code: 'ENOTSUP', attribute: undefined, offset: undefined },
  { what: 'a base chain policy that is no verdict', build: (b) => chain(b, { family: INET, table: T, name: 'x', type: 'filter', policy: 5, hook: { hooknum: 0, priority: 0 } }), code: 'EINVAL', attribute: undefined, offset: undefined },
  { what: 'a policy on a regular chain', build: (b) => chain(b, { family: INET, table: T, name: 'x', policy: 0 }), code: 'ENOTSUP', attribute: 'NFTA_CHAIN_POLICY', offset: 36 },
  { what: 'an unknown hook', build: (b) => chain(b, { family: INET, table: T, name: 'x', type: 'filter', hook: { hooknum: 7, priority: 0 } }), code: 'ENOTSUP', attribute: undefined, offset: undefined },
  { what: 'a chain other rules jump to', build: (b) => void b.deleteChain({ family: INET, table: T, name: 'w' }), code: 'EBUSY', attribute: 'NFTA_CHAIN_NAME', offset: 28 },
  { what: 'deleting a rule that does not exist', build: (b) => void b.deleteRule({ family: INET, table: T, chain: 'y', handle: 77 }), code: 'ENOENT', attribute: 'NFTA_RULE_HANDLE', offset: 36 },
  { what: 'a rule after a handle that does not exist', build: (b) => rule(b, [counter], { position: 999 }), code: 'ENOENT', attribute: 'NFTA_RULE_POSITION', offset: 60 },
  { what: 'replacing a rule that does not exist', build: (b) => void b.replaceRule({ family: INET, table: T, chain: 'y', handle: 999, exprs: [counter] }), code: 'ENOENT', attribute: 'NFTA_RULE_HANDLE', offset: 36 },
  { what: 'a rule in a chain that does not exist', build: (b) => void b.addRule({ family: INET, table: T, chain: 'nosuch', exprs: [counter] }), code: 'ENOENT', attribute: 'NFTA_RULE_CHAIN', offset: 28 },
  { what: 'a jump to a chain that does not exist', build: (b) => rule(b, [{ type: 'immediate', dreg: 0, data: { verdict: { code: -3, chain: 'nosuch' } } }]), code: 'ENOENT', attribute: 'NFTA_RULE_EXPRESSIONS > elem 0 (immediate)', offset: 40 },
  { what: 'a lookup in a set that does not exist', build: (b) => rule(b, [{ type: 'lookup', set: 'nosuch', sreg: 1 }]), code: 'ENOENT', attribute: 'NFTA_RULE_EXPRESSIONS > elem 0 (lookup)', offset: 40 },
  { what: 'an xtables target that does not exist', build: (b) => rule(b, [{ type: 'target', name: 'NOSUCH', rev: 0, info: new Uint8Array(8) }]), code: 'ENOENT', attribute: 'NFTA_RULE_EXPRESSIONS > elem 0 (target)', offset: 40 },
  { what: 'an element whose key has the wrong length', build: (b) => void b.addElements({ family: INET, table: T, name: 's' }, [{ key: Uint8Array.of(1, 2, 3) }]), code: 'EINVAL', attribute: 'NFTA_SET_ELEM_LIST_ELEMENTS > elem 0', offset: 40 },
  { what: 'deleting a set that does not exist', build: (b) => void b.deleteSet({ family: INET, table: T, name: 'nosuch' }), code: 'ENOENT', attribute: 'NFTA_SET_NAME', offset: 28 },
  { what: 'creating (exclusive) a table that exists', build: (b) => void b.addTable({ family: INET, name: T }, { exclusive: true }), code: 'EEXIST', attribute: 'NFTA_TABLE_NAME', offset: 20 },
  { what: 'a table that does not exist', build: (b) => void b.addChain({ family: INET, table: 'nosuch', name: 'x' }), code: 'ENOENT', attribute: 'NFTA_CHAIN_TABLE', offset: 20 },
];
