/**
 * A divert listener as a separate process, for fault tests that kill or stop it (started by
 * ./listener.ts; imports nothing of the harness, whose signal handlers would end it at once):
 *   node listener_main.js '<DivertSocketOptions as JSON>'
 * binds, prints "ready", reinjects every packet, and on SIGTERM closes and prints its stats as
 * one JSON line. SIGKILL and SIGSTOP are the test's to send.
 * @module
 */
import { createDivertSocket, type DivertSocketOptions } from '../../src/mod.js';

const options = JSON.parse(process.argv[2] ?? '{}') as DivertSocketOptions;
const sock = createDivertSocket({ ...options, handleSignals: false });
process.on('SIGTERM', () => {
  void sock.close().then(() => {
    process.stdout.write(JSON.stringify(sock.stats) + '\n');
    process.exit(0);
  });
});
await sock.ready;
process.stdout.write('ready\n');
for await (const p of sock) p.reinject();
