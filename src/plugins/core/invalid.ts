// The translator puts this plugin where a route asked for a plugin that is missing or
// misconfigured: the route answers 500 instead of serving without it (fail closed). The
// reason stays in the route and policy status; the client only gets a stable code.
import type { Plugin } from '../types.ts';
import { CONFIG_INVALID } from './answers.ts';

export const invalidPlugin: Plugin = {
  kind: 'invalid',
  priority: 0,
  validate: (config) => ({ ok: true, config }),
  create: () => ({ onRequest: () => CONFIG_INVALID }),
};
