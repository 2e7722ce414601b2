/** HTTPS listeners: SNI certificate choice, ALPN h2 + http/1.1, 421, certificate reload. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { connect as h2connect } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Certificate, Listener, RoutingTable } from '../../src/ir/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, match, ref, route, startBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fluxgate-tls-'));
function cert(name: string, cn: string): Certificate {
  const key = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`], { stdio: 'ignore' });
  return { id: `secret/default/${name}`, certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

let be: TestBackend;
let proxy: Proxy;
let port: number;
let certA: Certificate, certWild: Certificate, certDefault: Certificate, certA2: Certificate;

function httpsListener(p: number, a: Certificate): Listener {
  return {
    id: `port/127.0.0.1/${p}`,
    address: '127.0.0.1',
    port: p,
    protocol: 'HTTPS',
    gatewayListeners: [
      { id: 'listener/default/gw/default', hostname: '*', certificates: [certDefault] },
      { id: 'listener/default/gw/a', hostname: 'a.example.com', certificates: [a] },
      { id: 'listener/default/gw/wild', hostname: '*.wild.example', certificates: [certWild] },
    ],
    virtualHosts: [
      vhost('a.example.com', [route('a', match('/'), [ref('backend/be')])], 'listener/default/gw/a'),
      vhost('*.wild.example', [route('w', match('/'), [ref('backend/be')])], 'listener/default/gw/wild'),
      vhost('*', [route('d', match('/'), [ref('backend/be')])], 'listener/default/gw/default'),
    ],
  };
}

function tlsTable(p: number, a: Certificate): RoutingTable {
  return table([httpsListener(p, a)], [backend('backend/be', [be.port])]);
}

before(async () => {
  certA = cert('a', 'a.example.com');
  certA2 = cert('a2', 'a.example.com');
  certWild = cert('wild', '*.wild.example');
  certDefault = cert('default', 'default.example');
  be = await startBackend('be');
  ({ proxy, port } = await startProxy(tlsTable(0, certA)));
});
after(async () => {
  await proxy.close();
  await be.close();
  rmSync(dir, { recursive: true, force: true });
});

interface TlsReply { status: number; cn: string; serial: string; body: string; reused: boolean }

function get(servername: string | undefined, host: string, agent: HttpsAgent | false = false): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/', servername, headers: { host }, rejectUnauthorized: false, agent },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, cn: String(peer.subject?.CN), serial: peer.serialNumber, body, reused: req.reusedSocket }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('SNI selects the most specific listener certificate; unknown or no SNI gets the default', async () => {
  assert.equal((await get('a.example.com', 'a.example.com')).cn, 'a.example.com');
  assert.equal((await get('x.y.wild.example', 'x.y.wild.example')).cn, '*.wild.example');
  assert.equal((await get('other.example', 'other.example')).cn, 'default.example');
  const noSni = await get(undefined, 'other.example');
  assert.equal(noSni.cn, 'default.example');
  assert.equal(noSni.status, 200);
});

test('421 when the Host belongs to another listener than the SNI-selected one', async () => {
  const r = await get('a.example.com', 'x.wild.example');
  assert.equal(r.status, 421);
  assert.match(r.body, /"code":"MISDIRECTED"/);
  const ok = await get('x.wild.example', 'x.wild.example');
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).headers['x-forwarded-proto'], 'https');
});

test('ALPN h2 over TLS', async () => {
  const session = h2connect(`https://127.0.0.1:${port}`, { servername: 'a.example.com', rejectUnauthorized: false });
  const body = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ':path': '/h2', ':authority': 'a.example.com' });
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => resolve(b));
    req.on('error', reject);
    req.end();
  });
  assert.equal(session.alpnProtocol, 'h2');
  session.close();
  assert.equal(JSON.parse(body).url, '/h2');
});

test('certificate reload on apply: same socket, new certificate, open connections kept', async () => {
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
  const first = await get('a.example.com', 'a.example.com', agent);
  const result = await proxy.apply(tlsTable(0, certA2));
  assert.equal(result.listeners[0]!.boundPort, port, 'the socket was not re-bound');
  const reused = await get('a.example.com', 'a.example.com', agent);
  assert.equal(reused.reused, true, 'the idle keep-alive TLS connection survived the apply');
  assert.equal(reused.serial, first.serial, 'an existing connection keeps its handshake');
  const fresh = await get('a.example.com', 'a.example.com');
  assert.notEqual(fresh.serial, first.serial, 'new handshakes get the new certificate');
  agent.destroy();
});

test('a bad certificate is reported per listener, the others keep serving', async () => {
  const bad: Certificate = { id: 'secret/default/bad', certPem: 'not a pem', keyPem: 'nope' };
  const t = tlsTable(0, bad);
  const result = await proxy.apply(t);
  const errs = result.listeners[0]!.certificateErrors ?? [];
  assert.equal(errs.length, 1);
  assert.equal(errs[0]!.listenerId, 'listener/default/gw/a');
  assert.equal((await get('x.wild.example', 'x.wild.example')).status, 200);
});

test('a TLS client that resets mid-request does not take the proxy down', async () => {
  const { connect: tlsConnect } = await import('node:tls');
  const { connect: netConnect } = await import('node:net');
  for (let i = 0; i < 3; i++) {
    // TLS over a TCP socket of our own, so the TCP connection can be reset (RST) under it.
    const tcp = netConnect(port, '127.0.0.1');
    tcp.on('error', () => {});
    const s = tlsConnect({ socket: tcp, servername: 'a.example.com', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('secureConnect', () => r()));
    s.write('GET / HTTP/1.1\r\nHost: a.example.com\r\nX-Partial: ');
    await new Promise((r) => setTimeout(r, 20));
    tcp.resetAndDestroy();
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await get('a.example.com', 'a.example.com')).status, 200);
});
