import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createJwt } from './create.ts';
import { validateJwt } from './validate.ts';

export const jwtPlugin: Plugin = { kind: 'jwt', priority: PRIORITY.jwt!, validate: validateJwt, create: createJwt };
