import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createIpRestriction } from './create.ts';
import { validateIpRestriction } from './validate.ts';

export const ipRestrictionPlugin: Plugin = { kind: 'ip-restriction', priority: PRIORITY['ip-restriction']!, validate: validateIpRestriction, create: createIpRestriction };
