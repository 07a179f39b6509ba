/**
 * TCP rewriting that changes payload length: per-flow sequence offsets in both directions
 * (after the kernel's nf_conntrack_seqadj). Pure: imports only src/packet (and the error base).
 * @module
 */
export { TcpRewriteTracker, type TcpRewriteTrackerOptions, type TcpRewriteWarning } from './tracker.js';
export { SeqDirection, type Plan, type Rewrite } from './direction.js';
export { TcpRewriteError, type TcpRewriteErrorCode } from './errors.js';
export { seqAdd, seqDiff, seqMax } from './serial.js';
