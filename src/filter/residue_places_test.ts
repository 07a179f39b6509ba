import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowerFilter } from './lower_nft.js';
import { residuePlaces } from './residue_places.js';

const places = (f: string): ((hook: string, family: 4 | 6) => boolean) => residuePlaces(lowerFilter(f, { table: 't', setPrefix: 's_' }));

test('residuePlaces: a port test is exact for IPv4, residual for IPv6 (extension headers), at both hooks', () => {
  const need = places('udp.DstPort == 9999');
  assert.deepEqual([need('prerouting', 4), need('prerouting', 6), need('postrouting', 4), need('postrouting', 6)], [false, true, false, true]);
});

test('residuePlaces: a direction limits the hooks; a fully exact filter needs no residue anywhere it queues', () => {
  const inbound = places('inbound and ip and ip.TTL < 5');
  assert.equal(inbound('prerouting', 4), false);
  const ipOnly = places('ip.DstAddr == 198.18.0.1');
  assert.deepEqual([ipOnly('prerouting', 4), ipOnly('postrouting', 4)], [false, false]);
});

test('residuePlaces: what the kernel cannot decide for IPv4 either is evaluated there', () => {
  // The last payload word: its offset depends on the packet's length, for both families.
  const need = places('tcp.Payload32[-1] == 5');
  assert.deepEqual([need('prerouting', 4), need('postrouting', 4), need('prerouting', 6)], [true, true, true]);
  assert.equal(need('forward', 4), true, 'a hook no filter rule uses: evaluate, to be safe');
});
