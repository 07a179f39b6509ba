/**
 * http_rewriter: replaces text in TCP segments in flight (an HTTP request line, a header, any
 * token of a text protocol), longer or shorter, and keeps the connection alive: with `tcpRewrite`
 * divert moves the flow's sequence and acknowledgement numbers from there on, both ways.
 *
 * Run (as root) on the server's host, or on a router with --forward:
 *   node dist/examples/http_rewriter.js <divert port> <tcp port> [--from TEXT --to TEXT]
 *     [--reply-from TEXT --reply-to TEXT] [--forward] [--netns NAME]
 *   node dist/examples/http_rewriter.js 7 8080 --from "GET /a " --to "GET /a-much-longer-path "
 * Requests (to the TCP port) get --from → --to, responses --reply-from → --reply-to. A change
 * divert cannot keep consistent (another rewrite of bytes already sent) is reported and the
 * segment goes on unchanged.
 * @module
 */
import { parseArgs } from 'node:util';
import { createDivertSocket, TcpRewriteError } from '../src/mod.js';
import { tryParsePacket, withTcpPayload } from '../src/packet/mod.js';

const USAGE = 'Usage: http_rewriter <divert port> <tcp port> [--from TEXT --to TEXT] [--reply-from TEXT --reply-to TEXT] [--forward] [--netns NAME]\n';
const { values, positionals } = parseArgs({
  options: {
    from: { type: 'string' }, to: { type: 'string' }, 'reply-from': { type: 'string' }, 'reply-to': { type: 'string' },
    forward: { type: 'boolean' }, netns: { type: 'string' },
  },
  allowPositionals: true,
});
const port = Number(positionals[0]);
const tcpPort = Number(positionals[1]);
const valid = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
const pairs = [[values.from, values.to], [values['reply-from'], values['reply-to']]] as const;
if (positionals.length !== 2 || !valid(port) || !valid(tcpPort) || tcpPort === 0 || pairs.some(([f, t]) => (f === undefined) !== (t === undefined) || f === '')) {
  process.stderr.write(USAGE);
  process.exit(2);
}

// Both directions of the flow must reach the socket: requests in and responses out (or both
// ways through a router), for IPv4 and IPv6.
const rules = (values.forward ? [`forward -p tcp --dport ${tcpPort}`, `forward -p tcp --sport ${tcpPort}`] : [`input -p tcp --dport ${tcpPort}`, `output -p tcp --sport ${tcpPort}`])
  .flatMap((r) => [`-A ${r}`, `-A ${r} -6`]);
const sock = createDivertSocket({ netns: values.netns, rules, tcpRewrite: true });
await sock.bind(port);
sock.on('tcpRewriteWarning', (w: { message: string }) => process.stderr.write(`http_rewriter: ${w.message}\n`));
process.stderr.write(`http_rewriter: divert port ${port}: rewriting TCP port ${tcpPort}\n`);

const latin1 = new TextDecoder('latin1');
for await (const p of sock) {
  const parsed = tryParsePacket(p.packet);
  const tcp = parsed?.tcp;
  if (!parsed || !tcp || parsed.payload.length === 0) {
    p.reinject();
    continue;
  }
  const [from, to] = tcp.dstPort === tcpPort ? pairs[0] : pairs[1];
  const text = latin1.decode(parsed.payload);
  if (from === undefined || to === undefined || !text.includes(from)) {
    p.reinject(); // divert still moves its numbers if the flow was rewritten before
    continue;
  }
  const payload = Buffer.from(text.replaceAll(from, to), 'latin1');
  const flow = `${parsed.srcAddr}:${tcp.srcPort} > ${parsed.dstAddr}:${tcp.dstPort}`;
  try {
    p.reinject(withTcpPayload(p.packet, payload));
    process.stdout.write(`${flow}: ${JSON.stringify(from)} -> ${JSON.stringify(to)} (${payload.length - parsed.payload.length >= 0 ? '+' : ''}${payload.length - parsed.payload.length} bytes)\n`);
  } catch (err) {
    if (!(err instanceof TcpRewriteError)) throw err;
    process.stderr.write(`http_rewriter: ${flow}: ${err.message}\n`);
    p.reinject();
  }
}
