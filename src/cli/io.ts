/**
 * What a command writes to, and the usage error every command throws for bad arguments.
 * @module
 */
import { Netns } from '../_native/netns.js';

/** Output of a command; main.ts passes process.stdout/stderr, tests pass collectors. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** stderr is a terminal (the status line is drawn only then). */
  stderrIsTty?: boolean;
}

/** A mistake in the command line: exit code 2, one line, and a pointer to `--help`. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The namespace `--netns` names, checked: a bad name is a usage mistake (exit 2), not a failure. */
export function checkNetnsOption(netns: string | undefined): string | undefined {
  if (netns === undefined) return undefined;
  try {
    Netns.from(netns);
  } catch (err) {
    throw new UsageError(`--netns: ${(err as Error).message}`);
  }
  return netns;
}

/** An io that collects output (tests, and commands that print at the end). */
export function collectingIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) };
}

/** The real process streams. */
export function processIo(): CliIo {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    stderrIsTty: process.stderr.isTTY === true,
  };
}
