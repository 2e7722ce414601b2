import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createRateLimit } from './create.ts';
import { validateRateLimit } from './validate.ts';

export const rateLimitPlugin: Plugin = { kind: 'rate-limit', priority: PRIORITY['rate-limit']!, validate: validateRateLimit, create: createRateLimit };
