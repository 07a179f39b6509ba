/**
 * Throwaway network namespaces for integration tests.
 *
 * Every namespace a test makes is named `dvt<pid>-<n>` and deleted in `after()` and, as a last
 * resort, on process exit, so a failing test never leaves one behind. Nothing here touches the
 * host's own interfaces or firewall: every command runs inside a namespace this file created.
 * Addresses come from 198.18.0.0/15 and 2001:db8::/32 (documentation/benchmark ranges).
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { after, type TestContext } from 'node:test';
import { ping, type PingOptions, type PingResult } from '../../src/cli/demo/ping.js';

const created = new Set<string>();
let counter = 0;

process.on('exit', () => {
  for (const name of created) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

// A signal ends the process without 'exit' unless someone listens: scripts/run_tests.mjs sends
// SIGTERM to a file's process group at its timeout, and Ctrl-C sends SIGINT. Exiting here runs
// the 'exit' listeners (the namespaces above; divert's own rule cleanup, which leaves the
// decision to a listener like this one) with the shell's status for death by that signal.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => process.exit(128 + osConstants.signals[signal]));
}

/** True when this process may create namespaces and firewall rules (root, or CAP_SYS_ADMIN+NET_ADMIN). */
export function havePrivilege(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Skips the test (with the reason printed) when not privileged, unless DIVERT_REQUIRE_PRIVILEGED=1,
 * in which case the missing privilege is a failure. Returns true when the test should go on.
 */
export function requirePrivilege(t: TestContext): boolean {
  if (havePrivilege()) return true;
  if (process.env['DIVERT_REQUIRE_PRIVILEGED'] === '1') {
    throw new Error('Integration tests need root (DIVERT_REQUIRE_PRIVILEGED=1 is set)');
  }
  t.skip('needs root to create network namespaces (run the suite as root, as CI does)');
  return false;
}

/** Runs a command and returns stdout; throws with stderr on failure. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Runs a command and reports success instead of throwing. */
export function tryRun(cmd: string, args: readonly string[]): { ok: boolean; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    return { ok: true, stdout, stderr: '' };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export class Netns {
  readonly name: string;
  /** Path for setns(2), as accepted by the library's `netns` options. */
  readonly path: string;
  constructor(name: string) {
    this.name = name;
    this.path = `/run/netns/${name}`;
  }
  /** Runs a command inside the namespace and returns stdout. */
  exec(cmd: string, args: readonly string[] = [], input?: string): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], input);
  }
  tryExec(cmd: string, args: readonly string[] = []): { ok: boolean; stdout: string; stderr: string } {
    return tryRun('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }
  /** Starts a long-running command inside the namespace; the caller must kill it. */
  spawn(cmd: string, args: readonly string[] = []): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  delete(): void {
    if (!created.has(this.name)) return;
    created.delete(this.name);
    tryRun('ip', ['netns', 'del', this.name]);
  }
}

/** Creates a namespace with `lo` up; it is deleted after the current test file (and on exit). */
export function createNetns(): Netns {
  const name = `dvt${process.pid}-${++counter}`;
  run('ip', ['netns', 'add', name]);
  created.add(name);
  const ns = new Netns(name);
  ns.exec('ip', ['link', 'set', 'lo', 'up']);
  after(() => ns.delete());
  return ns;
}

/** The index of interface `ifname` in `ns`. */
export function ifindexOf(ns: Netns, ifname: string): number {
  return (JSON.parse(ns.exec('ip', ['-j', 'link', 'show', 'dev', ifname])) as Array<{ ifindex: number }>)[0]!.ifindex;
}

export interface Link {
  /** Interface name on each side. */
  readonly a: string;
  readonly b: string;
  readonly a4: string;
  readonly b4: string;
  readonly a6: string;
  readonly b6: string;
}

let linkCounter = 0;

/**
 * Joins two namespaces with a veth pair and gives both ends an IPv4 address in 198.18.<subnet>.0/24
 * and an IPv6 address in 2001:db8:<subnet>::/64 (DAD off so they are usable at once).
 */
export function connect(a: Netns, b: Netns, subnet: number, options: { mtu?: number } = {}): Link {
  const n = ++linkCounter;
  const ifa = `dva${n}`;
  const ifb = `dvb${n}`;
  run('ip', ['link', 'add', ifa, 'netns', a.name, 'type', 'veth', 'peer', 'name', ifb, 'netns', b.name]);
  const link: Link = {
    a: ifa,
    b: ifb,
    a4: `198.18.${subnet}.1`,
    b4: `198.18.${subnet}.2`,
    a6: `2001:db8:${subnet}::1`,
    b6: `2001:db8:${subnet}::2`,
  };
  for (const [ns, ifname, v4, v6] of [
    [a, ifa, link.a4, link.a6],
    [b, ifb, link.b4, link.b6],
  ] as const) {
    ns.exec('sysctl', ['-qw', `net.ipv6.conf.${ifname}.accept_dad=0`]);
    if (options.mtu) ns.exec('ip', ['link', 'set', ifname, 'mtu', String(options.mtu)]);
    ns.exec('ip', ['addr', 'add', `${v4}/24`, 'dev', ifname]);
    ns.exec('ip', ['addr', 'add', `${v6}/64`, 'dev', ifname, 'nodad']);
    ns.exec('ip', ['link', 'set', ifname, 'up']);
  }
  // Permanent neighbour entries: no ARP/ND round trip (IPv6 ND can take a second on a new link).
  const macOf = (ns: Netns, ifname: string): string =>
    (JSON.parse(ns.exec('ip', ['-j', 'link', 'show', ifname])) as Array<{ address: string }>)[0]!.address;
  const macA = macOf(a, ifa);
  const macB = macOf(b, ifb);
  for (const [ns, ifname, peer4, peer6, mac] of [
    [a, ifa, link.b4, link.b6, macB],
    [b, ifb, link.a4, link.a6, macA],
  ] as const) {
    ns.exec('ip', ['neigh', 'replace', peer4, 'lladdr', mac, 'dev', ifname, 'nud', 'permanent']);
    ns.exec('ip', ['neigh', 'replace', peer6, 'lladdr', mac, 'dev', ifname, 'nud', 'permanent']);
  }
  return link;
}

/** Turns on IPv4 and IPv6 forwarding inside a namespace (a router). */
export function enableForwarding(ns: Netns): void {
  ns.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  ns.exec('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until it is true or `timeoutMs` passes; returns the last result. */
export async function waitFor(predicate: () => boolean, timeoutMs = 3000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await sleep(stepMs);
  }
  return predicate();
}

/** {@link waitFor} with an async predicate (e.g. a netlink dump). */
export async function waitForAsync(predicate: () => Promise<boolean>, timeoutMs = 3000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await sleep(stepMs);
  }
  return predicate();
}

// The traffic peer of `divert demo` (src/cli/demo/peer.ts) serves the tests too.
const PEER = new URL('../../src/cli/demo/peer.js', import.meta.url).pathname;

/** Result of a command run asynchronously in a namespace. */
export interface AsyncResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in a namespace without blocking the event loop (a divert socket in this process
 * must keep answering while the traffic flows). Killed after `timeoutMs`.
 */
export function execAsync(ns: Netns, cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<AsyncResult> {
  return new Promise((resolve) => {
    const child = ns.spawn(cmd, args);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, code, stdout, stderr });
    });
  });
}

/**
 * Pings from `ns` without blocking the event loop: divert's own ping (src/cli/demo/ping.ts) on a
 * raw socket opened in the namespace, no ping binary and no child process. As `ping -c count -w
 * deadline`: requests 200 ms apart until `count` replies came (a request lost before a listener
 * was ready is made up for); true when they came within `deadlineSeconds`.
 */
export async function pingAsync(ns: Netns, address: string, count = 1, deadlineSeconds = 3): Promise<boolean> {
  return (await pingFrom(ns, address, { count, untilReplies: true, deadlineMs: deadlineSeconds * 1000 })).received >= count;
}

/**
 * divert's own ping from `ns` with the whole result (replies, TTLs, ICMP errors such as
 * "fragmentation needed" with its MTU, send errors) and every option of `ping()`: exactly `count`
 * requests unless `untilReplies`, 200 ms apart by default, each reply counted until `deadlineMs`
 * (default 3000).
 */
export function pingFrom(ns: Netns, address: string, options: PingOptions = {}): Promise<PingResult> {
  const deadlineMs = options.deadlineMs ?? 3000;
  return ping(address, { intervalMs: 200, timeoutMs: Math.min(deadlineMs, 60_000), ...options, deadlineMs, netns: ns.path });
}

/** Starts a peer (src/cli/demo/peer.ts) in `ns`; resolves once it printed "ready" (or at once for senders). */
export function startPeer(ns: Netns, args: readonly string[], timeoutMs = 10_000): { ready: Promise<void>; result: Promise<unknown> } {
  const child = ns.spawn(process.execPath, [PEER, ...args]);
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = new Promise<unknown>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) readyResolve();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      readyResolve();
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      if (line) resolve(JSON.parse(line));
      else reject(new Error(`peer ${args.join(' ')} printed no result (exit ${code ?? signal})${err.trim() ? `: ${err.trim().split('\n').slice(-5).join(' | ')}` : ''}`));
    });
  });
  if (!args[0]?.endsWith('recv') && !args[0]?.endsWith('-server')) readyResolve();
  return { ready, result };
}

/** A process started by {@link spawnWatched}: its output so far, a wait for text, and its exit. */
export interface Watched {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves true once stdout or stderr matches `re`, false after `timeoutMs`. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<boolean>;
  /** Resolves when the process ends (it is SIGKILLed after the spawn's `timeoutMs`). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `cmd args` (inside `ns` when given, through `ip netns exec`, which execs the command so
 * signals sent to the child reach it) and collects its output; killed after `timeoutMs`.
 */
export function spawnWatched(ns: Netns | undefined, cmd: string, args: readonly string[], timeoutMs = 20_000): Watched {
  const child = ns ? ns.spawn(cmd, args) : spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  let ended = false;
  void exit.then(() => (ended = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForOutput(re, wait = 10_000) {
      const end = Date.now() + wait;
      while (Date.now() < end) {
        if (re.test(out) || re.test(err)) return true;
        if (ended) return re.test(out) || re.test(err);
        await sleep(20);
      }
      return re.test(out) || re.test(err);
    },
    exit,
  };
}

/**
 * Watches the event loop: a 1 ms interval records the longest gap between its ticks (a stalled
 * loop shows as a long gap, however it stalled). Call the returned function to stop and read it.
 */
export function watchLoopGaps(): () => number {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  timer.unref(); // a test that fails before calling the stop function must not keep its file running
  return () => {
    clearInterval(timer);
    return Math.max(max, performance.now() - last);
  };
}
