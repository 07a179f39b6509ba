/**
 * The demo's network: three namespaces joined by veth pairs, created from inside the
 * namespaces (`ip -n <ns> link add …`), so nothing appears in the host's namespace.
 *
 * ```
 *  client eth0 ──── eth0 router eth1 ──── eth0 server
 *  198.18.1.2   198.18.1.1    198.18.2.1   198.18.2.2
 *  2001:db8:1::2 2001:db8:1::1 2001:db8:2::1 2001:db8:2::2
 * ```
 * @module
 */
import type { Sandbox } from '../sandbox.js';
import { pingFrom } from './traffic.js';

export interface DemoNetwork {
  client: string;
  router: string;
  server: string;
  /** The server's addresses, as seen from the client. */
  server4: string;
  server6: string;
  client4: string;
}

async function ip(box: Sandbox, ns: string, ...args: string[]): Promise<void> {
  await box.must(ns, 'ip', args);
}

/** Builds the network in `box` (namespaces client, router, server). */
export async function buildNetwork(box: Sandbox): Promise<DemoNetwork> {
  const client = await box.add('client');
  const router = await box.add('router');
  const server = await box.add('server');
  await ip(box, router, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client);
  await ip(box, router, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', server);
  const addrs: Array<[string, string, string, string]> = [
    [client, 'eth0', '198.18.1.2/24', '2001:db8:1::2/64'],
    [router, 'eth0', '198.18.1.1/24', '2001:db8:1::1/64'],
    [router, 'eth1', '198.18.2.1/24', '2001:db8:2::1/64'],
    [server, 'eth0', '198.18.2.2/24', '2001:db8:2::2/64'],
  ];
  for (const [ns, dev, v4, v6] of addrs) {
    await box.must(ns, 'sysctl', ['-qw', `net.ipv6.conf.${dev}.accept_dad=0`]);
    await ip(box, ns, 'addr', 'add', v4, 'dev', dev);
    await ip(box, ns, 'addr', 'add', v6, 'dev', dev, 'nodad');
    await ip(box, ns, 'link', 'set', dev, 'up');
  }
  await box.must(router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  await box.must(router, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
  await ip(box, client, 'route', 'add', 'default', 'via', '198.18.1.1');
  await ip(box, client, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1');
  await ip(box, server, 'route', 'add', 'default', 'via', '198.18.2.1');
  await ip(box, server, '-6', 'route', 'add', 'default', 'via', '2001:db8:2::1');
  // Warm up neighbour caches (ARP/ND) so the first diverted ping is not delayed by resolution.
  for (const addr of ['198.18.2.2', '2001:db8:2::2']) await pingFrom(client, addr, 1);
  return { client, router, server, server4: '198.18.2.2', server6: '2001:db8:2::2', client4: '198.18.1.2' };
}
