/**
 * The rtnetlink protocol (NETLINK_ROUTE): links and addresses (dumps, notifications, the
 * LinkTable kept current by them) and traffic control (the clsact qdisc, bpf filters with
 * classic programs, the mirred action; the redirect behind inbound injection; doctor probes).
 * @module
 */
export type { NetlinkSocket } from '../socket/netlink_socket.js';
export * from './cbpf.js';
export * from './constants.js';
export * from './link_addr.js';
export * from './link_table.js';
export * from './tc_action.js';
export * from './tc_constants.js';
export * from './tc_filter.js';
export * from './tc_msg.js';
export * from './tc_ops.js';
export * from './tc_probe.js';
export * from './tc_qdisc.js';
export * from './tc_redirect.js';
