import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createKeyAuth } from './create.ts';
import { validateKeyAuth } from './validate.ts';

export const keyAuthPlugin: Plugin = { kind: 'key-auth', priority: PRIORITY['key-auth']!, validate: validateKeyAuth, create: createKeyAuth };
