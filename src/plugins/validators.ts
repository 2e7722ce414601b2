// What the translator needs of the plugins: pure validation and the policy order. Imports
// only the validate modules, so the translator never loads a plugin's runtime (Redis, HTTP).
import { validateBasicAuth } from './basic-auth/validate.ts';
import { validateCircuitBreaker } from './circuit-breaker/validate.ts';
import { validateHealthCheck } from './health-check/validate.ts';
import { PRIORITY } from './core/priorities.ts';
import { validateIpRestriction } from './ip-restriction/validate.ts';
import { validateJwt } from './jwt/validate.ts';
import { validateKeyAuth } from './key-auth/validate.ts';
import { validateOidc } from './oidc/validate.ts';
import { validateRateLimit } from './rate-limit/validate.ts';
import { validateRequestTransform, validateResponseTransform } from './transform/validate.ts';
import type { ValidateContext, ValidateResult } from './types.ts';

export interface PluginValidators {
  /** Undefined when no plugin of that kind exists. */
  validate(kind: string, config: unknown, ctx: ValidateContext): ValidateResult | undefined;
  /** Higher runs first among policy-attached plugins of a route. */
  priority(kind: string): number;
}

const VALIDATE: Readonly<Record<string, (config: unknown, ctx: ValidateContext) => ValidateResult>> = {
  'rate-limit': validateRateLimit,
  'key-auth': validateKeyAuth,
  'basic-auth': validateBasicAuth,
  'jwt': validateJwt,
  'oidc': validateOidc,
  'ip-restriction': validateIpRestriction,
  'request-transform': validateRequestTransform,
  'response-transform': validateResponseTransform,
  'circuit-breaker': validateCircuitBreaker,
  // Not a request filter: the translator puts it on the IR Backend.
  'health-check': validateHealthCheck,
};

export const pluginValidators: PluginValidators = {
  validate(kind, config, ctx) {
    const v = Object.hasOwn(VALIDATE, kind) ? VALIDATE[kind] : undefined;
    if (v === undefined) return undefined;
    try {
      return v(config, ctx);
    } catch (err) {
      // A validator bug must become a condition, not a failed translation.
      return { ok: false, errors: [{ field: ctx.field, message: `internal error while validating: ${err instanceof Error ? err.message : String(err)}` }] };
    }
  },
  priority: (kind) => PRIORITY[kind] ?? 0,
};
