/**
 * nf_tables over divert's own netlink codec: expressions as typed values, one batch per
 * change, echoes for handles, dumps decoded into the same values, refusals as FirewallErrors
 * that name the message and attribute. See README.md in this folder.
 * @module
 */
export * from './answers.js';
export * from './attr_path.js';
export * from './batch.js';
export * from './chain.js';
export * from './conn.js';
export * from './constants.js';
export * from './data.js';
export * from './expr_constants.js';
export * from './expr_decode.js';
export * from './expr_encode.js';
export * from './expr_schema.js';
export * from './expr_types.js';
export * from './format.js';
export * from './gen.js';
export * from './objects.js';
export * from './rule.js';
export * from './set.js';
export * from './table.js';
export * from './udata.js';
