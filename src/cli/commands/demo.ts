/**
 * `divert demo`: a guided tour in a throwaway network of namespaces (client, router, server):
 * interception, mangling (a UDP payload, a TTL), a TCP exchange and dropping, live, then a full
 * teardown, also on Ctrl-C and errors. Never touches the host's interfaces or firewall. Without
 * root it re-executes itself in a user namespace when the kernel allows it.
 * @module
 */
import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../io.js';
import { runQuiet } from '../sys.js';
import { reportError } from '../report_error.js';
import { CAP_NET_ADMIN, CAP_SYS_ADMIN, hasCapability } from '../../_native/capability.js';
import { Sandbox } from '../sandbox.js';
import { buildNetwork } from '../demo/network.js';
import { STEPS } from '../demo/steps.js';
import { canUnshare, prepareUserns, reexecInUserns, REEXEC_ENV } from '../demo/rootless.js';

export const DEMO_HELP = `Usage: divert demo [--keep | --delete]

Builds a throwaway network of three namespaces (client, router, server; addresses in
198.18.0.0/15 and 2001:db8::/32), installs DIVERT rules in the router and shows, live:
interception of ping (IPv4 and IPv6), a rewritten UDP payload, a rewritten TTL, a TCP
exchange through user space, and dropping. Then it deletes everything it made, also on
Ctrl-C or an error. The host's own interfaces and firewall are never touched.

Runs as root; otherwise it re-runs itself under "unshare --user --map-root-user --net --mount"
when the kernel allows user namespaces. Takes about 15 seconds. Exit status 0 when every step
worked.

Options:
  --keep       build the network only and keep it (namespaces divert-demo-client, -router,
               -server), to try commands in, e.g. the "divert chaos" recipes of the README:
               divert chaos --netns divert-demo-router --filter 'inbound and icmp' --lag 100ms
               (needs root: namespaces made in a user namespace go with it)
  --delete     delete the namespaces --keep made
  -h, --help   show this help
`;

/** The namespaces of `divert demo --keep`: divert-demo-client, -router, -server. */
export const KEPT_PREFIX = 'divert-demo';
const ROLES = ['client', 'router', 'server'] as const;

const BANNER = `
  client eth0 ─────── eth0 router eth1 ─────── eth0 server
  198.18.1.2      198.18.1.1 · 198.18.2.1        198.18.2.2
  2001:db8:1::2   2001:db8:1::1 · 2001:db8:2::1  2001:db8:2::2
`;

/** Builds, runs every step, tears down. */
async function runDemo(io: CliIo): Promise<number> {
  if (process.env[REEXEC_ENV] === '1') await prepareUserns();
  const box = new Sandbox(`divert-demo-${process.pid}`);
  const onSignal = (sig: NodeJS.Signals): void => {
    box.teardownSync();
    io.stderr(`\ndivert demo: ${sig}: stopped; the demo namespaces are deleted\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const out = { line: (s: string) => io.stdout(s + '\n') };
  let failed = 0;
  try {
    io.stdout(`divert demo: building a throwaway network (namespaces ${box.prefix}-client, -router, -server)\n${BANNER}\n`);
    const net = await buildNetwork(box);
    for (const [i, step] of STEPS.entries()) {
      io.stdout(`[${i + 1}/${STEPS.length}] ${step.title}\n`);
      const ok = await step.run({ box, net, out });
      if (!ok) failed++;
      io.stdout(ok ? '\n' : '  ✗ this step did not behave as expected\n\n');
    }
  } finally {
    await box.teardown();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  io.stdout(`divert demo: done; namespaces and rules removed. ${failed === 0 ? 'Every step worked.' : `${failed} step(s) failed.`}\n`);
  io.stdout('Next: "divert intercept --help", "divert rules --help", and the programs in examples/.\n');
  return failed === 0 ? 0 : 1;
}

/** The kept namespaces that exist now. */
async function keptNamespaces(): Promise<string[]> {
  const r = await runQuiet('ip', ['netns', 'list']);
  const names = new Set(r.stdout.split('\n').map((l) => l.split(' ')[0]));
  return ROLES.map((role) => `${KEPT_PREFIX}-${role}`).filter((n) => names.has(n));
}

/** `divert demo --keep`: the demo's network, built and left in place. */
async function keepNetwork(io: CliIo): Promise<number> {
  if ((await keptNamespaces()).length > 0) throw new UsageError(`the namespaces ${KEPT_PREFIX}-* exist already: "divert demo --delete" removes them`);
  const box = new Sandbox(KEPT_PREFIX);
  try {
    await buildNetwork(box);
  } catch (err) {
    await box.teardown();
    throw err;
  }
  box.keep();
  io.stdout(`divert demo: the demo's network is up and kept: namespaces ${ROLES.map((r) => `${KEPT_PREFIX}-${r}`).join(', ')}\n${BANNER}\n` +
    `Try: divert chaos --netns ${KEPT_PREFIX}-router --filter 'inbound and icmp' --lag 100ms\n` +
    `     ip netns exec ${KEPT_PREFIX}-client ping 198.18.2.2\n` +
    'Remove it with: divert demo --delete\n');
  return 0;
}

/** `divert demo --delete`: removes what --keep made. */
async function deleteKept(io: CliIo): Promise<number> {
  const names = await keptNamespaces();
  for (const name of names) {
    const r = await runQuiet('ip', ['netns', 'del', name]);
    if (!r.ok) throw new Error(`ip netns del ${name} failed: ${r.stderr.trim()}`);
  }
  io.stdout(names.length > 0 ? `divert demo: deleted ${names.join(', ')}\n` : 'divert demo: no kept demo namespaces\n');
  return 0;
}

/** Runs `divert demo`; returns the exit code. */
export async function demoCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({ args: [...argv], options: { help: { type: 'boolean', short: 'h' }, keep: { type: 'boolean' }, delete: { type: 'boolean' } } });
    if (values.help) {
      io.stdout(DEMO_HELP);
      return 0;
    }
    if (values.keep && values.delete) throw new UsageError('--keep and --delete exclude each other');
    if (values.keep || values.delete) {
      if (!hasCapability(CAP_NET_ADMIN) || !hasCapability(CAP_SYS_ADMIN)) {
        io.stderr('divert demo: --keep and --delete need root (namespaces made in a user namespace would go with it) (hint: sudo)\n');
        return 1;
      }
      return values.keep ? await keepNetwork(io) : await deleteKept(io);
    }
    if (hasCapability(CAP_NET_ADMIN) && hasCapability(CAP_SYS_ADMIN)) return await runDemo(io);
    if (process.env[REEXEC_ENV] === '1') throw new Error('no privileges even inside the user namespace');
    const u = await canUnshare();
    if (!u.ok) {
      io.stderr(`divert demo: needs root, and user namespaces are not available (${u.reason || 'unshare failed'}) (hint: sudo npx divert demo; "divert doctor" shows how to enable user namespaces)\n`);
      return 1;
    }
    io.stderr('divert demo: not root: running in a user namespace (unshare --user --map-root-user --net --mount)\n');
    // Fixed words only: the script and the command (parseArgs above let nothing else through).
    return await reexecInUserns([process.argv[1]!, 'demo']);
  } catch (err) {
    return reportError('divert demo', err, io);
  }
}
