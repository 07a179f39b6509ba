/**
 * The doctor's checks. Each returns CheckResults; live kernel probes run inside a throwaway
 * network namespace, so the host's firewall is never touched.
 * @module
 */
import { relative, sep } from 'node:path';
import { createDivertSocket } from '../../mod.js';
import { probeKernel } from '../../firewall/kernel.js';
import { NftConnection } from '../../nftables/conn.js';
import { probeTc, type TcProbe, type TcProbeOutcome } from '../../rtnetlink/tc_probe.js';
import { Netns } from '../../_native/netns.js';
import { CAP_NET_ADMIN, CAP_SYS_ADMIN, hasCapability } from '../../_native/capability.js';
import { findBinary, runQuiet } from '../sys.js';
import { loadNative, PACKAGE_ROOT, requireAddon, resolveNativeAddon } from '../../_native/binding.js';
import { Sandbox } from '../sandbox.js';
import { KERNEL_OPTIONS, readKernelConfig } from './kernel_config.js';
import type { CheckResult } from './report.js';

/**
 * The native addon: found (a prebuilt one or a source build in `root`) and loaded. When it is
 * missing the row says so and how to build it: the kernel is not to blame then.
 */
export function checkNative(root: string = PACKAGE_ROOT): CheckResult {
  let path: string;
  try {
    path = resolveNativeAddon(root);
    if (root === PACKAGE_ROOT) loadNative();
    else requireAddon(path);
  } catch (err) {
    const message = (err as Error).message;
    const [what, needs] = message.split(': a source build needs ');
    return { name: 'native addon', status: 'fail', detail: what ?? message, fix: needs === undefined ? 'npm rebuild divert --build-from-source' : `a source build needs ${needs}` };
  }
  const kind = path.includes(`${sep}prebuilds${sep}`) ? 'prebuilt' : 'built from source';
  return { name: 'native addon', status: 'ok', detail: `${kind}: ${relative(root, path)}` };
}

/** CAP_NET_ADMIN (queues, rules) and CAP_SYS_ADMIN (namespaces). */
export function checkPrivileges(userns: boolean): CheckResult {
  const net = hasCapability(CAP_NET_ADMIN);
  const sys = hasCapability(CAP_SYS_ADMIN);
  if (net && sys) return { name: 'privileges', status: 'ok', detail: 'CAP_NET_ADMIN and CAP_SYS_ADMIN' };
  const detail = `missing ${[net ? '' : 'CAP_NET_ADMIN', sys ? '' : 'CAP_SYS_ADMIN'].filter(Boolean).join(' and ')}`;
  return userns
    ? { name: 'privileges', status: 'warn', detail: `${detail}; "divert demo" runs itself in a user namespace`, fix: 'run as root (sudo divert …) for intercept and rules on this host' }
    : { name: 'privileges', status: 'fail', detail, fix: 'run as root: sudo divert …' };
}

/**
 * The programs the CLI itself may use: `ip` (the demo builds its namespaces with it) and
 * `unshare` (rootless runs). The library needs none: it speaks netlink to the kernel.
 */
export function checkBinaries(): CheckResult[] {
  const want = [
    { bin: 'ip', fix: 'apt-get install iproute2 (only "divert demo" and "divert doctor" make namespaces with it)' },
    { bin: 'unshare', fix: 'apt-get install util-linux (only to run the CLI without root)' },
  ] as const;
  return want.map((w) => {
    const path = findBinary(w.bin);
    return path ? { name: w.bin, status: 'ok' as const, detail: path } : { name: w.bin, status: 'warn' as const, detail: 'not found', fix: w.fix };
  });
}

/** Can an unprivileged user make a user + network namespace? (as root: tried as nobody). */
export async function checkUserNamespaces(): Promise<CheckResult> {
  const probe = ['unshare', '--user', '--map-root-user', '--net', 'true'];
  const asRoot = process.getuid?.() === 0 && findBinary('setpriv') !== undefined;
  const r = asRoot
    ? await runQuiet('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...probe])
    : await runQuiet(probe[0]!, probe.slice(1));
  if (r.ok) return { name: 'user namespaces', status: 'ok', detail: `"${probe.join(' ')}" works${asRoot ? ' for an unprivileged user' : ''}` };
  return {
    name: 'user namespaces', status: 'warn', detail: `unprivileged "${probe.join(' ')}" failed: ${r.stderr.trim().split('\n')[0] ?? ''}`,
    fix: 'sysctl -w user.max_user_namespaces=10000 (Ubuntu: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0); only needed to run without root',
  };
}

/** Kernel build options from /proc/config.gz. */
export function checkKernelConfig(): CheckResult[] {
  const read = readKernelConfig();
  if (!read.config) {
    return [{ name: 'kernel config', status: 'warn', detail: `not readable (${read.tried.join(', ')}); relying on the live probes`, fix: 'modprobe configs (to expose /proc/config.gz)' }];
  }
  const cfg = read.config;
  return KERNEL_OPTIONS.map((o) => {
    const v = cfg.get(o.name);
    if (v) return { name: o.name, status: 'ok' as const, detail: `=${v}: ${o.what}${v === 'm' ? ` (module ${o.module})` : ''}` };
    return {
      name: o.name, status: o.need === 'required' ? ('fail' as const) : ('warn' as const), detail: `not set: no ${o.what}`,
      fix: `rebuild the kernel with ${o.name}=m, then modprobe ${o.module}`,
    };
  });
}

const LIVE = ['nfnetlink_queue', 'nf_tables owner tables', 'queueing from nf_tables', 'nft_ct (always-defragment)', 'clsact qdisc', 'cls_bpf', 'act_mirred', 'sniff mode (nfnetlink_log, nft log)'];

/**
 * Live probes over netlink in a throwaway namespace: bind a queue; nf_tables with owner tables,
 * the native queue expression or the compat NFQUEUE target, ct (a dry run: nothing applied);
 * and what inbound injection needs from tc.
 */
export async function checkLive(privileged: boolean, native = true): Promise<CheckResult[]> {
  if (!native) {
    return LIVE.map((name) => ({ name, status: 'warn' as const, detail: 'not probed: the native addon is not loaded', fix: 'build the native addon first (see "native addon" above), then run divert doctor again' }));
  }
  if (!privileged) {
    return LIVE.map((name) => ({ name, status: 'warn' as const, detail: 'not probed: needs root', fix: 'sudo divert doctor' }));
  }
  const box = new Sandbox(`divert-doctor-${process.pid}`);
  const out: CheckResult[] = [];
  try {
    const ns = await box.add('probe');
    out.push(await probeQueue(ns));
    out.push(...(await probeTables(Netns.pathOf(ns)!)));
    out.push(...(await probeInjection(Netns.pathOf(ns)!)));
    out.push(await probeSniff(ns));
  } catch (err) {
    out.push({ name: 'throwaway namespace', status: 'fail', detail: (err as Error).message, fix: 'run as root with iproute2 installed' });
  } finally {
    await box.teardown();
  }
  return out;
}

async function probeQueue(ns: string): Promise<CheckResult> {
  try {
    const sock = createDivertSocket({ netns: ns, handleSignals: false });
    await sock.bind(4242);
    await sock.close();
    return { name: LIVE[0]!, status: 'ok', detail: 'bound divert port 4242 in a throwaway namespace' };
  } catch (err) {
    return { name: LIVE[0]!, status: 'fail', detail: `cannot bind a queue: ${(err as Error).message}`, fix: 'modprobe nfnetlink_queue (kernel CONFIG_NETFILTER_NETLINK_QUEUE)' };
  }
}

/** A sniffing socket with a rule: binds an NFLOG group and adds `log group N` (then removes both). */
async function probeSniff(ns: string): Promise<CheckResult> {
  try {
    const sock = createDivertSocket({ sniff: true, port: 4242, netns: ns, handleSignals: false, rules: ['-A input -p icmp'] });
    await sock.ready;
    await sock.close();
    return { name: LIVE[7]!, status: 'ok', detail: 'bound NFLOG group 4242 and added a log group rule (--sniff works)' };
  } catch (err) {
    return { name: LIVE[7]!, status: 'warn', detail: `${(err as Error).message} (--sniff will not work; diverting does)`, fix: 'kernel CONFIG_NETFILTER_NETLINK_LOG and CONFIG_NFT_LOG (modprobe nfnetlink_log nft_log)' };
  }
}

async function probeTables(netnsPath: string): Promise<CheckResult[]> {
  const conn = NftConnection.open({ netnsPath });
  try {
    const p = await probeKernel(conn);
    const queue: CheckResult = !p.queue
      ? { name: LIVE[2]!, status: 'ok', detail: "the native queue expression (nft_queue)" }
      : !p.compatNfqueue
        ? { name: LIVE[2]!, status: 'ok', detail: `the xtables NFQUEUE target through nft_compat (no native queue: ${p.queue.code})` }
        : { name: LIVE[2]!, status: 'fail', detail: `neither the queue expression (${p.queue.code}) nor the compat NFQUEUE target (${p.compatNfqueue.code})`, fix: 'kernel CONFIG_NFT_QUEUE, or CONFIG_NFT_COMPAT with CONFIG_NETFILTER_XT_TARGET_NFQUEUE' };
    return [
      p.ownerTable
        ? { name: LIVE[1]!, status: 'fail', detail: p.ownerTable.message, fix: 'Linux 5.12 or later with CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET' }
        : { name: LIVE[1]!, status: 'ok', detail: 'a table owned by its program is accepted (rules die with their program)' },
      queue,
      p.ct
        ? { name: LIVE[3]!, status: 'warn', detail: `the ct expression is refused (${p.ct.code}): --defragment will not work`, fix: 'kernel CONFIG_NFT_CT and CONFIG_NF_CONNTRACK' }
        : { name: LIVE[3]!, status: 'ok', detail: 'the ct expression is accepted (--defragment works)' },
    ];
  } catch (err) {
    return [{ name: LIVE[1]!, status: 'fail', detail: `nf_tables does not answer: ${(err as Error).message}`, fix: 'kernel CONFIG_NF_TABLES (modprobe nf_tables)' }];
  } finally {
    conn.close();
  }
}

/**
 * The tc rows (clsact, cls_bpf, act_mirred). When the probe cannot run at all (no NETLINK_ROUTE
 * socket in the namespace, an unexpected error), the three rows FAIL with its error.
 * @internal exported for tests
 */
export async function probeInjection(netnsPath: string): Promise<CheckResult[]> {
  const rows = [
    { name: LIVE[4]!, option: 'CONFIG_NET_SCH_INGRESS', outcome: (p: TcProbe) => p.clsact },
    { name: LIVE[5]!, option: 'CONFIG_NET_CLS_BPF', outcome: (p: TcProbe) => p.clsBpf },
    { name: LIVE[6]!, option: 'CONFIG_NET_ACT_MIRRED', outcome: (p: TcProbe) => p.actMirred },
  ];
  let p: TcProbe;
  try {
    p = await probeTc(netnsPath);
  } catch (err) {
    const detail = `cannot probe tc over rtnetlink: ${(err as Error).message}`;
    return rows.map(({ name }) => ({ name, status: 'fail' as const, detail, fix: 'run as root (the probe opens a NETLINK_ROUTE socket in a throwaway namespace)' }));
  }
  return rows.map(({ name, option, outcome }): CheckResult => {
    const o: TcProbeOutcome = outcome(p);
    return o.ok
      ? { name, status: 'ok', detail: 'accepted (inbound injection works)' }
      : { name, status: 'warn', detail: `${o.code}: ${o.detail} (inbound injection will not work; outbound does)`, fix: `kernel ${option}` };
  });
}
