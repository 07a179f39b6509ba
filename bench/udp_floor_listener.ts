/**
 * The floor of the filtered bench: a plain Node UDP socket (node:dgram, no divert, no queue)
 * bound to the port the filter matches, counting what reaches it. Each sparse datagram is a
 * wake-up of its own, as for a filtered listener: what Node itself costs per wake-up.
 * usage: node dist/bench/udp_floor_listener.js <port> <seconds>   (inside the bench namespace)
 * Prints "ready" once bound; measures from a "go" line on stdin for <seconds>, then prints
 * "packets=… filtered=0 seconds=… cpu_us=…" (the filtered listener's line).
 */
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';

const port = Number(process.argv[2] ?? 9999);
const seconds = Number(process.argv[3] ?? 3);
const sock = dgram.createSocket('udp4');
let packets = 0;
sock.on('message', () => void packets++);
sock.bind(port, () => process.stdout.write('ready\n'));
createInterface({ input: process.stdin }).once('line', () => {
  const before = packets;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  setTimeout(() => {
    const c = process.cpuUsage(cpu0);
    process.stdout.write(`packets=${packets - before} filtered=0 seconds=${((performance.now() - t0) / 1000).toFixed(3)} cpu_us=${c.user + c.system}\n`);
    process.exit(0);
  }, seconds * 1000);
});
