/**
 * The ruleset generation: NFT_MSG_GETGEN asks, NFT_MSG_NEWGEN answers (and is broadcast after
 * every commit). The id grows by one per committed batch.
 *
 * ```
 * NEWGEN  nfgenmsg{AF_UNSPEC, res_id = be16 (gen id & 0xffff)} | NFTA_GEN_ID be32
 *         | NFTA_GEN_PROC_PID be32 | NFTA_GEN_PROC_NAME "comm\0"
 * ```
 * @module
 */
import { checkAttrs, need, openObjectMessage } from './_message.js';
import { NFTA_GEN } from './constants.js';

/** The generation and who committed it last. */
export interface Generation {
  /** NFTA_GEN_ID: the ruleset generation (u32), one more per committed batch. */
  id: number;
  /** pid of the last committer (absent when nobody committed yet). */
  procPid?: number;
  /** Its comm. */
  procName?: string;
}

/**
 * Decodes a NEWGEN message.
 * @throws {PacketError} on malformed attributes or a missing NFTA_GEN_ID.
 */
export function decodeGeneration(buf: Uint8Array, payloadOffset: number, end: number): Generation {
  const { attrs: ad } = openObjectMessage(buf, payloadOffset, end);
  let id: number | undefined;
  const g: Omit<Generation, 'id'> = {};
  while (ad.next()) {
    if (ad.type === NFTA_GEN.NFTA_GEN_ID) id = ad.u32be();
    else if (ad.type === NFTA_GEN.NFTA_GEN_PROC_PID) g.procPid = ad.u32be();
    else if (ad.type === NFTA_GEN.NFTA_GEN_PROC_NAME) g.procName = ad.string();
  }
  checkAttrs(ad);
  return { id: need(id, 'NFTA_GEN_ID'), ...g };
}
