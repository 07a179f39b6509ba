/**
 * Turning an error into one line on stderr and an exit code: 2 for usage mistakes, 1 for
 * runtime failures. No stack traces for user mistakes; unexpected errors get one line and a
 * pointer to DIVERT_DEBUG=1, which prints the stack.
 * @module
 */
import { DivertError, FilterSyntaxError, FirewallError } from '../mod.js';
import { UsageError, type CliIo } from './io.js';

/** A fix for well-known runtime failures, or undefined. */
export function hintFor(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  const msg = String((err as Error).message ?? '');
  if (code === 'EPERM' || code === 'EACCES' || /permission denied|not permitted|must be root/i.test(msg)) {
    return 'run as root (sudo), or inside "unshare --user --map-root-user --net"; "divert doctor" checks this';
  }
  if (code === 'ENOENT' && /netns/i.test(msg)) return 'list namespaces with "ip netns list"';
  if (code === 'ERR_DIVERT_NO_KERNEL_SUPPORT' || err instanceof FirewallError) return '"divert doctor" checks what this kernel supports';
  return undefined;
}

function isUsage(err: unknown): boolean {
  // Not TypeError: in the CLI one means a bug (every bad argument is checked and becomes a UsageError).
  if (err instanceof UsageError || err instanceof FilterSyntaxError || err instanceof RangeError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/**
 * Prints `err` for command `name` (e.g. "divert intercept") and returns the exit code.
 * @example process.exitCode = reportError('divert intercept', err, io);
 */
export function reportError(name: string, err: unknown, io: CliIo, env: NodeJS.ProcessEnv = process.env): number {
  const debug = env['DIVERT_DEBUG'] === '1';
  const first = (s: string): string => s.split('\n')[0] ?? s;
  // parseArgs appends a paragraph on "--" to unknown-option errors; the first sentence says it.
  const message = first(String((err as Error)?.message ?? err)).replace(/\. To specify a positional argument.*$/, '');
  if (isUsage(err)) {
    io.stderr(`${name}: ${message} (see "${name} --help")\n`);
    if (debug && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
    return 2;
  }
  if (err instanceof DivertError) {
    const hint = hintFor(err);
    io.stderr(`${name}: ${message}${hint ? ` (hint: ${hint})` : ''}\n`);
    if (debug && err.stack) io.stderr(err.stack + '\n');
    return 1;
  }
  if (debug && err instanceof Error && err.stack) io.stderr(`${name}: ${err.stack}\n`);
  else io.stderr(`${name}: ${message} (run with DIVERT_DEBUG=1 for details)\n`);
  return 1;
}
