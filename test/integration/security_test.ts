/**
 * Security checks that need a real kernel: the CLI reads another namespace's queue counters with
 * no user string in a child's argument vector, and the addon's receive writes only into the
 * views it is given (datagrams received, in a namespace of the test's own).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, requirePrivilege, tryRun } from '../_harness/netns.js';
import { createDivertSocket } from '../../src/mod.js';
import { readQueueCounters } from '../../src/cli/queue_proc.js';
import { loadNative } from '../../src/_native/binding.js';
import { AF_INET, SOCK_DGRAM, sockaddrIn } from '../../src/_native/sockaddr.js';

describe('security (real kernel)', () => {
  test('readQueueCounters() reads a namespace given by name or path; nsenter gets only constant words', async (t) => {
    if (!requirePrivilege(t)) return;
    if (!tryRun('nsenter', ['--version']).ok) {
      t.skip('nsenter (util-linux) is not installed: the CLI shows no kernel counters for --netns then');
      return;
    }
    const ns = createNetns();
    const sock = createDivertSocket({ port: 4711, netns: ns.name, handleSignals: false });
    t.after(() => sock.close());
    await sock.ready;
    for (const where of [ns.name, ns.path]) {
      const c = await readQueueCounters(4711, where);
      assert.equal(c?.queue, 4711, `counters of queue 4711 in ${where}`);
    }
    assert.equal(await readQueueCounters(4711), undefined, 'not bound in this namespace');

    // A recording nsenter first on PATH: what argv does the CLI build?
    const dir = mkdtempSync(join(tmpdir(), 'divert-argv-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'argv');
    // The shim logs its words and execs the real nsenter by its full path.
    const realDir = tryRun('sh', ['-c', 'dirname "$(command -v nsenter)"']).stdout.trim();
    writeFileSync(join(dir, 'nsenter'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\nexec '${realDir}/nsenter' "$@"\n`);
    chmodSync(join(dir, 'nsenter'), 0o755);
    const realPath = process.env['PATH'] ?? '';
    process.env['PATH'] = `${dir}:${realPath}`;
    try {
      const c = await readQueueCounters(4711, ns.name);
      assert.equal(c?.queue, 4711);
    } finally {
      process.env['PATH'] = realPath;
    }
    const argv = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(argv, ['--net=/proc/self/fd/3', 'cat', '/proc/net/netfilter/nfnetlink_queue']);
    assert.ok(!argv.some((w) => w.includes(ns.name)), 'the namespace name is in no word');
  });

  test('recvmmsg() writes received datagrams into arena and lengths views at odd offsets, nothing around them', (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const n = loadNative();
    const fd = n.socket(AF_INET, SOCK_DGRAM, 0, ns.path);
    assert.ok(fd >= 0, `socket() in ${ns.name} = ${fd}`);
    t.after(() => n.close(fd));
    const lo = Uint8Array.of(127, 0, 0, 1);
    assert.equal(n.bind(fd, sockaddrIn(lo)), 0);
    const name = new Uint8Array(16);
    assert.equal(n.getsockname(fd, name), 16);
    const port = (name[2]! << 8) | name[3]!;
    // Three datagrams to itself: 10, 70 (more than a slot: truncated) and 1 bytes.
    for (const size of [10, 70, 1]) assert.equal(n.sendto(fd, new Uint8Array(size).fill(size), sockaddrIn(lo, port), 0), size);
    const arenaWhole = new Uint8Array(3 + 3 * 64 + 7).fill(0xa5);
    const arena = arenaWhole.subarray(3, 3 + 3 * 64);
    const lengthsWhole = new Uint32Array(6).fill(0xa5a5a5a5);
    const lengths = lengthsWhole.subarray(2, 5);
    assert.equal(n.recvmmsg(fd, arena, 64, 8, lengths), 3, 'max capped to the 3 slots and 3 lengths');
    assert.deepEqual([...lengths], [10, (0x80000000 | 64) >>> 0, 1], "a truncated datagram: the slot size, with MSG_TRUNC in bit 31");
    assert.deepEqual([...arenaWhole.subarray(0, 3), ...arenaWhole.subarray(3 + 3 * 64)], new Array(10).fill(0xa5), 'arena guard bytes');
    assert.deepEqual([...lengthsWhole.subarray(0, 2), ...lengthsWhole.subarray(5)], new Array(3).fill(0xa5a5a5a5), 'lengths guard entries');
    assert.deepEqual([...arena.subarray(64, 128)], new Array(64).fill(70), 'the truncated datagram fills its slot, no more');
    assert.equal(arena[128], 1);
  });
});
