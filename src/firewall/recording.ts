/**
 * Test doubles: a {@link RecordingRunner} that records every command a backend would run and
 * answers from a script, and a {@link RecordingBackend} that keeps rules in memory.
 * @module
 */
import { FirewallError } from '../errors.js';
import type { FirewallBackend, InstallEntry, InstalledRule, ListedRule } from './backend.js';
import { FAMILIES } from './backend.js';
import type { Command, CommandResult, CommandRunner, Plan } from './runner.js';
import { CHAIN_HOOK, HOOK_CHAIN, type Family, type Owner } from './rule.js';
import { defragSpec, parseSpec, ruleSpec } from './iptables_text.js';

/** Answer for one command: output text, or a failure with this stderr. */
export type ScriptedAnswer = string | { readonly stdout?: string; readonly fail?: string };

/** Records commands; `respond` decides each answer (default: empty output, success). */
export class RecordingRunner implements CommandRunner {
  readonly commands: Command[] = [];
  readonly #respond: (cmd: Command) => ScriptedAnswer;
  constructor(respond: (cmd: Command) => ScriptedAnswer = () => '') {
    this.#respond = respond;
  }
  runSync(cmd: Command): CommandResult {
    this.commands.push(cmd);
    const a = this.#respond(cmd);
    if (typeof a === 'string') return { stdout: a, stderr: '' };
    if (a.fail !== undefined) {
      throw new FirewallError(`${cmd.file} failed: ${a.fail}`, { backend: 'recording', argv: [cmd.file, ...cmd.args], exitCode: 1, stderr: a.fail });
    }
    return { stdout: a.stdout ?? '', stderr: '' };
  }
  run(cmd: Command): Promise<CommandResult> {
    try {
      return Promise.resolve(this.runSync(cmd));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  /** Stdin texts given to restore/`nft -f -` commands, in order. */
  get inputs(): string[] {
    return this.commands.filter((c) => c.input !== undefined).map((c) => c.input ?? '');
  }
}

/** In-memory backend: install/list/remove without any binary; `calls` records the operations. */
export class RecordingBackend implements FirewallBackend {
  readonly name = 'recording' as const;
  readonly calls: string[] = [];
  readonly rules: InstalledRule[] = [];
  readonly #alive: (owner: Owner) => boolean;
  constructor(alive: (owner: Owner) => boolean = () => true) {
    this.#alive = alive;
  }
  // eslint-disable-next-line require-yield
  *install(entries: readonly InstallEntry[]): Plan<InstalledRule[]> {
    const added = entries.map((e): InstalledRule =>
      e.kind === 'divert'
        ? { kind: 'divert', family: e.rule.family, hook: CHAIN_HOOK[e.rule.chain], spec: ruleSpec(e.rule, e.tag) }
        : { kind: 'defrag', family: e.family, hook: 'PREROUTING', spec: defragSpec(e.tag) });
    this.calls.push(`install ${added.length}`);
    this.rules.push(...added);
    return added;
  }
  // eslint-disable-next-line require-yield
  *list(families: readonly Family[] = FAMILIES): Plan<ListedRule[]> {
    this.calls.push('list');
    return this.rules.filter((r) => families.includes(r.family)).map((r, i) => {
      const p = parseSpec(r.spec, r.hook, r.family);
      const owner = p.kind === 'divert' || p.kind === 'defrag' || p.kind === 'raw' ? p.owner : undefined;
      const rule = p.kind === 'divert' ? { rule: p.rule } : {};
      return { ...r, ...rule, chain: HOOK_CHAIN[r.hook], position: i + 1, packets: 0, bytes: 0, ...(owner ? { owner } : {}), stale: owner ? !this.#alive(owner) : false };
    });
  }
  // eslint-disable-next-line require-yield
  *remove(rules: readonly InstalledRule[]): Plan<number> {
    let n = 0;
    for (const r of rules) {
      const i = this.rules.findIndex((x) => x.family === r.family && x.hook === r.hook && x.spec === r.spec);
      if (i >= 0) [n] = [n + 1, this.rules.splice(i, 1)];
    }
    this.calls.push(`remove ${n}`);
    return n;
  }
  // eslint-disable-next-line require-yield
  *tidy(): Plan<void> {
    this.calls.push('tidy');
  }
}
