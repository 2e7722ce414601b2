// Policy selection: the translator resolves GEP-713 precedence into an ordered candidate list
// per route and plugin kind (most specific first). Consumer-scoped candidates only apply to
// their consumers, which are known only per request (after authentication), so the final pick
// happens here: the first candidate whose consumers include the caller, or that has none.
import type { CreateContext, Plugin, PluginHooks, ValidateResult } from '../types.ts';
import { obj } from './read.ts';

export interface PolicySelectConfig {
  readonly candidates: readonly {
    readonly id: string;
    readonly kind: string;
    /** Consumer usernames; absent: every request. */
    readonly consumers?: readonly string[];
    readonly config: unknown;
  }[];
}

export function createPolicySelect(raw: unknown, ctx: CreateContext): PluginHooks {
  const c = raw as PolicySelectConfig;
  const compiled = c.candidates.map((x) => ({
    consumers: x.consumers === undefined ? undefined : new Set(x.consumers),
    hooks: ctx.compile(x.kind, x.id, x.config),
  }));
  return {
    onRequest(req) {
      const who = req.consumer;
      for (let i = 0; i < compiled.length; i++) {
        const k = compiled[i]!;
        if (k.consumers === undefined || (who !== undefined && k.consumers.has(who))) return k.hooks.onRequest(req);
      }
      return undefined;
    },
  };
}

export const policySelectPlugin: Plugin = {
  kind: 'policy-select',
  priority: 0,
  // Built by the translator from configs each plugin already validated.
  validate: (config): ValidateResult => (obj(config) !== undefined ? { ok: true, config } : { ok: false, errors: [{ field: '', message: 'must be an object' }] }),
  create: createPolicySelect,
};
