import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sweepStaleInjectFilters } from './inject_filters.js';
import { INJECT_REDIRECT } from './mark.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS } from '../testing/fixtures.js';
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { NetlinkProtocol } from '../netlink/constants.js';
import { installRedirect, listRedirectFilters } from '../rtnetlink/tc_redirect.js';
import { listQdiscs } from '../rtnetlink/tc_ops.js';

test('sweepStaleInjectFilters() removes the redirects of dead owners and the qdisc they leave empty', async (t) => {
  const kernel = FakeKernel.install();
  t.after(() => kernel.uninstall());
  kernel.setLinks(HOST_LINKS);
  const sock = NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE);
  t.after(() => sock.close());
  await installRedirect(sock, { ...INJECT_REDIRECT, ifindex: 2, pid: 77 }); // dead
  await installRedirect(sock, { ...INJECT_REDIRECT, ifindex: 3, pid: 78 }); // dead
  await installRedirect(sock, { ...INJECT_REDIRECT, ifindex: 3, pid: 4242 }); // alive: keeps eth1's qdisc
  const swept = await sweepStaleInjectFilters({ alive: (pid) => pid === 4242 });
  assert.deepEqual(swept.filters.map((f) => [f.ifname, f.pid]).sort(), [['eth0', 77], ['eth1', 78]]);
  assert.deepEqual(swept.qdiscs, [2]);
  assert.deepEqual((await listRedirectFilters(sock, INJECT_REDIRECT)).map((f) => f.pid), [4242]);
  assert.deepEqual((await listQdiscs(sock)).map((q) => q.ifindex), [3]);
  assert.deepEqual(kernel.problems, []);
});
