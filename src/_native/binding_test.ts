/**
 * The real addon given wrong sizes: every call must answer -EINVAL/-EBADF or throw a TypeError,
 * never crash, block or write outside a buffer. Needs no privilege and sends nothing: the only
 * socket is an unbound UDP socket, and every send here is refused before it leaves.
 */
import { test, type TestContext } from 'node:test';
import { closeSync, readFileSync, readlinkSync } from 'node:fs';
import assert from 'node:assert/strict';
import { loadNative, UV_READABLE, type NativeBinding, type PollHandle } from './binding.js';
import { Errno } from './errno.js';
import { AF_INET, SOCK_DGRAM, sockaddrIn } from './sockaddr.js';

const { EBADF, EINVAL } = Errno;

/** The addon and a fresh UDP socket closed after the test, or undefined (skipped) without a build. */
function setup(t: TestContext): { n: NativeBinding; fd: number } | undefined {
  let n: NativeBinding;
  try {
    n = loadNative();
  } catch (err) {
    t.skip(`native addon not built: ${(err as Error).message}`);
    return undefined;
  }
  const fd = n.socket(AF_INET, SOCK_DGRAM, 0);
  assert.ok(fd >= 0, `socket() = ${fd}`);
  t.after(() => n.close(fd));
  return { n, fd };
}

const LOOPBACK = Uint8Array.of(127, 0, 0, 1);

test('bind() refuses a sockaddr shorter than its family field or longer than sockaddr_storage', (t) => {
  const s = setup(t);
  if (!s) return;
  assert.equal(s.n.bind(s.fd, new Uint8Array(0)), -EINVAL);
  assert.equal(s.n.bind(s.fd, new Uint8Array(1)), -EINVAL);
  assert.equal(s.n.bind(s.fd, sockaddrIn(LOOPBACK).subarray(0, 8)), -EINVAL, 'the kernel wants all 16 bytes of a sockaddr_in');
  assert.equal(s.n.bind(s.fd, new Uint8Array(129)), -EINVAL);
});

test('sendto() refuses an empty, too-short or too-long sockaddr before sending anything', (t) => {
  const s = setup(t);
  if (!s) return;
  const data = Uint8Array.of(1, 2, 3);
  assert.equal(s.n.sendto(s.fd, data, new Uint8Array(0), 0), -EINVAL, 'an empty sockaddr is not "no address"');
  assert.equal(s.n.sendto(s.fd, data, new Uint8Array(1), 0), -EINVAL);
  assert.equal(s.n.sendto(s.fd, data, sockaddrIn(LOOPBACK, 9).subarray(0, 6), 0), -EINVAL);
  assert.equal(s.n.sendto(s.fd, data, new Uint8Array(200), 0), -EINVAL);
});

test('getsockname() with an output too short for the address is -EINVAL, not the full length', (t) => {
  const s = setup(t);
  if (!s) return;
  assert.equal(s.n.getsockname(s.fd, new Uint8Array(4)), -EINVAL);
  assert.equal(s.n.getsockname(s.fd, new Uint8Array(0)), -EINVAL);
  assert.equal(s.n.getsockname(s.fd, new Uint8Array(16)), 16);
  assert.equal(s.n.getsockname(s.fd, new Uint8Array(512)), 16, 'a longer buffer is fine');
});

test('recvmmsg() refuses an empty arena, a slot larger than the arena and a too-short lengths array', (t) => {
  const s = setup(t);
  if (!s) return;
  const lengths = new Uint32Array(4);
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(0), 2048, 4, lengths), -EINVAL);
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(1024), 2048, 4, lengths), -EINVAL);
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 2048, 2, new Uint32Array(0)), -EINVAL);
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 0, 2, lengths), -EINVAL);
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 2048, 0, lengths), -EINVAL);
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), -1, 2, lengths), -EINVAL);
  // Within bounds the call works (nothing queued: 0), even with fewer lengths than `max`.
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 2048, 8, new Uint32Array(1)), 0);
});

test('recvmmsg() takes its lengths only as a Uint32Array (TypeError otherwise)', (t) => {
  const s = setup(t);
  if (!s) return;
  const arena = new Uint8Array(4096);
  for (const lengths of [new Uint8Array(8), new Uint16Array(4), new Float64Array(2), new Int32Array(2)]) {
    assert.throws(() => s.n.recvmmsg(s.fd, arena, 2048, 2, lengths as unknown as Uint32Array), TypeError, lengths.constructor.name);
  }
});

test('every call given a negative fd answers -EBADF (poll() returns at once instead of sleeping)', (t) => {
  const s = setup(t);
  if (!s) return;
  const { n } = s;
  for (const fd of [-1, -2, -2147483648]) {
    assert.equal(n.bind(fd, sockaddrIn(LOOPBACK)), -EBADF);
    assert.equal(n.getsockname(fd, new Uint8Array(16)), -EBADF);
    assert.equal(n.setsockopt(fd, 1, 7, 1), -EBADF);
    assert.equal(n.getsockopt(fd, 1, 7, new Uint8Array(4)), -EBADF);
    assert.equal(n.sendto(fd, new Uint8Array(1), null, 0), -EBADF);
    assert.equal(n.recvmmsg(fd, new Uint8Array(2048), 2048, 1, new Uint32Array(1)), -EBADF);
    assert.equal(n.close(fd), -EBADF);
    assert.equal(n.pollStart(fd, UV_READABLE, () => {}), -EBADF);
    const start = Date.now();
    assert.equal(n.poll(fd, 1, 2000), -EBADF);
    assert.ok(Date.now() - start < 1000, 'poll(-1) must not wait out its timeout');
  }
});

test('poll() refuses a negative timeout (it would block the JavaScript thread forever)', (t) => {
  const s = setup(t);
  if (!s) return;
  assert.equal(s.n.poll(s.fd, 1, -1), -EINVAL);
  assert.equal(s.n.poll(s.fd, 1, 0), 0, 'nothing to read: a zero timeout returns at once');
});

test('pollStart() refuses event bits libuv does not know (they abort the process inside libuv)', (t) => {
  const s = setup(t);
  if (!s) return;
  assert.equal(s.n.pollStart(s.fd, 0x100, () => {}), -EINVAL);
  assert.equal(s.n.pollStart(s.fd, -1, () => {}), -EINVAL);
  assert.equal(s.n.pollStart(s.fd, 0, () => {}), -EINVAL);
});

test('pollStop() twice, after the close completed, is a no-op on live memory', async (t) => {
  const s = setup(t);
  if (!s) return;
  const h = s.n.pollStart(s.fd, UV_READABLE, () => {});
  assert.equal(typeof h, 'object');
  assert.equal(s.n.pollStop(h as PollHandle), 0);
  await new Promise((r) => setTimeout(r, 20)); // the uv_close callback has run
  assert.equal(s.n.pollStop(h as PollHandle), 0);
  assert.equal(s.n.pollRef(h as PollHandle, false), 0);
});

test('setsockopt()/getsockopt() with empty values are clean kernel errors', (t) => {
  const s = setup(t);
  if (!s) return;
  assert.equal(s.n.setsockopt(s.fd, 1, 7, new Uint8Array(0)), -EINVAL);
  assert.equal(s.n.getsockopt(s.fd, 1, 7, new Uint8Array(0)), 0);
});

test('wrong argument types throw a TypeError', (t) => {
  const s = setup(t);
  if (!s) return;
  const n = s.n as unknown as Record<string, (...a: unknown[]) => unknown>;
  assert.throws(() => n['bind']!(s.fd, 'not bytes'), TypeError);
  assert.throws(() => n['sendto']!(s.fd, 'not bytes', null, 0), TypeError);
  assert.throws(() => n['recvmmsg']!(s.fd, null, 2048, 1, new Uint32Array(1)), TypeError);
  assert.throws(() => n['pollStart']!(s.fd, UV_READABLE, 'not a function'), TypeError);
});

/** `n` bytes of 0xa5 inside a larger buffer at an odd offset, with the guard bytes around them. */
function guarded(n: number, at = 3): { whole: Uint8Array; view: Uint8Array } {
  const whole = new Uint8Array(n + at + 5).fill(0xa5);
  return { whole, view: whole.subarray(at, at + n) };
}

test('views at odd offsets: the addon reads and writes the view, not its whole buffer', (t) => {
  const s = setup(t);
  if (!s) return;
  // A valid sockaddr at offset 3 of a larger buffer binds; its first 3 bytes would not.
  const addr = guarded(16);
  addr.view.set(sockaddrIn(LOOPBACK));
  assert.equal(s.n.bind(s.fd, addr.view), 0);
  // getsockname writes 16 bytes into the view and nothing around it.
  const out = guarded(16);
  assert.equal(s.n.getsockname(s.fd, out.view), 16);
  assert.deepEqual([...out.whole.subarray(0, 3), ...out.whole.subarray(19)], new Array(8).fill(0xa5));
  assert.equal(out.view[0], 2, 'AF_INET, little-endian sa_family');
  // A 1-byte view of a 200-byte buffer is a 1-byte sockaddr: refused, whatever follows it.
  assert.equal(s.n.sendto(s.fd, Uint8Array.of(1), new Uint8Array(200).subarray(7, 8), 0), -EINVAL);
  // recvmmsg sizes slots from the view: an arena view of 100 bytes cannot hold a 2048-byte slot.
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(8192).subarray(100, 200), 2048, 1, new Uint32Array(1)), -EINVAL);
  // lengths as a 0-length view into a larger Uint32Array: no entry to write, -EINVAL.
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 2048, 1, new Uint32Array(8).subarray(4, 4)), -EINVAL);
});

test('a detached buffer is an empty one: clean -EINVAL or 0, never a crash', (t) => {
  const s = setup(t);
  if (!s) return;
  const detached = (n: number): Uint8Array => {
    const b = new Uint8Array(n);
    structuredClone(b.buffer, { transfer: [b.buffer] });
    return b;
  };
  assert.equal(detached(16).length, 0);
  assert.equal(s.n.bind(s.fd, detached(16)), -EINVAL);
  assert.equal(s.n.getsockname(s.fd, detached(16)), -EINVAL);
  assert.equal(s.n.sendto(s.fd, Uint8Array.of(1), detached(16), 0), -EINVAL);
  assert.equal(s.n.recvmmsg(s.fd, detached(4096), 2048, 1, new Uint32Array(1)), -EINVAL);
  const lengths = new Uint32Array(2);
  structuredClone(lengths.buffer, { transfer: [lengths.buffer] });
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 2048, 1, lengths), -EINVAL);
});

test('sizes at the int32 limits and non-integer numbers are refused before any syscall', (t) => {
  const s = setup(t);
  if (!s) return;
  const lengths = new Uint32Array(4);
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 2 ** 31 - 1, 4, lengths), -EINVAL, 'slot * max must not overflow');
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), 1, 2 ** 31 - 1, lengths), 0, 'max is capped by the lengths and the batch size');
  assert.equal(s.n.recvmmsg(s.fd, new Uint8Array(4096), -(2 ** 31), 1, lengths), -EINVAL);
  const n = s.n as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const fd of ['3', {}, null, undefined, 10n]) {
    assert.throws(() => n['bind']!(fd, sockaddrIn(LOOPBACK)), TypeError, `fd ${String(fd)}`);
    assert.throws(() => n['close']!(fd), TypeError, `fd ${String(fd)}`);
  }
  assert.throws(() => n['recvmmsg']!(s.fd, new Uint8Array(4096), '2048', 1, lengths), TypeError);
  assert.throws(() => n['sendto']!(s.fd, new ArrayBuffer(4), null, 0), TypeError, 'an ArrayBuffer is not a view');
  assert.throws(() => n['bind']!(s.fd, [2, 0, 0, 0]), TypeError, 'an array of numbers is not bytes');
});

test('a DataView is taken as the bytes it views (offset and length respected)', (t) => {
  const s = setup(t);
  if (!s) return;
  const addr = guarded(16, 5);
  addr.view.set(sockaddrIn(LOOPBACK));
  assert.equal(s.n.bind(s.fd, new DataView(addr.whole.buffer, 5, 2) as unknown as Uint8Array), -EINVAL, 'two bytes: the family alone');
  assert.equal(s.n.bind(s.fd, new DataView(addr.whole.buffer, 5, 16) as unknown as Uint8Array), 0);
});

test('openInNetns() opens a file inside a namespace and comes back; bad paths are -errno, bad types a TypeError', (t) => {
  const s = setup(t);
  if (!s) return;
  const open = s.n.openInNetns!.bind(s.n);
  assert.throws(() => open(1 as unknown as string, '/proc/self/ns/net'), TypeError);
  assert.throws(() => (open as unknown as (p: string) => number)('/proc/self/stat'), TypeError);
  assert.equal(open('/proc/self/stat', '/nonexistent/ns'), -Errno.ENOENT, 'no such namespace file');
  assert.equal(open('/proc/self/stat', '/proc/self/stat'), -Errno.EINVAL, 'not a namespace: setns(2) refuses it');
  assert.equal(open('/nonexistent', '/proc/thread-self/ns/net'), -Errno.ENOENT, 'no such file, in our own namespace');
  assert.equal(open('x'.repeat(5000), '/proc/thread-self/ns/net'), -Errno.ENAMETOOLONG);
  const home = readlinkSync('/proc/thread-self/ns/net');
  const fd = open('/proc/thread-self/net/dev', '/proc/thread-self/ns/net');
  if (fd === -Errno.EPERM) {
    t.diagnostic('setns(2) needs CAP_SYS_ADMIN: the opening itself is not tried without it (integration tests run it as root)');
    return;
  }
  assert.ok(fd >= 0, `fd ${fd}`);
  assert.match(readFileSync(fd, 'utf8'), /lo:/);
  closeSync(fd);
  assert.equal(readlinkSync('/proc/thread-self/ns/net'), home);
});
