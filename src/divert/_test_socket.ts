/**
 * Test helper: a divert socket bound to port 7 on a freshly installed fake kernel (with the
 * fixture links), both closed and uninstalled after the test.
 * @module
 */
import type { TestContext } from 'node:test';
import { createDivertSocket, type DivertSocket } from './divert_socket.js';
import type { DivertSocketOptions } from './options.js';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS } from '../testing/fixtures.js';

export async function openOnFakeKernel(t: TestContext, options: DivertSocketOptions = {}): Promise<{ kernel: FakeKernel; sock: DivertSocket }> {
  const kernel = FakeKernel.install();
  kernel.setLinks(HOST_LINKS);
  const sock = createDivertSocket({ port: 7, handleSignals: false, ...options });
  t.after(async () => {
    await sock.close().catch(() => {});
    kernel.uninstall();
  });
  await sock.ready;
  return { kernel, sock };
}
