// Token verification shared by the JWT and OIDC plugins (jose). Remote key sets are shared
// state: a reload keeps the fetched keys, and an unknown `kid` triggers a refetch at most once
// per cooldown, which is how key rotation is picked up.
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { CreateContext, PluginAnswer } from '../types.ts';
import { answer } from '../core/answers.ts';

export interface KeySource {
  readonly jwksUri?: string;
  readonly keys: readonly Record<string, unknown>[];
  readonly jwksCacheSeconds: number;
  readonly jwksCooldownSeconds: number;
}

export function keyResolver(src: KeySource, ctx: CreateContext): JWTVerifyGetKey {
  const local = src.keys.length > 0 ? createLocalJWKSet({ keys: src.keys as JWK[] }) : undefined;
  const uri = src.jwksUri;
  const remote = uri === undefined ? undefined : ctx.shared(`jwks|${uri}|${src.jwksCacheSeconds}|${src.jwksCooldownSeconds}`, () =>
    createRemoteJWKSet(new URL(uri), { cacheMaxAge: src.jwksCacheSeconds * 1000, cooldownDuration: src.jwksCooldownSeconds * 1000, timeoutDuration: 5000 }));
  if (local !== undefined && remote !== undefined) {
    return async (header, token) => {
      try {
        return await local(header, token);
      } catch {
        return remote(header, token);
      }
    };
  }
  return (local ?? remote)!;
}

export interface VerifyOptions {
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
}

const INVALID = { 'www-authenticate': 'Bearer error="invalid_token"' };
const EXPIRED = answer(401, 'AUTH_TOKEN_EXPIRED', 'the token has expired', INVALID);
const BAD = answer(401, 'AUTH_INVALID_TOKEN', 'the token is not valid', INVALID);
const KEYS_UNAVAILABLE = answer(500, 'AUTH_KEYS_UNAVAILABLE', 'the keys to verify tokens are unavailable');

/** Verifies signature, iss, aud, exp (required), nbf; an answer when the token is refused. */
export async function verifyToken(token: string, keys: JWTVerifyGetKey, o: VerifyOptions, now: number): Promise<JWTPayload | PluginAnswer> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      ...(o.issuers.length > 0 ? { issuer: [...o.issuers] } : {}),
      ...(o.audiences.length > 0 ? { audience: [...o.audiences] } : {}),
      algorithms: [...o.algorithms],
      clockTolerance: o.clockSkewSeconds,
      requiredClaims: ['exp'],
      currentDate: new Date(now),
    });
    return payload;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_JWT_EXPIRED') return EXPIRED;
    if (typeof code === 'string' && (code.startsWith('ERR_JWT') || code.startsWith('ERR_JWS') || code === 'ERR_JWKS_NO_MATCHING_KEY' ||
      code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' || code === 'ERR_JOSE_NOT_SUPPORTED')) return BAD;
    // Keys could not be fetched or parsed: fail closed, and say it is our side.
    return KEYS_UNAVAILABLE;
  }
}

export function isAnswer(x: JWTPayload | PluginAnswer): x is PluginAnswer {
  return typeof (x as PluginAnswer).status === 'number' && typeof (x as PluginAnswer).code === 'string';
}

/** A claim as a header value, or undefined when it cannot be one safely. */
export function claimText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[\r\n\0]/.test(s) ? undefined : s;
}
