/**
 * The table of wrong inputs (test/bad_input/_api_cases.ts, _cli_cases.ts), against the fake
 * kernel. Each API row must throw or reject with its error class (and code), a message saying
 * what was wrong and how to fix it, and leave nothing behind: no socket open, no table, no
 * queue bound. Each CLI row must exit with its code (2 usage, 1 runtime), print one message on
 * stderr and nothing on stdout, no stack trace, and install nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDivertSocket, type DivertSocket } from '../../src/divert/divert_socket.js';
import type { DivertSocketOptions } from '../../src/divert/options.js';
import { main } from '../../src/cli/main.js';
import { collectingIo } from '../../src/cli/io.js';
import { FakeKernel } from '../../src/testing/fake_kernel.js';
import { HOST_LINKS, waitFor } from '../../src/testing/fixtures.js';
import { API_CASES } from './_api_cases.js';
import { CLI_CASES } from './_cli_cases.js';

/**
 * What the fake kernel holds that a failed call must not have left. The firewall's shared
 * nf_tables connection closes after a second of idleness (src/firewall/shared_connection.ts):
 * it is waited for, so it is shown to close and the next row starts on a fresh fake kernel.
 */
async function leftovers(kernel: FakeKernel): Promise<string[]> {
  const out: string[] = [];
  const tables = kernel.nftables.tables();
  if (tables.length > 0) out.push(`tables ${tables.map((t) => t.name).join(', ')}`);
  await waitFor(() => kernel.openSockets().length === 0, 'sockets closed', 3000).catch(() => {});
  const open = kernel.openSockets();
  if (open.length > 0) out.push(`${open.length} open socket(s)`);
  return out;
}

test(`the bad-input table has at least 60 rows (${API_CASES.length} API, ${CLI_CASES.length} CLI)`, () => {
  assert.ok(API_CASES.length + CLI_CASES.length >= 60);
});

for (const c of API_CASES) {
  test(`bad input (API): ${c.what} → ${c.error.name}${c.code ? ` ${c.code}` : ''}`, async () => {
    const kernel = FakeKernel.install();
    kernel.setLinks(HOST_LINKS);
    const socks: DivertSocket[] = [];
    const sock = (o?: DivertSocketOptions): DivertSocket => {
      const s = createDivertSocket(o);
      socks.push(s);
      return s;
    };
    try {
      c.setup?.(kernel);
      let caught: unknown;
      try {
        await c.run(sock, kernel);
      } catch (err) {
        caught = err;
      }
      assert.ok(caught !== undefined, 'no error');
      assert.ok(caught instanceof c.error, `${(caught as Error).name}: ${(caught as Error).message} is not a ${c.error.name}`);
      const err = caught as Error & { code?: string };
      if (c.code) assert.equal(err.code, c.code, err.message);
      for (const re of c.says) assert.match(err.message, re);
      await Promise.all(socks.map((s) => s.close().catch(() => {})));
      assert.deepEqual(await leftovers(kernel), []);
    } finally {
      await Promise.all(socks.map((s) => s.close().catch(() => {})));
      kernel.uninstall();
    }
  });
}

for (const c of CLI_CASES) {
  test(`bad input (CLI): divert ${c.argv.map((a) => JSON.stringify(a)).join(' ')} → exit ${c.exit}`, async () => {
    const kernel = FakeKernel.install();
    kernel.setLinks(HOST_LINKS);
    try {
      c.setup?.(kernel);
      const io = collectingIo();
      const code = await main(c.argv, io);
      const err = io.err.join('');
      assert.equal(code, c.exit, err);
      assert.deepEqual(io.out, [], 'nothing on stdout');
      // One message: one line, except the filter command's caret under the offending character.
      const lines = err.trimEnd().split('\n');
      if (c.argv[0] === 'filter' && lines.length === 3) assert.match(lines[2]!, /^\s*\^$/);
      else assert.equal(lines.length, 1, err);
      assert.doesNotMatch(err, /\n\s+at |Error:|TypeError|undefined|\[object/, 'no stack trace or internals');
      for (const re of c.says) assert.match(err, re);
      assert.deepEqual(await leftovers(kernel), []);
    } finally {
      kernel.uninstall();
    }
  });
}
