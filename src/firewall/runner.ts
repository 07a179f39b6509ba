/**
 * Running firewall binaries: argv arrays only (never a shell), a timeout, an optional network
 * namespace (`ip netns exec <name> …`), and failures turned into {@link FirewallError}.
 *
 * Backend logic is written once as a generator of {@link Command}s (a "plan"); {@link drive} and
 * {@link driveSync} run a plan asynchronously or synchronously (the sync path is what exit
 * cleanup needs, since `process.on('exit')` cannot wait).
 * @module
 */
import { execFile, execFileSync } from 'node:child_process';
import { FirewallError } from '../errors.js';
import { checkNetnsName } from './validate.js';

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  /** Text written to stdin (iptables-restore / nft -f - input). */
  readonly input?: string;
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Executes commands; throws FirewallError when one fails. */
export interface CommandRunner {
  run(cmd: Command): Promise<CommandResult>;
  runSync(cmd: Command): CommandResult;
}

/** A backend operation: yields commands, receives their results, returns T. */
export type Plan<T> = Generator<Command, T, CommandResult>;

export interface ExecOptions {
  /** Network namespace NAME (as in `ip netns list`). */
  readonly netns?: string | undefined;
  readonly timeoutMs?: number;
  /** Backend name put into errors. */
  readonly backend?: string;
}

/** The runner that really executes binaries. */
export function execRunner(options: ExecOptions = {}): CommandRunner {
  if (options.netns !== undefined) checkNetnsName(options.netns);
  const timeout = options.timeoutMs ?? 15_000;
  const backend = options.backend ?? 'iptables';
  const argvOf = (cmd: Command): string[] =>
    options.netns === undefined ? [cmd.file, ...cmd.args] : ['ip', 'netns', 'exec', options.netns, cmd.file, ...cmd.args];
  const fail = (argv: string[], err: unknown): FirewallError => {
    const e = err as { code?: unknown; status?: number | null; stderr?: string | Buffer; killed?: boolean; message?: string };
    const stderr = String(e.stderr ?? '').trim() || (e.killed ? `timed out after ${timeout} ms` : String(e.message ?? err));
    const exitCode = typeof e.code === 'number' ? e.code : (e.status ?? null);
    const msg = `${argv.join(' ')} failed${exitCode === null ? '' : ` (exit ${exitCode})`}: ${stderrSummary(stderr)}`;
    return new FirewallError(msg, { backend, argv, exitCode, stderr });
  };
  return {
    run(cmd) {
      const argv = argvOf(cmd);
      return new Promise((resolve, reject) => {
        const child = execFile(argv[0] ?? '', argv.slice(1), { timeout, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
          if (err) reject(fail(argv, Object.assign(err, { stderr })));
          else resolve({ stdout, stderr });
        });
        // NB: a binary may exit without reading stdin (EPIPE); its exit status is what counts.
        child.stdin?.on('error', () => {});
        child.stdin?.end(cmd.input ?? '');
      });
    },
    runSync(cmd) {
      const argv = argvOf(cmd);
      try {
        const stdout = execFileSync(argv[0] ?? '', argv.slice(1), { timeout, encoding: 'utf8', input: cmd.input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
        return { stdout, stderr: '' };
      } catch (err) {
        throw fail(argv, err);
      }
    },
  };
}

/**
 * The lines of a tool's stderr that say what went wrong, joined with "; ": without a bare version
 * banner (`iptables-restore v1.8.9 (nf_tables): ` alone on its line, followed by the real error),
 * the `Try \`… -h'` hint and blank lines. Falls back to the whole text.
 */
export function stderrSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const useful = lines.filter((l) => !/^\S+ v\d[\w.]* \([^)]*\):$/.test(l) && !/^Try `/.test(l));
  return (useful.length > 0 ? useful : lines).join('; ');
}

/** Runs a plan with the async runner; a failing command is thrown into the plan. */
export async function drive<T>(plan: Plan<T>, runner: CommandRunner): Promise<T> {
  let step = plan.next();
  while (!step.done) {
    let result: CommandResult | undefined;
    let error: unknown;
    try {
      result = await runner.run(step.value);
    } catch (err) {
      error = err;
    }
    step = result ? plan.next(result) : plan.throw(error);
  }
  return step.value;
}

/** Runs a plan synchronously. */
export function driveSync<T>(plan: Plan<T>, runner: CommandRunner): T {
  let step = plan.next();
  while (!step.done) {
    let result: CommandResult | undefined;
    let error: unknown;
    try {
      result = runner.runSync(step.value);
    } catch (err) {
      error = err;
    }
    step = result ? plan.next(result) : plan.throw(error);
  }
  return step.value;
}
