/**
 * The two ends of a line-by-line TCP request/response exchange, each run in its own namespace
 * (`ip netns exec NS node tcp_exchange.js …`) by test/integration/tcp_rewrite_test.ts. Each end
 * checks every line it gets against what it expects (the other end's words as the divert program
 * rewrites them) and prints one JSON result line; an error (a reset included) is reported, never
 * thrown.
 *
 *   server <4|6> <port> <expectWord> <replyWord> <count> <timeoutMs> [one]
 *   client <host> <port> <sendWord> <expectWord> <count> <timeoutMs> [one]
 *
 * Line i is `<word>:<i>:<body(i)>\n`, written in two writes (the word first, in a segment of its
 * own), or with `one` in one write (the word then starts a full-size segment: growing it splits
 * it); bodies run from a few bytes to several segments.
 * @module
 */
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);

/** The body of message `i`: 0 to ~3000 bytes, never containing a word. */
function body(i: number): string {
  const n = (i * 397) % 3001;
  return Array.from({ length: n }, (_, k) => String.fromCharCode(48 + ((i + k) % 10))).join('');
}

interface Result {
  lines: number;
  errors: string[];
  reset: boolean;
}

function finish(r: Result): never {
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

/** Calls `onLine` for each whole line the socket gives. */
function lines(sock: net.Socket, onLine: (line: string) => void): void {
  let buf = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    buf += d;
    for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) {
      onLine(buf.slice(0, at));
      buf = buf.slice(at + 1);
    }
  });
}

function check(r: Result, line: string, word: string, i: number): void {
  const want = `${word}:${i}:${body(i)}`;
  if (line !== want && r.errors.length < 5) r.errors.push(`line ${i}: got ${JSON.stringify(line.slice(0, 80))} (${line.length} bytes), want ${JSON.stringify(want.slice(0, 80))} (${want.length} bytes)`);
}

if (mode === 'server') {
  const [fam, port, expectWord, replyWord, count, timeout, one] = args as [string, string, string, string, string, string, string?];
  const r: Result = { lines: 0, errors: [], reset: false };
  const server = net.createServer((c) => {
    c.setNoDelay(true);
    c.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') r.reset = true;
      r.errors.push(`server socket: ${e.message}`);
    });
    lines(c, (line) => {
      const i = r.lines++;
      check(r, line, expectWord, i);
      if (one === 'one') c.write(`${replyWord}:${i}:${body(i)}\n`);
      else {
        c.write(`${replyWord}:${i}:`);
        c.write(`${body(i)}\n`);
      }
    });
    c.on('end', () => c.end(() => finish(r)));
  });
  server.listen(Number(port), fam === '6' ? '::' : '0.0.0.0', () => process.stdout.write('ready\n'));
  setTimeout(() => finish({ ...r, errors: [...r.errors, `timed out after ${r.lines} of ${count} lines`] }), Number(timeout));
} else if (mode === 'client') {
  const [host, port, sendWord, expectWord, count, timeout, one] = args as [string, string, string, string, string, string, string?];
  const total = Number(count);
  const r: Result = { lines: 0, errors: [], reset: false };
  const send = (i: number): void => {
    if (one === 'one') return void c.write(`${sendWord}:${i}:${body(i)}\n`);
    c.write(`${sendWord}:${i}:`);
    c.write(`${body(i)}\n`);
  };
  const c = net.connect(Number(port), host, () => {
    c.setNoDelay(true);
    send(0);
  });
  c.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'ECONNRESET') r.reset = true;
    r.errors.push(`client socket: ${e.message}`);
    finish(r);
  });
  lines(c, (line) => {
    const i = r.lines++;
    check(r, line, expectWord, i);
    if (r.lines < total) send(r.lines);
    else c.end();
  });
  c.on('end', () => finish(r));
  setTimeout(() => finish({ ...r, errors: [...r.errors, `timed out after ${r.lines} of ${total} lines`] }), Number(timeout));
} else if (mode !== undefined) {
  process.stderr.write(`tcp_exchange: unknown mode ${mode}\n`);
  process.exit(2);
}
