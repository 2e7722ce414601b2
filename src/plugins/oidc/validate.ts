// Pure validation of `AuthPolicy.spec.oidc`: the provider (issuer, discovered at run time),
// the client (id, secret from a Secret), the session cookie (key from a Secret) and what goes
// upstream. The client secret and cookie key enter the routing table (the data plane needs
// them); the admin endpoint redacts them (redactPluginConfig).
import { headerName, obj, optBool, optInt, optString, optStrings, Problems } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly cookieSecret: string;
  readonly redirectPath: string;
  readonly logoutPath?: string;
  readonly scopes: readonly string[];
  readonly cookieName: string;
  readonly sessionSeconds: number;
  /** Only bearer tokens (APIs): never redirect to a login page. */
  readonly bearerOnly: boolean;
  readonly claimsToHeaders: readonly { readonly claim: string; readonly header: string }[];
  readonly consumerClaim?: string;
}

function secretRef(o: Record<string, unknown>, field: string, defaultKey: string, ctx: ValidateContext, p: Problems): string | undefined {
  const ref = obj(o[field]);
  if (ref === undefined) {
    p.add(field, 'required');
    return undefined;
  }
  const name = typeof ref.name === 'string' ? ref.name : '';
  const key = typeof ref.key === 'string' ? ref.key : defaultKey;
  const data = name === '' ? undefined : ctx.secret(name);
  if (data === undefined) {
    p.add(`${field}.name`, `Secret "${name}" not found`);
    return undefined;
  }
  const v = data[key];
  if (v === undefined || v === '') {
    p.add(`${field}.key`, `Secret "${name}" has no "${key}" entry`);
    return undefined;
  }
  return v;
}

export function validateOidc(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  const issuer = optString(o, 'issuer', p);
  if (issuer === undefined) p.add('issuer', 'required');
  else if (!/^https?:\/\/[^\s]+$/.test(issuer)) p.add('issuer', `"${issuer}" is not an http(s) URL`);
  const clientId = optString(o, 'clientId', p);
  if (clientId === undefined) p.add('clientId', 'required');
  const clientSecret = secretRef(o, 'clientSecretRef', 'clientSecret', ctx, p);
  const cookieSecret = secretRef(o, 'cookieSecretRef', 'cookieSecret', ctx, p);
  if (cookieSecret !== undefined && cookieSecret.length < 32) p.add('cookieSecretRef', 'the cookie secret must be at least 32 characters');
  const redirectPath = optString(o, 'redirectPath', p) ?? '/oauth2/callback';
  const logoutPath = optString(o, 'logoutPath', p);
  for (const [f, v] of [['redirectPath', redirectPath], ['logoutPath', logoutPath]] as const) {
    if (v !== undefined && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(v)) p.add(f, 'must be a path starting with "/"');
  }
  const scopes = optStrings(o, 'scopes', p) ?? ['openid'];
  if (!scopes.includes('openid')) p.add('scopes', 'must include "openid"');
  const cookieName = optString(o, 'cookieName', p) ?? 'fluxgate_session';
  if (!/^[A-Za-z0-9_-]+$/.test(cookieName)) p.add('cookieName', 'letters, digits, "_" and "-" only');
  const sessionSeconds = optInt(o, 'sessionSeconds', p, 60, 604_800) ?? 3600;
  const bearerOnly = optBool(o, 'bearerOnly', p) ?? false;
  const claimsToHeaders: { claim: string; header: string }[] = [];
  if (Array.isArray(o.claimsToHeaders)) {
    o.claimsToHeaders.forEach((e, i) => {
      const eo = obj(e) ?? {};
      const h = typeof eo.header === 'string' ? headerName(eo.header, `claimsToHeaders[${i}].header`, p) : undefined;
      if (typeof eo.claim !== 'string' || eo.claim === '') p.add(`claimsToHeaders[${i}].claim`, 'required');
      else if (h !== undefined) claimsToHeaders.push({ claim: eo.claim, header: h });
    });
  } else if (o.claimsToHeaders !== undefined) p.add('claimsToHeaders', 'must be a list of {claim, header}');
  const consumerClaim = optString(o, 'consumerClaim', p);
  const known = ['issuer', 'clientId', 'clientSecretRef', 'cookieSecretRef', 'redirectPath', 'logoutPath', 'scopes', 'cookieName', 'sessionSeconds', 'bearerOnly', 'claimsToHeaders', 'consumerClaim'];
  for (const k of Object.keys(o)) if (!known.includes(k)) p.add(k, 'unknown field');
  if (!p.ok) return { ok: false, errors: p.list };
  const config: OidcConfig = {
    issuer: issuer!.replace(/\/$/, ''), clientId: clientId!, clientSecret: clientSecret!, cookieSecret: cookieSecret!, redirectPath,
    ...(logoutPath !== undefined ? { logoutPath } : {}), scopes, cookieName, sessionSeconds, bearerOnly, claimsToHeaders,
    ...(consumerClaim !== undefined ? { consumerClaim } : {}),
  };
  return { ok: true, config };
}
