// OIDC against a real OpenID provider (the oidc-provider package) on loopback: discovery,
// authorization-code login (PKCE, state, nonce) through the provider's login and consent
// pages, the sealed session cookie, bearer validation, and fail-closed answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { validateOidc } from '../../src/plugins/oidc/validate.ts';
import type { PluginHooks, PluginRequest } from '../../src/plugins/index.ts';
import { makeReq, runtime } from './helpers.ts';

let server: Server;
let issuer = '';
const GATEWAY = 'gateway.test:8080';
const REDIRECT = `http://${GATEWAY}/oauth2/callback`;

before(async () => {
  server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'gateway', client_secret: 'client-secret-value', redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'] }],
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, email: `${sub}@example.test` }) }),
    claims: { openid: ['sub'], email: ['email'] },
    pkce: { required: () => true },
    // Scope claims in the ID token (the plugin reads the ID token, not userinfo).
    conformIdTokenClaims: false,
  });
  // Quiet: the dev interactions warn on every start.
  provider.on('server_error', () => {});
  server.on('request', provider.callback());
});
after(() => server.close());

function plugin(extra: Record<string, unknown> = {}): PluginHooks {
  const secrets: Record<string, Record<string, string>> = { oidc: { clientSecret: 'client-secret-value', cookieSecret: 'x'.repeat(40) } };
  const v = validateOidc({
    issuer, clientId: 'gateway', clientSecretRef: { name: 'oidc' }, cookieSecretRef: { name: 'oidc' }, scopes: ['openid', 'email'],
    claimsToHeaders: [{ claim: 'email', header: 'X-User-Email' }], consumerClaim: 'sub', logoutPath: '/logout', ...extra,
  }, { field: 'spec.oidc', namespace: 'default', consumers: [], secret: (n) => secrets[n] });
  assert.ok(v.ok, JSON.stringify(v));
  const rt = runtime();
  rt.beginCompile();
  return rt.compile({ kind: 'oidc', id: 'test/oidc', config: v.config });
}

function gatewayReq(path: string, query = '', cookie?: string): PluginRequest {
  return makeReq({ path, query, headers: { host: GATEWAY, ...(cookie !== undefined ? { cookie } : {}) } });
}

/** A tiny cookie-keeping browser for the provider's pages. */
class Browser {
  jar = new Map<string, string>();
  async go(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const eq = kv!.indexOf('=');
      this.jar.set(kv!.slice(0, eq), kv!.slice(eq + 1));
    }
    return res;
  }
}

function setCookies(h: Readonly<Record<string, string | readonly string[]>> | undefined): string[] {
  const v = h?.['set-cookie'];
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
}

test('login: redirect to the provider, log in and consent, callback sets a session; the session authenticates', async () => {
  const h = plugin();
  const first = await h.onRequest(gatewayReq('/app/page', 'x=1'));
  assert.equal(first?.status, 302);
  const location = String(first?.headers?.location);
  assert.ok(location.startsWith(`${issuer}/auth?`), location);
  const auth = new URL(location);
  assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(auth.searchParams.get('redirect_uri'), REDIRECT);
  const stateCookie = setCookies(first?.headers)[0]!.split(';')[0]!;

  const browser = new Browser();
  let res = await browser.go(location);
  let next = new URL(res.headers.get('location')!, issuer).toString();
  let callback: URL | undefined;
  for (let step = 0; step < 10 && callback === undefined; step++) {
    if (next.startsWith(REDIRECT)) {
      callback = new URL(next);
      break;
    }
    if (/\/interaction\/[^/]+$/.test(new URL(next).pathname)) {
      const page = await (await browser.go(next)).text();
      const prompt = page.includes('name="login"') ? 'login' : 'consent';
      const body = prompt === 'login' ? 'prompt=login&login=alice&password=any' : 'prompt=consent';
      res = await browser.go(next, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    } else {
      res = await browser.go(next);
    }
    next = new URL(res.headers.get('location')!, issuer).toString();
  }
  assert.ok(callback, 'the provider redirected back with a code');
  assert.ok(callback.searchParams.get('code'));

  const done = await h.onRequest(gatewayReq('/oauth2/callback', callback.search.slice(1), stateCookie));
  assert.equal(done?.status, 302, JSON.stringify(done));
  assert.equal(done?.headers?.location, '/app/page?x=1');
  const session = setCookies(done?.headers).find((c) => c.startsWith('fluxgate_session='))!;
  assert.match(session, /HttpOnly; SameSite=Lax/);

  const req = gatewayReq('/app/page', '', session.split(';')[0]!);
  assert.equal(await h.onRequest(req), undefined);
  assert.equal(req.consumer, 'alice');
  assert.equal(req.upHeaders['x-user-email'], 'alice@example.test');

  // A replayed callback (state cookie gone) fails closed.
  assert.equal((await h.onRequest(gatewayReq('/oauth2/callback', callback.search.slice(1))))?.code, 'AUTH_LOGIN_FAILED');
  // A tampered session is not a session.
  const tampered = await h.onRequest(gatewayReq('/app/page', '', `${session.split(';')[0]!.slice(0, -4)}AAAA`));
  assert.equal(tampered?.status, 302, 'back to the login');
});

test('bearer-only: no token 401, a forged token 401, provider down 500', async () => {
  const h = plugin({ bearerOnly: true });
  assert.equal((await h.onRequest(gatewayReq('/api')))?.status, 401);
  const forged = makeReq({ headers: { host: GATEWAY, authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' } });
  assert.equal((await h.onRequest(forged))?.status, 401);
  const down = runtime();
  const v = validateOidc({ issuer: 'http://127.0.0.1:1', clientId: 'g', clientSecretRef: { name: 's' }, cookieSecretRef: { name: 's' } },
    { field: 'spec.oidc', namespace: 'default', consumers: [], secret: () => ({ clientSecret: 'x', cookieSecret: 'y'.repeat(32) }) });
  assert.ok(v.ok);
  const dh = down.compile({ kind: 'oidc', id: 'down', config: v.config });
  assert.equal((await dh.onRequest(gatewayReq('/page')))?.code, 'AUTH_PROVIDER_UNAVAILABLE');
});

test('validation: missing Secret and short cookie secret name the fields', () => {
  const v = validateOidc({ issuer: 'ftp://x', clientId: 'g', clientSecretRef: { name: 'nope' }, cookieSecretRef: { name: 'short' } },
    { field: 'spec.oidc', namespace: 'default', consumers: [], secret: (n) => (n === 'short' ? { cookieSecret: 'abc' } : undefined) });
  assert.deepEqual(v.ok ? [] : v.errors.map((e) => e.field), ['spec.oidc.issuer', 'spec.oidc.clientSecretRef.name', 'spec.oidc.cookieSecretRef']);
});
