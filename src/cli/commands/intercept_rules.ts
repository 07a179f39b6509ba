/**
 * The rules `divert intercept` installs for its run: the `--firewall` DIVERT rule and the
 * `--defragment` rules, removed on exit (also on SIGINT/SIGTERM and crashes, via the firewall
 * module's exit cleanup).
 *
 * NB: installed here with addRule() rather than through createDivertSocket's `rules` option so the
 * command controls the order at the end: the rule goes first, then the socket hands back what it
 * holds, then the rule's table goes (the kernel would drop what its hooks queued), then the
 * summary (with the kernel's counters) is printed.
 * @module
 */
import { addRule, enableAlwaysDefragment, installExitCleanup, parseRuleCommand, releaseOwnedTable, type RuleHandle } from '../../firewall/mod.js';
import { UsageError } from '../io.js';

export interface RunRules {
  /** The full rule text installed, for the banner. */
  readonly text: string | undefined;
  /** Deletes the rules; their table stays until {@link release} (after the socket answered its packets). */
  remove(): Promise<void>;
  release(): void;
}

/** `-A input -p icmp` + port → `-A input -p icmp -j DIVERT 1234 [--pass-through]`. */
export function divertRuleText(rule: string, port: number, passThrough: boolean): string {
  return `${rule.trim()} -j DIVERT ${port}${passThrough ? ' --pass-through' : ''}`;
}

/** Checks the rule text without installing anything (FilterSyntaxError/RangeError when bad). */
export function checkFirewallRule(rule: string, port: number, passThrough: boolean): void {
  const cmd = parseRuleCommand(divertRuleText(rule, port, passThrough));
  if (cmd.op === 'delete') throw new UsageError('--firewall takes -A or -I, not -D');
}

/** Installs the run's rules (none when neither option is given). */
export async function installRunRules(o: { port: number; firewall: string | undefined; passThrough: boolean; defragment: boolean; netns: string | undefined; priority: number }): Promise<RunRules> {
  const handles: RuleHandle[] = [];
  const base = { ...(o.netns === undefined ? {} : { netns: o.netns }), priority: o.priority };
  const text = o.firewall === undefined ? undefined : divertRuleText(o.firewall, o.port, o.passThrough);
  const track = (h: RuleHandle): void => {
    handles.push(h);
    installExitCleanup(h);
  };
  try {
    if (o.defragment) {
      track(await enableAlwaysDefragment({ ...base, family: 'ipv4', label: 'intercept' }));
      track(await enableAlwaysDefragment({ ...base, family: 'ipv6', label: 'intercept' }));
    }
    if (text !== undefined) track(await addRule(text, { ...base, label: 'intercept' }));
  } catch (err) {
    for (const h of handles) await h.remove().catch(() => 0);
    throw err;
  }
  return {
    text,
    async remove() {
      for (const h of handles.splice(0).reverse()) await h.remove({ keepTable: true });
    },
    release() {
      void releaseOwnedTable(o.netns);
    },
  };
}
