/**
 * The tc filters behind inbound injection (see src/divert/injector.ts): on an interface's clsact
 * egress hook, a classic-BPF filter matching INJECT_MARK redirects divert's own packets to the
 * same interface's ingress. Each process has its own filter, whose handle is its pid, so a
 * filter left behind by a process killed with SIGKILL can be told apart and swept like a stale
 * DIVERT rule.
 * @module
 */
import { DIVERT_MARK } from './mark.js';
import { execRunner, type CommandRunner } from './runner.js';
import { procStat } from './owner.js';

/** tc preference of the redirect filters: high enough to stay out of the way of others. */
export const INJECT_TC_PRIO = 49_152;

/** The mark the redirect filter matches; it includes DIVERT_MARK, so DIVERT rules skip the packet. */
export const INJECT_MARK = (DIVERT_MARK | 0x00d1_0001) >>> 0;

/** Classic BPF: A = skb->mark (SKF_AD_OFF + SKF_AD_MARK); match when A == INJECT_MARK. */
export function injectFilterBytecode(): string {
  return `4,32 0 0 ${0xfffff000 + 20},21 0 1 ${INJECT_MARK},6 0 0 4294967295,6 0 0 0`;
}

/** tc arguments that install the redirect filter of process `pid` on `dev`. */
export function injectFilterArgs(dev: string, pid: number): string[] {
  return ['filter', 'replace', 'dev', dev, 'egress', 'prio', String(INJECT_TC_PRIO), 'handle', String(pid), 'protocol', 'all',
    'bpf', 'bytecode', injectFilterBytecode(), 'action', 'mirred', 'ingress', 'redirect', 'dev', dev];
}

/** tc arguments that delete the redirect filter of process `pid` on `dev`. */
export function injectFilterDeleteArgs(dev: string, pid: number): string[] {
  return ['filter', 'del', 'dev', dev, 'egress', 'prio', String(INJECT_TC_PRIO), 'handle', String(pid), 'protocol', 'all', 'bpf'];
}

/** Owner pids of divert's redirect filters in `tc filter show dev X egress` output. */
export function parseInjectFilters(tcOutput: string): number[] {
  const pids: number[] = [];
  const re = new RegExp(`pref ${INJECT_TC_PRIO} bpf chain \\d+ handle (0x[0-9a-f]+)[^\\n]*bytecode '[^']*\\b${INJECT_MARK}\\b`, 'g');
  for (const m of tcOutput.matchAll(re)) pids.push(Number.parseInt(m[1]!, 16));
  return pids;
}

/** Interface names in `ip -o link show` output (`2: eth0@if3: <…>` → `eth0`). */
export function parseLinkNames(ipOutput: string): string[] {
  return [...ipOutput.matchAll(/^\d+: ([^:@\s]+)[@:]/gm)].map((m) => m[1]!);
}

/**
 * Removes redirect filters whose owner process is gone (killed before it could clean up).
 * @returns how many were removed.
 */
export async function sweepStaleInjectFilters(
  options: { netns?: string | undefined; runner?: CommandRunner; alive?: (pid: number) => boolean } = {},
): Promise<number> {
  const runner = options.runner ?? execRunner({ netns: options.netns, backend: 'tc' });
  const alive = options.alive ?? ((pid: number) => {
    const stat = procStat(pid);
    return stat !== undefined && stat.state !== 'Z'; // a zombie is a dead process not yet reaped
  });
  const links = parseLinkNames((await runner.run({ file: 'ip', args: ['-o', 'link', 'show'] })).stdout);
  let removed = 0;
  for (const dev of links) {
    let shown: string;
    try {
      shown = (await runner.run({ file: 'tc', args: ['filter', 'show', 'dev', dev, 'egress'] })).stdout;
    } catch {
      continue; // no clsact on this interface
    }
    for (const pid of parseInjectFilters(shown)) {
      if (alive(pid)) continue;
      await runner.run({ file: 'tc', args: injectFilterDeleteArgs(dev, pid) });
      removed++;
    }
  }
  return removed;
}
