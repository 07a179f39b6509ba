/**
 * ttl_rewriter: sets the IPv4 TTL (IPv6 hop limit) of every diverted packet to a fixed value
 * and reinjects it; the library refills the IPv4 header checksum of changed packets.
 *
 * Run (as root):
 *   node dist/examples/ttl_rewriter.js <port> <ttl> [--firewall "<rule>"] [--netns NAME]
 *   node dist/examples/ttl_rewriter.js 7 200 --firewall "-A output -p icmp --icmp-type echo-reply"
 * then `ping` this host from another: the replies arrive with ttl=200.
 * @module
 */
import { parseArgs } from 'node:util';
import { createDivertSocket } from '../src/mod.js';
import { tryParsePacket } from '../src/packet/mod.js';

const USAGE = 'Usage: ttl_rewriter <port> <ttl 1-255> [--firewall "<rule without target>"] [--netns NAME]\n';
const { values, positionals } = parseArgs({ options: { firewall: { type: 'string' }, netns: { type: 'string' } }, allowPositionals: true, strict: false });
const port = Number(positionals[0]);
const ttl = Number(positionals[1]);
if (positionals.length !== 2 || !Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(ttl) || ttl < 1 || ttl > 255) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const rule = typeof values.firewall === 'string' ? [values.firewall] : [];
const sock = createDivertSocket({ netns: typeof values.netns === 'string' ? values.netns : undefined, rules: rule });
await sock.bind(port);
process.stderr.write(`ttl_rewriter: divert port ${port}: setting TTL/hop limit to ${ttl}\n`);

for await (const p of sock) {
  const parsed = tryParsePacket(p.packet);
  if (parsed?.ipv4) {
    process.stdout.write(`${parsed.srcAddr} > ${parsed.dstAddr} ttl ${parsed.ipv4.ttl} -> ${ttl}\n`);
    parsed.ipv4.ttl = ttl;
  } else if (parsed?.ipv6) {
    process.stdout.write(`${parsed.srcAddr} > ${parsed.dstAddr} hlim ${parsed.ipv6.hopLimit} -> ${ttl}\n`);
    p.packet[7] = ttl; // IPv6 Hop Limit: byte 7 of the fixed header (RFC 8200 §3); no checksum covers it
  }
  p.reinject(); // changed bytes go back with their checksums refilled
}
