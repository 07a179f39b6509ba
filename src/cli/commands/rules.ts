/**
 * `divert rules add|insert|delete|list|flush|sweep`: the seed's `ipchains -A input -p ICMP -j
 * DIVERT 1234`, with `divert rules add` in place of `ipchains`. Exit codes: 0 ok, 1 runtime
 * failure (the kernel refused, no privilege), 2 usage error.
 * @module
 */
import { sweepStaleInjectFilters } from '../../firewall/inject_filters.js';
import { isDivertTable } from '../../firewall/layout.js';
import {
  addRule, cliOwner, deleteRule, flushRules, formatOwner, formatRule, listRules, ownerTag, parseRuleCommand, sweepStaleRules,
  type Family, type ListedRule,
} from '../../firewall/mod.js';
import { Netns } from '../../_native/netns.js';
import { DivertError } from '../../errors.js';
import { reportError } from '../report_error.js';
import { UsageError, checkNetnsOption, type CliIo } from '../io.js';

const HELP = `Usage: divert rules <command> [--netns NAME] [options]

  add    [-A] <chain> <match…> -j DIVERT <port>[:<last>] [--pass-through] [--queue-cpu-fanout] [--label L] [--priority P]
  add    -I <chain> [pos] …        insert (same as: insert <chain> [pos] …)
  insert [-I] <chain> [pos] <match…> -j DIVERT …
  delete [-D] <chain> <match…> -j DIVERT … [--label L]
  delete <table>:<handle>          delete the row "divert rules list" shows with that ID
  list   [-4|-6] [--json]          every DIVERT rule: persistent ones and running programs' own,
                                   with packet/byte counters, owner and stale mark
  flush  [-4|-6]                   delete every persistent DIVERT rule
  sweep                            delete persistent rules whose owner process is gone, and the
                                   inbound-injection redirects (tc) such processes left

Chains: input, forward, output (seed §6.2: input = every packet coming in, output = every
packet going out, forwarded ones included), or the hooks' own names prerouting, local-in
(INPUT), local-out (OUTPUT), postrouting. Matches (ipchains syntax, "!" negates):
  -p [!] <proto>   -s|-d [!] <addr>[/<mask>] [[!] <port>[:<port>]]   --sport|--dport [!] <port>[:<port>]
  --icmp-type [!] <type>[/<code>]   -i|-o [!] <iface>   -6 (IPv6; implied by IPv6 addresses)
Without --pass-through a DIVERT rule drops its packets while no program listens on the port.
A port range (-j DIVERT 10:13) spreads packets by a hash of their addresses (both directions of
a conversation on one port); --queue-cpu-fanout spreads them by the CPU that handles them.

Rules added here are persistent: they live in the nf_tables table "inet divert" until deleted
or flushed. A program's own rules (a divert socket's "rules", "divert intercept --firewall")
live in its table "inet divert-<pid>", which the kernel deletes when the program ends (SIGKILL
too) and lets no other process change: list shows them, delete/flush/sweep leave them alone.
--priority P (WinDivert's meaning, -30000..30000, default 0): higher sees packets first.

Example: divert rules add -A input -p ICMP -j DIVERT 1234
`;

type Sub = 'add' | 'insert' | 'delete' | 'list' | 'flush' | 'sweep';
const SUBS: readonly string[] = ['add', 'insert', 'delete', 'list', 'flush', 'sweep'];

interface Parsed {
  sub: Sub;
  netns?: string;
  json: boolean;
  label?: string;
  priority?: number;
  family?: Family;
  words: string[];
}

/** Takes our own options out of argv (anywhere); the rest are ipchains words. */
function parseArgs(argv: readonly string[]): Parsed | 'help' {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return 'help';
  if (!SUBS.includes(sub)) throw new UsageError(`unknown command ${JSON.stringify(sub)}: use add, insert, delete, list, flush or sweep`);
  const p: Parsed = { sub: sub as Sub, json: false, words: [] };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] ?? '';
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || (v.startsWith('-') && !/^-\d+$/.test(v))) throw new UsageError(`${w} needs a value`);
      return v;
    };
    if (w === '--help' || w === '-h') return 'help';
    else if (w === '--netns') p.netns = value();
    else if (w.startsWith('--netns=')) p.netns = w.slice(8);
    else if (w === '--json') p.json = true;
    else if (w === '--label') p.label = value();
    else if (w === '--priority') p.priority = priorityOf(value());
    else if (w === '--any-owner') {
      throw new UsageError('--any-owner is gone: a running program\'s rules live in its own table, which only that program can change (they go when it ends); persistent rules can be deleted by anyone');
    } else p.words.push(w);
  }
  checkNetnsOption(p.netns);
  if (p.label !== undefined) checkLabel(p.label);
  if (p.priority !== undefined && p.sub !== 'add' && p.sub !== 'insert') throw new UsageError('--priority goes with "divert rules add" or "insert"');
  return p;
}

/** A bad --label is a usage mistake (exit 2), found before the kernel is asked anything. */
function checkLabel(label: string): void {
  try {
    ownerTag(cliOwner(label));
  } catch (err) {
    throw new UsageError(`--label: ${(err as Error).message}`);
  }
}

function priorityOf(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--priority needs an integer from -30000 to 30000, got ${JSON.stringify(v)}`);
  return Number(v);
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
    if (w === '-4' || w === '-6') {
      const family = w === '-6' ? 'ipv6' : 'ipv4';
      if (p.family !== undefined && p.family !== family) throw new UsageError('-4 and -6 exclude each other: leave both out for rules of either family');
      p.family = family;
    } else throw new UsageError(`unexpected ${JSON.stringify(w)} for "divert rules ${p.sub}"`);
  }
}

/** The words as a row ID `<table>:<handle>` ("divert:12", "divert-4242:7"), or undefined. */
function ruleId(words: readonly string[]): string | undefined {
  const [w, ...more] = words;
  const colon = w?.lastIndexOf(':') ?? -1;
  if (w === undefined || more.length > 0 || colon < 0) return undefined;
  return isDivertTable(w.slice(0, colon)) && /^\d+$/.test(w.slice(colon + 1)) ? w : undefined;
}

/** Who a row belongs to, as `list` shows it. */
function ownerText(r: ListedRule): string {
  const who = r.owner ? formatOwner(r.owner) : '-';
  return r.persistent ? who : `${who} (own table)`;
}

/** One line per rule, aligned; the ID names the row for `divert rules delete <ID>`. */
export function formatTable(rules: readonly ListedRule[]): string {
  const rows = [['ID', 'FAMILY', 'CHAIN', 'PRIO', 'PKTS', 'BYTES', 'OWNER', 'STATE', 'RULE']];
  for (const r of rules) {
    const text = r.kind === 'foreign' ? `(not divert's) ${r.text}` : r.text;
    rows.push([r.id, r.family, r.seedChain, String(r.priority), String(r.packets), String(r.bytes), ownerText(r), r.stale ? 'stale' : 'ok', text]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

function toJson(r: ListedRule): object {
  return {
    id: r.id, table: r.table, handle: r.handle, persistent: r.persistent, family: r.family, chain: r.seedChain, hook: r.hook,
    priority: r.priority, position: r.position, kind: r.kind, rule: r.text, owner: r.owner ? formatOwner(r.owner) : null,
    stale: r.stale, packets: r.packets, bytes: r.bytes,
  };
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

async function execute(p: Parsed, io: CliIo): Promise<void> {
  const base = p.netns === undefined ? {} : { netns: p.netns };
  switch (p.sub) {
    case 'add': case 'insert': {
      const cmd = parseRuleCommand(ruleWords(p));
      const h = await addRule(cmd.rule, {
        ...base, owner: 'cli', ...(p.label ? { label: p.label } : {}), ...(cmd.position ? { position: cmd.position } : {}),
        ...(p.priority === undefined ? {} : { priority: p.priority }),
      });
      io.stdout(`added ${h.rules.map((r) => r.id).join(', ')}: ${formatRule(cmd.rule, cmd.op === 'insert' ? '-I' : '-A')} (owner ${formatOwner(h.owner)})\n`);
      return;
    }
    case 'delete': {
      // A row ID, else the rule, parsed once.
      const target = ruleId(p.words) ?? parseRuleCommand(ruleWords(p)).rule;
      const id = typeof target === 'string' ? target : undefined;
      const text = typeof target === 'string' ? target : formatRule(target, '-D');
      if (!(await deleteRule(target, { ...base, ...(p.label === undefined ? {} : { label: p.label }) }))) {
        const whose = p.label === undefined ? '' : ` labelled ${p.label}`;
        throw new DivertError(`no persistent DIVERT rule ${id ? `with ID ${id}` : `equal to "${text}"`}${whose} (see "divert rules list")`, 'ERR_DIVERT_NO_SUCH_RULE');
      }
      io.stdout(`deleted ${text}\n`);
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
      // sweep also removes inbound-injection redirects (tc) of processes that died without cleaning up
      const f = p.sub === 'sweep' ? (await sweepStaleInjectFilters({ netnsPath: Netns.pathOf(p.netns) })).filters.length : 0;
      const filters = f > 0 ? `, ${plural(f, 'injection redirect')}` : '';
      const running = (await listRules(opts)).filter((r) => !r.persistent).length;
      const theirs = running > 0 ? `; ${plural(running, 'rule')} in running programs' own tables stay (they go when those programs end)` : '';
      io.stdout(`${p.sub === 'flush' ? 'flushed' : 'swept'} ${plural(n, 'rule')}${filters}${theirs}\n`);
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
    return reportError(name, err, io);
  }
}
