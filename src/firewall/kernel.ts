/**
 * What this kernel can do for DIVERT rules, asked once per network namespace with a dry run
 * (a batch without BATCH_END: the kernel checks every message, then aborts; nothing is applied).
 *
 * - nf_tables itself, and tables owned by their netlink socket (NFT_TABLE_F_OWNER, 5.12+): the
 *   rules a program installs die with it.
 * - How to queue: the native `queue` expression (CONFIG_NFT_QUEUE) where the kernel has it, else
 *   the xtables NFQUEUE target through nft_compat (what iptables-nft uses).
 * - `ct` (CONFIG_NFT_CT): always-defragment.
 * @module
 */
import type { NftConnection } from '../nftables/conn.js';
import type { DryRunResult } from '../nftables/answers.js';
import { NFT_TABLE_F } from '../nftables/constants.js';
import { NFPROTO } from '../netlink/netfilter.js';
import { DivertError, FirewallError } from '../errors.js';
import { compileDefrag, queueExpr, type QueueVerdict } from './compile.js';

/** What the firewall uses on this kernel, decided from a {@link ProbeReport}. */
export interface Capabilities {
  /** How DIVERT rules queue packets here. */
  readonly queue: QueueVerdict;
  /** The kernel has the `ct` expression (always-defragment works). */
  readonly ct: boolean;
}

/** What each probe found (for `divert doctor`): undefined = accepted, else the refusal. */
export interface ProbeReport {
  /** A table owned by its socket (NFT_TABLE_F_OWNER, Linux 5.12+) and a chain in it. */
  readonly ownerTable: FirewallError | undefined;
  /** A rule with the native `queue` expression (CONFIG_NFT_QUEUE). */
  readonly queue: FirewallError | undefined;
  /** A rule with the xtables NFQUEUE target through nft_compat. */
  readonly compatNfqueue: FirewallError | undefined;
  /** The always-defragment rule, which needs the `ct` expression (CONFIG_NFT_CT). */
  readonly ct: FirewallError | undefined;
}

const cache = new Map<string, Promise<Capabilities>>();

/**
 * The capabilities of the namespace `conn` talks to (cached under `key`, the namespace's identity).
 * @throws {DivertError} ERR_DIVERT_NO_KERNEL_SUPPORT when nf_tables, owner tables or both ways
 *   of queueing are missing, saying which.
 */
export function capabilities(conn: NftConnection, key: string): Promise<Capabilities> {
  let found = cache.get(key);
  if (!found) {
    found = probeKernel(conn).then(decide);
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}

/** Runs the dry run and reports each probe. */
export async function probeKernel(conn: NftConnection): Promise<ProbeReport> {
  const family = NFPROTO.NFPROTO_INET;
  const table = `divert-probe-${process.pid}`;
  const chain = 'probe';
  const b = conn.batch();
  b.addTable({ family, name: table, flags: NFT_TABLE_F.NFT_TABLE_F_OWNER }, { echo: false });
  // A regular chain, not a base chain: a base chain would register a hook, and undoing that (the
  // dry run is aborted) makes the kernel drop every packet queued in the namespace.
  b.addChain({ family, table, name: chain }, { echo: false });
  const rule = (exprs: Parameters<typeof b.addRule>[0]['exprs']): void => void b.addRule({ family, table, chain, exprs }, { echo: false });
  rule([queueExpr({ port: 0, passThrough: true }, 'queue')]);
  rule([queueExpr({ port: 0, passThrough: true }, 'compat')]);
  rule(compileDefrag('ipv4'));
  const r: DryRunResult[] = await conn.dryRun(b);
  const refusal = (i: number): FirewallError | undefined => {
    const x = r[i];
    if (!x) return undefined;
    if (x.error || x.processed) return x.error;
    return new FirewallError(`nf_tables did not get to ${x.message.op} for ${x.message.about} in the probe (an earlier message was refused)`, { messageType: x.message.op, object: x.message.about });
  };
  return { ownerTable: refusal(0) ?? refusal(1), queue: refusal(2), compatNfqueue: refusal(3), ct: refusal(4) };
}

function decide(p: ProbeReport): Capabilities {
  if (p.ownerTable) {
    throw new DivertError(
      `This kernel refused an nf_tables table owned by its program (${p.ownerTable.message}): divert needs nf_tables with owner tables (Linux 5.12 or later, CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET)`,
      'ERR_DIVERT_NO_KERNEL_SUPPORT',
      { cause: p.ownerTable },
    );
  }
  if (p.queue && p.compatNfqueue) {
    throw new DivertError(
      `This kernel can queue packets neither with nf_tables' queue expression (${p.queue.code}) nor with the xtables NFQUEUE target (${p.compatNfqueue.code}): ` +
        'build it with CONFIG_NFT_QUEUE, or CONFIG_NFT_COMPAT and CONFIG_NETFILTER_XT_TARGET_NFQUEUE',
      'ERR_DIVERT_NO_KERNEL_SUPPORT',
      { cause: p.queue },
    );
  }
  return { queue: p.queue ? 'compat' : 'queue', ct: !p.ct };
}
