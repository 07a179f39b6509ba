/**
 * Command line of `divert chaos` → ChaosCliOptions (pure, so it is unit-tested).
 * @module
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../io.js';
import { SELECTION_OPTIONS, checkSelection, parsePort, takeFirewallArg, type Selection } from './selection_args.js';
import { parseDuration, parseLag, parsePercent, parseRate } from '../../chaos/units.js';
import type { ImpairmentOptions } from '../../chaos/settings.js';

export interface ChaosCliOptions extends Selection {
  /** Undefined with --firewall or --filter: a free port is chosen. */
  port: number | undefined;
  impairment: ImpairmentOptions;
}

export const CHAOS_HELP = `Usage: divert chaos [<port>] [selection] [impairments]

Impair the packets a rule or filter selects, as clumsy does on Windows: drop, delay, duplicate,
reorder, corrupt and rate-limit them, in either direction (the rule's chain or the filter's
inbound/outbound gives it). Ctrl-C releases every held packet, removes the rules, prints a
summary and exits 0.

Selection (as "divert intercept"):
  --firewall "<rule>"      an ipchains-style rule without its target, e.g.
                           --firewall "-A input -p udp --dport 53" (removed on exit)
  --filter '<filter>'      a WinDivert filter, e.g. 'outbound and tcp.DstPort == 8080';
                           with --firewall too, a packet must match both
  <port>                   the divert port (default: a free one); alone, packets come from
                           rules that already send there ("divert rules add …")
  --priority P, --pass-through, --defragment, --netns NAME   as "divert intercept"

Impairments (each packet, in this order):
  --drop P%                drop with probability P
  --tamper P%              flip one payload bit with probability P; the checksums are made
                           right unless --tamper-keep-checksums (then the packet is corrupt)
  --duplicate P%           send a copy too, right after the packet
  --lag MS[±JITTER]        hold every packet MS ms (e.g. 100ms, 1.5s, 100ms±20ms: uniform
                           in 80..120 ms); --jitter MS sets the spread alone
  --reorder P%             hold a packet back until the next one has gone (at most
                           --reorder-wait MS, default 100)
  --throttle RATE          token-bucket rate limit, e.g. 1mbit, 256kbit, 10mbps (bytes/s);
                           --burst BYTES the bucket (default 10 ms of the rate, >= 1500);
                           --queue-limit N packets wait for tokens (default 1000), then drop
  --max-held N             packets held at once, in all stages (default 10000), then drop
  --seed N                 seed of the random choices (0..4294967295): a run is repeatable;
                           the seed in use is printed at the start

Other:
  -h, --help               show this help

The status line on a terminal shows what was done (counts per action) and how many packets
are held and queued. Packets are impaired one segment at a time (no GSO super-packets).

Examples:
  divert chaos --firewall "-A input -p udp --dport 53" --drop 30%
  divert chaos --filter 'tcp.DstPort == 8080 or tcp.SrcPort == 8080' --throttle 1mbit --lag 40ms
  divert chaos --filter 'ip.SrcAddr == 198.18.1.2' --drop 5% --reorder 5% --lag 100ms±50ms --seed 7
`;

const OPTIONS = {
  firewall: { type: 'string' },
  ...SELECTION_OPTIONS,
  drop: { type: 'string' },
  lag: { type: 'string' },
  jitter: { type: 'string' },
  duplicate: { type: 'string' },
  reorder: { type: 'string' },
  'reorder-wait': { type: 'string' },
  tamper: { type: 'string' },
  'tamper-keep-checksums': { type: 'boolean' },
  throttle: { type: 'string' },
  burst: { type: 'string' },
  'queue-limit': { type: 'string' },
  'max-held': { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A whole number option from `min` to `max`, or undefined. */
function integer(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${name} needs a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Runs a unit parser, its RangeError becoming a UsageError. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Parses argv after "chaos".
 * @throws {UsageError} (or parseArgs' ERR_PARSE_ARGS_* TypeError) for a bad command line.
 */
export function parseChaosArgs(argv: readonly string[]): ChaosCliOptions | 'help' {
  const args = [...argv];
  const firewall = takeFirewallArg(args);
  const { values: v, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (v.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const selection = checkSelection(firewall, v);
  const chosen = selection.firewall !== undefined || selection.filter !== undefined;
  const port = chosen && positionals[0] === undefined ? undefined
    : parsePort(positionals[0], 'choose the packets to impair: --firewall "<rule>", --filter \'<filter>\', or the <port> existing rules send to');
  const percent = (text: string | undefined, name: string): number | undefined => text === undefined ? undefined : usage(() => parsePercent(text, name));
  const lag = v.lag === undefined ? undefined : usage(() => parseLag(v.lag!));
  const jitter = v.jitter === undefined ? undefined : usage(() => parseDuration(v.jitter!, '--jitter'));
  if (lag?.jitter !== undefined && jitter !== undefined) throw new UsageError('give the jitter once: --lag MS±JITTER or --jitter MS');
  if (v['tamper-keep-checksums'] && v.tamper === undefined) throw new UsageError('--tamper-keep-checksums goes with --tamper P%');
  if ((v.burst !== undefined || v['queue-limit'] !== undefined) && v.throttle === undefined) throw new UsageError('--burst and --queue-limit go with --throttle RATE');
  if (v['reorder-wait'] !== undefined && v.reorder === undefined) throw new UsageError('--reorder-wait goes with --reorder P%');
  const impairment: ImpairmentOptions = {
    drop: percent(v.drop, '--drop'),
    lag: lag?.lag,
    jitter: lag?.jitter ?? jitter,
    duplicate: percent(v.duplicate, '--duplicate'),
    reorder: percent(v.reorder, '--reorder'),
    reorderWait: v['reorder-wait'] === undefined ? undefined : usage(() => parseDuration(v['reorder-wait']!, '--reorder-wait')),
    tamper: percent(v.tamper, '--tamper'),
    tamperKeepChecksums: v['tamper-keep-checksums'],
    throttle: v.throttle === undefined ? undefined : usage(() => parseRate(v.throttle!)),
    burst: integer(v.burst, '--burst', 1, 2 ** 31 - 1),
    queueLimit: integer(v['queue-limit'], '--queue-limit', 0, 1_000_000),
    maxHeld: integer(v['max-held'], '--max-held', 1, 1_000_000),
    seed: integer(v.seed, '--seed', 0, 2 ** 32 - 1),
  };
  for (const k of Object.keys(impairment) as Array<keyof ImpairmentOptions>) if (impairment[k] === undefined) delete impairment[k];
  return { port, ...selection, impairment };
}
