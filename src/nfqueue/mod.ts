/**
 * The NFQUEUE protocol (nfnetlink_queue): constants, config and verdict builders, packet
 * message decoding, and the NfQueue handle.
 * @module
 */
export * from './config.js';
export * from './constants.js';
export * from './packet_msg.js';
export * from './verdict.js';
