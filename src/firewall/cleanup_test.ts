/**
 * Exit cleanup runs only when the process is really ending. Signals and exceptions are emitted
 * as events here (never raised), and only where another listener exists, so the runner survives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forgetExitCleanup, installExitCleanup } from './cleanup.js';

const emit = process.emit.bind(process) as (event: string, ...args: unknown[]) => boolean;

function counting(): { removeSync(): number; calls: number } {
  return { calls: 0, removeSync() { this.calls++; return 0; } };
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} with the program's own listener: rules stay, the program decides`, () => {
    const h = counting();
    let own = 0;
    const mine = (): void => void own++;
    process.on(signal, mine);
    installExitCleanup(h);
    try {
      process.emit(signal, signal);
      assert.equal(own, 1);
      assert.equal(h.calls, 0, 'no cleanup while the program may keep running');
      assert.ok(process.listeners('exit').length > 0, 'still registered for exit');
    } finally {
      forgetExitCleanup(h);
      process.off(signal, mine);
    }
  });
}

test('an uncaught exception cleans up only when no uncaughtException listener will handle it', () => {
  const h = counting();
  const handler = (): void => {};
  process.on('uncaughtException', handler);
  installExitCleanup(h);
  try {
    emit('uncaughtExceptionMonitor', new Error('boom'), 'uncaughtException');
    assert.equal(h.calls, 0, 'handled: the program keeps running with its rules');
    process.off('uncaughtException', handler);
    const others = process.listeners('uncaughtException');
    for (const l of others) process.off('uncaughtException', l);
    try {
      emit('uncaughtExceptionMonitor', new Error('boom'), 'uncaughtException');
    } finally {
      for (const l of others) process.on('uncaughtException', l);
    }
    assert.equal(h.calls, 1, 'unhandled: about to die, clean up now');
  } finally {
    forgetExitCleanup(h);
    process.off('uncaughtException', handler);
  }
});
