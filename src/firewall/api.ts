/**
 * The rule lifecycle: add (with a handle that removes), list, delete, flush, sweep.
 * Every call takes `netns` (a namespace NAME: commands run as `ip netns exec <name> …`).
 * @module
 */
import type { FirewallBackend, InstallEntry, InstalledRule, ListedRule } from './backend.js';
import { FAMILIES } from './backend.js';
import { drive, driveSync, execRunner, type CommandRunner } from './runner.js';
import { backendOverride, detectBackend } from './detect.js';
import { IptablesBackend } from './iptables.js';
import { NftablesBackend } from './nftables_backend.js';
import { parseRuleCommand } from './parse.js';
import { validatePosition, validateRule } from './validate_rule.js';
import { cliOwner, currentOwner, ownerTag, sameOwner } from './owner.js';
import { CHAIN_HOOK, type DivertRule, type Family, type Owner } from './rule.js';
import { ruleKey, ruleSpec } from './iptables_text.js';
import { forgetExitCleanup } from './cleanup.js';

export interface FirewallOptions {
  /** Network namespace NAME (as in `ip netns list`); default: the caller's namespace. */
  readonly netns?: string | undefined;
  /** Use this backend instead of the detected one (tests: RecordingBackend / IptablesBackend). */
  readonly backend?: FirewallBackend;
  /** Use this runner instead of executing binaries (tests: RecordingRunner). */
  readonly runner?: CommandRunner;
}

export interface AddOptions extends FirewallOptions {
  /** Default: this process (pid + start time). `'cli'` makes the rule persistent. */
  readonly owner?: Owner | 'cli';
  /** Label appended to the owner tag (1–32 of A-Z a-z 0-9 _ . -). */
  readonly label?: string;
  /** 1-based position in our chain (insert); default append. */
  readonly position?: number;
  /** Also install the defrag rule for the rule's family (seed "IP: always defragment"). */
  readonly alwaysDefragment?: boolean;
}

/** Installed rules that can be removed again, async or (for exit cleanup) sync. */
export interface RuleHandle {
  readonly rules: readonly InstalledRule[];
  readonly owner: Owner;
  readonly removed: boolean;
  /** Deletes the rules (those still present) and tidies empty chains; idempotent. */
  remove(): Promise<number>;
  removeSync(): number;
}

interface Context {
  readonly backend: FirewallBackend;
  readonly runner: CommandRunner;
}

const detected = new Map<string, Promise<FirewallBackend>>();

/** Backend: `DIVERT_FIREWALL_BACKEND` when set, else nftables where the kernel has `queue`, else iptables. */
async function context(o: FirewallOptions): Promise<Context> {
  const runner = o.runner ?? execRunner({ netns: o.netns });
  if (o.backend) return { backend: o.backend, runner };
  const forced = backendOverride();
  const key = `${o.netns ?? ''}\0${forced ?? ''}`;
  let backend = detected.get(key);
  if (!backend) {
    backend = forced === 'nftables'
      ? Promise.resolve(new NftablesBackend())
      : detectBackend({ runner }).then((info) => ((forced ?? info.name) === 'nftables' ? new NftablesBackend() : new IptablesBackend({ flavour: info.flavour })));
    backend.catch(() => detected.delete(key));
    detected.set(key, backend);
  }
  const chosen = await backend;
  const named = chosen.name === 'nftables' && !o.runner ? execRunner({ netns: o.netns, backend: 'nftables' }) : runner;
  return { backend: chosen, runner: named };
}

function resolveOwner(o: AddOptions): Owner {
  if (o.owner === 'cli') return cliOwner(o.label);
  return o.owner ?? currentOwner(o.label);
}

/** Parses text, or validates an object ({@link validateRule}) before any backend sees it. */
function toRule(rule: DivertRule | string, forDelete = false): { rule: DivertRule; position?: number } {
  if (typeof rule !== 'string') {
    validateRule(rule);
    return { rule };
  }
  const cmd = parseRuleCommand(rule);
  if (cmd.op === 'delete' && !forDelete) throw new TypeError('addRule() got a -D rule: use deleteRule()');
  return cmd.position === undefined ? { rule: cmd.rule } : { rule: cmd.rule, position: cmd.position };
}

/**
 * Installs one or more DIVERT rules atomically and returns a handle that removes them.
 * Text goes through the parser, objects through {@link validateRule}, before any backend runs.
 * @throws FilterSyntaxError/RangeError/TypeError for a bad rule; FirewallError when iptables fails.
 * @example const h = await addRule('-A input -p ICMP -j DIVERT 1234'); await h.remove();
 */
export async function addRule(rule: DivertRule | string | ReadonlyArray<DivertRule | string>, options: AddOptions = {}): Promise<RuleHandle> {
  const list = Array.isArray(rule) ? rule : [rule as DivertRule | string];
  const owner = resolveOwner(options);
  const tag = ownerTag(owner);
  const entries: InstallEntry[] = list.map((r) => {
    const { rule: parsed, position } = toRule(r);
    const pos = options.position ?? position;
    if (pos !== undefined) validatePosition(pos);
    return pos === undefined ? { kind: 'divert', rule: parsed, tag } : { kind: 'divert', rule: parsed, tag, position: pos };
  });
  if (options.alwaysDefragment) {
    const fams = new Set(entries.map((e) => (e.kind === 'divert' ? e.rule.family : e.family)));
    for (const family of fams) entries.push({ kind: 'defrag', family, tag });
  }
  const ctx = await context(options);
  const installed = await drive(ctx.backend.install(entries), ctx.runner);
  return makeHandle(ctx, installed, owner);
}

/**
 * Installs only the defrag rule for `family` (conntrack reassembles fragments before our hooks).
 * @example const h = await enableAlwaysDefragment({ family: 'ipv4' });
 */
export async function enableAlwaysDefragment(options: AddOptions & { family?: Family } = {}): Promise<RuleHandle> {
  const owner = resolveOwner(options);
  const ctx = await context(options);
  const entries: InstallEntry[] = [{ kind: 'defrag', family: options.family ?? 'ipv4', tag: ownerTag(owner) }];
  return makeHandle(ctx, await drive(ctx.backend.install(entries), ctx.runner), owner);
}

/**
 * The handle marks itself removed, and leaves exit cleanup, only once the backend's remove
 * succeeded: a failed remove() keeps the rules registered, so a retry or exit cleanup still runs.
 */
function makeHandle(ctx: Context, rules: readonly InstalledRule[], owner: Owner): RuleHandle {
  let removed = false;
  let pending: Promise<number> | undefined;
  const families = [...new Set(rules.map((r) => r.family))];
  const done = (): void => {
    removed = true;
    forgetExitCleanup(handle);
  };
  const handle: RuleHandle = {
    rules,
    owner,
    get removed() {
      return removed;
    },
    remove() {
      if (removed) return Promise.resolve(0);
      pending ??= (async () => {
        try {
          const n = await drive(ctx.backend.remove(rules), ctx.runner);
          done();
          await drive(ctx.backend.tidy(families), ctx.runner);
          return n;
        } finally {
          pending = undefined;
        }
      })();
      return pending;
    },
    removeSync() {
      if (removed) return 0;
      const n = driveSync(ctx.backend.remove(rules), ctx.runner);
      done();
      driveSync(ctx.backend.tidy(families), ctx.runner);
      return n;
    },
  };
  return handle;
}

export interface ListOptions extends FirewallOptions {
  /** Only this family (default both). */
  readonly family?: Family;
}

/** Our rules with counters, owner and stale flag. @example for (const r of await listRules()) … */
export async function listRules(options: ListOptions = {}): Promise<ListedRule[]> {
  const ctx = await context(options);
  return drive(ctx.backend.list(options.family ? [options.family] : FAMILIES), ctx.runner);
}

/** Whose rules `deleteRule` may delete: the CLI's, those of dead processes, those of running ones. */
export type DeleteOwner = 'cli' | 'stale' | 'live';

export interface DeleteOptions extends FirewallOptions {
  /** Only rules of exactly this owner. */
  readonly owner?: Owner;
  /** Only rules whose owner tag carries this label. */
  readonly label?: string;
  /** Kinds of owner that may lose a rule, in order of preference; default `['cli', 'stale', 'live']`. */
  readonly owners?: readonly DeleteOwner[];
}

function ownerKind(l: ListedRule): DeleteOwner {
  return l.owner?.kind === 'cli' ? 'cli' : l.stale || !l.owner ? 'stale' : 'live';
}

/**
 * Deletes one of our rules equal to `rule` (same hook, matches and target), as ipchains -D did:
 * a CLI rule first, else a stale one, else one of a running process, as `owners` allows (the
 * CLI passes `['cli', 'stale']` unless --any-owner). A rule we cannot rebuild is equal when its
 * saved text is the one we would write. Returns false when none matched.
 */
export async function deleteRule(rule: DivertRule | string, options: DeleteOptions = {}): Promise<boolean> {
  const wanted = toRule(rule, true).rule;
  const hook = CHAIN_HOOK[wanted.chain];
  const key = ruleKey(wanted, hook);
  const ctx = await context(options);
  const listed = await drive(ctx.backend.list([wanted.family]), ctx.runner);
  const equal = (l: ListedRule): boolean =>
    l.rule ? ruleKey(l.rule, l.hook) === key : l.kind === 'divert' && l.hook === hook && l.owner !== undefined && words(l.spec) === words(ruleSpec(wanted, ownerTag(l.owner)));
  const allowed = (l: ListedRule): boolean =>
    (!options.owner || (l.owner !== undefined && sameOwner(l.owner, options.owner))) && (options.label === undefined || l.owner?.label === options.label);
  const candidates = listed.filter((l) => equal(l) && allowed(l));
  let hit: ListedRule | undefined;
  for (const kind of options.owners ?? ['cli', 'stale', 'live']) hit ??= candidates.find((l) => ownerKind(l) === kind);
  if (!hit) return false;
  const n = await drive(ctx.backend.remove([hit]), ctx.runner);
  await drive(ctx.backend.tidy([wanted.family]), ctx.runner);
  return n > 0;
}

const words = (spec: string): string => spec.trim().split(/\s+/).join(' ');

/** Removes our listed rules that pass `keep` and tidies; returns how many were removed. */
async function removeWhere(options: ListOptions, pick: (r: ListedRule) => boolean): Promise<number> {
  const ctx = await context(options);
  const families = options.family ? [options.family] : FAMILIES;
  const listed = (await drive(ctx.backend.list(families), ctx.runner)).filter(pick);
  const n = listed.length === 0 ? 0 : await drive(ctx.backend.remove(listed), ctx.runner);
  await drive(ctx.backend.tidy(families), ctx.runner);
  return n;
}

/** Removes all our rules (of one owner when given), then our chains and jumps. Host rules stay. */
export function flushRules(options: ListOptions & { owner?: Owner } = {}): Promise<number> {
  const { owner } = options;
  return removeWhere(options, (r) => !owner || (r.owner !== undefined && sameOwner(r.owner, owner)));
}

/** Removes rules whose owner process is gone (never CLI rules); returns the count. */
export function sweepStaleRules(options: ListOptions = {}): Promise<number> {
  return removeWhere(options, (r) => r.stale);
}
