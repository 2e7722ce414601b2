import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createBasicAuth } from './create.ts';
import { validateBasicAuth } from './validate.ts';

export const basicAuthPlugin: Plugin = { kind: 'basic-auth', priority: PRIORITY['basic-auth']!, validate: validateBasicAuth, create: createBasicAuth };
