// Pure validation of `AuthPolicy.spec.jwt`: where keys come from (a JWKS URL, fetched and
// cached at run time, and/or inline public JWKs), which claims must hold (iss, aud, exp, nbf),
// and which claims go upstream as headers. Symmetric and private keys are refused: the
// routing table is shown by the admin endpoint and must hold no secret.
import { headerName, obj, optInt, optString, optStrings, Problems } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export interface JwtConfig {
  readonly jwksUri?: string;
  readonly keys: readonly Record<string, unknown>[];
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** How long fetched keys are trusted before a refetch. */
  readonly jwksCacheSeconds: number;
  /** Least time between two fetches caused by an unknown key id (rotation). */
  readonly jwksCooldownSeconds: number;
  readonly claimsToHeaders: readonly { readonly claim: string; readonly header: string }[];
  /** Claim whose value becomes the consumer (for rate limits and X-Consumer-Username). */
  readonly consumerClaim?: string;
  /** Lower-case header carrying `Bearer <token>`. */
  readonly header: string;
  /** Query parameter that may carry the token instead. */
  readonly queryParam?: string;
  readonly hideCredentials: boolean;
}

export function validateJwt(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  const jwksUri = optString(o, 'jwksUri', p);
  if (jwksUri !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(jwksUri);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== 'https:' && u.protocol !== 'http:')) p.add('jwksUri', `"${jwksUri}" is not an http(s) URL`);
  }
  const keys: Record<string, unknown>[] = [];
  if (o.keys !== undefined) {
    if (!Array.isArray(o.keys)) p.add('keys', 'must be a list of JWKs');
    else o.keys.forEach((k, i) => {
      const jwk = obj(k);
      if (jwk === undefined) return p.add(`keys[${i}]`, 'must be a JWK object');
      if (jwk.kty === 'oct') return p.add(`keys[${i}].kty`, 'symmetric keys are not allowed (the routing table holds no secrets)');
      if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') return p.add(`keys[${i}].kty`, 'must be RSA, EC or OKP');
      if (jwk.d !== undefined) return p.add(`keys[${i}].d`, 'private keys are not allowed: give the public key');
      keys.push({ ...jwk });
    });
  }
  if (jwksUri === undefined && keys.length === 0 && p.ok) p.add('', 'set jwksUri or keys');
  const issuers = optStrings(o, 'issuers', p) ?? [];
  const audiences = optStrings(o, 'audiences', p) ?? [];
  const algorithms = optStrings(o, 'algorithms', p) ?? ['RS256', 'ES256', 'EdDSA'];
  algorithms.forEach((a, i) => {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(a)) p.add(`algorithms[${i}]`, `"${a}" is not one of ${JWT_ALGORITHMS.join(', ')}`);
  });
  const clockSkewSeconds = optInt(o, 'clockSkewSeconds', p, 0, 600) ?? 30;
  const jwksCacheSeconds = optInt(o, 'jwksCacheSeconds', p, 1, 86_400) ?? 600;
  const jwksCooldownSeconds = optInt(o, 'jwksCooldownSeconds', p, 0, 3600) ?? 5;
  const claimsToHeaders: { claim: string; header: string }[] = [];
  if (o.claimsToHeaders !== undefined) {
    if (!Array.isArray(o.claimsToHeaders)) p.add('claimsToHeaders', 'must be a list of {claim, header}');
    else o.claimsToHeaders.forEach((e, i) => {
      const eo = obj(e) ?? {};
      const claim = typeof eo.claim === 'string' && eo.claim !== '' ? eo.claim : undefined;
      if (claim === undefined) p.add(`claimsToHeaders[${i}].claim`, 'required');
      const header = typeof eo.header === 'string' ? headerName(eo.header, `claimsToHeaders[${i}].header`, p) : undefined;
      if (eo.header === undefined) p.add(`claimsToHeaders[${i}].header`, 'required');
      if (claim !== undefined && header !== undefined) claimsToHeaders.push({ claim, header });
    });
  }
  const consumerClaim = optString(o, 'consumerClaim', p);
  const h = optString(o, 'header', p);
  const header = h === undefined ? 'authorization' : headerName(h, 'header', p) ?? 'authorization';
  const queryParam = optString(o, 'queryParam', p);
  const hideCredentials = o.hideCredentials === true;
  const known = ['jwksUri', 'keys', 'issuers', 'audiences', 'algorithms', 'clockSkewSeconds', 'jwksCacheSeconds', 'jwksCooldownSeconds', 'claimsToHeaders', 'consumerClaim', 'header', 'queryParam', 'hideCredentials'];
  for (const k of Object.keys(o)) if (!known.includes(k)) p.add(k, 'unknown field');
  if (!p.ok) return { ok: false, errors: p.list };
  const config: JwtConfig = {
    ...(jwksUri !== undefined ? { jwksUri } : {}), keys, issuers, audiences, algorithms, clockSkewSeconds, jwksCacheSeconds,
    jwksCooldownSeconds, claimsToHeaders, ...(consumerClaim !== undefined ? { consumerClaim } : {}), header,
    ...(queryParam !== undefined ? { queryParam } : {}), hideCredentials,
  };
  return { ok: true, config };
}
