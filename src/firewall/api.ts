/**
 * The rule lifecycle: add (with a handle that removes), list, delete, flush, sweep — all over
 * nf_tables netlink, no binary involved. Every call takes `netns` (a namespace name as `ip
 * netns` shows it, or a path); the default is this process's namespace.
 *
 * - A program's own rules (the default) go into its table `inet divert-<pid>`, owned by its
 *   nf_tables socket: they die with the program, SIGKILL included, and nobody else can change
 *   them.
 * - Persistent rules (`persistent: true`, and every `divert rules add`) go into the shared
 *   table `inet divert` and stay until deleted, flushed, or — when their owner is a process
 *   that is gone — swept.
 * @module
 */
import { NftConnection } from '../nftables/conn.js';
import { Netns } from '../_native/netns.js';
import { withSharedConnection } from './shared_connection.js';
import { DivertError } from '../errors.js';
import { capabilities } from './kernel.js';
import { OwnedTable } from './owned.js';
import { checkPriority, ownedTable, SHARED_TABLE, tablePid } from './layout.js';
import { deleteRows, installRules, listDivertRules, sameRule, type InstallEntry, type InstalledRule, type ListedRule, type SniffSpec } from './ruleset.js';
import { parseRuleCommand } from './parse.js';
import { validatePosition, validateRule } from './validate_rule.js';
import { cliOwner, currentOwner, ownerAlive, sameOwner } from './owner.js';
import { NFPROTO } from '../netlink/netfilter.js';
import type { DivertRule, Family, Owner, PortRange } from './rule.js';
import { lowerFilter, type LoweredFilter } from '../filter/lower_nft.js';
import { parseFilter } from '../filter/check.js';
import { formatFilter } from '../filter/format.js';
import type { FilterAst } from '../filter/ast.js';
import { forgetExitCleanup } from './cleanup.js';

export type { InstallEntry, InstalledRule, ListedRule } from './ruleset.js';

/** Options every firewall call takes: where it acts. */
export interface FirewallOptions {
  /** Network namespace: a name as in `ip netns list`, or a path; default this process's. */
  readonly netns?: string | undefined;
}

/** Options of {@link addRule}. */
export interface AddOptions extends FirewallOptions {
  /**
   * Keep the rules after this process ends (the shared table `inet divert`); default false: the
   * rules live in this process's own table and die with it.
   */
  readonly persistent?: boolean | undefined;
  /** Default: this process (pid + start time). `'cli'` makes the rule persistent, owned by "cli". */
  readonly owner?: Owner | 'cli' | undefined;
  /** Label appended to the owner tag (1–32 of A-Z a-z 0-9 _ . -). */
  readonly label?: string | undefined;
  /** 1-based position in the chain (insert); default append. */
  readonly position?: number | undefined;
  /** Also install the defrag rule for the rules' families (seed "IP: always defragment"). */
  readonly alwaysDefragment?: boolean | undefined;
  /** WinDivert's priority: higher sees packets first (−30000…30000, default 0). */
  readonly priority?: number | undefined;
  /**
   * Sniff instead of divert (WinDivert's SNIFF, ipfw's `tee`): the rules end in `log group
   * <port>` — the kernel hands a copy of each matching packet to NFLOG group <port> and the
   * packet goes on at once — instead of queueing it. One port, not a range.
   */
  readonly sniff?: SniffSpec | boolean | undefined;
}

/** Options of {@link RuleHandle.remove} and {@link RuleHandle.removeSync}. */
export interface RemoveOptions {
  /**
   * Keep this process's table (its base chains on the hooks) even when these were its last
   * rules. Deleting the table unregisters its hooks, and the kernel then drops every packet still
   * queued from them: keep it while packets those rules diverted wait for verdicts, then
   * {@link releaseOwnedTable}. Default false. (Persistent rules ignore it.)
   */
  readonly keepTable?: boolean | undefined;
}

/** Installed rules that can be removed again, async or (for exit cleanup) sync. */
export interface RuleHandle {
  /** The installed rules, in the order given. */
  readonly rules: readonly InstalledRule[];
  /** The owner recorded in each rule. */
  readonly owner: Owner;
  /** True when the rules are in the shared table `inet divert` (they outlive this process). */
  readonly persistent: boolean;
  /** True once `remove()` or `removeSync()` has deleted them (a failed remove leaves it false). */
  readonly removed: boolean;
  /**
   * Deletes the rules (those still present); idempotent. Resolves to how many it deleted. When
   * they were this process's last rules in its table, the table goes too (see `keepTable`).
   */
  remove(options?: RemoveOptions): Promise<number>;
  /** `remove()` for exit-time cleanup (blocking, bounded). */
  removeSync(options?: RemoveOptions): number;
}

/** Parses text, or validates an object, before anything reaches the kernel. */
function toEntry(rule: DivertRule | string, forDelete = false): { rule: DivertRule; position?: number } {
  if (typeof rule !== 'string') {
    validateRule(rule);
    return { rule };
  }
  const cmd = parseRuleCommand(rule);
  if (cmd.op === 'delete' && !forDelete) throw new TypeError('addRule() got a -D rule: use deleteRule()');
  return cmd.position === undefined ? { rule: cmd.rule } : { rule: cmd.rule, position: cmd.position };
}

/**
 * Installs DIVERT rules atomically (one nf_tables batch) and returns a handle that removes them.
 * @throws {FilterSyntaxError|RangeError|TypeError} for a bad rule or option (nothing installed);
 *   {@link FirewallError} when the kernel refuses; DivertError ERR_DIVERT_NO_KERNEL_SUPPORT.
 * @example const h = await addRule('-A input -p ICMP -j DIVERT 1234'); await h.remove();
 */
export async function addRule(rule: DivertRule | string | ReadonlyArray<DivertRule | string>, options: AddOptions = {}): Promise<RuleHandle> {
  const list = Array.isArray(rule) ? rule : [rule as DivertRule | string];
  const entries: InstallEntry[] = list.map((r) => {
    const { rule: parsed, position } = toEntry(r);
    const pos = options.position ?? position;
    if (pos !== undefined) validatePosition(pos);
    return { kind: 'divert', rule: parsed, position: pos, sniff: sniffSpec(options.sniff) };
  });
  if (options.alwaysDefragment) {
    for (const family of new Set(entries.map((e) => (e.kind === 'divert' ? e.rule.family : e.family)))) entries.push({ kind: 'defrag', family });
  }
  return install(entries, options);
}

/** The sniff option as the install entries take it (undefined: divert). */
function sniffSpec(sniff: SniffSpec | boolean | undefined): SniffSpec | undefined {
  if (sniff === undefined || sniff === false) return undefined;
  const spec = sniff === true ? {} : sniff;
  const n = spec.snaplen;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 0xffff_ffff)) throw new RangeError(`sniff.snaplen must be a positive integer (bytes of each packet copied), got ${String(n)}`);
  return spec;
}

/**
 * Installs only the defrag rule for `family` (conntrack reassembles fragments before divert's
 * chains). @example const h = await enableAlwaysDefragment({ family: 'ipv6' });
 */
export function enableAlwaysDefragment(options: AddOptions & { family?: Family } = {}): Promise<RuleHandle> {
  return install([{ kind: 'defrag', family: options.family ?? 'ipv4' }], options);
}

async function install(entries: InstallEntry[], options: AddOptions): Promise<RuleHandle> {
  const priority = options.priority ?? 0;
  checkPriority(priority);
  const owner = options.owner === 'cli' ? cliOwner(options.label) : options.owner ?? currentOwner(options.label);
  const persistent = options.persistent === true || owner.kind === 'cli';
  const netnsPath = Netns.pathOf(options.netns);
  if (!persistent) {
    const { table, rules } = await OwnedTable.install(netnsPath, entries, owner, priority);
    return ownedHandle(table, rules, owner);
  }
  const rules = await withSharedConnection(netnsPath, async (conn) => installRules(conn, await capabilities(conn, Netns.identity(netnsPath)), { table: SHARED_TABLE, owned: false, priority, owner }, entries));
  return handle(rules, owner, true, () => removePersistent(netnsPath, rules), () => removePersistentSync(netnsPath, rules));
}

/** The handle of rules in this process's own table: removing them lets the table go unless asked to keep it. */
function ownedHandle(table: OwnedTable, rules: InstalledRule[], owner: Owner): RuleHandle {
  return handle(rules, owner, false, async (o) => {
    await table.remove(rules);
    if (!o?.keepTable) await table.release();
  }, (o) => {
    table.removeSync(rules);
    if (!o?.keepTable) void table.release();
  });
}

function handle(rules: InstalledRule[], owner: Owner, persistent: boolean, remove: (o?: RemoveOptions) => Promise<unknown>, removeSync: (o?: RemoveOptions) => unknown): RuleHandle {
  let removed = false;
  let pending: Promise<number> | undefined;
  const done = (): number => {
    removed = true;
    forgetExitCleanup(h); // in case the program registered it with installExitCleanup()
    return rules.length;
  };
  const h: RuleHandle = {
    rules,
    owner,
    persistent,
    get removed() {
      return removed;
    },
    remove(options) {
      if (removed) return Promise.resolve(0);
      // Marked removed only once it worked: a failed remove() can be retried.
      pending ??= remove(options).then(done).finally(() => (pending = undefined));
      return pending;
    },
    removeSync(options) {
      if (removed) return 0;
      removeSync(options);
      return done();
    },
  };
  return h;
}

/**
 * Deletes this process's own table in the namespace when it holds no rule any more (see
 * {@link RemoveOptions.keepTable}); packets still queued from its hooks are dropped by the kernel.
 * @example await h.remove({ keepTable: true }); await sock.close(); releaseOwnedTable();
 */
export function releaseOwnedTable(netns?: string): Promise<void> {
  return OwnedTable.release(Netns.pathOf(netns));
}

/**
 * Marks the namespace as one where a divert socket of this process may hold queued packets:
 * until the returned release is called, this process's table there stays (its hooks too) and
 * deleting persistent rules leaves the shared table's chains, since the kernel drops every
 * packet queued in a namespace when a base chain there goes. Release after the socket's queue
 * is closed; resolves once the table (if empty) is gone.
 */
export function holdNamespace(netns?: string): () => Promise<void> {
  return OwnedTable.hold(Netns.pathOf(netns));
}

/** Deletes persistent rules still present with the same handle, text and owner (handles restart when the table is made again). */
async function removePersistent(netnsPath: string | undefined, rules: readonly InstalledRule[]): Promise<void> {
  await withSharedConnection(netnsPath, async (conn) => {
    const rows = await listDivertRules(conn, ownerAlive, SHARED_TABLE);
    const mine = rows.filter((row) => rules.some((r) => r.table === row.table && r.handle === row.handle && r.text === row.text && row.owner !== undefined && sameOwner(row.owner, r.owner)));
    await deleteRows(conn, mine, !OwnedTable.held(netnsPath));
  });
}

/** Exit-time form: deletes by handle without reading back first. */
function removePersistentSync(netnsPath: string | undefined, rules: readonly InstalledRule[]): void {
  const conn = NftConnection.open({ netnsPath });
  try {
    const b = conn.batch();
    for (const r of rules) b.deleteRule({ family: NFPROTO.NFPROTO_INET, table: r.table, chain: r.chain, handle: r.handle });
    conn.commitSync(b);
  } finally {
    conn.close();
  }
}


/** Options of {@link addFilter}; `port` is required. */
export interface FilterOptions extends FirewallOptions {
  /** The divert port (or range) the filter's packets go to. */
  readonly port: number | PortRange;
  /** No listener on the port: let packets pass instead of dropping them. */
  readonly passThrough?: boolean | undefined;
  /** WinDivert's priority: higher sees packets first (−30000…30000, default 0). */
  readonly priority?: number | undefined;
  /** Log copies to NFLOG group `port` instead of queueing (see {@link AddOptions.sniff}). */
  readonly sniff?: SniffSpec | boolean | undefined;
}

/** The rules a filter compiled to, installed in this process's table. */
export interface FilterHandle extends RuleHandle {
  /** The filter's rules and sets, and what the kernel cannot decide (see `explain()`). */
  readonly lowered: LoweredFilter;
  /** Some packets the rules queue may not match: user space must decide (compileFilter().match()). */
  readonly residual: boolean;
}

let filterSets = 0;

/**
 * Compiles a WinDivert filter to nf_tables rules and installs them in this process's own table,
 * queueing to `port`: only packets the rules match reach user space. Where the kernel can only
 * over-approximate (`residual`), the program must decide with `compileFilter(text).match()`.
 * Packets divert injected are never diverted again, unless the filter itself tests `impostor`.
 * @throws {FilterSyntaxError} for a bad filter; {@link FirewallError} when the kernel refuses.
 * @example const h = await addFilter('outbound and tcp.DstPort == 80', { port: 7 });
 */
export async function addFilter(filter: string | FilterAst, options: FilterOptions): Promise<FilterHandle> {
  const ast = typeof filter === 'string' ? parseFilter(filter) : filter;
  const text = formatFilter(ast);
  const priority = options.priority ?? 0;
  checkPriority(priority);
  const port = options.port;
  const ports = typeof port === 'number' ? { first: port, last: port } : port;
  validateRule({ chain: 'input', family: 'ipv4', port, passThrough: options.passThrough ?? false });
  const sniff = sniffSpec(options.sniff);
  const lowered = lowerFilter(ast, { table: ownedTable(process.pid), setPrefix: `f${++filterSets}_` });
  const skipInjected = !/\bimpostor\b/.test(text);
  const entries: InstallEntry[] = lowered.rules.map((r) => ({
    kind: 'filter', filter: text, hook: r.hook, family: r.family, exprs: r.exprs, port: ports.first === ports.last ? ports.first : ports,
    passThrough: options.passThrough ?? false, skipInjected, sets: lowered.sets.filter((s) => r.sets.includes(s.set.name)), sniff,
  }));
  const owner = currentOwner();
  const netnsPath = Netns.pathOf(options.netns);
  const { table, rules } = await OwnedTable.install(netnsPath, entries, owner, priority);
  return Object.assign(ownedHandle(table, rules, owner), { lowered, residual: lowered.residual });
}

/** Options of {@link listRules}, {@link flushRules} and {@link sweepStaleRules}. */
export interface ListOptions extends FirewallOptions {
  /** Only this family (default both). */
  readonly family?: Family | undefined;
  /** Liveness of owners (tests replace it). */
  readonly alive?: ((owner: Owner) => boolean) | undefined;
}

/** divert's rules in the namespace: persistent ones and every running program's own. @example for (const r of await listRules()) … */
export function listRules(options: ListOptions = {}): Promise<ListedRule[]> {
  return withSharedConnection(Netns.pathOf(options.netns), async (conn) => {
    const rows = await listDivertRules(conn, options.alive ?? ownerAlive);
    return options.family ? rows.filter((r) => r.family === options.family || r.family === 'inet') : rows;
  });
}

/** Options of {@link deleteRule}: which rules may be deleted. */
export interface DeleteOptions extends FirewallOptions {
  /** Only rules of exactly this owner. */
  readonly owner?: Owner | undefined;
  /** Only rules whose owner tag carries this label. */
  readonly label?: string | undefined;
}

/**
 * Deletes one persistent rule: by its row id (`divert:12`), or the first equal to `rule` (same
 * hook, matches and target) — a CLI rule first, else a stale one, else one a program made
 * persistent. A program's own table (`divert-<pid>`) is that program's: the kernel refuses
 * anyone else, and its rules go when it ends.
 * @returns false when no such rule is in the shared table.
 * @throws {DivertError} ERR_DIVERT_RULE_NOT_OURS for a row of a running program's table.
 */
export async function deleteRule(rule: DivertRule | string, options: DeleteOptions = {}): Promise<boolean> {
  const id = typeof rule === 'string' ? /^(divert(?:-\d+)?):(\d+)$/.exec(rule.trim()) : null;
  const wanted = id ? undefined : toEntry(rule, true).rule;
  const netnsPath = Netns.pathOf(options.netns);
  return withSharedConnection(netnsPath, async (conn) => {
    // By ID, that row's table only; by rule, persistent rules only: the shared table.
    const rows = await listDivertRules(conn, ownerAlive, id ? id[1] : SHARED_TABLE);
    if (id) {
      const row = rows.find((r) => r.id === rule.toString().trim());
      if (row && !row.persistent) throw ownedElsewhere(row);
      return row ? (await deleteRows(conn, [row], !OwnedTable.held(netnsPath))) > 0 : false;
    }
    const allowed = (r: ListedRule): boolean =>
      r.persistent && (!options.owner || (r.owner !== undefined && sameOwner(r.owner, options.owner))) && (options.label === undefined || r.owner?.label === options.label);
    const equal = rows.filter((r) => allowed(r) && sameRule(r, wanted!));
    const hit = equal.find((r) => r.owner?.kind === 'cli') ?? equal.find((r) => r.stale) ?? equal[0];
    return hit ? (await deleteRows(conn, [hit], !OwnedTable.held(netnsPath))) > 0 : false;
  });
}

function ownedElsewhere(row: ListedRule): DivertError {
  const pid = tablePid(row.table);
  return new DivertError(`Rule ${row.id} is in the table of running program ${pid}: it goes when that program closes its divert socket or exits (the kernel lets no other process change it)`, 'ERR_DIVERT_RULE_NOT_OURS');
}

/** Removes persistent rules that pass `pick` (one batch); returns how many. */
function removeWhere(options: ListOptions, pick: (r: ListedRule) => boolean): Promise<number> {
  const netnsPath = Netns.pathOf(options.netns);
  return withSharedConnection(netnsPath, async (conn) => {
    const rows = (await listDivertRules(conn, options.alive ?? ownerAlive, SHARED_TABLE)).filter((r) => r.persistent && (!options.family || r.family === options.family || r.family === 'inet'));
    return deleteRows(conn, rows.filter(pick), !OwnedTable.held(netnsPath));
  });
}

/** Removes every persistent rule (of one owner when given). Running programs' own tables are theirs and stay. */
export function flushRules(options: ListOptions & { owner?: Owner | undefined } = {}): Promise<number> {
  const { owner } = options;
  return removeWhere(options, (r) => !owner || (r.owner !== undefined && sameOwner(r.owner, owner)));
}

/** Removes persistent rules whose owner process is gone (never CLI rules); returns the count. */
export function sweepStaleRules(options: ListOptions = {}): Promise<number> {
  return removeWhere(options, (r) => r.stale);
}
