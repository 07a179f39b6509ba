/**
 * Owner tags: `divert:owner=<pid>:<starttime>[:<label>]` or `divert:owner=cli[:<label>]`.
 *
 * The start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) makes the tag unique
 * even after the pid is recycled: a rule is stale when no process with that pid *and* start time
 * exists. NB: pids are those of the caller's pid namespace; sweeping from another pid namespace
 * would see every process rule as stale, so do not share a netns's rules across pid namespaces.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Owner } from './rule.js';
import { isLabel } from './validate.js';

export const OWNER_PREFIX = 'divert:owner=';
/** Reads `/proc/<pid>/stat`: state letter and start time; undefined when the process is gone. */
export function procStat(pid: number): { state: string; startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields resume after the LAST ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  const startTime = Number(rest[22 - 3]);
  return Number.isFinite(startTime) ? { state, startTime } : undefined;
}

/** The calling process as an owner. */
export function currentOwner(label?: string): Owner {
  // This process's start time never changes: read /proc once.
  if (selfStart === undefined) {
    const st = procStat(process.pid);
    if (!st) throw new Error('Cannot read /proc/self/stat: divert needs procfs for owner tags');
    selfStart = st.startTime;
  }
  return { kind: 'process', pid: process.pid, startTime: selfStart, ...(label === undefined ? {} : { label }) };
}

let selfStart: number | undefined;

/** The persistent owner used by `divert rules add`. */
export function cliOwner(label?: string): Owner {
  return { kind: 'cli', ...(label === undefined ? {} : { label }) };
}

/** Comment text for an owner. @throws TypeError on a label outside [A-Za-z0-9_.-]{1,32}. */
export function ownerTag(owner: Owner): string {
  if (owner.label !== undefined && !isLabel(owner.label)) {
    throw new TypeError(`Invalid owner label ${JSON.stringify(owner.label)}: use 1–32 characters from A-Z a-z 0-9 _ . -`);
  }
  const id = owner.kind === 'cli' ? 'cli' : `${owner.pid}:${owner.startTime}`;
  return `${OWNER_PREFIX}${id}${owner.label === undefined ? '' : `:${owner.label}`}`;
}

/** Parses a comment back into an owner; undefined when it is not an owner tag. */
export function parseOwnerTag(comment: string): Owner | undefined {
  if (!comment.startsWith(OWNER_PREFIX)) return undefined;
  const body = comment.slice(OWNER_PREFIX.length);
  const cli = /^cli(?::([A-Za-z0-9_.-]{1,32}))?$/.exec(body);
  if (cli) return cliOwner(cli[1]);
  const p = /^(\d+):(\d+)(?::([A-Za-z0-9_.-]{1,32}))?$/.exec(body);
  if (!p) return undefined;
  const label = p[3];
  return { kind: 'process', pid: Number(p[1]), startTime: Number(p[2]), ...(label === undefined ? {} : { label }) };
}

/** True when the owner still runs (always true for CLI rules). Zombies count as gone. */
export function ownerAlive(owner: Owner, stat: (pid: number) => ReturnType<typeof procStat> = procStat): boolean {
  if (owner.kind === 'cli') return true;
  const st = stat(owner.pid);
  return st !== undefined && st.startTime === owner.startTime && st.state !== 'Z' && st.state !== 'X';
}

/** Same owner (kind, pid, start time and label). */
export function sameOwner(a: Owner, b: Owner): boolean {
  return ownerTag(a) === ownerTag(b);
}

/** Short text for tables: `cli`, `1234:5678`, with `:label`. */
export function formatOwner(owner: Owner): string {
  return ownerTag(owner).slice(OWNER_PREFIX.length);
}
