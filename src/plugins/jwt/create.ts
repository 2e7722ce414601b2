// JWT authentication per request. Verified tokens are remembered for a short while (bounded),
// so a client reusing its token costs one Map lookup and the exp/nbf checks, not a signature
// verification; exp is still enforced on every request.
import { answer } from '../core/answers.ts';
import { firstHeader, queryParam, setConsumer } from '../core/consumer.ts';
import type { CreateContext, HookResult, PluginHooks, PluginRequest } from '../types.ts';
import type { JWTPayload } from 'jose';
import type { JwtConfig } from './validate.ts';
import { claimText, isAnswer, keyResolver, verifyToken } from './verify.ts';

const MISSING = answer(401, 'AUTH_MISSING_CREDENTIALS', 'a bearer token is required', { 'www-authenticate': 'Bearer' });
const EXPIRED = answer(401, 'AUTH_TOKEN_EXPIRED', 'the token has expired', { 'www-authenticate': 'Bearer error="invalid_token"' });
const CACHE_MAX = 10_000;
const CACHE_MS = 60_000;

export function applyClaims(req: PluginRequest, payload: JWTPayload, claimsToHeaders: JwtConfig['claimsToHeaders'], consumerClaim: string | undefined): void {
  for (const { claim, header } of claimsToHeaders) {
    const v = claimText(payload[claim]);
    // A client-sent header of the same name must never pass as if it came from the token.
    if (v === undefined) delete req.upHeaders[header];
    else req.upHeaders[header] = v;
  }
  if (consumerClaim !== undefined) {
    const who = claimText(payload[consumerClaim]);
    if (who !== undefined) setConsumer(req, { username: who });
  }
}

export function createJwt(raw: unknown, ctx: CreateContext): PluginHooks {
  const c = raw as JwtConfig;
  const keys = keyResolver(c, ctx);
  const cache = new Map<string, { payload: JWTPayload; until: number }>();
  const skewMs = c.clockSkewSeconds * 1000;
  const done = (req: PluginRequest, token: string, payload: JWTPayload, fromQuery: boolean): HookResult => {
    applyClaims(req, payload, c.claimsToHeaders, c.consumerClaim);
    if (c.hideCredentials) {
      if (fromQuery) req.query = req.query.split('&').filter((x) => !x.startsWith(`${c.queryParam}=`)).join('&');
      else delete req.upHeaders[c.header];
    }
    void token;
    return undefined;
  };
  return {
    onRequest(req) {
      let token: string | undefined;
      const h = firstHeader(req.headers[c.header]);
      if (h !== undefined && h.length > 7 && h.slice(0, 7).toLowerCase() === 'bearer ') token = h.slice(7).trim();
      const fromQuery = token === undefined && c.queryParam !== undefined;
      if (fromQuery) token = queryParam(req.query, c.queryParam!);
      if (token === undefined || token === '') return MISSING;
      const now = ctx.now();
      const hit = cache.get(token);
      if (hit !== undefined) {
        const exp = typeof hit.payload.exp === 'number' ? hit.payload.exp * 1000 : Infinity;
        if (now <= hit.until && now <= exp + skewMs) return done(req, token, hit.payload, fromQuery);
        cache.delete(token);
        if (now > exp + skewMs) return EXPIRED;
      }
      const t = token;
      return verifyToken(t, keys, c, now).then((r) => {
        if (isAnswer(r)) return r;
        // nbf in the future is refused by jose; the cache must not outlive a not-yet-valid window either.
        if (cache.size >= CACHE_MAX) cache.clear();
        cache.set(t, { payload: r, until: now + CACHE_MS });
        return done(req, t, r, fromQuery);
      });
    },
  };
}
