import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createCircuitBreaker } from './create.ts';
import { validateCircuitBreaker } from './validate.ts';

export const circuitBreakerPlugin: Plugin = { kind: 'circuit-breaker', priority: PRIORITY['circuit-breaker']!, validate: validateCircuitBreaker, create: createCircuitBreaker };
