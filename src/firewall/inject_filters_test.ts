import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INJECT_MARK, parseInjectFilters, parseLinkNames, sweepStaleInjectFilters } from './inject_filters.js';
import type { Command, CommandRunner } from './runner.js';

// `tc filter show dev tv0 egress` with two divert filters (pids 77 and 4242) and a foreign one,
// as tc (iproute2 6.1) printed it on a kernel 6.18 test namespace.
const TC_SHOW = `filter protocol all pref 49152 bpf chain 0 
filter protocol all pref 49152 bpf chain 0 handle 0x4d not_in_hw bytecode '4,32 0 0 4294963220,21 0 1 ${INJECT_MARK},6 0 0 4294967295,6 0 0 0'
\taction order 1: mirred (Ingress Redirect to device tv0) stolen
\tindex 2 ref 1 bind 1

filter protocol all pref 49152 bpf chain 0 handle 0x1092 not_in_hw bytecode '4,32 0 0 4294963220,21 0 1 ${INJECT_MARK},6 0 0 4294967295,6 0 0 0'
\taction order 1: mirred (Ingress Redirect to device tv0) stolen
\tindex 1 ref 1 bind 1
filter protocol ip pref 10 bpf chain 0 handle 0x1 not_in_hw bytecode '1,6 0 0 0'
`;

test('parseInjectFilters() finds divert redirect filters by preference and mark, with their owner pid', () => {
  assert.deepEqual(parseInjectFilters(TC_SHOW), [77, 4242]);
  assert.deepEqual(parseInjectFilters(TC_SHOW.replaceAll(String(INJECT_MARK), '1')), [], 'another mark is not ours');
});

test('parseLinkNames() reads interface names from ip -o link show', () => {
  const out = '1: lo: <LOOPBACK> mtu 65536\\    link/loopback 00:00\n2: tv1@tv0: <BROADCAST> mtu 1500\\    link/ether 5a\n3: tv0@tv1: <UP> mtu 1500\n';
  assert.deepEqual(parseLinkNames(out), ['lo', 'tv1', 'tv0']);
});

test('sweepStaleInjectFilters() deletes only the filters of dead owners', async () => {
  const ran: Command[] = [];
  const runner: CommandRunner = {
    async run(cmd) {
      ran.push(cmd);
      if (cmd.file === 'ip') return { stdout: '1: lo: <LOOPBACK>\n3: tv0@tv1: <UP>\n', stderr: '' };
      if (cmd.args[1] === 'show') return { stdout: cmd.args[3] === 'tv0' ? TC_SHOW : '', stderr: '' };
      return { stdout: '', stderr: '' };
    },
    runSync() {
      throw new Error('not used');
    },
  };
  const removed = await sweepStaleInjectFilters({ runner, alive: (pid) => pid === 4242 });
  assert.equal(removed, 1);
  const deletes = ran.filter((c) => c.args[1] === 'del');
  assert.deepEqual(deletes.map((c) => c.args.join(' ')), ['filter del dev tv0 egress prio 49152 handle 77 protocol all bpf']);
});
