// Authentication plugins: key-auth (header, query, hidden), basic-auth (scrypt and bcrypt
// hashes), JWT (inline keys, JWKS URL with rotation, iss/aud/exp/nbf, claims to headers),
// and fail-closed answers. Credentials must never appear in what the plugins log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import bcrypt from 'bcryptjs';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { validateKeyAuth } from '../../src/plugins/key-auth/validate.ts';
import { validateBasicAuth } from '../../src/plugins/basic-auth/validate.ts';
import { validateJwt } from '../../src/plugins/jwt/validate.ts';
import { validateIpRestriction } from '../../src/plugins/ip-restriction/validate.ts';
import { hashPassword } from '../../src/plugins/basic-auth/password-hash.ts';
import type { PluginHooks, ResolvedConsumer, ValidateResult } from '../../src/plugins/index.ts';
import { createPluginRuntime, BUILTIN_PLUGINS } from '../../src/plugins/index.ts';
import { makeReq } from './helpers.ts';

const consumers: ResolvedConsumer[] = [
  { id: 'default/alice', username: 'alice', customId: 'c-1', credentials: [{ type: 'KeyAuth', data: { key: 'alice-key' }, source: 'Consumer default/alice spec.credentials[0]' }] },
  { id: 'default/bob', username: 'bob', credentials: [{ type: 'KeyAuth', data: { key: 'bob-key' }, source: 'Consumer default/bob spec.credentials[0]' }] },
];
const vctx = (field: string, cs: ResolvedConsumer[] = consumers) => ({ field, namespace: 'default', consumers: cs, secret: () => undefined });

const logged: string[] = [];
const logger = { warn: (o: object, m: string) => logged.push(JSON.stringify(o) + m), error: (o: object, m: string) => logged.push(JSON.stringify(o) + m), debug: (o: object, m: string) => logged.push(JSON.stringify(o) + m) };

function hooks(kind: string, v: ValidateResult): PluginHooks {
  assert.ok(v.ok, JSON.stringify(v));
  const rt = createPluginRuntime({ plugins: BUILTIN_PLUGINS, logger });
  rt.beginCompile();
  const h = rt.compile({ kind, id: `test/${kind}`, config: v.config });
  rt.endCompile();
  return h;
}

test('key-auth: header key → consumer headers upstream; missing/unknown → 401', async () => {
  const v = validateKeyAuth({ keyNames: ['apikey'] }, vctx('spec.keyAuth'));
  assert.ok(v.ok);
  assert.ok(!JSON.stringify(v.config).includes('alice-key'), 'the table holds digests, not keys');
  const h = hooks('key-auth', v);
  const ok = makeReq({ headers: { apikey: 'alice-key', 'x-consumer-username': 'spoofed' } });
  assert.equal(await h.onRequest(ok), undefined);
  assert.equal(ok.consumer, 'alice');
  assert.equal(ok.upHeaders['x-consumer-username'], 'alice');
  assert.equal(ok.upHeaders['x-consumer-custom-id'], 'c-1');
  const missing = await h.onRequest(makeReq());
  assert.equal(missing?.status, 401);
  assert.equal(missing?.code, 'AUTH_MISSING_CREDENTIALS');
  const wrong = await h.onRequest(makeReq({ headers: { apikey: 'nope' } }));
  assert.equal(wrong?.status, 401);
  assert.equal(wrong?.code, 'AUTH_INVALID_CREDENTIALS');
});

test('key-auth: query key, hidden from the upstream', async () => {
  const h = hooks('key-auth', validateKeyAuth({ keyNames: ['apikey'], keyInHeader: false, keyInQuery: true, hideCredentials: true }, vctx('spec.keyAuth')));
  const r = makeReq({ query: 'a=1&apikey=bob-key&b=2' });
  assert.equal(await h.onRequest(r), undefined);
  assert.equal(r.consumer, 'bob');
  assert.equal(r.query, 'a=1&b=2');
  assert.equal((await h.onRequest(makeReq({ headers: { apikey: 'bob-key' } })))?.status, 401, 'header not accepted when keyInHeader is false');
});

test('key-auth: a Secret without key, and one key for two consumers, name the credential', () => {
  const bad = validateKeyAuth({}, vctx('spec.keyAuth', [
    ...consumers,
    { id: 'default/eve', username: 'eve', credentials: [{ type: 'KeyAuth', data: { key: 'alice-key' }, source: 'Consumer default/eve spec.credentials[0]' }] },
    { id: 'default/mal', username: 'mal', credentials: [{ type: 'KeyAuth', data: {}, source: 'Consumer default/mal spec.credentials[0]' }] },
  ]));
  assert.equal(bad.ok, false);
  const text = JSON.stringify(bad);
  assert.match(text, /Consumer default\/eve spec.credentials\[0\]/);
  assert.match(text, /Consumer default\/mal spec.credentials\[0\]/);
  assert.ok(!text.includes('alice-key'), 'messages never contain a key');
});

test('basic-auth: scrypt and bcrypt hashes, constant answers, plain passwords refused', async () => {
  const scrypt = await hashPassword('s3cret', 10);
  const bc = bcrypt.hashSync('hunter2', 4);
  const cs: ResolvedConsumer[] = [
    { id: 'default/alice', username: 'alice', credentials: [{ type: 'BasicAuth', data: { passwordHash: scrypt }, source: 'a' }] },
    { id: 'default/bob', username: 'bob', credentials: [{ type: 'BasicAuth', data: { username: 'bobby', passwordHash: bc }, source: 'b' }] },
  ];
  const h = hooks('basic-auth', validateBasicAuth({ realm: 'api' }, vctx('spec.basicAuth', cs)));
  const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
  const a = makeReq({ headers: basic('alice', 's3cret') });
  assert.equal(await h.onRequest(a), undefined);
  assert.equal(a.consumer, 'alice');
  const b = makeReq({ headers: basic('bobby', 'hunter2') });
  assert.equal(await h.onRequest(b), undefined);
  assert.equal(b.consumer, 'bob');
  const again = makeReq({ headers: basic('alice', 's3cret') });
  const cached = h.onRequest(again);
  assert.ok(!(cached instanceof Promise), 'a verified credential is remembered');
  const wrong = await h.onRequest(makeReq({ headers: basic('alice', 'nope') }));
  assert.equal(wrong?.status, 401);
  assert.equal(wrong?.headers?.['www-authenticate'], 'Basic realm="api", charset="UTF-8"');
  assert.equal((await h.onRequest(makeReq({ headers: basic('nobody', 'x') })))?.code, 'AUTH_INVALID_CREDENTIALS');
  assert.equal((await h.onRequest(makeReq()))?.code, 'AUTH_MISSING_CREDENTIALS');
  const plain = validateBasicAuth({}, vctx('spec.basicAuth', [{ id: 'default/p', username: 'p', credentials: [{ type: 'BasicAuth', data: { password: 'x' }, source: 'Consumer default/p spec.credentials[0]' }] }]));
  assert.equal(plain.ok, false);
  assert.match(plain.ok ? '' : plain.errors[0]!.message, /plain "password": store a hash in "passwordHash"/);
});

test('ip-restriction: deny wins, allow list, IPv6 and IPv4-mapped peers', async () => {
  const h = hooks('ip-restriction', validateIpRestriction({ allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.6.6.6'] }, vctx('spec.ipRestriction')));
  assert.equal(await h.onRequest(makeReq({ peer: '10.1.2.3' })), undefined);
  assert.equal(await h.onRequest(makeReq({ peer: '::ffff:10.1.2.3' })), undefined);
  assert.equal(await h.onRequest(makeReq({ peer: '2001:db8:1::5' })), undefined);
  assert.equal((await h.onRequest(makeReq({ peer: '10.6.6.6' })))?.code, 'IP_FORBIDDEN');
  assert.equal((await h.onRequest(makeReq({ peer: '192.168.1.1' })))?.status, 403);
  assert.equal((await h.onRequest(makeReq({ peer: '2001:db9::1' })))?.status, 403);
  const bad = validateIpRestriction({ allow: ['10.0.0.0/33', 'nope'] }, vctx('spec.ipRestriction'));
  assert.deepEqual(bad.ok ? [] : bad.errors.map((e) => e.field), ['spec.ipRestriction.allow[0]', 'spec.ipRestriction.allow[1]']);
});

async function signer(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } as JWK;
  const sign = (claims: Record<string, unknown>, exp: number | string = '5m') => {
    const s = new SignJWT({ iss: 'https://issuer.test', aud: 'api', ...claims }).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt();
    if (exp !== 0) s.setExpirationTime(exp);
    return s.sign(privateKey);
  };
  return { jwk, sign };
}

test('jwt: inline key, iss/aud/exp/nbf checks, claims to headers, consumer claim', async () => {
  const k = await signer('k1');
  const h = hooks('jwt', validateJwt({ keys: [k.jwk], issuers: ['https://issuer.test'], audiences: ['api'], claimsToHeaders: [{ claim: 'sub', header: 'X-User' }, { claim: 'plan', header: 'x-plan' }], consumerClaim: 'sub', clockSkewSeconds: 0 }, vctx('spec.jwt')));
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const r = makeReq({ headers: { ...bearer(await k.sign({ sub: 'alice', plan: 'gold' })), 'x-plan': 'spoofed' } });
  assert.equal(await h.onRequest(r), undefined);
  assert.equal(r.consumer, 'alice');
  assert.equal(r.upHeaders['x-user'], 'alice');
  assert.equal(r.upHeaders['x-plan'], 'gold');
  const noPlan = makeReq({ headers: { ...bearer(await k.sign({ sub: 'bob' })), 'x-plan': 'spoofed' } });
  assert.equal(await h.onRequest(noPlan), undefined);
  assert.equal(noPlan.upHeaders['x-plan'], undefined, 'a client header under a claim header name never passes');
  assert.equal((await h.onRequest(makeReq({ headers: bearer(await k.sign({ sub: 'x' }, Math.floor(Date.now() / 1000) - 10)) })))?.code, 'AUTH_TOKEN_EXPIRED');
  assert.equal((await h.onRequest(makeReq({ headers: bearer(await k.sign({ sub: 'x' }, 0)) })))?.code, 'AUTH_INVALID_TOKEN', 'exp is required');
  assert.equal((await h.onRequest(makeReq({ headers: bearer(await k.sign({ sub: 'x', nbf: Math.floor(Date.now() / 1000) + 600 })) })))?.code, 'AUTH_INVALID_TOKEN');
  assert.equal((await h.onRequest(makeReq({ headers: bearer(await k.sign({ sub: 'x', aud: 'other' })) })))?.status, 401, 'wrong audience');
  assert.equal((await h.onRequest(makeReq({ headers: bearer(await k.sign({ sub: 'x', iss: 'https://evil.test' })) })))?.status, 401, 'wrong issuer');
  const other = await signer('k1');
  assert.equal((await h.onRequest(makeReq({ headers: bearer(await other.sign({ sub: 'x' })) })))?.code, 'AUTH_INVALID_TOKEN', 'wrong signature');
  assert.equal((await h.onRequest(makeReq()))?.code, 'AUTH_MISSING_CREDENTIALS');
});

test('jwt: JWKS URL with key rotation; keys unavailable fail closed (500)', async () => {
  const k1 = await signer('k1'), k2 = await signer('k2');
  let keys: JWK[] = [k1.jwk];
  let fetches = 0;
  let up = true;
  const server = createServer((_req, res) => {
    fetches++;
    if (!up) { res.writeHead(503).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const h = hooks('jwt', validateJwt({ jwksUri: uri, jwksCooldownSeconds: 0, issuers: ['https://issuer.test'] }, vctx('spec.jwt')));
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    assert.equal(await h.onRequest(makeReq({ headers: bearer(await k1.sign({ sub: 'a' })) })), undefined);
    assert.equal(fetches, 1);
    // Rotation: the provider publishes k2 and retires k1.
    keys = [k2.jwk];
    assert.equal(await h.onRequest(makeReq({ headers: bearer(await k2.sign({ sub: 'b' })) })), undefined, 'an unknown kid refetches the JWKS');
    assert.equal(fetches, 2);
    assert.equal((await h.onRequest(makeReq({ headers: bearer(await k1.sign({ sub: 'c' })) })))?.code, 'AUTH_INVALID_TOKEN', 'a retired key no longer verifies new tokens');
    up = false;
    const k3 = await signer('k3');
    const down = await h.onRequest(makeReq({ headers: bearer(await k3.sign({ sub: 'd' })) }));
    assert.equal(down?.status, 500);
    assert.equal(down?.code, 'AUTH_KEYS_UNAVAILABLE');
  } finally {
    server.close();
  }
});

test('jwt: symmetric and private keys are refused by validation', () => {
  const bad = validateJwt({ keys: [{ kty: 'oct', k: 'abc' }, { kty: 'EC', d: 'x' }] }, vctx('spec.jwt'));
  assert.deepEqual(bad.ok ? [] : bad.errors.map((e) => e.field), ['spec.jwt.keys[0].kty', 'spec.jwt.keys[1].d']);
});

test('nothing a plugin logged contains a credential', () => {
  const all = logged.join('\n');
  for (const secret of ['alice-key', 'bob-key', 's3cret', 'hunter2']) assert.ok(!all.includes(secret), secret);
});
