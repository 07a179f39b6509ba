/**
 * Command line of `divert intercept` → InterceptOptions (pure, so it is unit-tested).
 * @module
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../io.js';
import { SELECTION_OPTIONS, checkSelection, parsePort, takeFirewallArg } from './selection_args.js';

/** What "length N" in a packet line is: printed once, with the listening line. */
export const LENGTH_LEGEND = 'length = IP total length, headers included';

export type OutputFormat = 'line' | 'json' | 'classic' | 'none';

export interface InterceptOptions {
  /** Undefined with --filter: a free port is chosen. */
  port: number | undefined;
  /** `<port>:<last>`: ports port…last, one worker thread each (the kernel spreads flows over them). */
  lastPort: number | undefined;
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

export const INTERCEPT_HELP = `Usage: divert intercept [<port>[:<last>]] [options]

Receive the packets DIVERT rules send to divert port <port> (an NFQUEUE queue number,
0-65535), print each one and reinject it (the seed's interceptor, section 6.4). With a port
range <port>:<last> (e.g. 10:13), one worker thread per port serves it, and the kernel spreads
packets over the ports by a hash of their addresses (a conversation stays on one port).

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
  --json                 one JSON object per packet (one per line: jq reads them)
  --classic              print what the seed's C interceptor printed
  -x, --hex              add a hex dump of each packet (with --json: a "hex" field)
  -h, --help             show this help

Output (default): one line per packet, like tcpdump:
  time direction interface IP src[.port] > dst[.port]: protocol [flags], length N, verdict
where length N is the IP total length, headers included (IPv4 total length, IPv6 40 + payload
length; tcpdump prints the UDP or ICMP length there instead). JSON's "length" is the same.
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
  ...SELECTION_OPTIONS,
  sniff: { type: 'boolean' },
  count: { type: 'string', short: 'c' },
  write: { type: 'string', short: 'w' },
  json: { type: 'boolean' },
  classic: { type: 'boolean' },
  hex: { type: 'boolean', short: 'x' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MISSING_PORT = 'missing <port>: the divert port to listen on, e.g. "divert intercept 1234" (or choose packets with --filter and let divert pick the port)';

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
  const args = [...argv];
  const firewall = takeFirewallArg(args);
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  if (values.reinject && values.drop) throw new UsageError('--reinject and --drop exclude each other');
  if (values.json && values.classic) throw new UsageError('--json and --classic exclude each other');
  if (values.sniff && (values.drop || values.reinject)) throw new UsageError(`--sniff gives no verdicts (the packets go on at once): leave out --${values.drop ? 'drop' : 'reinject'}`);
  if (values.sniff && values['pass-through']) throw new UsageError('--sniff holds no packet, so there is nothing to pass through: leave out --pass-through');
  const selection = checkSelection(firewall, values);
  const format: OutputFormat = values.json ? 'json' : values.classic ? 'classic' : values.write !== undefined ? 'none' : 'line';
  const range = /^(\d+):(\d+)$/.exec(positionals[0] ?? '');
  if (range) {
    if (values.sniff) throw new UsageError('--sniff takes one port (an NFLOG group), not a range');
    if (values.classic) throw new UsageError('--classic prints the seed\'s own loop, one port: leave it out with a port range');
  }
  const lastPort = range ? parsePort(range[2], MISSING_PORT) : undefined;
  const firstPort = range ? parsePort(range[1], MISSING_PORT) : undefined;
  if (firstPort !== undefined && lastPort !== undefined && (lastPort <= firstPort || lastPort - firstPort >= 64)) {
    throw new UsageError(`a port range is <first>:<last> with first < last and at most 64 ports (one worker thread each), got ${JSON.stringify(positionals[0])}`);
  }
  return {
    port: firstPort ?? (values.filter !== undefined && positionals[0] === undefined ? undefined : parsePort(positionals[0], MISSING_PORT)),
    lastPort,
    filter: selection.filter,
    priority: selection.priority,
    verdict: values.drop ? 'drop' : 'reinject',
    firewall: selection.firewall,
    passThrough: selection.passThrough,
    defragment: selection.defragment,
    netns: selection.netns,
    count: parseCount(values.count),
    write: values.write,
    format,
    hex: values.hex ?? false,
    sniff: values.sniff ?? false,
  };
}
