/**
 * Pure netlink codec (no I/O): message building, datagram iteration, attribute decoding,
 * NLMSG_ERROR / extack decoding. Public subpath "./netlink". (rtnetlink messages live in src/rtnetlink/.)
 * @module
 */
export * from './align.js';
export * from './attr_decoder.js';
export * from './bytes.js';
export * from './constants.js';
export * from './families.js';
export * from './hexdump.js';
export * from './hw_address.js';
export * from './message_builder.js';
export * from './message_iter.js';
export * from './netlink_error.js';
