/**
 * `divert rules add|insert|delete|list|flush|sweep`: the seed's `ipchains -A input -p ICMP -j
 * DIVERT 1234`, with `divert rules add` in place of `ipchains`. Exit codes: 0 ok, 1 runtime
 * failure (iptables refused, no privilege), 2 usage error.
 * @module
 */
import { sweepStaleInjectFilters } from '../../firewall/inject_filters.js';
import {
  addRule, deleteRule, flushRules, formatOwner, formatRule, listRules, parseRuleCommand, sweepStaleRules,
  type DeleteOwner, type Family, type ListedRule,
} from '../../firewall/mod.js';
import { FilterSyntaxError, FirewallError } from '../../errors.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const HELP = `Usage: divert rules <command> [--netns NAME] [options]

  add    [-A] <chain> <match…> -j DIVERT <port>[:<last>] [--pass-through] [--label L]
  add    -I <chain> [pos] …        insert (same as: insert <chain> [pos] …)
  insert [-I] <chain> [pos] <match…> -j DIVERT …
  delete [-D] <chain> <match…> -j DIVERT … [--label L] [--any-owner]
                                   delete an equal DIVERT rule: a CLI rule first, else a
                                   stale one; a running program's rule only with --any-owner;
                                   --label L: only rules carrying that label
  list   [-4|-6] [--json]          DIVERT rules with packet/byte counters, owner, stale mark
  flush  [-4|-6]                   delete every DIVERT rule (any owner); host rules stay
  sweep                            delete rules (and inbound-injection tc filters) whose owner process is gone

Chains: input, forward, output (seed §6.2: input = every packet coming in, output = every
packet going out, forwarded ones included), or netfilter's prerouting, local-in (INPUT),
local-out (OUTPUT), postrouting. Matches (ipchains syntax, "!" negates):
  -p [!] <proto>   -s|-d [!] <addr>[/<mask>] [[!] <port>[:<port>]]   --sport|--dport [!] <port>[:<port>]
  --icmp-type [!] <type>[/<code>]   -i|-o [!] <iface>   -6 (IPv6; implied by IPv6 addresses)
Without --pass-through a DIVERT rule drops its packets while no program listens on the port.
Rules added here are persistent (owner "cli"): only delete or flush removes them.

Example: divert rules add -A input -p ICMP -j DIVERT 1234
`;

type Sub = 'add' | 'insert' | 'delete' | 'list' | 'flush' | 'sweep';
const SUBS: readonly string[] = ['add', 'insert', 'delete', 'list', 'flush', 'sweep'];

class UsageError extends Error {}

interface Parsed {
  sub: Sub;
  netns?: string;
  json: boolean;
  label?: string;
  anyOwner: boolean;
  family?: Family;
  words: string[];
}

/** Takes our own options out of argv (anywhere); the rest are ipchains words. */
function parseArgs(argv: readonly string[]): Parsed | 'help' {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return 'help';
  if (!SUBS.includes(sub)) throw new UsageError(`unknown command ${JSON.stringify(sub)}: use add, insert, delete, list, flush or sweep`);
  const p: Parsed = { sub: sub as Sub, json: false, anyOwner: false, words: [] };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] ?? '';
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('-')) throw new UsageError(`${w} needs a value`);
      return v;
    };
    if (w === '--help' || w === '-h') return 'help';
    else if (w === '--netns') p.netns = value();
    else if (w.startsWith('--netns=')) p.netns = w.slice(8);
    else if (w === '--json') p.json = true;
    else if (w === '--label') p.label = value();
    else if (w === '--any-owner') p.anyOwner = true;
    else p.words.push(w);
  }
  if (p.anyOwner && p.sub !== 'delete') throw new UsageError('--any-owner only goes with "divert rules delete"');
  return p;
}

/** Adds the operation word when the subcommand implies it; refuses a contradicting one. */
function ruleWords(p: Parsed): string[] {
  const op = p.words[0];
  const want = p.sub === 'delete' ? ['-D', '--delete'] : p.sub === 'insert' ? ['-I', '--insert'] : ['-A', '--append', '-I', '--insert'];
  if (op !== undefined && /^(-[AID]|--append|--insert|--delete)$/.test(op)) {
    if (!want.includes(op)) throw new UsageError(`${op} does not fit "divert rules ${p.sub}": use ${op.includes('D') ? 'divert rules delete' : 'divert rules add'}`);
    return p.words;
  }
  return [p.sub === 'delete' ? '-D' : p.sub === 'insert' ? '-I' : '-A', ...p.words];
}

function familyWords(p: Parsed): void {
  for (const w of p.words) {
    if (w === '-4' || w === '-6') p.family = w === '-6' ? 'ipv6' : 'ipv4';
    else throw new UsageError(`unexpected ${JSON.stringify(w)} for "divert rules ${p.sub}"`);
  }
}

/** One line per rule, aligned. */
export function formatTable(rules: readonly ListedRule[]): string {
  const rows = [['#', 'FAMILY', 'CHAIN', 'PKTS', 'BYTES', 'OWNER', 'STATE', 'RULE']];
  for (const r of rules) {
    const text = r.rule ? formatRule(r.rule) : r.kind === 'defrag' ? `(always-defragment: conntrack rule on ${r.hook})` : `(not rebuilt) ${r.spec}`;
    rows.push([String(r.position), r.family, r.chain, String(r.packets), String(r.bytes), r.owner ? formatOwner(r.owner) : '-', r.stale ? 'stale' : 'ok', text]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

function toJson(r: ListedRule): object {
  return {
    family: r.family, chain: r.chain, hook: r.hook, position: r.position, kind: r.kind,
    rule: r.rule ? formatRule(r.rule) : null, spec: r.spec, owner: r.owner ? formatOwner(r.owner) : null,
    stale: r.stale, packets: r.packets, bytes: r.bytes,
  };
}

async function execute(p: Parsed, io: CliIo): Promise<void> {
  const base = p.netns === undefined ? {} : { netns: p.netns };
  switch (p.sub) {
    case 'add': case 'insert': {
      const cmd = parseRuleCommand(ruleWords(p));
      const h = await addRule(cmd.rule, { ...base, owner: 'cli', ...(p.label ? { label: p.label } : {}), ...(cmd.position ? { position: cmd.position } : {}) });
      io.stdout(`added ${formatRule(cmd.rule, cmd.op === 'insert' ? '-I' : '-A')} (owner ${formatOwner(h.owner)})\n`);
      return;
    }
    case 'delete': {
      const cmd = parseRuleCommand(ruleWords(p));
      const owners: DeleteOwner[] = p.anyOwner ? ['cli', 'stale', 'live'] : ['cli', 'stale'];
      if (!(await deleteRule(cmd.rule, { ...base, owners, ...(p.label === undefined ? {} : { label: p.label }) }))) {
        const whose = `${p.label === undefined ? '' : ` labelled ${p.label}`}${p.anyOwner ? '' : ' owned by the CLI or stale (a running program\'s rule goes only with --any-owner)'}`;
        throw new FirewallError(`no DIVERT rule equal to "${formatRule(cmd.rule)}"${whose} (see "divert rules list")`, { backend: 'iptables', argv: [], exitCode: null, stderr: '' }, 'ERR_DIVERT_NO_SUCH_RULE');
      }
      io.stdout(`deleted ${formatRule(cmd.rule, '-D')}\n`);
      return;
    }
    case 'list': {
      familyWords(p);
      const rules = await listRules({ ...base, ...(p.family ? { family: p.family } : {}) });
      io.stdout(p.json ? JSON.stringify(rules.map(toJson), null, 2) + '\n' : formatTable(rules));
      return;
    }
    case 'flush': case 'sweep': {
      familyWords(p);
      const opts = { ...base, ...(p.family ? { family: p.family } : {}) };
      const n = p.sub === 'flush' ? await flushRules(opts) : await sweepStaleRules(opts);
      // sweep also removes inbound-injection filters (tc) of processes that died without cleaning up
      const f = p.sub === 'sweep' ? (await sweepStaleInjectFilters({ netnsPath: base.netns === undefined ? undefined : `/run/netns/${base.netns}` })).filters.length : 0;
      const filters = f > 0 ? `, ${f} injection filter${f === 1 ? '' : 's'}` : '';
      io.stdout(`${p.sub === 'flush' ? 'flushed' : 'swept'} ${n} rule${n === 1 ? '' : 's'}${filters}\n`);
      return;
    }
  }
}

/**
 * Runs `divert rules …` with argv after "rules".
 * @returns the exit code: 0 ok, 1 runtime failure, 2 usage error.
 * @example await rulesCommand(['add', '-A', 'input', '-p', 'ICMP', '-j', 'DIVERT', '1234'], io)
 */
export async function rulesCommand(argv: string[], io: CliIo): Promise<number> {
  const sub = argv[0] ?? '';
  const name = SUBS.includes(sub) ? `divert rules ${sub}` : 'divert rules';
  try {
    const p = parseArgs(argv);
    if (p === 'help') {
      io.stdout(HELP);
      return 0;
    }
    await execute(p, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof FilterSyntaxError || err instanceof RangeError || err instanceof TypeError) {
      io.stderr(`${name}: ${err.message} (see "divert rules --help")\n`);
      return 2;
    }
    if (err instanceof FirewallError) {
      const hint = /permission denied|must be root|not permitted/i.test(err.stderr) ? ' (run as root, or in a namespace where you have CAP_NET_ADMIN)' : '';
      io.stderr(`${name}: ${err.message.split('\n')[0]}${hint}\n`);
      return 1;
    }
    io.stderr(`${name}: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
