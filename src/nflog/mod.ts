/**
 * The NFLOG protocol (nfnetlink_log): constants, config builders, packet message decoding, and
 * the NfLog handle. Packets reach a group through nf_tables `log group N` rules; they are copies,
 * the originals go on at once.
 * @module
 */
export * from './config.js';
export * from './constants.js';
export * from './packet_msg.js';
export { NfLog, type NfLogOptions, type LogHandler } from './log_group.js';
