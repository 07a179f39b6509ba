/// <reference types="node" preserve="true" />
/**
 * divert/testing: unit-test your own divert programs without root, on a fake kernel.
 *
 * {@link FakeKernel} stands in for the native addon at the level of netlink datagrams: the
 * divert socket, its NFQUEUE binding, its nf_tables rules and its verdicts run unchanged, and
 * the test feeds packets to a queue and reads the verdicts that came back. Nothing reaches the
 * real kernel, so no privilege and no namespace is needed.
 *
 * ```ts
 * import { createDivertSocket } from 'divert';
 * import { FakeKernel, HOST_LINKS, NF_INET_HOOKS, NF_VERDICT, udp4, waitFor } from 'divert/testing';
 *
 * const kernel = FakeKernel.install({ keepAlive: true }); // createDivertSocket now talks to it
 * kernel.setLinks(HOST_LINKS);                              // lo, eth0 (192.0.2.1), eth1
 * const sock = createDivertSocket({ port: 7, handleSignals: false });
 * await sock.ready;
 * kernel.enqueuePacket(7, udp4('hi'), { hook: NF_INET_HOOKS.NF_INET_PRE_ROUTING, indev: 2 });
 * const p = await sock.recvfrom();                          // what your program would do
 * p.drop();
 * await waitFor(() => kernel.verdicts.length === 1);
 * kernel.verdicts[0]?.verdict === NF_VERDICT.NF_DROP;       // true
 * await sock.close();
 * kernel.uninstall();                                       // the real addon again
 * ```
 * One fake kernel at a time (install() replaces the addon process-wide); call uninstall() when
 * the test ends, e.g. in `t.after()`. `examples/fake_kernel_test.ts` is a whole test file.
 * @module
 */
export {
  FakeKernel, type FakeKernelOptions, type SocketMatch, type FakeLink, type FakePacketMeta,
  type VerdictRecord, type AutoVerdictRecord, type ConfigRecord, type ConfigStep, type QueueState, type FakeNack,
} from './fake_kernel.js';
export type { FakeNfqueue } from './_fake_nfqueue.js';
export type { FakeNftables } from './_fake_nftables.js';
export type { FakeNflog, FakeLogMeta } from './_fake_nflog.js';
export type { FakeRtnetlink } from './_fake_rtnetlink.js';
export type { FakeTc } from './_fake_rtnetlink_tc.js';
export type { FakeSocketTable } from './_fake_io.js';
export type { FakeSocket, SentDatagram, FakePoll } from './_fake_socket.js';
export type { NativeBinding, PollHandle } from '../_native/binding.js';
export { HOST_LINKS, udp4, udp6, turn, waitFor } from './fixtures.js';
export { NF_VERDICT } from '../nfqueue/constants.js';
export { NF_INET_HOOKS } from '../netlink/netfilter.js';
