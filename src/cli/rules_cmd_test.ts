import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKernel } from '../testing/fake_kernel.js';
import { main } from './main.js';
import { collectingIo } from './io.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = collectingIo();
  const code = await main(['rules', ...argv], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test('divert rules delete: a row ID (divert:N, divert-PID:N) or a rule, parsed once', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  const added = await run('add', '-A', 'input', '-p', 'icmp', '-j', 'DIVERT', '5');
  const id = /^added (divert:\d+):/.exec(added.out)?.[1];
  assert.ok(id, added.out);
  assert.deepEqual(await run('delete', id), { code: 0, out: `deleted ${id}\n`, err: '' });
  assert.match((await run('delete', id)).err, new RegExp(`no persistent DIVERT rule with ID ${id} `));
  assert.match((await run('delete', 'divert-77:3')).err, /no persistent DIVERT rule with ID divert-77:3 /, "another program's table: an ID too");
  for (const notId of ['nope:3', 'divert:x', 'divert-:3']) {
    const r = await run('delete', notId);
    assert.equal(r.code, 2, notId);
    assert.match(r.err, /Unknown chain/, `${notId} is read as rule words`);
  }
  await run('add', '-A', 'input', '-p', 'icmp', '-j', 'DIVERT', '5');
  assert.deepEqual(await run('delete', 'input', '-p', 'icmp', '-j', 'DIVERT', '5'), { code: 0, out: 'deleted -D input -p icmp -j DIVERT 5\n', err: '' });
  assert.match((await run('delete', '-D', 'input', '-p', 'icmp', '-j', 'DIVERT', '5')).err, /no persistent DIVERT rule equal to "-D input -p icmp -j DIVERT 5"/);
  assert.deepEqual(kernel.problems, []);
});

test('divert rules list: every row has its own ID, across chains and families (the table:handle)', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  await run('add', '-A', 'input', '-p', 'icmp', '-j', 'DIVERT', '5');
  await run('add', '-A', 'output', '-p', 'icmp', '-j', 'DIVERT', '5');
  await run('add', '-A', 'forward', '-p', 'udp', '-j', 'DIVERT', '6', '--priority', '5');
  await run('add', '-A', 'input', '-6', '-p', 'udp', '-j', 'DIVERT', '6');
  const list = await run('list');
  assert.equal(list.code, 0, list.err);
  const [header, ...rows] = list.out.trimEnd().split('\n');
  assert.match(header ?? '', /^ID\s+FAMILY\s+CHAIN/);
  assert.equal(rows.length, 4, list.out);
  const ids = rows.map((r) => r.split(/\s+/)[0]!);
  assert.equal(new Set(ids).size, 4, `IDs are unique: ${ids.join(' ')}`);
  for (const [i, id] of ids.entries()) {
    assert.equal((await run('delete', id)).code, 0, id);
    const left = (await run('list')).out.trimEnd().split('\n').slice(1).map((r) => r.split(/\s+/)[0]);
    assert.deepEqual(left, ids.slice(i + 1), `${id} deleted its own row only`);
  }
  assert.deepEqual(kernel.problems, []);
});
