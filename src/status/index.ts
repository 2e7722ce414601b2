/**
 * The status vocabulary: one constructor per situation, condition types and reasons as the
 * Gateway API names them, and the merge rule (defaults first, failures appended, last of each
 * type wins).
 *
 * Must not: import proxy or controller code, read the clock (lastTransitionTime belongs to the
 * status writer), or know how statuses are written.
 */
export * from './conditions.ts';
export * from './gateway-class.ts';
export * from './gateway.ts';
export * from './route.ts';
export * from './tls.ts';
