import { PRIORITY } from '../core/priorities.ts';
import { CONFIG_INVALID } from '../core/answers.ts';
import type { Plugin } from '../types.ts';
import { validateOidc } from './validate.ts';

export const oidcPlugin: Plugin = { kind: 'oidc', priority: PRIORITY.oidc!, validate: validateOidc, create: () => ({ onRequest: () => CONFIG_INVALID }) };
