/**
 * Decodes any nf_tables object message (a dump entry or an echo) by its type.
 * @module
 */
import type { MessageIter } from '../netlink/message_iter.js';
import { decodeChain, type Chain } from './chain.js';
import { NFNL_SUBSYS_NFTABLES, NFT_MSG } from './constants.js';
import { decodeGeneration, type Generation } from './gen.js';
import { decodeRule, type Rule } from './rule.js';
import { decodeSet, decodeSetElements, type NftSet, type SetElements } from './set.js';
import { decodeTable, type Table } from './table.js';

/** A decoded object message, tagged by kind. */
export type NftObject =
  | {
      /** From NFT_MSG_NEWTABLE. */
      kind: 'table';
      /** The table. */
      table: Table;
    }
  | {
      /** From NFT_MSG_NEWCHAIN. */
      kind: 'chain';
      /** The chain. */
      chain: Chain;
    }
  | {
      /** From NFT_MSG_NEWRULE. */
      kind: 'rule';
      /** The rule. */
      rule: Rule;
    }
  | {
      /** From NFT_MSG_NEWSET. */
      kind: 'set';
      /** The set. */
      set: NftSet;
    }
  | {
      /** From NFT_MSG_NEWSETELEM. */
      kind: 'elements';
      /** The elements, with the set they belong to. */
      elements: SetElements;
    }
  | {
      /** From NFT_MSG_NEWGEN. */
      kind: 'generation';
      /** The ruleset generation. */
      generation: Generation;
    };

/**
 * Decodes the message `it` is positioned on; undefined for types that are no object message
 * (or not nf_tables at all).
 * @throws {PacketError} when the message is malformed.
 */
export function decodeObject(it: MessageIter): NftObject | undefined {
  if (it.type >> 8 !== NFNL_SUBSYS_NFTABLES) return undefined;
  const [buf, off, end] = [it.buffer, it.payloadOffset, it.end];
  switch (it.type & 0xff) {
    case NFT_MSG.NFT_MSG_NEWTABLE: return { kind: 'table', table: decodeTable(buf, off, end) };
    case NFT_MSG.NFT_MSG_NEWCHAIN: return { kind: 'chain', chain: decodeChain(buf, off, end) };
    case NFT_MSG.NFT_MSG_NEWRULE: return { kind: 'rule', rule: decodeRule(buf, off, end) };
    case NFT_MSG.NFT_MSG_NEWSET: return { kind: 'set', set: decodeSet(buf, off, end) };
    case NFT_MSG.NFT_MSG_NEWSETELEM: return { kind: 'elements', elements: decodeSetElements(buf, off, end) };
    case NFT_MSG.NFT_MSG_NEWGEN: return { kind: 'generation', generation: decodeGeneration(buf, off, end) };
    default: return undefined;
  }
}
