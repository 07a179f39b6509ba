/**
 * `divert/chaos`: clumsy-style network impairment on divert sockets: drop, lag ± jitter,
 * duplicate, reorder, tamper and throttle the packets a filter or rule selects, in either
 * direction, reproducibly with a seed. See chaos.ts and engine.ts.
 * @module
 */
export { createChaos, Chaos, type ChaosOptions } from './chaos.js';
export { ChaosEngine, type ChaosEngineIo, type ChaosPacket, type ChaosStats } from './engine.js';
export { checkImpairment, maxHoldMs, socketSizing, type ImpairmentOptions, type ImpairmentSettings, type SocketSizing } from './settings.js';
export { REAL_CLOCK, type ChaosClock } from './clock.js';
export { seededRandom, type RandomSource } from './random.js';
export { parseRate, parsePercent, parseDuration, parseLag } from './units.js';
