/**
 * `divert filter check|explain|test`: WinDivert filters without a socket. `check` validates and
 * prints the canonical text, `explain` shows the kernel rules the filter compiles to (in nft's
 * own notation, to compare with `nft list ruleset`) and what user space decides, `test` prints
 * which packets of a pcap capture match. Exit codes: 0 ok, 1 runtime failure, 2 usage error or a
 * filter that does not parse (its caret printed).
 * @module
 */
import { parseArgs } from 'node:util';
import { compileFilter } from '../../filter/evaluate.js';
import { lowerFilter } from '../../filter/lower_nft.js';
import { formatFilter } from '../../filter/format.js';
import { isRawIpLinktype, parsePcap } from '../../pcap/pcap_reader.js';
import { LINKTYPE_RAW } from '../../pcap/pcap_writer.js';
import { tryParsePacket } from '../../packet/parse.js';
import { formatPacket } from '../../packet/format.js';
import { FilterSyntaxError } from '../../errors.js';
import { UsageError, type CliIo } from '../io.js';
import { readCaptureFile } from '../capture_file.js';
import { reportError } from '../report_error.js';

export const FILTER_HELP = `Usage: divert filter <check|explain|test> '<filter>' [options]

WinDivert filter strings (network layer), e.g. 'outbound and !loopback and tcp.DstPort == 80':
  check '<filter>'                 is it valid? prints its canonical form; on a mistake, the
                                   filter with a caret under the offending character (exit 2)
  explain '<filter>'               the nf_tables rules it compiles to (nft notation) and what
                                   user space decides where the kernel cannot
  test '<filter>' -r FILE.pcap     which packets of a capture (raw IP, as "divert intercept -w"
                                   writes) match, one line each, then the counts

Options for test:
  -r, --read FILE      the capture to read
  --inbound            evaluate as packets received (default: outbound, as WinDivert's helper)
  --loopback           as if on a loopback interface
  --ifidx N            the interface index ifIdx compares with
  -h, --help           show this help

The language: see src/filter/README.md (fields ip.*, ipv6.*, tcp.*, udp.*, icmp.*, icmpv6.*,
inbound, outbound, loopback, ifIdx, localAddr, remotePort, packet[i], tcp.Payload[i] …).
`;

const TEST_OPTIONS = {
  read: { type: 'string', short: 'r' },
  inbound: { type: 'boolean' },
  loopback: { type: 'boolean' },
  ifidx: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Prints a filter mistake whole: the message and the caret lines. */
function syntaxError(err: FilterSyntaxError, io: CliIo): number {
  io.stderr(`divert filter: ${err.message}\n`);
  return 2;
}

function test(filter: string, argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args: [...argv], options: TEST_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.read === undefined) throw new UsageError('test needs a capture: -r FILE.pcap');
  const ifIdx = values.ifidx === undefined ? 0 : Number(values.ifidx);
  if (!Number.isInteger(ifIdx) || ifIdx < 0) throw new UsageError(`--ifidx needs an interface index, got ${JSON.stringify(values.ifidx)}`);
  const f = compileFilter(filter);
  const file = parsePcap(readCaptureFile(values.read));
  if (!isRawIpLinktype(file.header.linktype)) {
    throw new UsageError(`${values.read} holds link type ${file.header.linktype}; divert reads raw IP captures (link type ${LINKTYPE_RAW}, as "divert intercept -w" writes)`);
  }
  let matched = 0;
  file.records.forEach((r, i) => {
    const address = { outbound: !values.inbound, loopback: values.loopback ?? false, ifIdx, timestamp: Math.floor(r.timeMs) };
    const hit = f.match(r.data, address);
    if (hit) matched++;
    const parsed = tryParsePacket(r.data);
    io.stdout(`${String(i + 1).padStart(5)}  ${hit ? 'match   ' : 'no match'}  ${parsed ? formatPacket(parsed) : `(${r.data.length} bytes, not an IP packet)`}\n`);
  });
  io.stdout(`${matched} of ${file.records.length} packets match ${JSON.stringify(f.text)}\n`);
  return 0;
}

/**
 * Runs `divert filter …` with argv after "filter".
 * @returns the exit code.
 */
export async function filterCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, filter, ...rest] = argv;
  try {
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout(FILTER_HELP);
      return 0;
    }
    if (sub !== 'check' && sub !== 'explain' && sub !== 'test') throw new UsageError(`unknown command ${JSON.stringify(sub)}: use check, explain or test`);
    if (filter === undefined || filter === '--help' || filter === '-h') {
      if (filter !== undefined) {
        io.stdout(FILTER_HELP);
        return 0;
      }
      throw new UsageError(`${sub} needs a filter, e.g. divert filter ${sub} 'tcp.DstPort == 80'`);
    }
    if (sub === 'check') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
      io.stdout(`ok: ${formatFilter(filter)}\n`);
      return 0;
    }
    if (sub === 'explain') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
      io.stdout(`${lowerFilter(filter, { table: 'divert-<pid>' }).explain()}\n`);
      return 0;
    }
    return test(filter, rest, io);
  } catch (err) {
    if (err instanceof FilterSyntaxError) return syntaxError(err, io);
    return reportError('divert filter', err, io);
  }
}
