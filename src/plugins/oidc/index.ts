import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createOidc } from './create.ts';
import { validateOidc } from './validate.ts';

export const oidcPlugin: Plugin = { kind: 'oidc', priority: PRIORITY.oidc!, validate: validateOidc, create: createOidc };
