// Every built-in plugin, for the runtime the proxy holds.
import { basicAuthPlugin } from './basic-auth/index.ts';
import { circuitBreakerPlugin } from './circuit-breaker/index.ts';
import { invalidPlugin } from './core/invalid.ts';
import { policySelectPlugin } from './core/policy-select.ts';
import { ipRestrictionPlugin } from './ip-restriction/index.ts';
import { jwtPlugin } from './jwt/index.ts';
import { keyAuthPlugin } from './key-auth/index.ts';
import { oidcPlugin } from './oidc/index.ts';
import { rateLimitPlugin } from './rate-limit/index.ts';
import { requestTransformPlugin, responseTransformPlugin } from './transform/index.ts';
import type { Plugin } from './types.ts';

export const BUILTIN_PLUGINS: readonly Plugin[] = [
  rateLimitPlugin, keyAuthPlugin, basicAuthPlugin, jwtPlugin, oidcPlugin, ipRestrictionPlugin,
  requestTransformPlugin, responseTransformPlugin, circuitBreakerPlugin, policySelectPlugin, invalidPlugin,
];
