/**
 * Security checks that need a real kernel: the CLI reads another namespace's queue counters with
 * no child process at all, and the addon's receive writes only into the
 * views it is given (datagrams received, in a namespace of the test's own).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import diagnostics from 'node:diagnostics_channel';
import { createNetns, requirePrivilege } from '../_harness/netns.js';
import { createDivertSocket } from '../../src/mod.js';
import { readQueueCounters } from '../../src/cli/queue_proc.js';
import { loadNative } from '../../src/_native/binding.js';
import { AF_INET, SOCK_DGRAM, sockaddrIn } from '../../src/_native/sockaddr.js';

describe('security (real kernel)', () => {
  test('readQueueCounters() reads a namespace given by name or path, itself: no child process, this thread back home', async (t) => {
    if (!requirePrivilege(t)) return;
    const ns = createNetns();
    const sock = createDivertSocket({ port: 4711, netns: ns.name, handleSignals: false });
    t.after(() => sock.close());
    await sock.ready;
    const home = readlinkSync('/proc/thread-self/ns/net');
    // Node publishes every spawn() (the old way ran nsenter so) on this channel.
    let spawned = 0;
    const onSpawn = (): void => void spawned++;
    diagnostics.subscribe('child_process', onSpawn);
    try {
      for (const where of [ns.name, ns.path]) {
        const c = await readQueueCounters(4711, where);
        assert.equal(c?.queue, 4711, `counters of queue 4711 in ${where}`);
        assert.equal(readlinkSync('/proc/thread-self/ns/net'), home, 'the thread came back to its own namespace');
      }
    } finally {
      diagnostics.unsubscribe('child_process', onSpawn);
    }
    assert.equal(spawned, 0, 'no child process');
    assert.equal(await readQueueCounters(4711), undefined, 'not bound in this namespace');
    assert.equal(await readQueueCounters(4711, '/nonexistent/netns'), undefined, 'an unreadable namespace: no counters, no throw');
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
