/**
 * Which firewall to drive: the iptables flavour (`iptables -V` prints "(nf_tables)" or
 * "(legacy)") and whether nftables' native `queue` statement works (see nftables.ts).
 * @module
 */
import { drive, execRunner, type CommandRunner } from './runner.js';
import { probeNftQueue } from './nftables.js';
import type { IptablesFlavour } from './iptables.js';

export type BackendName = 'iptables' | 'nftables';

export interface BackendInfo {
  /** The backend divert picks by itself: nftables where the kernel has `queue`, else iptables. */
  readonly name: BackendName;
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

/** Environment variable that forces a backend (`iptables` or `nftables`). */
export const BACKEND_ENV = 'DIVERT_FIREWALL_BACKEND';

/**
 * The backend forced by `DIVERT_FIREWALL_BACKEND` (any case), or undefined when unset/empty.
 * @throws TypeError for any other value.
 */
export function backendOverride(env: Readonly<Record<string, string | undefined>> = process.env): BackendName | undefined {
  const v = (env[BACKEND_ENV] ?? '').trim().toLowerCase();
  if (v === '') return undefined;
  if (v === 'iptables' || v === 'nftables') return v;
  throw new TypeError(`${BACKEND_ENV}=${JSON.stringify(env[BACKEND_ENV])}: use iptables or nftables`);
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
  return { name: nftQueue ? 'nftables' : 'iptables', flavour: parseIptablesVersion(version), version, nftQueue };
}
