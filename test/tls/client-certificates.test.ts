// Frontend client certificate validation in the proxy (IR GatewayListener.clientValidation):
// AllowValidOnly admits only clients with a certificate from the listener's CA, per SNI-selected
// listener on a shared socket; AllowInsecureFallback admits everyone; listeners without
// validation are unaffected; a Host of a validating listener over a connection that was not
// validated for it is misdirected (421); validation follows table applies.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect } from 'node:http2';
import type { ClientValidation, Listener, RoutingTable } from '../../src/ir/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { CertFactory, type Pem } from '../helpers/certs.ts';
import { backend, match, ref, route, startBackend, startProxy, table, vhost, type TestBackend } from '../proxy/helpers.ts';

const certs = new CertFactory();
let be: TestBackend;
let proxy: Proxy;
let port: number;
let server: Pem, caA: Pem & { name: string }, caB: Pem & { name: string }, clientA: Pem, clientB: Pem;

function tlsTable(p: number, mtls: ClientValidation | undefined): RoutingTable {
  const gl = (name: string, v?: ClientValidation): Listener['gatewayListeners'][number] => ({
    id: `listener/default/gw/${name}`, hostname: `${name}.example.com`, certificates: [{ id: 'secret/default/tls', certPem: server.certPem, keyPem: server.keyPem }],
    ...(v === undefined ? {} : { clientValidation: v }),
  });
  const listener: Listener = {
    id: `port/127.0.0.1/${p}`, address: '127.0.0.1', port: p, protocol: 'HTTPS',
    // The first listener's context is the default for clients without SNI.
    gatewayListeners: [gl('open'), gl('mtls', mtls), gl('fallback', { caPem: caB.certPem, mode: 'AllowInsecureFallback' })],
    virtualHosts: ['open', 'mtls', 'fallback'].map((n) => vhost(`${n}.example.com`, [route(n, match('/'), [ref('backend/be')])], `listener/default/gw/${n}`)),
  };
  return table([listener], [backend('backend/be', [be.port])]);
}

before(async () => {
  server = certs.selfSigned({ cn: '*.example.com' });
  caA = certs.ca('Client CA A');
  caB = certs.ca('Client CA B', 'rsa');
  clientA = certs.leaf(caA, { cn: 'client-a', usage: 'clientAuth' });
  clientB = certs.leaf(caB, { cn: 'client-b', usage: 'clientAuth', alg: 'rsa' });
  be = await startBackend('be');
  ({ proxy, port } = await startProxy(tlsTable(0, { caPem: caA.certPem, mode: 'AllowValidOnly' })));
});
after(async () => {
  await proxy.close();
  await be.close();
  certs.close();
});

/** Status of a GET, or the error code when the connection failed. */
function get(servername: string | undefined, host: string, client?: Pem): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: '/', headers: { host }, rejectUnauthorized: false, agent: false,
      // An empty servername sends no SNI (node:https would derive one from the Host header).
      servername: servername ?? '',
      ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }),
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('AllowValidOnly: a certificate from the listener CA passes; none, or one from another CA, is refused', async () => {
  assert.equal(await get('mtls.example.com', 'mtls.example.com', clientA), 200);
  assert.notEqual(await get('mtls.example.com', 'mtls.example.com'), 200);
  assert.notEqual(await get('mtls.example.com', 'mtls.example.com', clientB), 200);
  assert.equal(typeof (await get('mtls.example.com', 'mtls.example.com')), 'string', 'refused at the connection, no HTTP answer');
});

test('AllowValidOnly over HTTP/2', async () => {
  const session = h2connect(`https://127.0.0.1:${port}`, { servername: 'mtls.example.com', rejectUnauthorized: false, cert: clientA.certPem, key: clientA.keyPem });
  const status = await new Promise<number>((resolve, reject) => {
    const req = session.request({ ':path': '/', ':authority': 'mtls.example.com' });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.end();
  });
  session.close();
  assert.equal(status, 200);
});

test('listeners without validation and with AllowInsecureFallback on the same socket admit everyone', async () => {
  assert.equal(await get('open.example.com', 'open.example.com'), 200);
  assert.equal(await get('open.example.com', 'open.example.com', clientB), 200);
  assert.equal(await get('fallback.example.com', 'fallback.example.com'), 200);
  assert.equal(await get('fallback.example.com', 'fallback.example.com', clientA), 200);
  assert.equal(await get('fallback.example.com', 'fallback.example.com', clientB), 200);
});

test('a validating listener cannot be reached through a connection validated for another one (421)', async () => {
  assert.equal(await get('open.example.com', 'mtls.example.com'), 421, 'SNI of an open listener, Host of the validating one');
  assert.equal(await get(undefined, 'mtls.example.com'), 421, 'no SNI: the default context did not validate for mtls');
  assert.equal(await get(undefined, 'open.example.com'), 200);
});

test('validation follows applies: removed, the listener admits clients without certificates; added back, it refuses them', async () => {
  let r = await proxy.apply(tlsTable(0, undefined));
  assert.equal(r.listeners[0]!.boundPort, port);
  assert.equal(await get('mtls.example.com', 'mtls.example.com'), 200);
  r = await proxy.apply(tlsTable(0, { caPem: caB.certPem, mode: 'AllowValidOnly' }));
  assert.equal(r.listeners[0]!.boundPort, port);
  assert.notEqual(await get('mtls.example.com', 'mtls.example.com'), 200);
  assert.notEqual(await get('mtls.example.com', 'mtls.example.com', clientA), 200, 'the old CA no longer verifies');
  assert.equal(await get('mtls.example.com', 'mtls.example.com', clientB), 200);
});

test('CAs that share subject and serial but not the key: the right one passes, the other is refused or (fallback) admitted', async () => {
  // The upstream conformance suite makes every test CA this way; OpenSSL verifying such a
  // chain used to leave an error that failed the connection even under AllowInsecureFallback.
  const same1 = certs.ca('gatewayapi', 'rsa', 2024);
  const same2 = certs.ca('gatewayapi', 'rsa', 2024);
  const good = certs.leaf(same1, { cn: 'client', usage: 'clientAuth', alg: 'rsa' });
  const other = certs.leaf(same2, { cn: 'client', usage: 'clientAuth', alg: 'rsa' });
  await proxy.apply(tlsTable(0, { caPem: same1.certPem, mode: 'AllowValidOnly' }));
  assert.equal(await get('mtls.example.com', 'mtls.example.com', good), 200);
  assert.notEqual(await get('mtls.example.com', 'mtls.example.com', other), 200);
  await proxy.apply(tlsTable(0, { caPem: same1.certPem, mode: 'AllowInsecureFallback' }));
  assert.equal(await get('mtls.example.com', 'mtls.example.com', other), 200);
  assert.equal(await get('mtls.example.com', 'mtls.example.com', good), 200);
});

test('a client certificate made for servers only (extendedKeyUsage serverAuth) is refused', async () => {
  await proxy.apply(tlsTable(0, { caPem: caA.certPem, mode: 'AllowValidOnly' }));
  const serverOnly = certs.leaf(caA, { cn: 'not-a-client', usage: 'serverAuth' });
  assert.notEqual(await get('mtls.example.com', 'mtls.example.com', serverOnly), 200);
  assert.equal(await get('mtls.example.com', 'mtls.example.com', clientA), 200);
});
