// TLS to backends (IR Backend.tls, from BackendTLSPolicy): a real HTTPS backend on loopback.
// The proxy sends the policy's hostname as SNI, verifies the certificate against the policy's
// CA and the hostname (or one of the subjectAltNames: DNS or URI), presents the Gateway's client
// certificate, and keeps the TLS connection alive across requests. Any failed check is a 502.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Backend, BackendTls, RoutingTable } from '../../src/ir/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { CertFactory, type Pem } from '../helpers/certs.ts';
import { backend, listener, match, ref, route, send, startBackend, startProxy, table, vhost, type TestBackend } from '../proxy/helpers.ts';

const certs = new CertFactory();
let ca: Pem & { name: string }, otherCa: Pem & { name: string }, clientCa: Pem & { name: string }, client: Pem;
let tlsServer: Server;
let tlsPort: number;
let plain: TestBackend;
let proxy: Proxy;
let port: number;
const connections: number[] = [];
let connectionCount = 0;

function tlsBackend(id: string, tls: Omit<BackendTls, 'policyId'>): Backend {
  return { ...backend(id, [tlsPort]), tls: { policyId: `backendtlspolicy/default/${id.split('/').pop()}`, ...tls } };
}

function routingTable(): RoutingTable {
  const cases: [string, Omit<BackendTls, 'policyId'>][] = [
    ['ok', { serverName: 'abc.example.com', caPem: ca.certPem, subjectAltNames: [] }],
    ['host-mismatch', { serverName: 'mismatch.example.com', caPem: ca.certPem, subjectAltNames: [] }],
    ['ca-mismatch', { serverName: 'abc.example.com', caPem: otherCa.certPem, subjectAltNames: [] }],
    ['system-cas', { serverName: 'abc.example.com', subjectAltNames: [] }],
    ['san-dns', { serverName: 'abc.example.com', caPem: ca.certPem, subjectAltNames: [{ type: 'Hostname', value: 'abc.example.com' }] }],
    ['san-dns-mismatch', { serverName: 'abc.example.com', caPem: ca.certPem, subjectAltNames: [{ type: 'Hostname', value: 'def.example.com' }] }],
    ['san-uri', { serverName: 'abc.example.com', caPem: ca.certPem, subjectAltNames: [{ type: 'URI', value: 'spiffe://abc.example.com/test-identity' }] }],
    ['san-uri-mismatch', { serverName: 'abc.example.com', caPem: ca.certPem, subjectAltNames: [{ type: 'URI', value: 'spiffe://def.example.com/test-identity' }] }],
    ['san-multiple', { serverName: 'abc.example.com', caPem: ca.certPem, subjectAltNames: [{ type: 'Hostname', value: 'def.example.com' }, { type: 'URI', value: 'spiffe://abc.example.com/test-identity' }] }],
    ['san-wildcard', { serverName: 'x.wild.example.com', caPem: ca.certPem, subjectAltNames: [] }],
    ['client-cert', { serverName: 'abc.example.com', caPem: ca.certPem, subjectAltNames: [], clientCertificate: { id: 'secret/default/client', certPem: client.certPem, keyPem: client.keyPem } }],
  ];
  const backends = [...cases.map(([name, tls]) => tlsBackend(`backend/${name}`, tls)), backend('backend/plain', [plain.port])];
  const routes = [...cases.map(([name]) => route(name, match(`/${name}`, 'Exact'), [ref(`backend/${name}`)])), route('plain', match('/plain', 'Exact'), [ref('backend/plain')])];
  return table([listener([vhost('*', routes)], { port: 0 })], backends);
}

before(async () => {
  ca = certs.ca('Backend CA');
  otherCa = certs.ca('Other CA');
  clientCa = certs.ca('Gateway client CA');
  client = certs.leaf(clientCa, { cn: 'gateway', usage: 'clientAuth' });
  const server = certs.leaf(ca, { cn: 'abc.example.com', sans: ['abc.example.com', '*.wild.example.com', 'URI:spiffe://abc.example.com/test-identity'] });
  tlsServer = createServer({ cert: server.certPem, key: server.keyPem, ca: clientCa.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const body = JSON.stringify({ sni: socket.servername, path: req.url, clientCert: peer.fingerprint256 ?? null, clientAuthorized: socket.authorized, connection: connections.indexOf(socket.remotePort!) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  tlsServer.on('secureConnection', (s: TLSSocket) => {
    connectionCount++;
    connections.push(s.remotePort!);
  });
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  tlsPort = (tlsServer.address() as AddressInfo).port;
  plain = await startBackend('plain');
  ({ proxy, port } = await startProxy(routingTable()));
});
after(async () => {
  await proxy.close();
  tlsServer.closeAllConnections();
  await new Promise((r) => tlsServer.close(r));
  await plain.close();
  certs.close();
});

const get = (path: string) => send(port, path, { host: 'app.example.com' });

test('TLS to the backend with the policy hostname as SNI, verified against the policy CA', async () => {
  const r = await get('/ok');
  assert.equal(r.status, 200);
  assert.equal(r.json().sni, 'abc.example.com');
  assert.equal(r.json().path, '/ok');
  assert.equal(r.json().clientCert, null, 'no client certificate unless the Gateway has one');
});

test('a certificate that does not verify is a 502: wrong hostname, other CA, well-known CAs for a private CA', async () => {
  for (const path of ['/host-mismatch', '/ca-mismatch', '/system-cas']) {
    const r = await get(path);
    assert.equal(r.status, 502, path);
  }
});

test('subjectAltNames replace the hostname check: DNS, URI, any of several, and certificate wildcards', async () => {
  assert.equal((await get('/san-dns')).status, 200);
  assert.equal((await get('/san-dns-mismatch')).status, 502);
  assert.equal((await get('/san-uri')).status, 200);
  assert.equal((await get('/san-uri-mismatch')).status, 502);
  assert.equal((await get('/san-multiple')).status, 200);
  const wild = await get('/san-wildcard');
  assert.equal(wild.status, 200);
  assert.equal(wild.json().sni, 'x.wild.example.com');
});

test('the Gateway client certificate is presented to the backend', async () => {
  const r = await get('/client-cert');
  assert.equal(r.status, 200);
  assert.equal(r.json().clientCert, client.fingerprint);
  assert.equal(r.json().clientAuthorized, true);
});

test('TLS connections to a backend are kept alive and reused', async () => {
  const before = connectionCount;
  const first = await get('/ok');
  const second = await get('/ok');
  const third = await get('/ok');
  assert.equal(first.status, 200);
  assert.equal(third.json().connection, second.json().connection, 'same upstream TLS connection');
  assert.ok(connectionCount - before <= 1, `${connectionCount - before} new TLS connections for 3 sequential requests`);
});

test('plaintext backends are untouched', async () => {
  const r = await get('/plain');
  assert.equal(r.status, 200);
  assert.equal(r.json().backend, 'plain');
});

test('a CA with the trusted CA\'s subject and serial but another key is refused (502), and other TLS backends keep working', async () => {
  // The conformance suite's mismatch CA is made this way; OpenSSL fails its signature check.
  const real = certs.ca('gatewayapi', 'rsa', 2024);
  const lookalike = certs.ca('gatewayapi', 'rsa', 2024);
  const leaf = certs.leaf(real, { cn: 'abc.example.com', alg: 'rsa' });
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  const mk = (id: string, caPem: string): Backend => ({ ...backend(id, [p]), tls: { policyId: `backendtlspolicy/default/${id}`, serverName: 'abc.example.com', caPem, subjectAltNames: [] } });
  const t = routingTable();
  const routes = [route('real', match('/real', 'Exact'), [ref('backend/real')]), route('lookalike', match('/lookalike', 'Exact'), [ref('backend/lookalike')]), ...t.listeners[0]!.virtualHosts[0]!.routes];
  await proxy.apply({ ...t, version: `${t.version}-lookalike`, listeners: [{ ...t.listeners[0]!, port, virtualHosts: [vhost('*', routes)] }], backends: [...t.backends, mk('backend/real', real.certPem), mk('backend/lookalike', lookalike.certPem)].sort((a, b) => a.id.localeCompare(b.id)) });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await get('/lookalike')).status, 502);
      assert.equal((await get('/real')).status, 200);
      assert.equal((await get('/ok')).status, 200);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
