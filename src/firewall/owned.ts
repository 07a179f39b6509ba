/**
 * The table of the rules this process installs for itself, one per network namespace:
 * `inet divert-<pid>`, created with NFT_TABLE_F_OWNER by an nf_tables socket the process keeps
 * open. The kernel deletes the table when that socket closes — on close(), on exit, on SIGKILL —
 * so these rules can never outlive the program, and no other process can change them (EPERM).
 *
 * Handles share the table with a count. Removing rules deletes only the rules: the table and its
 * base chains stay, because unregistering a hook makes the kernel drop every packet queued in the
 * namespace (nf_queue_nf_hook_drop → nfqnl_nf_hook_drop flushes every queue) — packets the
 * program holds would be lost. `release()` closes the socket, which takes the table with it, once
 * the table has no rules left and no divert socket of this process is bound in the namespace
 * (`hold()`: a socket holds from its bind until its queue is closed).
 * @module
 */
import { Netns } from '../_native/netns.js';
import { NftConnection } from '../nftables/conn.js';
import type { Capabilities } from './kernel.js';
import { capabilities } from './kernel.js';
import { ownedTable } from './layout.js';
import { installRules, type InstallEntry, type InstalledRule } from './ruleset.js';
import type { Owner } from './rule.js';
import { NFPROTO } from '../netlink/netfilter.js';

const INET = NFPROTO.NFPROTO_INET;

/** Open owned tables of this process by namespace identity ('' = its own namespace): a name, a
 * /proc path and a pinned path of one namespace find the same table. */
const TABLES = new Map<string, Promise<OwnedTable>>();
/** Tables whose socket is being closed, by the same key: the next one waits for the old to go. */
const CLOSING = new Map<string, Promise<void>>();
/**
 * Bound divert sockets of this process, by namespace key. Removing a base chain (as closing the
 * table does) makes the kernel drop every packet queued anywhere in the namespace
 * (nfqnl_nf_hook_drop), so while a socket here may hold packets the table stays, rules or not.
 */
const HOLDS = new Map<string, number>();

export class OwnedTable {
  readonly netnsPath: string | undefined;
  readonly #key: string;
  readonly name = ownedTable(process.pid);
  #conn: NftConnection;
  #caps: Capabilities;
  /** Rules installed and not removed yet. */
  #live = 0;
  /** The chains this table has (the table exists once one does): only its owner changes it. */
  #chains = new Set<string>();
  #closed = false;
  /** The last change queued: changes run one at a time (two installs would both add a new
   * chain both found missing, and one connection runs one dump at a time). */
  #tail: Promise<unknown> = Promise.resolve();
  /** Settles when the socket is closed and the kernel has deleted the table. */
  #released: Promise<void> | undefined;

  private constructor(netnsPath: string | undefined, key: string, conn: NftConnection, caps: Capabilities) {
    this.netnsPath = netnsPath;
    this.#key = key;
    this.#conn = conn;
    this.#caps = caps;
  }

  /** This process's table in the namespace (opened on first use, shared afterwards). */
  private static acquire(netnsPath: string | undefined): Promise<OwnedTable> {
    const key = Netns.identity(netnsPath);
    let t = TABLES.get(key);
    if (!t) {
      t = (async () => {
        await CLOSING.get(key);
        const conn = NftConnection.open({ netnsPath });
        try {
          return new OwnedTable(netnsPath, key, conn, await capabilities(conn, key));
        } catch (err) {
          conn.close();
          throw err;
        }
      })();
      t.catch(() => TABLES.delete(key));
      TABLES.set(key, t);
    }
    return t;
  }

  /**
   * Installs `entries` (one batch) owned by `owner` at divert `priority` in this process's table
   * of the namespace, opening it when needed.
   * @returns the table (for removing them) and the installed rules.
   */
  static async install(netnsPath: string | undefined, entries: readonly InstallEntry[], owner: Owner, priority: number): Promise<{ table: OwnedTable; rules: InstalledRule[] }> {
    for (;;) {
      const table = await OwnedTable.acquire(netnsPath);
      // A table whose last rule went meanwhile is closed: take the fresh one.
      if (table.#closed) continue;
      table.#live += entries.length; // counted at once: a concurrent remove must not close it under us
      try {
        const rules = await table.#serial(() => installRules(table.#conn, table.#caps, { table: table.name, owned: true, priority, owner, known: table.#chains }, entries));
        return { table, rules };
      } catch (err) {
        table.#forget(entries.length);
        throw err;
      }
    }
  }

  /** Deletes `rules` (one batch). The table stays (see the module comment): {@link release} it. */
  async remove(rules: readonly InstalledRule[]): Promise<void> {
    if (this.#closed || rules.length === 0) return;
    await this.#serial(() => {
      const b = this.#conn.batch();
      for (const r of rules) b.deleteRule({ family: INET, table: this.name, chain: r.chain, handle: r.handle });
      return this.#conn.commit(b);
    });
    this.#live -= rules.length;
  }

  /** {@link remove} for exit-time cleanup: blocking, bounded. */
  removeSync(rules: readonly InstalledRule[]): void {
    if (this.#closed || rules.length === 0) return;
    const b = this.#conn.batch();
    for (const r of rules) b.deleteRule({ family: INET, table: this.name, chain: r.chain, handle: r.handle });
    this.#conn.commitSync(b);
    this.#live -= rules.length;
  }

  /**
   * Closes the table's socket — the kernel then deletes the table — when it holds no rule of
   * this process any more and nothing holds the namespace (the kernel drops every packet queued
   * in the namespace as the hooks go).
   */
  release(): Promise<void> {
    this.#forget(0);
    return this.#released ?? Promise.resolve();
  }

  /**
   * Keeps this process's table in the namespace (once it exists) while the caller may hold
   * queued packets there. Returns the release: when the last hold goes and the table has no
   * rule left, it is closed; resolves when it is gone (or at once when it stays).
   */
  static hold(netnsPath: string | undefined): () => Promise<void> {
    const key = Netns.identity(netnsPath);
    HOLDS.set(key, (HOLDS.get(key) ?? 0) + 1);
    let held = true;
    return async () => {
      if (!held) return;
      held = false;
      const left = (HOLDS.get(key) ?? 1) - 1;
      if (left > 0) HOLDS.set(key, left);
      else HOLDS.delete(key);
      if (left === 0) await OwnedTable.release(netnsPath);
    };
  }

  /** Whether a socket of this process is bound in the namespace (see {@link hold}). */
  static held(netnsPath: string | undefined): boolean {
    return (HOLDS.get(Netns.identity(netnsPath)) ?? 0) > 0;
  }

  /**
   * Releases this process's table in the namespace, if it has one, it is empty and nothing
   * holds it; resolves when it is gone (or at once when it stays).
   */
  static async release(netnsPath: string | undefined): Promise<void> {
    const t = await TABLES.get(Netns.identity(netnsPath))?.catch(() => undefined);
    await t?.release();
  }

  /** Runs `change` after every change queued before it. */
  #serial<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(change);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #forget(n: number): void {
    this.#live -= n;
    if (this.#live > 0 || this.#closed || (HOLDS.get(this.#key) ?? 0) > 0) return;
    // Nothing left: closing the owning socket makes the kernel delete the table. close(2) runs
    // on the threadpool (the kernel unregisters the hooks meanwhile, waiting for RCU); a new
    // table in this namespace waits for it (acquire), the name being the same.
    this.#closed = true;
    TABLES.delete(this.#key);
    const released = this.#conn.closeAsync();
    this.#released = released;
    CLOSING.set(this.#key, released);
    void released.then(() => {
      if (CLOSING.get(this.#key) === released) CLOSING.delete(this.#key);
    });
  }
}
