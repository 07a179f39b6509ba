/**
 * interceptor: the seed's §6.4 "plain vanilla" divert socket program, ported to TypeScript.
 *
 * It reads packets from a divert port, prints each one (its first 40 bytes in hex, source,
 * destination, receiving interface address, protocol) and reinjects it, printing exactly what
 * the C program printed. As with the C program's compile-time options:
 *   --firewall      (-DFIREWALL) install "-A output -p icmp -j DIVERT <port>" for the run and
 *                   remove it on Ctrl-C, so every ICMP packet this host sends is diverted
 *   --no-reinject   (built without -DREINJECT) only intercept: packets are dropped
 * and, for tests and labs, --netns NAME to work inside a network namespace.
 *
 * Run (as root):
 *   npx tsc -p . && node dist/examples/interceptor.js --firewall 1234
 *   # or, with a rule of your own:  divert rules add -A input -p ICMP -j DIVERT 1234
 *   node dist/examples/interceptor.js 1234
 *
 * In a project, import from 'divert' and 'divert/packet' instead of the relative paths.
 * @module
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { createDivertSocket, type DivertSocket } from '../src/mod.js';
import { tryParsePacket } from '../src/packet/mod.js';

const progname = basename(process.argv[1] ?? 'interceptor', '.js');

let args: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    options: { firewall: { type: 'boolean' }, 'no-reinject': { type: 'boolean' }, netns: { type: 'string' } },
    allowPositionals: true,
  });
}
try {
  args = parseOptions();
} catch {
  args = { values: {}, positionals: [] };
}
const port = Number(args.positionals[0]);
if (args.positionals.length !== 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`Usage: ${progname} [--firewall] [--no-reinject] [--netns NAME] <port number>\n`);
  process.exit(1);
}
const reinject = args.values['no-reinject'] !== true;

/** IN_MULTICAST(): 224.0.0.0/4 (and ff00::/8 for IPv6). */
function isMulticast(dst: string): boolean {
  return dst.includes(':') ? dst.toLowerCase().startsWith('ff') : Number(dst.split('.')[0]) >= 224 && Number(dst.split('.')[0]) <= 239;
}

const print = (s: string): void => void process.stdout.write(s);

process.stderr.write(`${progname}:Creating a socket\n`);
// The FIREWALL part of the C program: the rule is installed when the socket binds and
// removed when it closes, on Ctrl-C (SIGINT) and SIGTERM included.
const sock: DivertSocket = createDivertSocket({
  netns: args.values.netns,
  rules: args.values.firewall ? ['-A output -p icmp'] : [],
});
process.stderr.write(`${progname}:Binding a socket\n`);
try {
  await sock.bind(port);
} catch (err) {
  process.stderr.write(`${progname}: Error bind(): ${(err as Error).message}\n`);
  process.exit(1);
}
print(`${progname}: Waiting for data...\n`);

for await (const p of sock) {
  const packet = p.packet;
  const n = packet.length;
  const sin = p.address; // the C's struct sockaddr_in: the receiving interface's address
  print(`${progname}: The packet looks like this:\n`);
  let hex = '';
  for (let i = 0; i < Math.min(40, n); i++) {
    hex += packet[i]!.toString(16).padStart(2, '0') + ' ';
    if (!((i + 1) % 16)) hex += '\n';
  }
  print(hex + (Math.min(40, n) % 16 ? '\n' : ''));
  const hdr = tryParsePacket(packet);
  print(`${progname}: Source address: ${hdr?.srcAddr ?? '?'}\n`);
  print(`${progname}: Destination address: ${hdr?.dstAddr ?? '?'}\n`);
  print(`${progname}: Receiving IF address: ${sin.address}\n`);
  print(`${progname}: Protocol number: ${hdr?.protocol ?? packet[9] ?? 0}\n`);

  if (!reinject) {
    sock.drop(p); // without -DREINJECT the C program never sent packets back: they were lost
    continue;
  }
  if (hdr && isMulticast(hdr.dstAddr)) {
    print(`${progname}: Multicast address!\n`);
    // The C set IP_MULTICAST_IF before reinjecting an outgoing multicast packet; a verdict
    // keeps the packet on its own interface, so that step always succeeds here.
    if (sin.outbound) print(`${progname}: set_interface returns 0 with errno =0\n`);
  }
  print(`${progname} Reinjecting DIVERT ${n} bytes\n`);
  const sent = sock.sendto(packet, sin);
  print(`${progname}: ${sent} bytes reinjected.\n`);
  if (sent <= 0) print(`${progname}: Oops: errno = 0\n`);
}
