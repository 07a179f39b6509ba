/**
 * A tiny traffic peer run inside a test namespace (`ip netns exec NS node peer_main.js …`), since
 * a Node socket cannot be opened in another namespace from the test process. Every mode is
 * bounded in time and count and prints one JSON line with what it saw.
 *
 *   udp-recv <port> <count> <timeoutMs> <4|6>     prints {"payloads":[...], "from":[...]}
 *   udp-mrecv <group> <port> <count> <timeoutMs> <ifaceAddr>   like udp-recv, joined to a multicast group
 *   udp-send <host> <port> <text> [count]         sends `count` datagrams
 *   tcp-server <port> <timeoutMs> <4|6>           echoes "ack:<data>" once, prints {"data": ...}
 *   tcp-client <host> <port> <text> <timeoutMs>   prints {"reply": ...}
 */
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);

function done(result: unknown): never {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

if (mode === 'udp-recv') {
  const [port, count, timeout, fam] = args;
  const s = dgram.createSocket(fam === '6' ? 'udp6' : 'udp4');
  const payloads: string[] = [];
  const from: string[] = [];
  s.on('message', (msg, rinfo) => {
    payloads.push(msg.toString());
    from.push(rinfo.address);
    if (payloads.length >= Number(count)) done({ payloads, from });
  });
  s.bind(Number(port), () => process.stdout.write('ready\n'));
  setTimeout(() => done({ payloads, from }), Number(timeout));
} else if (mode === 'udp-mrecv') {
  const [group, port, count, timeout, ifaceAddr] = args;
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const payloads: string[] = [];
  const from: string[] = [];
  s.on('message', (msg, rinfo) => {
    payloads.push(msg.toString());
    from.push(rinfo.address);
    if (payloads.length >= Number(count)) done({ payloads, from });
  });
  s.bind(Number(port), () => {
    s.addMembership(group!, ifaceAddr);
    process.stdout.write('ready\n');
  });
  setTimeout(() => done({ payloads, from }), Number(timeout));
} else if (mode === 'udp-send') {
  const [host, port, text, count = '1'] = args;
  const s = dgram.createSocket(host!.includes(':') ? 'udp6' : 'udp4');
  let sent = 0;
  const sendOne = (): void => {
    s.send(Buffer.from(text!), Number(port), host, () => {
      if (++sent >= Number(count)) done({ sent });
      else setTimeout(sendOne, 5);
    });
  };
  sendOne();
} else if (mode === 'tcp-server') {
  const [port, timeout, fam] = args;
  const server = net.createServer((c) => {
    c.once('data', (d) => {
      c.end(`ack:${d.toString()}`, () => done({ data: d.toString() }));
    });
  });
  server.listen(Number(port), fam === '6' ? '::' : '0.0.0.0', () => process.stdout.write('ready\n'));
  setTimeout(() => done({ data: null }), Number(timeout));
} else if (mode === 'tcp-client') {
  const [host, port, text, timeout] = args;
  const c = net.connect(Number(port), host, () => c.write(text!));
  let reply = '';
  c.on('data', (d) => (reply += d.toString()));
  c.on('end', () => done({ reply }));
  c.on('error', (e) => done({ error: e.message }));
  setTimeout(() => done({ reply: reply || null, timeout: true }), Number(timeout));
} else {
  process.stderr.write(`unknown mode ${String(mode)}\n`);
  process.exit(2);
}
