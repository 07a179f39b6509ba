/**
 * RuleSet: the DIVERT rules one socket installs for its lifetime (the seed's -DFIREWALL
 * interceptor). Rules are given without their target (`'-A input -p icmp'`); the socket adds
 * `-j DIVERT <port>` (and `--pass-through` when asked). A rule text that names its target must
 * name this socket's port (`-j DIVERT 99` on a socket bound to 1234 is refused). They live in
 * this process's own nf_tables table, which the kernel deletes when the process ends, however
 * it ends.
 * @module
 */
import { addFilter, addRule, enableAlwaysDefragment, type FilterHandle, type RuleHandle } from '../firewall/api.js';
import type { SniffSpec } from '../firewall/ruleset.js';
import { portBounds, type DivertRule, type PortRange } from '../firewall/rule.js';
import { parseRuleCommand } from '../firewall/parse.js';

/** A rule as ipchains-style text (target optional) or as a rule object (its port is replaced). */
export type RuleSpec = string | Omit<DivertRule, 'port' | 'passThrough'> & Partial<Pick<DivertRule, 'port' | 'passThrough'>>;

export interface RuleSetOptions {
  /** Namespace name or path (/run/netns/NAME). */
  netns: string | undefined;
  passThrough: boolean;
  defragment: boolean;
  /** WinDivert's priority: higher sees packets first. */
  priority: number;
  /** Log copies to the port's NFLOG group instead of diverting (a sniffing socket's rules). */
  sniff?: SniffSpec | undefined;
  /** With a port range: queue by CPU (`--queue-cpu-fanout`), not by a hash of the addresses. */
  cpuFanout?: boolean | undefined;
}

export class RuleSet {
  /** The socket's port, or the range of a multi-queue socket (see workers.ts). */
  #port: number | PortRange;
  #options: RuleSetOptions;
  #handles: RuleHandle[] = [];

  constructor(port: number | PortRange, options: RuleSetOptions) {
    this.#port = port;
    this.#options = options;
  }

  /** The port as `-j DIVERT` writes it: `1234` or `10:13`. */
  get #target(): string {
    const { first, last } = portBounds(this.#port);
    return first === last ? String(first) : `${first}:${last}`;
  }

  /** Installs `specs` (atomically) and, in defragment mode, the rule that turns kernel defrag on. */
  async install(specs: readonly RuleSpec[]): Promise<void> {
    const rules = specs.map((s) => this.#complete(s));
    const { netns, priority } = this.#options;
    if (rules.length > 0) {
      this.#handles.push(await addRule(rules, { netns, priority, alwaysDefragment: this.#options.defragment, sniff: this.#options.sniff }));
    } else if (this.#options.defragment) {
      this.#handles.push(await enableAlwaysDefragment({ netns, priority, family: 'ipv4' }));
      this.#handles.push(await enableAlwaysDefragment({ netns, priority, family: 'ipv6' }));
    }
  }

  /** Compiles `filter` into this socket's kernel rules; the handle says whether user space must decide too. */
  async installFilter(filter: string): Promise<FilterHandle> {
    const h = await addFilter(filter, { netns: this.#options.netns, port: this.#port, passThrough: this.#options.passThrough, priority: this.#options.priority, sniff: this.#options.sniff });
    this.#handles.push(h);
    return h;
  }

  #complete(spec: RuleSpec): DivertRule | string {
    const bypass = this.#options.passThrough;
    if (typeof spec === 'string') {
      if (/(^|\s)(-j|--jump)(\s|$)/.test(spec)) return this.#ownTarget(spec);
      return `${spec.trim()} -j DIVERT ${this.#target}${bypass ? ' --pass-through' : ''}${this.#options.cpuFanout ? ' --queue-cpu-fanout' : ''}`;
    }
    return { ...spec, port: this.#port, passThrough: spec.passThrough ?? bypass, ...(this.#options.cpuFanout ? { cpuFanout: true } : {}) };
  }

  /** A rule that names its own target must divert to this socket's port, and only to it. */
  #ownTarget(spec: string): string {
    const { first, last } = portBounds(parseRuleCommand(spec).rule.port);
    const own = portBounds(this.#port);
    if (first !== own.first || last !== own.last) {
      const to = first === last ? `port ${first}` : `ports ${first}:${last}`;
      const mine = own.first === own.last ? `port ${own.first}` : `ports ${own.first}:${own.last}`;
      throw new TypeError(`Rule ${JSON.stringify(spec)} diverts to ${to}, but this socket is bound to ${mine}: leave out -j DIVERT (the socket adds -j DIVERT ${this.#target})`);
    }
    return spec;
  }

  /**
   * Deletes the rules. The process's table and its hooks stay, so packets the rules queued are not
   * dropped by the kernel before the socket answers them (the socket's namespace hold lets the
   * table go later). Every rule is tried; those that could not be deleted stay listed and the
   * first error is thrown.
   */
  async remove(): Promise<void> {
    const handles = this.#handles.splice(0);
    const failed: typeof handles = [];
    let first: unknown;
    for (const h of handles) {
      try {
        await h.remove({ keepTable: true });
      } catch (err) {
        failed.push(h);
        first ??= err;
      }
    }
    this.#handles.push(...failed);
    if (failed.length > 0) throw first;
  }

  removeSync(): void {
    const handles = this.#handles.splice(0);
    for (const h of handles) h.removeSync({ keepTable: true });
  }
}
