import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { Netns } from './netns.js';
import { DivertError } from '../errors.js';

test('Netns.from() maps names and paths both ways and refuses the rest', () => {
  assert.deepEqual({ ...Netns.from('lab') }, { path: '/run/netns/lab', name: 'lab' });
  assert.equal(Netns.from('/run/netns/lab').name, 'lab');
  assert.equal(Netns.from('/proc/1/ns/net').name, undefined);
  assert.equal(Netns.from('/proc/1/ns/net').toString(), '/proc/1/ns/net');
  for (const bad of ['', 'a b', 'rel/path', '..', 'x'.repeat(65), 'tab\there']) assert.throws(() => Netns.from(bad), TypeError, bad);
});

test('Netns.pin() opens a namespace once per process and closes it with the last release', () => {
  const own = '/proc/self/ns/net';
  const a = Netns.pin(own);
  const b = Netns.pin(`/proc/${process.pid}/ns/net`);
  assert.match(a.path!, /^\/proc\/self\/fd\/\d+$/);
  assert.equal(b.path, a.path, 'one open file for one namespace');
  assert.equal(Netns.identity(a.path), Netns.identity(own));
  const fd = a.path!.slice('/proc/self/fd/'.length);
  assert.equal(readlinkSync(`/proc/self/fd/${fd}`), readlinkSync(own), 'the file is the namespace');
  a.release();
  a.release(); // idempotent: must not take b's reference
  assert.equal(readlinkSync(`/proc/self/fd/${fd}`), readlinkSync(own), 'still open for b');
  b.release();
  assert.throws(() => readlinkSync(`/proc/self/fd/${fd}`), /ENOENT/, 'closed with the last release');
  assert.equal(Netns.pin(undefined).path, undefined, "this process's namespace needs no file");
});

test('Netns.pin() of a missing namespace says how to make one', () => {
  assert.throws(() => Netns.pin('divert-no-such-ns'), (e: unknown) =>
    e instanceof DivertError && e.code === 'ENOENT' && /ip netns add divert-no-such-ns/.test(e.message));
});
