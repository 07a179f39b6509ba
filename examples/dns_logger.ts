/**
 * dns_logger: logs the question of every DNS message in diverted UDP port-53 packets (query
 * name, type, query or response) and reinjects every packet unchanged. The DNS parsing is here
 * in the example: header (RFC 1035 §4.1.1), then QNAME as length-prefixed labels, QTYPE, QCLASS.
 *
 * Run (as root):
 *   node dist/examples/dns_logger.js <port> [--firewall "<rule>"] [--netns NAME]
 *   node dist/examples/dns_logger.js 53 --firewall "-A output -p udp --dport 53"
 *   # prints: 12:00:00 198.18.1.1 query A example.com
 * @module
 */
import { parseArgs } from 'node:util';
import { createDivertSocket } from '../src/mod.js';
import { tryParsePacket } from '../src/packet/mod.js';

const TYPES: Readonly<Record<number, string>> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };

interface DnsQuestion {
  id: number;
  response: boolean;
  name: string;
  type: string;
}

/** The first question of a DNS message, or undefined when the bytes are not one. */
function parseDnsQuestion(msg: Uint8Array): DnsQuestion | undefined {
  if (msg.length < 12) return undefined;
  const qdcount = (msg[4]! << 8) | msg[5]!;
  if (qdcount < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    const len = msg[at];
    if (len === undefined || len > 63) return undefined; // no compression pointers in a question's first name
    at++;
    if (len === 0) break;
    if (at + len > msg.length) return undefined;
    labels.push(Buffer.from(msg.subarray(at, at + len)).toString('latin1'));
    at += len;
  }
  if (at + 4 > msg.length) return undefined;
  const qtype = (msg[at]! << 8) | msg[at + 1]!;
  return { id: (msg[0]! << 8) | msg[1]!, response: (msg[2]! & 0x80) !== 0, name: labels.join('.') || '.', type: TYPES[qtype] ?? `TYPE${qtype}` };
}

const { values, positionals } = parseArgs({ options: { firewall: { type: 'string' }, netns: { type: 'string' } }, allowPositionals: true, strict: false });
const port = Number(positionals[0]);
if (positionals.length !== 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('Usage: dns_logger <port> [--firewall "<rule without target>"] [--netns NAME]\n');
  process.exit(2);
}
const sock = createDivertSocket({
  netns: typeof values.netns === 'string' ? values.netns : undefined,
  rules: typeof values.firewall === 'string' ? [values.firewall] : [],
});
await sock.bind(port);
process.stderr.write(`dns_logger: divert port ${port}: logging DNS questions\n`);

for await (const p of sock) {
  const parsed = tryParsePacket(p.packet);
  const udp = parsed?.udp;
  if (parsed && udp && (udp.srcPort === 53 || udp.dstPort === 53)) {
    const q = parseDnsQuestion(parsed.payload);
    if (q) {
      const time = new Date().toTimeString().slice(0, 8);
      process.stdout.write(`${time} ${parsed.srcAddr} ${q.response ? 'response' : 'query'} ${q.type} ${q.name}\n`);
    }
  }
  p.reinject();
}
