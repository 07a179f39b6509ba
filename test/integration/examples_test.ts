/**
 * The programs in examples/ against the real kernel, each run inside a throwaway namespace
 * (`ip netns exec NS node dist/examples/<name>.js …`) with traffic from a second one.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, connect, execAsync, pingAsync, pingFrom, requirePrivilege, spawnWatched, startPeer, type Netns, type Link } from '../_harness/netns.js';
import { divertRules, divertTables } from '../_harness/ruleset.js';

const example = (name: string): string => new URL(`../../examples/${name}.js`, import.meta.url).pathname;

function pair(subnet: number): { a: Netns; b: Netns; link: Link } {
  const a = createNetns();
  const b = createNetns();
  return { a, b, link: connect(a, b, subnet) };
}

async function start(ns: Netns, name: string, args: string[], ready: RegExp) {
  const w = spawnWatched(ns, process.execPath, [example(name), ...args], 20_000);
  assert.ok(await w.waitForOutput(ready), `${name} did not start: ${w.stderr()}`);
  return w;
}

/** No rule and no table of divert's left in `ns` (read over netlink). */
async function assertNothingLeft(ns: Netns, message: string): Promise<void> {
  assert.deepEqual(await divertRules(ns), [], message);
  assert.deepEqual(await divertTables(ns), [], `${message}: no table either`);
}

describe('examples (real kernel)', () => {
  test('interceptor --firewall: seed output for ICMP on output, rule removed on Ctrl-C', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(21);
    const w = await start(b, 'interceptor', ['--firewall', '610'], /Waiting for data/);
    assert.deepEqual(await divertRules(b), [`divert-${w.child.pid} divert -A output -p icmp -j DIVERT 610`], 'the -DFIREWALL rule is installed');
    assert.equal(await pingAsync(a, link.b4, 2), true, 'replies are reinjected');
    assert.ok(await w.waitForOutput(/84 bytes reinjected\.\n[^]*84 bytes reinjected\.\n/));
    w.child.kill('SIGINT');
    const end = await w.exit;
    assert.ok(end.signal === 'SIGINT' || end.code === 0 || end.code === 130, `exit ${JSON.stringify(end)}`);
    await assertNothingLeft(b, 'the rule is gone after Ctrl-C');
    assert.match(w.stderr(), /^interceptor:Creating a socket\ninterceptor:Binding a socket\n/);
    const lines = w.stdout().split('\n');
    assert.equal(lines[0], 'interceptor: Waiting for data...');
    assert.equal(lines[1], 'interceptor: The packet looks like this:');
    assert.match(lines[2]!, /^45 00 00 54 ([0-9a-f]{2} ){12}$/);
    assert.match(lines[4]!, /^([0-9a-f]{2} ){8}$/);
    assert.equal(lines[5], `interceptor: Source address: ${link.b4}`);
    assert.equal(lines[6], `interceptor: Destination address: ${link.a4}`);
    assert.equal(lines[7], 'interceptor: Receiving IF address: 0.0.0.0');
    assert.equal(lines[8], 'interceptor: Protocol number: 1');
    assert.equal(lines[9], 'interceptor Reinjecting DIVERT 84 bytes');
    assert.equal(lines[10], 'interceptor: 84 bytes reinjected.');
  });

  test('interceptor without arguments prints the C usage line', async (t) => {
    if (!requirePrivilege(t)) return;
    const w = spawnWatched(undefined, process.execPath, [example('interceptor')], 10_000);
    assert.equal((await w.exit).code, 1);
    assert.match(w.stderr(), /^Usage: interceptor .*<port number>\n$/);
  });

  test('ttl_rewriter: echo replies arrive with the new TTL', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(22);
    const w = await start(b, 'ttl_rewriter', ['611', '200', '--firewall', '-A output -p icmp --icmp-type echo-reply'], /setting TTL/);
    const r = await pingFrom(a, link.b4, { count: 2, untilReplies: true, deadlineMs: 3000 });
    assert.equal(r.received, 2, JSON.stringify(r));
    assert.deepEqual(r.ttls, [200, 200]);
    assert.match(w.stdout(), new RegExp(`${link.b4.replaceAll('.', '\\.')} > ${link.a4.replaceAll('.', '\\.')} ttl 64 -> 200`));
    w.child.kill('SIGTERM');
    await w.exit;
    await assertNothingLeft(b, 'the rule is gone');
  });

  test('dns_logger: logs the query name and type', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(23);
    const w = await start(b, 'dns_logger', ['612', '--firewall', '-A input -p udp --dport 53'], /logging DNS/);
    // A standard query for example.com/A (RFC 1035 §4.1): id, flags RD, 1 question.
    const script = `const s=require('dgram').createSocket('udp4');
      const q=Buffer.concat([Buffer.from([0x12,0x34,1,0,0,1,0,0,0,0,0,0,7]),Buffer.from('example'),Buffer.from([3]),Buffer.from('com'),Buffer.from([0,0,1,0,1])]);
      s.send(q,53,'${link.b4}',()=>s.close());`;
    assert.equal((await execAsync(a, process.execPath, ['-e', script])).ok, true);
    assert.ok(await w.waitForOutput(/query A example\.com/, 5000), w.stdout() + w.stderr());
    assert.match(w.stdout(), new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${link.a4.replaceAll('.', '\\.')} query A example\\.com$`, 'm'));
    w.child.kill('SIGTERM');
    await w.exit;
  });

  test('payload_dropper: datagrams containing the string never arrive, others do', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(24);
    const w = await start(b, 'payload_dropper', ['613', 'secret', '--firewall', '-A input -p udp --dport 7000'], /dropping payloads/);
    const recv = startPeer(b, ['udp-recv', '7000', '3', '2500', '4']);
    await recv.ready;
    for (const text of ['hello there', 'top secret plan', 'bye']) await startPeer(a, ['udp-send', link.b4, '7000', text]).result;
    const got = (await recv.result) as { got: string[] };
    assert.deepEqual(got.got, ['hello there', 'bye']);
    assert.deepEqual(w.stdout().trim().split('\n').map((l) => l.split(' ')[0]), ['pass', 'drop', 'pass']);
    w.child.kill('SIGTERM');
    await w.exit;
    await assertNothingLeft(b, 'the rule is gone');
  });
  test('http_rewriter: the request line grows, a response header shrinks, and the keep-alive connection carries the next request', async (t) => {
    if (!requirePrivilege(t)) return;
    const { a, b, link } = pair(25);
    const server = spawnWatched(b, process.execPath, ['-e', `require('http').createServer((q, r) => {
        r.setHeader('X-Greeting', 'hello-from-the-server-side');
        r.end('you asked for ' + q.url);
      }).listen(8080, () => console.log('listening'));`], 20_000);
    assert.ok(await server.waitForOutput(/listening/), server.stderr());
    const w = await start(b, 'http_rewriter', ['614', '8080', '--from', 'GET /a ', '--to', 'GET /a-much-longer-path ', '--reply-from', 'hello-from-the-server-side', '--reply-to', 'hi'], /rewriting TCP port 8080/);
    const client = `const http = require('http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = (path) => new Promise((ok, fail) => http.get({ host: '${link.b4}', port: 8080, path, agent }, (r) => {
        let body = ''; r.on('data', (d) => body += d);
        r.on('end', () => ok({ body, greeting: r.headers['x-greeting'], reused: r.req.reusedSocket }));
      }).on('error', fail));
      (async () => { const out = [await get('/a'), await get('/b'), await get('/a')]; console.log(JSON.stringify(out)); agent.destroy(); })();`;
    const r = await execAsync(a, process.execPath, ['-e', client], 10_000);
    assert.equal(r.ok, true, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      { body: 'you asked for /a-much-longer-path', greeting: 'hi', reused: false },
      { body: 'you asked for /b', greeting: 'hi', reused: true },
      { body: 'you asked for /a-much-longer-path', greeting: 'hi', reused: true },
    ]);
    assert.match(w.stdout(), /198\.18\.25\.1:\d+ > 198\.18\.25\.2:8080: "GET \/a " -> "GET \/a-much-longer-path " \(\+17 bytes\)/);
    assert.match(w.stdout(), /198\.18\.25\.2:8080 > 198\.18\.25\.1:\d+: "hello-from-the-server-side" -> "hi" \(-24 bytes\)/);
    w.child.kill('SIGTERM');
    server.child.kill('SIGTERM');
    await Promise.all([w.exit, server.exit]);
    await assertNothingLeft(b, 'the rules are gone');
  });
});
