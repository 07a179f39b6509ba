/**
 * The `divert` binary: picks the command and hands it the rest of argv. No logic lives here;
 * each command returns its exit code (0 ok, 1 runtime failure, 2 usage error).
 * @module
 */
import { readFileSync } from 'node:fs';
import { processIo, type CliIo } from './io.js';
import { reportError } from './report_error.js';
import { interceptCommand } from './commands/intercept.js';
import { rulesCommand } from './commands/rules.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { filterCommand } from './commands/filter.js';
import { chaosCommand } from './commands/chaos.js';

export const MAIN_HELP = `Usage: divert <command> [options]

Divert sockets for Linux: take packets out of the kernel's path, look at them, change them,
put them back or drop them (FreeBSD divert sockets, on nfnetlink_queue and nf_tables).

Commands:
  intercept [port]   print every packet diverted to the port and reinject (or drop) it;
                     --firewall "<ipchains rule>" or --filter '<WinDivert filter>' choose them
  chaos [port]       impair the packets a rule or filter selects, like clumsy: drop, lag,
                     duplicate, reorder, tamper, throttle; Ctrl-C puts everything back
  rules <op> …       add, insert, delete, list, flush, sweep DIVERT rules (ipchains syntax)
  filter <op> …      check, explain or test a WinDivert filter
  demo               a guided tour in a throwaway network of namespaces (safe to run)
  doctor             check this machine: kernel support, privileges, user namespaces

Options:
  -h, --help         show help (also "divert <command> --help")
  -V, --version      print the version

Start with: divert demo
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  intercept: interceptCommand,
  chaos: chaosCommand,
  rules: rulesCommand,
  filter: filterCommand,
  demo: demoCommand,
  doctor: doctorCommand,
};

/** The package version, from package.json next to dist/. */
export function version(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/**
 * Runs the CLI with `argv` (without node and the script).
 * @returns the exit code.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    if (cmd === undefined) {
      io.stderr(MAIN_HELP);
      return 2;
    }
    io.stdout(MAIN_HELP);
    return 0;
  }
  if (cmd === '-V' || cmd === '--version') {
    io.stdout(`divert ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    io.stderr(`divert: unknown command ${JSON.stringify(cmd)}: use intercept, chaos, rules, filter, demo or doctor (see "divert --help")\n`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (err) {
    return reportError(`divert ${cmd}`, err, io);
  }
}

/** Entry point when run as the binary (bin/divert.js imports this module). */
async function start(): Promise<void> {
  const code = await main(process.argv.slice(2), processIo());
  process.exitCode = code;
  // Let stdout drain; if a stray handle keeps the loop alive, leave anyway.
  setTimeout(() => process.exit(code), 1500).unref();
}

if (process.argv[1] !== undefined && /(^|\/)(divert(\.js)?|main\.js)$/.test(process.argv[1])) void start();
