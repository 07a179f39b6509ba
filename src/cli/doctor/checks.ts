/**
 * The doctor's checks. Each returns CheckResults; live kernel probes run inside a throwaway
 * network namespace, so the host's firewall is never touched.
 * @module
 */
import { createDivertSocket } from '../../mod.js';
import { drive, execRunner, probeNftQueue } from '../../firewall/mod.js';
import { CAP_NET_ADMIN, CAP_SYS_ADMIN, findBinary, hasCapability, runQuiet } from '../sys.js';
import { Sandbox } from '../sandbox.js';
import { KERNEL_OPTIONS, readKernelConfig } from './kernel_config.js';
import type { CheckResult } from './report.js';

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

/** ip, iptables (+ flavour), ip6tables, nft, tc, unshare. */
export async function checkBinaries(): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const want = [
    { bin: 'ip', need: 'fail', fix: 'apt-get install iproute2' },
    { bin: 'iptables', need: 'fail', fix: 'apt-get install iptables' },
    { bin: 'ip6tables', need: 'warn', fix: 'apt-get install iptables (IPv6 rules need ip6tables)' },
    { bin: 'nft', need: 'warn', fix: 'apt-get install nftables (optional)' },
    { bin: 'tc', need: 'warn', fix: 'apt-get install iproute2 (optional)' },
    { bin: 'unshare', need: 'warn', fix: 'apt-get install util-linux (rootless demo)' },
  ] as const;
  for (const w of want) {
    const path = findBinary(w.bin);
    if (!path) {
      out.push({ name: w.bin, status: w.need, detail: 'not found', fix: w.fix });
      continue;
    }
    if (w.bin !== 'iptables') {
      out.push({ name: w.bin, status: 'ok', detail: path });
      continue;
    }
    const v = await runQuiet(path, ['-V']);
    const text = v.stdout.trim();
    const flavour = text.includes('(nf_tables)') ? 'nf_tables' : text.includes('(legacy)') ? 'legacy' : 'unknown';
    out.push(flavour === 'unknown'
      ? { name: 'iptables', status: 'warn', detail: `${path}: flavour unknown (${text || v.stderr.trim()})`, fix: 'install iptables 1.8 or later (nf_tables or legacy)' }
      : { name: 'iptables', status: 'ok', detail: `${text} at ${path}` });
  }
  return out;
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

/** Live probes in a throwaway namespace: bind a queue, add NFQUEUE rules, test nft queue. */
export async function checkLive(privileged: boolean): Promise<CheckResult[]> {
  const names = ['nfnetlink_queue', 'xt NFQUEUE (iptables)', 'xt NFQUEUE (ip6tables)', 'nft queue'];
  if (!privileged) {
    return names.map((name) => ({ name, status: 'warn' as const, detail: 'not probed: needs root', fix: 'sudo divert doctor' }));
  }
  const box = new Sandbox(`divert-doctor-${process.pid}`);
  const out: CheckResult[] = [];
  try {
    const ns = await box.add('probe');
    try {
      const sock = createDivertSocket({ netns: ns, handleSignals: false });
      await sock.bind(4242);
      await sock.close();
      out.push({ name: names[0]!, status: 'ok', detail: 'bound divert port 4242 in a throwaway namespace' });
    } catch (err) {
      out.push({ name: names[0]!, status: 'fail', detail: `cannot bind a queue: ${(err as Error).message}`, fix: 'modprobe nfnetlink_queue (kernel CONFIG_NETFILTER_NETLINK_QUEUE)' });
    }
    for (const [i, bin] of [[1, 'iptables'], [2, 'ip6tables']] as const) {
      const r = await box.exec(ns, bin, ['-t', 'mangle', '-A', 'OUTPUT', '-j', 'NFQUEUE', '--queue-num', '4242', '--queue-bypass']);
      out.push(r.ok
        ? { name: names[i]!, status: 'ok', detail: `${bin} -t mangle … -j NFQUEUE accepted` }
        : { name: names[i]!, status: i === 1 ? 'fail' : 'warn', detail: `${bin} refused NFQUEUE: ${r.stderr.trim().split('\n')[0] ?? ''}`, fix: 'modprobe xt_NFQUEUE (kernel CONFIG_NETFILTER_XT_TARGET_NFQUEUE)' });
    }
    const nft = findBinary('nft') ? await drive(probeNftQueue(), execRunner({ netns: ns, backend: 'nft' })).catch(() => false) : false;
    out.push(nft
      ? { name: names[3]!, status: 'ok', detail: "the kernel accepts nft's queue statement" }
      : { name: names[3]!, status: 'warn', detail: "nft's queue statement is not available; divert uses iptables' NFQUEUE (fine)", fix: 'optional: kernel CONFIG_NFT_QUEUE=m and modprobe nft_queue' });
  } catch (err) {
    out.push({ name: 'throwaway namespace', status: 'fail', detail: (err as Error).message, fix: 'run as root with iproute2 installed' });
  } finally {
    await box.teardown();
  }
  return out;
}
