// OpenID Connect: browser login with the authorization-code flow (PKCE, state and nonce kept
// in a sealed short-lived cookie) ending in a sealed session cookie, and bearer tokens (JWTs
// the provider issued for this client) for API clients. Every failure fails closed: 401 for
// the client's side, 500 when the provider cannot be reached.
import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';
import { answer } from '../core/answers.ts';
import { firstHeader, queryParam } from '../core/consumer.ts';
import { applyClaims } from '../jwt/create.ts';
import { isAnswer, verifyToken } from '../jwt/verify.ts';
import type { CreateContext, HookResult, PluginAnswer, PluginHooks, PluginRequest } from '../types.ts';
import { CookieBox, readCookie } from './cookie-box.ts';
import { ProviderClient } from './provider.ts';
import type { OidcConfig } from './validate.ts';

const UNAVAILABLE = answer(500, 'AUTH_PROVIDER_UNAVAILABLE', 'the identity provider is unavailable');
const LOGIN_FAILED = answer(401, 'AUTH_LOGIN_FAILED', 'the login could not be completed');
const UNAUTHENTICATED = answer(401, 'AUTH_MISSING_CREDENTIALS', 'authentication required', { 'www-authenticate': 'Bearer' });
const STATE_SECONDS = 600;

interface Session { readonly claims: Record<string, unknown> }
interface LoginState { readonly state: string; readonly nonce: string; readonly verifier: string; readonly returnTo: string }

const b64url = (n: number): string => randomBytes(n).toString('base64url');

export function createOidc(raw: unknown, ctx: CreateContext): PluginHooks {
  const c = raw as OidcConfig;
  const provider = ctx.shared(`oidc|${c.issuer}`, () => new ProviderClient(c.issuer));
  const box = new CookieBox(c.cookieSecret);
  const stateCookie = `${c.cookieName}_state`;
  // Only the claims something uses are kept in the session cookie (size, privacy).
  const keep = [...new Set([...c.claimsToHeaders.map((x) => x.claim), ...(c.consumerClaim !== undefined ? [c.consumerClaim] : []), 'sub'])];

  const cookie = (req: PluginRequest, name: string, value: string, maxAge: number): string =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${req.scheme === 'https' ? '; Secure' : ''}`;
  const origin = (req: PluginRequest): string => `${req.scheme}://${firstHeader(req.headers.host) ?? firstHeader(req.headers[':authority']) ?? req.host}`;
  const pick = (payload: JWTPayload): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const k of keep) if (payload[k] !== undefined) out[k] = payload[k];
    return out;
  };

  async function login(req: PluginRequest): Promise<HookResult> {
    let d;
    try {
      d = await provider.discover();
    } catch (err) {
      ctx.logger.warn({ plugin: ctx.id, err: (err as Error).message }, 'OIDC discovery failed');
      return UNAVAILABLE;
    }
    const s: LoginState = { state: b64url(16), nonce: b64url(16), verifier: b64url(32), returnTo: req.query === '' ? req.path : `${req.path}?${req.query}` };
    const url = new URL(d.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: c.clientId, redirect_uri: origin(req) + c.redirectPath, scope: c.scopes.join(' '),
      state: s.state, nonce: s.nonce, code_challenge: createHash('sha256').update(s.verifier).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    const sealed = box.seal(s, ctx.now() + STATE_SECONDS * 1000);
    return answer(302, 'AUTH_REDIRECT', 'login required', { location: url.toString(), 'set-cookie': cookie(req, stateCookie, sealed, STATE_SECONDS), 'cache-control': 'no-store' });
  }

  async function callback(req: PluginRequest): Promise<HookResult> {
    const s = box.open<LoginState>(readCookie(req.headers.cookie, stateCookie) ?? '', ctx.now());
    const code = queryParam(req.query, 'code');
    if (s === undefined || code === undefined || queryParam(req.query, 'state') !== s.state) return LOGIN_FAILED;
    let idToken: string | undefined;
    try {
      idToken = (await provider.exchange(code, origin(req) + c.redirectPath, s.verifier, c.clientId, c.clientSecret)).id_token;
    } catch (err) {
      ctx.logger.warn({ plugin: ctx.id, err: (err as Error).message }, 'OIDC code exchange failed');
      return LOGIN_FAILED;
    }
    if (idToken === undefined) return LOGIN_FAILED;
    let payload: JWTPayload;
    try {
      payload = (await jwtVerify(idToken, await provider.jwks(), { issuer: c.issuer, audience: c.clientId, currentDate: new Date(ctx.now()), clockTolerance: 30 })).payload;
    } catch {
      return LOGIN_FAILED;
    }
    if (payload.nonce !== s.nonce) return LOGIN_FAILED;
    const session = box.seal({ claims: pick(payload) } satisfies Session, ctx.now() + c.sessionSeconds * 1000);
    const returnTo = s.returnTo.startsWith('/') && !s.returnTo.startsWith('//') ? s.returnTo : '/';
    return answer(302, 'AUTH_LOGGED_IN', 'logged in', {
      location: returnTo, 'cache-control': 'no-store',
      'set-cookie': [cookie(req, c.cookieName, session, c.sessionSeconds), cookie(req, stateCookie, '', 0)],
    });
  }

  async function bearer(req: PluginRequest, token: string): Promise<HookResult> {
    let keys;
    try {
      keys = await provider.jwks();
    } catch {
      return UNAVAILABLE;
    }
    const r = await verifyToken(token, keys, { issuers: [c.issuer], audiences: [c.clientId], algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'], clockSkewSeconds: 30 }, ctx.now());
    if (isAnswer(r)) return r;
    applyClaims(req, r, c.claimsToHeaders, c.consumerClaim);
    return undefined;
  }

  return {
    onRequest(req): HookResult | Promise<HookResult> {
      if (req.path === c.redirectPath) return callback(req);
      if (c.logoutPath !== undefined && req.path === c.logoutPath) {
        return answer(302, 'AUTH_LOGGED_OUT', 'logged out', { location: '/', 'set-cookie': cookie(req, c.cookieName, '', 0) }) as PluginAnswer;
      }
      const auth = firstHeader(req.headers.authorization);
      if (auth !== undefined && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return bearer(req, auth.slice(7).trim());
      const sealed = readCookie(req.headers.cookie, c.cookieName);
      if (sealed !== undefined) {
        const s = box.open<Session>(sealed, ctx.now());
        if (s !== undefined) {
          applyClaims(req, s.claims as JWTPayload, c.claimsToHeaders, c.consumerClaim);
          // The session cookie is ours, not the upstream's.
          return undefined;
        }
      }
      if (c.bearerOnly || (req.httpMethod !== 'GET' && req.httpMethod !== 'HEAD')) return UNAUTHENTICATED;
      return login(req);
    },
  };
}
