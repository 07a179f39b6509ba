/**
 * How `divert intercept` and `divert chaos` choose packets on the command line: `--firewall
 * "<rule>"`, `--filter '<filter>'`, `--priority`, `--pass-through`, `--defragment`, `--netns`.
 * @module
 */
import { UsageError, checkNetnsOption } from '../io.js';

/** parseArgs' spelling of the selection options. */
export const SELECTION_OPTIONS = {
  filter: { type: 'string' },
  priority: { type: 'string' },
  'pass-through': { type: 'boolean' },
  defragment: { type: 'boolean' },
  netns: { type: 'string' },
} as const;

export interface Selection {
  /** ipchains rule without its target (`-A input -p icmp`). */
  firewall: string | undefined;
  /** A WinDivert filter compiled into the kernel (`--filter`). */
  filter: string | undefined;
  /** WinDivert's priority of the run's rules (higher sees packets first). */
  priority: number;
  passThrough: boolean;
  defragment: boolean;
  netns: string | undefined;
}

/**
 * Takes `--firewall <rule>` / `--firewall=<rule>` out of `args` (in place): its value starts
 * with "-" ("-A input …"), which parseArgs would read as an option.
 */
export function takeFirewallArg(args: string[]): string | undefined {
  let firewall: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--firewall') {
      const v = args[i + 1];
      if (v === undefined) throw new UsageError('--firewall needs a rule, e.g. --firewall "-A input -p icmp"');
      firewall = v;
      args.splice(i, 2);
      i--;
    } else if (a.startsWith('--firewall=')) {
      firewall = a.slice('--firewall='.length);
      args.splice(i--, 1);
    }
  }
  return firewall;
}

/**
 * Checks the selection options parseArgs read.
 * @throws {UsageError} naming what is wrong.
 */
export function checkSelection(firewall: string | undefined, values: { filter?: string | undefined; priority?: string | undefined; 'pass-through'?: boolean | undefined; defragment?: boolean | undefined; netns?: string | undefined }): Selection {
  if (firewall !== undefined) {
    if (firewall.trim() === '') throw new UsageError('--firewall needs a rule, e.g. --firewall "-A input -p icmp"');
    if (/(^|\s)(-j|--jump)(\s|$)/.test(firewall)) throw new UsageError('leave the target out of --firewall: divert adds "-j DIVERT <port>" itself');
  }
  if (values['pass-through'] && firewall === undefined && values.filter === undefined) throw new UsageError('--pass-through applies to the run\'s rules: add --firewall "<rule>" or --filter \'<filter>\'');
  if (values.filter !== undefined && values.filter.trim() === '') throw new UsageError('--filter needs a filter, e.g. --filter \'tcp.DstPort == 80\'');
  const priority = values.priority === undefined ? 0 : Number(values.priority);
  if (!/^-?\d+$/.test(values.priority ?? '0') || Math.abs(priority) > 30000) throw new UsageError(`--priority needs an integer from -30000 to 30000, got ${JSON.stringify(values.priority)}`);
  return {
    firewall,
    filter: values.filter,
    priority,
    passThrough: values['pass-through'] ?? false,
    defragment: values.defragment ?? false,
    netns: checkNetnsOption(values.netns),
  };
}

/** A divert port on the command line: 0–65535; `missing` is the error when there is none. */
export function parsePort(text: string | undefined, missing: string): number {
  if (text === undefined) throw new UsageError(missing);
  if (!/^\d+$/.test(text)) throw new UsageError(`port must be a number from 0 to 65535, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n > 65535) throw new UsageError(`port must be a number from 0 to 65535, got ${text}`);
  return n;
}
