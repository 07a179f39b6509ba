/**
 * The nftables backend: our own table `inet divert` (see nftables.ts for its layout), used where
 * the kernel has the native `queue` statement (CONFIG_NFT_QUEUE; `detectBackend().nftQueue`).
 *
 * - install: one `nft -e -a -f -` transaction loads the table (idempotent) and the rules; the
 *   echoed `# handle N` of each rule and the table's handle go into its spec
 *   (`<rule body> # table T handle N`).
 * - list: `nft -j -n list table inet divert` (numeric, so protocol names do not depend on
 *   /etc/protocols), rules rebuilt from their expressions (nftables_json.ts).
 * - remove: `delete rule inet divert <chain> handle N` for each rule still present with the same
 *   chain, handle, owner comment and kind, in one transaction.
 * - tidy: when no rule remains, `delete counter …in_use; delete table …` in one transaction;
 *   the kernel refuses it (EBUSY) if a rule referencing the guard counter appeared meanwhile.
 *
 * NB: rule handles restart when the table is recreated, so a handle alone could name another
 * rule after a flush + tidy: the table handle (which the kernel never reuses in a namespace),
 * the owner comment and kind must agree too.
 * @module
 */
import type { FirewallBackend, InstallEntry, InstalledRule, ListedRule } from './backend.js';
import { FAMILIES } from './backend.js';
import type { Plan } from './runner.js';
import { CHAIN_HOOK, HOOK_CHAIN, HOOKS, type Family, type NetfilterHook, type Owner } from './rule.js';
import { NFT_GUARD, NFT_HOOK, NFT_TABLE, nftDefragBody, nftRuleBody, nftTableText } from './nftables.js';
import { parseNftExpr, parseNftTable, type NftRule, type NftTable } from './nftables_json.js';
import { ownerAlive, parseOwnerTag } from './owner.js';
import { FirewallError } from '../errors.js';

export interface NftablesBackendOptions {
  /** Liveness check for owners (tests replace it). */
  readonly alive?: (owner: Owner) => boolean;
  /**
   * @internal Replaces every `queue` statement with this verdict (e.g. `accept`), for tests of
   * everything else on kernels without CONFIG_NFT_QUEUE. Not for production use.
   */
  readonly _verdict?: string;
}

interface Planned {
  readonly kind: 'divert' | 'defrag';
  readonly family: Family;
  readonly hook: NetfilterHook;
  readonly body: string;
  readonly position?: number;
}

const NFT = 'nft';
const TABLE = `inet ${NFT_TABLE}`;
/** `list table` of a table that does not exist. */
const MISSING = /Error: No such file or directory/;
/** A `delete rule … handle N` whose rule is gone. */
const GONE = /Could not process rule: No such file or directory/;

export class NftablesBackend implements FirewallBackend {
  readonly name = 'nftables' as const;
  readonly #alive: (owner: Owner) => boolean;
  readonly #verdict: string | undefined;

  constructor(options: NftablesBackendOptions = {}) {
    this.#alive = options.alive ?? ((o) => ownerAlive(o));
    this.#verdict = options._verdict;
    if (this.#verdict !== undefined && !/^(accept|drop|continue)$/.test(this.#verdict)) throw new TypeError('_verdict must be accept, drop or continue');
  }

  /** The table as JSON; undefined when it does not exist. */
  *#read(): Plan<NftTable | undefined> {
    try {
      const out = yield { file: NFT, args: ['-j', '-n', 'list', 'table', 'inet', NFT_TABLE] };
      return parseNftTable(out.stdout, NFT_TABLE);
    } catch (err) {
      if (err instanceof FirewallError && MISSING.test(err.stderr)) return undefined;
      throw err;
    }
  }

  *install(entries: readonly InstallEntry[]): Plan<InstalledRule[]> {
    const planned = entries.map((e) => this.#plan(e));
    if (planned.length === 0) return [];
    let counts: Map<string, number> | undefined;
    if (planned.some((p) => p.position !== undefined)) {
      const table = yield* this.#read();
      counts = new Map();
      for (const r of table?.rules ?? []) counts.set(r.chain, (counts.get(r.chain) ?? 0) + 1);
    }
    const lines = planned.map((p) => {
      const chain = NFT_HOOK[p.hook];
      const n = counts?.get(chain) ?? 0;
      counts?.set(chain, n + 1);
      const at = p.position !== undefined && p.position - 1 < n ? `insert rule ${TABLE} ${chain} index ${p.position - 1}` : `add rule ${TABLE} ${chain}`;
      return `${at} ${p.body}`;
    });
    const args = ['-e', '-a', '-f', '-'];
    const out = yield { file: NFT, args, input: `${nftTableText()}${lines.join('\n')}\n` };
    const handles = echoedHandles(out.stdout);
    const bad = handles.length !== planned.length || planned.some((p, i) => handles[i]?.chain !== NFT_HOOK[p.hook]);
    if (bad) {
      const msg = `nft ${args.join(' ')} echoed ${handles.length} rule handles for ${planned.length} rules`;
      throw new FirewallError(msg, { backend: 'nftables', argv: [NFT, ...args], exitCode: 0, stderr: out.stdout.slice(0, 2000) });
    }
    const tableId = yield* this.#tableOf(out.stdout, planned, handles);
    return planned.map((p, i) => ({ kind: p.kind, family: p.family, hook: p.hook, spec: `${p.body} # table ${tableId} handle ${handles[i]?.handle ?? 0}` }));
  }

  /**
   * Handle of the table our rules went into: echoed when our transaction created it, else read
   * back (our rules keep the table alive until removed) and checked to hold our rule handles;
   * -1 (never matches) when they are already gone.
   */
  *#tableOf(echo: string, planned: readonly Planned[], handles: ReadonlyArray<{ chain: string; handle: number }>): Plan<number> {
    const created = /^add table inet (\S+) # handle (\d+)\s*$/m.exec(echo);
    if (created && created[1] === NFT_TABLE) return Number(created[2]);
    const table = yield* this.#read();
    const ours = planned.every((p, i) => table?.rules.some((r) => r.chain === handles[i]?.chain && r.handle === handles[i]?.handle && `comment "${r.comment ?? ''}"` === /comment "[^"]*"$/.exec(p.body)?.[0]));
    return table && ours ? table.handle : -1;
  }

  /** Validates an entry and renders its rule body. */
  #plan(e: InstallEntry): Planned {
    if (e.kind === 'defrag') return { kind: 'defrag', family: e.family, hook: 'PREROUTING', body: nftDefragBody(e.family, e.tag) };
    if (e.position !== undefined && (!Number.isInteger(e.position) || e.position < 1)) throw new RangeError(`Position must be an integer ≥ 1, got ${e.position}`);
    const body = nftRuleBody(e.rule, e.tag, this.#verdict);
    return { kind: 'divert', family: e.rule.family, hook: CHAIN_HOOK[e.rule.chain], body, ...(e.position === undefined ? {} : { position: e.position }) };
  }

  *list(families: readonly Family[] = FAMILIES): Plan<ListedRule[]> {
    const table = yield* this.#read();
    const out: ListedRule[] = [];
    for (const hook of HOOKS) {
      table?.rules.filter((r) => r.chain === NFT_HOOK[hook]).forEach((r, i) => {
        const listed = this.#listed(r, hook, i + 1, table.handle);
        if (listed && families.includes(listed.family)) out.push(listed);
      });
    }
    return out;
  }

  /** One rule as a ListedRule; undefined for a foreign rule (no queue, ct state or owner tag). */
  #listed(r: NftRule, hook: NetfilterHook, position: number, tableId: number): ListedRule | undefined {
    const p = parseNftExpr(r.expr);
    const owner = r.comment === undefined ? undefined : parseOwnerTag(r.comment);
    if ((p.kind === 'other' && !owner) || !p.family) return undefined;
    const kind: ListedRule['kind'] = p.kind === 'defrag' ? 'defrag' : 'divert';
    const chain = HOOK_CHAIN[hook];
    const rule = p.rule && { ...p.rule, chain, ...(owner ? { owner } : {}) };
    let body = r.comment === undefined ? '' : `comment "${r.comment}"`;
    try {
      if (owner && rule) body = nftRuleBody(rule, r.comment ?? '');
      else if (owner && kind === 'defrag') body = nftDefragBody(p.family, r.comment ?? '');
    } catch {
      // Not expressible as our own text: keep the comment-only body (remove matches on it).
    }
    const base = { kind, family: p.family, hook, spec: `${body} # table ${tableId} handle ${r.handle}`, chain, position, packets: p.packets, bytes: p.bytes };
    const owned = owner ? { owner, stale: !this.#alive(owner) } : { stale: false };
    return { ...base, ...owned, ...(rule ? { rule } : {}) };
  }

  *remove(rules: readonly InstalledRule[]): Plan<number> {
    if (rules.length === 0) return 0;
    for (let attempt = 1; ; attempt++) {
      const table = yield* this.#read();
      if (!table) return 0;
      const handles = new Set<number>();
      const lines: string[] = [];
      for (const r of rules) {
        const id = specId(r.spec);
        const chain = NFT_HOOK[r.hook];
        if (id?.table !== undefined && id.table !== table.handle) continue; // the table was recreated: handles restarted
        const cur = id && table.rules.find((x) => x.chain === chain && x.handle === id.handle);
        if (!id || !cur || handles.has(id.handle) || (cur.comment ?? '') !== id.comment) continue;
        if ((parseNftExpr(cur.expr).kind === 'defrag') !== (r.kind === 'defrag')) continue;
        handles.add(id.handle);
        lines.push(`delete rule ${TABLE} ${chain} handle ${id.handle}`);
      }
      if (lines.length === 0) return 0;
      try {
        yield { file: NFT, args: ['-f', '-'], input: `${lines.join('\n')}\n` };
        return lines.length;
      } catch (err) {
        // A rule vanished between list and delete (another remover): read again, once.
        if (attempt >= 2 || !(err instanceof FirewallError) || !GONE.test(err.stderr)) throw err;
      }
    }
  }

  /** Deletes the table when no rule is left in it (families do not matter: one inet table). */
  *tidy(_families?: readonly Family[]): Plan<void> {
    const table = yield* this.#read();
    if (!table || table.rules.length > 0 || !table.objects.includes(`counter ${NFT_GUARD}`)) return;
    try {
      yield { file: NFT, args: ['-f', '-'], input: `delete counter ${TABLE} ${NFT_GUARD}\ndelete table ${TABLE}\n` };
    } catch (err) {
      // Best effort: a rule was added meanwhile (EBUSY) or another tidy won; the table stays.
      if (!(err instanceof FirewallError)) throw err;
    }
  }
}

/** `add|insert rule inet divert <chain> … # handle N` lines of `nft --echo --handle` output, in order. */
export function echoedHandles(stdout: string): Array<{ chain: string; handle: number }> {
  const out: Array<{ chain: string; handle: number }> = [];
  for (const line of stdout.split('\n')) {
    const m = /^(?:add|insert) rule inet (\S+) (\S+) .*# handle (\d+)\s*$/.exec(line);
    if (m && m[1] === NFT_TABLE) out.push({ chain: m[2] ?? '', handle: Number(m[3]) });
  }
  return out;
}

/**
 * Table handle, rule handle and owner comment of a spec (`<body> # table T handle N`, or the
 * older `<body> # handle N` without a table); undefined when it has no handle.
 */
export function specId(spec: string): { table?: number; handle: number; comment: string } | undefined {
  const h = /# (?:table (-?\d+) )?handle (\d+)$/.exec(spec);
  if (!h) return undefined;
  const c = [...spec.matchAll(/comment "([^"]*)"/g)].at(-1);
  return { ...(h[1] === undefined ? {} : { table: Number(h[1]) }), handle: Number(h[2]), comment: c?.[1] ?? '' };
}
