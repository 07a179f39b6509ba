/**
 * Rule changes: how long divert takes to add and delete a DIVERT rule over its own nf_tables
 * netlink, beside iptables-restore doing the same job, in one run on one machine.
 *
 * (a) one add and one delete, 1000 times, in a program's own table (a keeper rule holds the
 *     table open, so each add is one batch: the steady state), in the shared persistent table
 *     (a keeper rule there too), and in the shared table as its only rule (each delete then
 *     removes the table and its hooks, and the next add waits in the kernel for their
 *     destruction, an RCU grace period, before it may use nft_compat again): median and p99;
 * (b) 1000 rules installed one by one, then removed one by one: total time (3 runs), beside 1000
 *     `iptables-restore --noflush` runs adding an equal NFQUEUE rule and 1000 removing them,
 *     where iptables is installed (else that part is skipped, with the reason printed).
 * Every run happens in a throwaway namespace. Needs root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { machineLine } from './machine.js';
import { spread } from './stats.js';
import { addRule, deleteRule, type RuleHandle } from '../src/firewall/mod.js';

const N = Number(process.env['BENCH_RULES'] ?? 1000);
const REPS = Number(process.env['BENCH_RULE_REPS'] ?? 3);
const ns = `dvbr${process.pid}`;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quantiles(ms: number[]): { median: number; p99: number; mean: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { median: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
}

const fmt = (ms: number): string => `${ms.toFixed(3)} ms`;

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** (a): add + delete pairs; returns the per-operation times. */
async function pairs(persistent: boolean, keep: boolean): Promise<{ add: number[]; del: number[] }> {
  const add: number[] = [];
  const del: number[] = [];
  const options = persistent ? { netns: ns, owner: 'cli' as const } : { netns: ns };
  // The keeper shares the rules' chain and queue: in the shared table an emptied chain is tidied away.
  const keeper = keep ? await addRule('-A input -p udp --dport 1 -j DIVERT 7', options) : undefined;
  for (let i = 0; i < N; i++) {
    let h!: RuleHandle;
    add.push(await timed(async () => (h = await addRule(`-A input -p udp --dport ${1000 + (i % 50000)} -j DIVERT 7`, options))));
    del.push(await timed(() => (persistent ? deleteRule(h.rules[0]!.id, { netns: ns }) : h.remove())));
  }
  if (keeper) await (persistent ? deleteRule(keeper.rules[0]!.id, { netns: ns }) : keeper.remove());
  return { add, del };
}

/** (b): N rules one by one, then removed one by one; total milliseconds. */
async function oneByOne(): Promise<number> {
  const t0 = performance.now();
  const handles: RuleHandle[] = [];
  for (let i = 0; i < N; i++) handles.push(await addRule(`-A input -p udp --dport ${1000 + i} -j DIVERT 7`, { netns: ns }));
  for (const h of handles) await h.remove();
  return performance.now() - t0;
}

/** (b) with iptables-restore: an equal NFQUEUE rule per run, added then deleted; undefined when iptables is absent. */
function iptablesOneByOne(): number | undefined {
  if (spawnSync('iptables-restore', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const run = (line: string): void => {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'iptables-restore', '-w', '10', '--noflush'], { input: `*mangle\n${line}\nCOMMIT\n`, stdio: ['pipe', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`iptables-restore failed: ${r.stderr.toString()}`);
  };
  const rule = (i: number): string => `PREROUTING -p udp --dport ${1000 + i} -m mark ! --mark 0x40000000/0x40000000 -m comment --comment "divert:owner=cli" -j NFQUEUE --queue-num 7`;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) run(`-A ${rule(i)}`);
  for (let i = 0; i < N; i++) run(`-D ${rule(i)}`);
  return performance.now() - t0;
}

export async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('rules: skipped (needs root to make a namespace)');
    return;
  }
  sh('ip', ['netns', 'add', ns]);
  try {
    console.log(machineLine());
    console.log(`rule changes over nf_tables netlink; ${N} of each`);
    await pairs(false, true); // warm-up: probe, JIT
    const own = await pairs(false, true);
    const shared = await pairs(true, true);
    const last = await pairs(true, false);
    for (const [name, r] of [['own table (steady state)', own], ['shared table (persistent rules)', shared], ['shared, its only rule (table comes and goes)', last]] as const) {
      const a = quantiles(r.add);
      const d = quantiles(r.del);
      console.log(`  ${name.padEnd(38)} add: median ${fmt(a.median)}, p99 ${fmt(a.p99)}   delete: median ${fmt(d.median)}, p99 ${fmt(d.p99)}`);
    }
    // (b), REPS times, divert and iptables-restore alternating: median (min–max).
    const divert: number[] = [];
    const ipt: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      divert.push(await oneByOne());
      const t = iptablesOneByOne();
      if (t !== undefined) ipt.push(t);
    }
    const show = (xs: number[], f: (x: number) => string): string => {
      const { median, min, max } = spread(xs);
      return `${f(median)} (${f(min)}–${f(max)})`;
    };
    console.log(`  ${N} rules added then removed one by one, ${REPS} runs: divert ${show(divert, fmt)}, ${show(divert.map((x) => x / (2 * N)), fmt)} per change`);
    if (ipt.length === 0) console.log('  iptables-restore: not installed here, comparison skipped');
    else {
      console.log(`  the same with iptables-restore --noflush:  ${show(ipt, fmt)}, ${show(ipt.map((x) => x / (2 * N)), fmt)} per change`);
      console.log(`  divert is ${show(ipt.map((x, i) => x / divert[i]!), (x) => `${x.toFixed(1)}x`)} faster (per run)`);
    }
  } finally {
    sh('ip', ['netns', 'del', ns]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
