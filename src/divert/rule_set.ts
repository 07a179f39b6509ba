/**
 * RuleSet: the DIVERT rules one socket installs for its lifetime (the seed's -DFIREWALL
 * interceptor). Rules are given without their target (`'-A input -p icmp'`); the socket adds
 * `-j DIVERT <port>` (and `--pass-through` when asked). They are tagged with this process as
 * owner, so `divert rules sweep` finds them if the process dies without cleaning up.
 * @module
 */
import { addRule, type RuleHandle } from '../firewall/api.js';
import type { DivertRule } from '../firewall/rule.js';
import { enableAlwaysDefragment } from '../firewall/api.js';

/** A rule as ipchains-style text (target optional) or as a rule object (its port is replaced). */
export type RuleSpec = string | Omit<DivertRule, 'port' | 'passThrough'> & Partial<Pick<DivertRule, 'port' | 'passThrough'>>;

export interface RuleSetOptions {
  /** Namespace name or path (/run/netns/NAME). */
  netns: string | undefined;
  passThrough: boolean;
  defragment: boolean;
}

export class RuleSet {
  #port: number;
  #options: RuleSetOptions;
  #netnsName: string | undefined;
  #handles: RuleHandle[] = [];

  constructor(port: number, options: RuleSetOptions) {
    this.#port = port;
    this.#options = options;
    this.#netnsName = netnsName(options.netns);
  }

  /** Installs `specs` (atomically) and, in defragment mode, the rule that turns kernel defrag on. */
  async install(specs: readonly RuleSpec[]): Promise<void> {
    const rules = specs.map((s) => this.#complete(s));
    if (rules.length > 0) {
      this.#handles.push(await addRule(rules, { netns: this.#netnsName, alwaysDefragment: this.#options.defragment }));
    } else if (this.#options.defragment) {
      this.#handles.push(await enableAlwaysDefragment({ netns: this.#netnsName, family: 'ipv4' }));
      this.#handles.push(await enableAlwaysDefragment({ netns: this.#netnsName, family: 'ipv6' }));
    }
  }

  #complete(spec: RuleSpec): DivertRule | string {
    const bypass = this.#options.passThrough;
    if (typeof spec === 'string') {
      if (/(^|\s)-j(\s|$)/.test(spec)) return spec;
      return `${spec.trim()} -j DIVERT ${this.#port}${bypass ? ' --pass-through' : ''}`;
    }
    return { ...spec, port: this.#port, passThrough: spec.passThrough ?? bypass };
  }

  async remove(): Promise<void> {
    const handles = this.#handles.splice(0);
    for (const h of handles) await h.remove();
  }

  removeSync(): void {
    const handles = this.#handles.splice(0);
    for (const h of handles) h.removeSync();
  }
}

/** The firewall tools take a namespace name: accept a name or a path under /run/netns/. */
function netnsName(netns: string | undefined): string | undefined {
  if (netns === undefined || !netns.includes('/')) return netns;
  const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(netns);
  if (!m) throw new TypeError(`Rules need a named network namespace (/run/netns/NAME), got ${JSON.stringify(netns)}`);
  return m[1];
}
