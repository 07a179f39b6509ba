/**
 * Which firewall to drive: the iptables flavour (`iptables -V` prints "(nf_tables)" or
 * "(legacy)") and whether nftables' native `queue` statement works (see nftables.ts).
 * @module
 */
import { drive, execRunner, type CommandRunner } from './runner.js';
import { probeNftQueue } from './nftables.js';
import type { IptablesFlavour } from './iptables.js';

export interface BackendInfo {
  /** The backend divert uses. iptables until the nftables backend is complete. */
  readonly name: 'iptables';
  readonly flavour: IptablesFlavour | 'unknown';
  /** `iptables -V` output, e.g. "iptables v1.8.9 (nf_tables)". */
  readonly version: string;
  /** The kernel accepts nft's native `queue` statement (CONFIG_NFT_QUEUE). */
  readonly nftQueue: boolean;
}

export interface DetectOptions {
  readonly netns?: string | undefined;
  readonly runner?: CommandRunner;
}

/** Parses `iptables -V` output into a flavour. */
export function parseIptablesVersion(text: string): IptablesFlavour | 'unknown' {
  if (text.includes('(nf_tables)')) return 'nf_tables';
  if (text.includes('(legacy)')) return 'legacy';
  return 'unknown';
}

/**
 * Detects the iptables flavour and nft queue support (in `netns` when given).
 * @throws FirewallError when `iptables -V` cannot run.
 * @example const { flavour } = await detectBackend(); // 'nf_tables'
 */
export async function detectBackend(options: DetectOptions = {}): Promise<BackendInfo> {
  const runner = options.runner ?? execRunner({ netns: options.netns });
  const { stdout } = await runner.run({ file: 'iptables', args: ['-V'] });
  const version = stdout.trim();
  const nftQueue = await drive(probeNftQueue(), runner).catch(() => false);
  return { name: 'iptables', flavour: parseIptablesVersion(version), version, nftQueue };
}
