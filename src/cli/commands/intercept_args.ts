/**
 * Command line of `divert intercept` → InterceptOptions (pure, so it is unit-tested).
 * @module
 */
import { parseArgs } from 'node:util';
import { UsageError, checkNetnsOption } from '../io.js';

export type OutputFormat = 'line' | 'json' | 'classic' | 'none';

export interface InterceptOptions {
  /** Undefined with --filter: a free port is chosen. */
  port: number | undefined;
  /** A WinDivert filter compiled into the kernel (`--filter`). */
  filter: string | undefined;
  /** WinDivert's priority of the run's rules (higher sees packets first). */
  priority: number;
  verdict: 'reinject' | 'drop';
  /** ipchains rule without its target (`-A input -p icmp`). */
  firewall: string | undefined;
  passThrough: boolean;
  defragment: boolean;
  netns: string | undefined;
  /** Stop after this many packets. */
  count: number | undefined;
  /** pcap file to write. */
  write: string | undefined;
  format: OutputFormat;
  hex: boolean;
  /** `--sniff`: copies through NFLOG, the packets unheld (no verdicts); <port> is the NFLOG group. */
  sniff: boolean;
}

export const INTERCEPT_HELP = `Usage: divert intercept [<port>] [options]

Receive the packets DIVERT rules send to divert port <port> (an NFQUEUE queue number,
0-65535), print each one and reinject it (the seed's interceptor, section 6.4).

Options:
  --reinject             put every packet back (default)
  --drop                 drop every packet instead
  --firewall "<rule>"    install this ipchains-style rule for the run, without its target
                         (divert adds "-j DIVERT <port>"), e.g. --firewall "-A input -p icmp";
                         removed on exit, Ctrl-C and SIGTERM (SIGKILL too: the kernel owns it)
  --filter '<filter>'    divert what this WinDivert filter matches, compiled into the kernel
                         (e.g. 'outbound and tcp.DstPort == 80'); <port> may be left out then.
                         With --firewall too, a packet must match both
  --priority P           the run's rules' priority, -30000..30000 (higher sees packets first)
  --pass-through         the run's rules let packets pass while nobody listens
  --defragment           reassemble fragments before they are diverted (conntrack defrag)
  --sniff                watch instead of divert: the rules log a copy of each packet to NFLOG
                         group <port> and the packet goes on at once, so a slow, stopped or dead
                         divert holds nothing up ("-j SNIFF <port>"; no --drop/--reinject)
  --netns NAME           work inside network namespace NAME (see "ip netns list")
  -c, --count N          stop after N packets
  -w, --write FILE       write the packets to FILE as pcap (raw IP, IPv4 and IPv6)
  --json                 one JSON object per packet
  --classic              print what the seed's C interceptor printed
  -x, --hex              add a hex dump of each packet
  -h, --help             show this help

Output (default): one line per packet, like tcpdump:
  time direction interface IP src[.port] > dst[.port]: protocol [flags], length N, verdict
Ctrl-C stops and prints a summary; packets still held are reinjected and the rule removed.

Examples:
  divert intercept 1234 --firewall "-A input -p icmp"
  divert intercept 7 -c 10 -w out.pcap --firewall "-A output -p udp --dport 53"
  divert intercept --filter 'inbound and tcp.DstPort == 22' -c 5
  divert intercept 7 --sniff --firewall "-A input -p udp --dport 53" -w dns.pcap
`;

const OPTIONS = {
  reinject: { type: 'boolean' },
  drop: { type: 'boolean' },
  firewall: { type: 'string' },
  filter: { type: 'string' },
  priority: { type: 'string' },
  'pass-through': { type: 'boolean' },
  defragment: { type: 'boolean' },
  sniff: { type: 'boolean' },
  netns: { type: 'string' },
  count: { type: 'string', short: 'c' },
  write: { type: 'string', short: 'w' },
  json: { type: 'boolean' },
  classic: { type: 'boolean' },
  hex: { type: 'boolean', short: 'x' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parsePort(text: string | undefined): number {
  if (text === undefined) throw new UsageError('missing <port>: the divert port to listen on, e.g. "divert intercept 1234" (or choose packets with --filter and let divert pick the port)');
  if (!/^\d+$/.test(text)) throw new UsageError(`port must be a number from 0 to 65535, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n > 65535) throw new UsageError(`port must be a number from 0 to 65535, got ${text}`);
  return n;
}

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`-c needs a packet count of 1 or more, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Parses argv after "intercept".
 * @throws {UsageError} (or parseArgs' ERR_PARSE_ARGS_* TypeError) for a bad command line.
 */
export function parseInterceptArgs(argv: readonly string[]): InterceptOptions | 'help' {
  // A --firewall value starts with "-" ("-A input …"): take it before parseArgs sees it.
  const args = [...argv];
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
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  if (values.reinject && values.drop) throw new UsageError('--reinject and --drop exclude each other');
  if (values.json && values.classic) throw new UsageError('--json and --classic exclude each other');
  if (firewall !== undefined) {
    if (firewall.trim() === '') throw new UsageError('--firewall needs a rule, e.g. --firewall "-A input -p icmp"');
    if (/(^|\s)(-j|--jump)(\s|$)/.test(firewall)) throw new UsageError('leave the target out of --firewall: divert adds "-j DIVERT <port>" itself');
  }
  if (values.sniff && (values.drop || values.reinject)) throw new UsageError(`--sniff gives no verdicts (the packets go on at once): leave out --${values.drop ? 'drop' : 'reinject'}`);
  if (values.sniff && values['pass-through']) throw new UsageError('--sniff holds no packet, so there is nothing to pass through: leave out --pass-through');
  if (values['pass-through'] && firewall === undefined && values.filter === undefined) throw new UsageError('--pass-through applies to the run\'s rules: add --firewall "<rule>" or --filter \'<filter>\'');
  if (values.filter !== undefined && values.filter.trim() === '') throw new UsageError('--filter needs a filter, e.g. --filter \'tcp.DstPort == 80\'');
  const priority = values.priority === undefined ? 0 : Number(values.priority);
  if (!/^-?\d+$/.test(values.priority ?? '0') || Math.abs(priority) > 30000) throw new UsageError(`--priority needs an integer from -30000 to 30000, got ${JSON.stringify(values.priority)}`);
  const format: OutputFormat = values.json ? 'json' : values.classic ? 'classic' : values.write !== undefined ? 'none' : 'line';
  return {
    port: values.filter !== undefined && positionals[0] === undefined ? undefined : parsePort(positionals[0]),
    filter: values.filter,
    priority,
    verdict: values.drop ? 'drop' : 'reinject',
    firewall,
    passThrough: values['pass-through'] ?? false,
    defragment: values.defragment ?? false,
    netns: checkNetnsOption(values.netns),
    count: parseCount(values.count),
    write: values.write,
    format,
    hex: values.hex ?? false,
    sniff: values.sniff ?? false,
  };
}
