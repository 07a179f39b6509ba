/**
 * The namespace testbed of the throughput bench, made with `ip` (the bench may use tools; the
 * library never does). Four namespaces joined by veth pairs, addresses from 198.18.0.0/15:
 *
 *   sender  198.18.200.1 (+ FLOW_SOURCES) ── 198.18.200.2  listener      UDP: the DIVERT rule on input
 *   sender  198.18.201.1 ── 198.18.201.2  router  198.18.202.2 ── 198.18.202.1  receiver
 *                                         TCP: all FORWARD traffic diverted in the router
 *
 * Programs start pinned: senders and receivers on SENDER_CPU, listeners on LISTENER_CPU (the
 * softirq work a sender triggers runs on its CPU, for every listener alike; unpinned runs wander).
 * teardown() deletes the namespaces (and with them the veths and rules) even after a failure.
 */
import { execFileSync, spawn } from 'node:child_process';

export const SENDER_CPU = '0';
export const LISTENER_CPU = '1';
export const UDP_TARGET = '198.18.200.2';
export const TCP_TARGET = '198.18.202.1';
/** Source addresses of the UDP flood, one flow each: NFQUEUE balancing hashes addresses, so multi-queue needs several (16: all of 4 queues get flows in ~96 % of hash seeds). */
export const FLOW_SOURCES = ['198.18.200.1', ...Array.from({ length: 15 }, (_, i) => `198.18.200.${101 + i}`)];

const tag = `dvb${process.pid}`;
export const NS = { sender: `${tag}s`, listener: `${tag}l`, router: `${tag}r`, receiver: `${tag}d` } as const;
export type NsName = keyof typeof NS;

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function veth(a: NsName, aAddr: string, b: NsName, bAddr: string, name: string): void {
  sh('ip', ['link', 'add', `${tag}${name}a`, 'netns', NS[a], 'type', 'veth', 'peer', 'name', `${tag}${name}b`, 'netns', NS[b]]);
  sh('ip', ['-n', NS[a], 'addr', 'add', aAddr, 'dev', `${tag}${name}a`]);
  sh('ip', ['-n', NS[b], 'addr', 'add', bAddr, 'dev', `${tag}${name}b`]);
  sh('ip', ['-n', NS[a], 'link', 'set', `${tag}${name}a`, 'up']);
  sh('ip', ['-n', NS[b], 'link', 'set', `${tag}${name}b`, 'up']);
}

export function setup(): void {
  for (const ns of Object.values(NS)) {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  veth('sender', '198.18.200.1/24', 'listener', '198.18.200.2/24', 'u');
  for (const src of FLOW_SOURCES.slice(1)) sh('ip', ['-n', NS.sender, 'addr', 'add', `${src}/24`, 'dev', `${tag}ua`]);
  veth('sender', '198.18.201.1/24', 'router', '198.18.201.2/24', 't');
  veth('router', '198.18.202.2/24', 'receiver', '198.18.202.1/24', 'f');
  sh('ip', ['-n', NS.sender, 'route', 'add', '198.18.202.0/24', 'via', '198.18.201.2']);
  sh('ip', ['-n', NS.receiver, 'route', 'add', '198.18.201.0/24', 'via', '198.18.202.2']);
  sh('ip', ['netns', 'exec', NS.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

export function teardown(): void {
  for (const ns of Object.values(NS)) {
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // not created
    }
  }
}

/** A program started in a namespace. */
export interface Started {
  /** Everything it printed so far. */
  out(): string;
  /** Resolves when it printed "ready", or (so the bench never hangs) when it ended before. */
  ready: Promise<void>;
  /** Resolves with everything it printed when it ended (SIGKILLed after its time limit). */
  done: Promise<string>;
  write(line: string): void;
}

/** Starts `argv` in namespace `ns` pinned to `cpu`; killed (SIGKILL, by its own pid) after `limitS` seconds. */
export function start(ns: NsName, cpu: string, argv: string[], limitS: number): Started {
  const child = spawn('ip', ['netns', 'exec', NS[ns], 'taskset', '-c', cpu, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const kill = setTimeout(() => child.kill('SIGKILL'), limitS * 1000);
  const done = new Promise<string>((resolve) => child.on('close', () => {
    clearTimeout(kill);
    resolve(out);
  }));
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    void done.then(() => resolve());
  });
  return { out: () => out, ready, done, write: (line) => child.stdin.write(`${line}\n`) };
}

/** Runs `argv` in namespace `ns` pinned to `cpu` to its end; returns what it printed. */
export function run(ns: NsName, cpu: string, argv: string[]): string {
  return sh('ip', ['netns', 'exec', NS[ns], 'taskset', '-c', cpu, ...argv]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
