/**
 * Sandbox: throwaway network namespaces for `demo` and `doctor`. Every namespace made here is
 * deleted by `teardown()`, and as a last resort on process exit; the host's own interfaces and
 * firewall are never touched (every command runs inside one of these namespaces).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { runQuiet, spawnPiped, type RunResult } from './sys.js';
import type { ChildProcess } from 'node:child_process';

export class Sandbox {
  readonly prefix: string;
  readonly names: string[] = [];
  #onExit = (): void => this.teardownSync();

  /** `prefix` must be unique on the host: the pid goes in it. */
  constructor(prefix: string) {
    this.prefix = prefix;
    process.on('exit', this.#onExit);
  }

  /** Creates namespace `<prefix>-<role>` with `lo` up; returns its name. */
  async add(role: string): Promise<string> {
    const name = `${this.prefix}-${role}`;
    const r = await runQuiet('ip', ['netns', 'add', name]);
    if (!r.ok) throw new Error(`ip netns add ${name} failed: ${r.stderr.trim()}`);
    this.names.push(name);
    await this.must(name, 'ip', ['link', 'set', 'lo', 'up']);
    return name;
  }

  /** Runs a command inside namespace `ns` (never throws). */
  exec(ns: string, file: string, args: readonly string[], timeoutMs = 10_000): Promise<RunResult> {
    return runQuiet('ip', ['netns', 'exec', ns, file, ...args], { timeoutMs });
  }

  /** Like exec, but throws with the command's stderr on failure. */
  async must(ns: string, file: string, args: readonly string[]): Promise<string> {
    const r = await this.exec(ns, file, args);
    if (!r.ok) throw new Error(`${file} ${args.join(' ')} (in ${ns}) failed: ${r.stderr.trim().split('\n')[0]}`);
    return r.stdout;
  }

  /** Starts a long-running command in `ns`; it is killed at teardown. */
  spawn(ns: string, file: string, args: readonly string[]): ChildProcess {
    const child = spawnPiped('ip', ['netns', 'exec', ns, file, ...args]);
    this.#children.add(child);
    child.on('close', () => this.#children.delete(child));
    return child;
  }

  #children = new Set<ChildProcess>();

  /** Kills what it started and deletes every namespace (idempotent). */
  async teardown(): Promise<void> {
    for (const c of this.#children) c.kill('SIGKILL');
    this.#children.clear();
    for (const name of this.names.splice(0).reverse()) await runQuiet('ip', ['netns', 'del', name]);
    process.off('exit', this.#onExit);
  }

  /** Leaves the namespaces in place (`divert demo --keep`): neither teardown nor exit deletes them. */
  keep(): void {
    this.names.splice(0);
    process.off('exit', this.#onExit);
  }

  /** The synchronous teardown for exit handlers. */
  teardownSync(): void {
    for (const c of this.#children) c.kill('SIGKILL');
    this.#children.clear();
    for (const name of this.names.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}
