/**
 * The translator: a PURE function from the full state (Resources) to one RoutingTable plus the
 * status of every object it looked at.
 *
 * Must not: do I/O, read the clock, use randomness, import controller, proxy or standalone code,
 * or throw on bad input (bad input becomes a status condition). Identical input gives
 * byte-identical output: every input and output list is sorted.
 */
export type { Resources } from './resources.ts';
export type { TranslateOptions, ObjectStatus, TranslateResult } from './types.ts';
export { translate } from './translate.ts';
export { withApplyResult } from './apply-result.ts';
export { createTranslateCache } from './cache.ts';
export { admittedListenerSets } from './listener-sets.ts';
export type { TranslateCache } from './cache.ts';
