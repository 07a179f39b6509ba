/**
 * Traffic peer of `divert demo`, run inside a demo namespace (`ip netns exec NS node peer.js …`)
 * since a Node socket cannot be opened in another namespace. Bounded in count and time; prints
 * one JSON line with what it saw. The integration tests use it as their traffic peer too.
 *
 *   udp-recv <port> <count> <timeoutMs> <4|6>        {"got":["…"], "from":["addr"]}
 *   udp-mrecv <group> <port> <count> <timeoutMs> <ifaceAddr>   the same, joined to a multicast group
 *   udp-send <host> <port> <text>…                   {"sent":n}
 *   tcp-server <port> <timeoutMs> <4|6>              {"got":"…"} (answers "ack:<data>")
 *   tcp-client <host> <port> <text> <timeoutMs>      {"reply":"…"}
 *   udp-burst <host> <port> <count> <gapMs>          {"sent":n} (datagrams "0", "1", …, gapMs apart)
 *   tcp-count-server <port> <timeoutMs> <4|6>                {"bytes":n,"sha256":"…"} (answers with the same, then closes)
 *   tcp-count-client <host> <port> <bytes> <timeoutMs>     {"reply":"<bytes> <sha256>"} (sends bytes of i & 255, then half-closes)
 *   ping <addr> <count> <timeoutMs> [size]           {"sent":n,"received":n,"rtts":[…],"ttls":[…],"errors":[…]}
 *                                                    (divert's own ping, ./ping.ts, no ping binary: requests
 *                                                    200 ms apart until <count> replies or timeoutMs, as
 *                                                    ping -c count -w deadline)
 * @module
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { ping } from './ping.js';

const [mode, ...args] = process.argv.slice(2);

function done(result: unknown): never {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

/** Collects datagrams on `s` until `count` arrived or `timeout` ms passed. */
function receive(s: dgram.Socket, count: string | undefined, timeout: string | undefined): void {
  const got: string[] = [];
  const from: string[] = [];
  s.on('message', (msg, rinfo) => {
    got.push(msg.toString());
    from.push(rinfo.address);
    if (got.length >= Number(count)) done({ got, from });
  });
  setTimeout(() => done({ got, from }), Number(timeout));
}

if (mode === 'udp-recv') {
  const [port, count, timeout, fam] = args;
  const s = dgram.createSocket(fam === '6' ? 'udp6' : 'udp4');
  receive(s, count, timeout);
  s.bind(Number(port), () => process.stdout.write('ready\n'));
} else if (mode === 'udp-mrecv') {
  const [group, port, count, timeout, ifaceAddr] = args;
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  receive(s, count, timeout);
  s.bind(Number(port), () => {
    s.addMembership(group!, ifaceAddr);
    process.stdout.write('ready\n');
  });
} else if (mode === 'udp-send') {
  const [host, port, ...texts] = args;
  const s = dgram.createSocket(host!.includes(':') ? 'udp6' : 'udp4');
  let sent = 0;
  const next = (): void => {
    const t = texts[sent];
    if (t === undefined) done({ sent });
    s.send(Buffer.from(t), Number(port), host, () => {
      sent++;
      setTimeout(next, 50);
    });
  };
  next();
} else if (mode === 'tcp-server') {
  const [port, timeout, fam] = args;
  const server = net.createServer((c) => {
    c.once('data', (d) => c.end(`ack:${d.toString()}`, () => done({ got: d.toString() })));
  });
  server.listen(Number(port), fam === '6' ? '::' : '0.0.0.0', () => process.stdout.write('ready\n'));
  setTimeout(() => done({ got: null }), Number(timeout));
} else if (mode === 'tcp-client') {
  const [host, port, text, timeout] = args;
  const c = net.connect(Number(port), host, () => c.write(text!));
  let reply = '';
  c.on('data', (d) => (reply += d.toString()));
  c.on('end', () => done({ reply }));
  c.on('error', (e) => done({ error: e.message }));
  setTimeout(() => done({ reply: reply || null, timeout: true }), Number(timeout));
} else if (mode === 'udp-burst') {
  const [host, port, count, gap] = args;
  const s = dgram.createSocket(host!.includes(':') ? 'udp6' : 'udp4');
  let sent = 0;
  const next = (): void => {
    if (sent >= Number(count)) done({ sent });
    s.send(String(sent), Number(port), host, () => {
      sent++;
      setTimeout(next, Number(gap));
    });
  };
  next();
} else if (mode === 'tcp-count-server') {
  const [port, timeout, fam] = args;
  const server = net.createServer((c) => {
    const hash = createHash('sha256');
    let bytes = 0;
    c.on('data', (d) => {
      bytes += d.length;
      hash.update(d);
    });
    c.on('end', () => {
      const sha256 = hash.digest('hex');
      c.end(`${bytes} ${sha256}`, () => done({ bytes, sha256 }));
    });
  });
  server.listen(Number(port), fam === '6' ? '::' : '0.0.0.0', () => process.stdout.write('ready\n'));
  setTimeout(() => done({ bytes: null, timeout: true }), Number(timeout));
} else if (mode === 'tcp-count-client') {
  const [host, port, bytes, timeout] = args;
  const data = Buffer.alloc(Number(bytes));
  for (let i = 0; i < data.length; i++) data[i] = i & 255;
  const c = net.connect(Number(port), host, () => c.end(data));
  let reply = '';
  c.on('data', (d) => (reply += d.toString()));
  c.on('end', () => done({ reply }));
  c.on('error', (e) => done({ error: e.message }));
  setTimeout(() => done({ reply: reply || null, timeout: true }), Number(timeout));
} else if (mode === 'ping') {
  const [addr, count, timeout, size] = args;
  const deadlineMs = Number(timeout);
  ping(addr ?? '', { count: Number(count), untilReplies: true, intervalMs: 200, timeoutMs: Math.min(deadlineMs, 60_000), deadlineMs, size: size === undefined ? undefined : Number(size) })
    .then(done, (e: Error) => {
      process.stdout.write(JSON.stringify({ error: e.message }) + '\n');
      process.exit(1);
    });
} else {
  process.stderr.write(`peer: unknown mode ${String(mode)}\n`);
  process.exit(2);
}
