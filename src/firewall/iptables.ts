/**
 * The iptables backend (nf_tables or legacy flavour): our own chains `DIVERT-<HOOK>` in table
 * mangle, each reached by one jump at position 1 of the built-in chain tagged `divert:jump`, so
 * the host's rules are never edited. Changes go through `iptables-restore -w --noflush` as one
 * transaction per family; state is read with `iptables-save -c -t mangle` (specs + counters).
 *
 * NB: chains are created with `-N`, never declared with `:CHAIN`, because a declaration under
 * --noflush flushes an existing user chain (both flavours): a concurrent creator makes our
 * transaction fail ("Chain already exists") and we read again and retry, instead of wiping its
 * rules; likewise when another process's tidy deleted our empty chain, or a flush deleted a rule
 * we were about to delete, between our save and our restore.
 * @module
 */
import type { FirewallBackend, InstallEntry, InstalledRule, ListedRule } from './backend.js';
import { FAMILIES } from './backend.js';
import type { Plan } from './runner.js';
import { CHAIN_HOOK, HOOKS, ownChain, HOOK_CHAIN, type Family, type NetfilterHook, type Owner } from './rule.js';
import { defragSpec, jumpSpec, parseSpec, ruleKey, ruleSpec } from './iptables_text.js';
import { ownerAlive, ownerTag } from './owner.js';
import { parseSave, type SavedTable } from './_save.js';
import { FirewallError } from '../errors.js';
import { validateRule } from './validate_rule.js';

export type IptablesFlavour = 'nf_tables' | 'legacy';

/**
 * Restore failures caused by a concurrent change between our save and our restore: a chain
 * created or deleted (another process's tidy), a rule gone (another flush), a chain shorter than
 * our insert position. Legacy iptables-restore often says only "line N failed". Read again.
 */
const RACED = /already exists|No chain\/target\/match by that name|does a matching rule exist|Index of insertion too big|line \d+ failed\.?\s*$/im;
const ATTEMPTS = 4;

export interface IptablesBackendOptions {
  /** Detected flavour of the `iptables` binary, reported by `detectBackend()`. */
  readonly flavour?: IptablesFlavour | 'unknown';
  /** Call `iptables-nft*` / `iptables-legacy*` instead of the system default `iptables*`. */
  readonly variant?: 'default' | 'nft' | 'legacy';
  /** Liveness check for owners (tests replace it). */
  readonly alive?: (owner: Owner) => boolean;
}

interface Binaries {
  readonly save: string;
  readonly restore: string;
}

export class IptablesBackend implements FirewallBackend {
  readonly name = 'iptables' as const;
  readonly flavour: IptablesFlavour | 'unknown';
  readonly #bins: Record<Family, Binaries>;
  readonly #alive: (owner: Owner) => boolean;

  constructor(options: IptablesBackendOptions = {}) {
    this.flavour = options.flavour ?? 'unknown';
    const v = options.variant ?? 'default';
    const suffix = v === 'default' ? '' : `-${v}`;
    const bins = (base: string): Binaries => ({ save: `${base}${suffix}-save`, restore: `${base}${suffix}-restore` });
    this.#bins = { ipv4: bins('iptables'), ipv6: bins('ip6tables') };
    this.#alive = options.alive ?? ((o) => ownerAlive(o));
  }

  *#save(family: Family): Plan<SavedTable> {
    const out = yield { file: this.#bins[family].save, args: ['-c', '-t', 'mangle'] };
    return parseSave(out.stdout);
  }

  *#restore(family: Family, lines: readonly string[]): Plan<void> {
    if (lines.length === 0) return;
    yield { file: this.#bins[family].restore, args: ['-w', '10', '--noflush'], input: `*mangle\n${lines.join('\n')}\nCOMMIT\n` };
  }

  *install(entries: readonly InstallEntry[]): Plan<InstalledRule[]> {
    for (const e of entries) if (e.kind === 'divert') validateRule(e.rule);
    const out: InstalledRule[] = [];
    for (const family of FAMILIES) {
      const mine = entries.filter((e) => (e.kind === 'divert' ? e.rule.family : e.family) === family);
      if (mine.length === 0) continue;
      const rules = mine.map((e): InstalledRule & { position?: number } =>
        e.kind === 'divert'
          ? { kind: 'divert', family, hook: CHAIN_HOOK[e.rule.chain], spec: ruleSpec(e.rule, e.tag), ...(e.position ? { position: e.position } : {}) }
          : { kind: 'defrag', family, hook: 'PREROUTING', spec: defragSpec(e.tag) });
      for (let attempt = 1; ; attempt++) {
        const table = yield* this.#save(family);
        try {
          yield* this.#restore(family, [...setupLines(table, rules.map((r) => r.hook)), ...addLines(table, rules)]);
          break;
        } catch (err) {
          if (attempt >= ATTEMPTS || !(err instanceof FirewallError) || !RACED.test(err.stderr)) throw err;
        }
      }
      out.push(...rules.map(({ kind, family: f, hook, spec }) => ({ kind, family: f, hook, spec })));
    }
    return out;
  }

  *list(families: readonly Family[] = FAMILIES): Plan<ListedRule[]> {
    const out: ListedRule[] = [];
    for (const family of families) {
      const table = yield* this.#save(family);
      for (const hook of HOOKS) {
        const inChain = table.rules.filter((r) => r.chain === ownChain(hook));
        inChain.forEach((saved, i) => {
          const p = parseSpec(saved.spec, hook, family);
          if (p.kind !== 'divert' && p.kind !== 'defrag' && p.kind !== 'raw') return;
          const base = { kind: p.kind === 'defrag' ? p.kind : 'divert' as const, family, hook, spec: saved.spec, chain: HOOK_CHAIN[hook], position: i + 1, packets: saved.packets, bytes: saved.bytes };
          const owned = p.owner ? { owner: p.owner, stale: !this.#alive(p.owner) } : { stale: false };
          out.push({ ...base, ...owned, ...(p.kind === 'divert' ? { rule: p.rule } : {}) });
        });
      }
    }
    return out;
  }

  /** Deletes those still present; when one vanished meanwhile (a concurrent flush), reads again. */
  *remove(rules: readonly InstalledRule[]): Plan<number> {
    let removed = 0;
    for (const family of FAMILIES) {
      const wanted = rules.filter((r) => r.family === family).map((r) => identity(r.spec, r.hook, family));
      if (wanted.length === 0) continue;
      for (let attempt = 1; ; attempt++) {
        const lines = deleteLines(yield* this.#save(family), wanted, family);
        try {
          yield* this.#restore(family, lines);
          removed += lines.length;
          break;
        } catch (err) {
          if (attempt >= ATTEMPTS || !(err instanceof FirewallError) || !RACED.test(err.stderr)) throw err;
        }
      }
    }
    return removed;
  }

  *tidy(families: readonly Family[] = FAMILIES): Plan<void> {
    for (const family of families) {
      const table = yield* this.#save(family);
      try {
        yield* this.#restore(family, tidyLines(table));
      } catch {
        // Best effort: someone changed our chains meanwhile; the next tidy will finish the job.
      }
    }
  }
}

/** `-N` for missing chains and `-I <HOOK> 1` for missing jumps. */
function setupLines(table: SavedTable, hooks: readonly NetfilterHook[]): string[] {
  const lines: string[] = [];
  for (const hook of new Set(hooks)) {
    if (!table.chains.has(ownChain(hook))) lines.push(`-N ${ownChain(hook)}`);
    if (jumpsOf(table, hook).length === 0) lines.push(`-I ${hook} 1 ${jumpSpec(hook)}`);
  }
  return lines;
}

/** `-A`, or `-I <chain> <pos>` when pos is within the chain (beyond its end: append, as nftables). */
function addLines(table: SavedTable, rules: ReadonlyArray<InstalledRule & { position?: number }>): string[] {
  const count = new Map<NetfilterHook, number>();
  return rules.map((r) => {
    const n = count.get(r.hook) ?? table.rules.filter((x) => x.chain === ownChain(r.hook)).length;
    count.set(r.hook, n + 1);
    return r.position && r.position <= n ? `-I ${ownChain(r.hook)} ${r.position} ${r.spec}` : `-A ${ownChain(r.hook)} ${r.spec}`;
  });
}

/** `-D` lines for the saved rules whose identity is wanted (each wanted identity once). */
function deleteLines(table: SavedTable, wanted: readonly string[], family: Family): string[] {
  const left = [...wanted];
  const lines: string[] = [];
  for (const hook of HOOKS) {
    for (const saved of table.rules.filter((r) => r.chain === ownChain(hook))) {
      const i = left.indexOf(identity(saved.spec, hook, family));
      if (i < 0) continue;
      left.splice(i, 1);
      lines.push(`-D ${ownChain(hook)} ${saved.spec}`);
    }
  }
  return lines;
}

function jumpsOf(table: SavedTable, hook: NetfilterHook): string[] {
  return table.rules
    .filter((r) => r.chain === hook)
    .filter((r) => {
      const p = parseSpec(r.spec, hook, 'ipv4');
      return p.kind === 'jump' && p.target === ownChain(hook);
    })
    .map((r) => r.spec);
}

/** Deletes jumps to our empty chains and those chains; repairs missing or duplicate jumps. */
function tidyLines(table: SavedTable): string[] {
  const lines: string[] = [];
  for (const hook of HOOKS) {
    const own = ownChain(hook);
    if (!table.chains.has(own)) continue;
    const jumps = jumpsOf(table, hook);
    const used = table.rules.some((r) => r.chain === own);
    if (!used) {
      for (const j of jumps) lines.push(`-D ${hook} ${j}`);
      lines.push(`-X ${own}`);
    } else if (jumps.length === 0) {
      lines.push(`-I ${hook} 1 ${jumpSpec(hook)}`);
    } else {
      for (const j of jumps.slice(1)) lines.push(`-D ${hook} ${j}`);
    }
  }
  return lines;
}

/** Identity of a rule: hook + matches + target + owner, whatever the spelling of its spec; raw rules by their text. */
function identity(spec: string, hook: NetfilterHook, family: Family): string {
  const p = parseSpec(spec, hook, family);
  const tag = p.kind === 'divert' || p.kind === 'defrag' ? (p.owner ? ownerTag(p.owner) : '') : '';
  if (p.kind === 'divert') return `${hook} ${ruleKey(p.rule, hook)} ${tag}`;
  if (p.kind === 'defrag') return `${hook} defrag ${tag}`;
  // raw (owner-tagged, not rebuilt) and anything else: the saved text itself.
  return `${hook} ${spec.trim().split(/\s+/).join(' ')}`;
}
