/**
 * payload_dropper: drops every diverted packet whose transport payload contains a given string
 * and reinjects the others, printing each decision.
 *
 * Run (as root):
 *   node dist/examples/payload_dropper.js <port> <string> [--firewall "<rule>"] [--netns NAME]
 *   node dist/examples/payload_dropper.js 9 secret --firewall "-A input -p udp"
 * @module
 */
import { parseArgs } from 'node:util';
import { createDivertSocket } from '../src/mod.js';
import { tryParsePacket } from '../src/packet/mod.js';

const { values, positionals } = parseArgs({ options: { firewall: { type: 'string' }, netns: { type: 'string' } }, allowPositionals: true, strict: false });
const port = Number(positionals[0]);
const needle = positionals[1];
if (positionals.length !== 2 || !Number.isInteger(port) || port < 0 || port > 65535 || !needle) {
  process.stderr.write('Usage: payload_dropper <port> <string> [--firewall "<rule without target>"] [--netns NAME]\n');
  process.exit(2);
}
const pattern = Buffer.from(needle);

const sock = createDivertSocket({
  netns: typeof values.netns === 'string' ? values.netns : undefined,
  rules: typeof values.firewall === 'string' ? [values.firewall] : [],
});
await sock.bind(port);
process.stderr.write(`payload_dropper: divert port ${port}: dropping payloads containing ${JSON.stringify(needle)}\n`);

for await (const p of sock) {
  const parsed = tryParsePacket(p.packet);
  const payload = parsed ? Buffer.from(parsed.payload.buffer, parsed.payload.byteOffset, parsed.payload.length) : Buffer.alloc(0);
  const who = parsed ? `${parsed.srcAddr} > ${parsed.dstAddr}` : 'malformed packet';
  if (payload.includes(pattern)) {
    p.drop();
    process.stdout.write(`drop ${who} (${payload.length} payload bytes)\n`);
  } else {
    p.reinject();
    process.stdout.write(`pass ${who} (${payload.length} payload bytes)\n`);
  }
}
