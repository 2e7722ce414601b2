// HTTPS from kubernetes.io/tls Secrets through the whole pipeline (translate → table → proxy
// apply, the path a Secret update from the controller or a file edit takes): SNI selection
// (exact, wildcard, default), RSA and ECDSA listeners, 421, and certificate rotation every
// second under continuous load with zero failed handshakes or requests.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createPipeline, type Pipeline } from '../../src/pipeline/index.ts';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { sortResources, emptyResources, type Resources, type Secret } from '../../src/translate/resources.ts';
import { OPTIONS } from '../translate/harness.ts';
import { CertFactory, tlsSecretData, type Pem } from '../helpers/certs.ts';
import { freePort } from '../helpers/net.ts';
import { startBackend, type TestBackend } from '../proxy/helpers.ts';

const ADDRESS = '127.0.0.1';
const certs = new CertFactory();
let be: TestBackend;
let proxy: Proxy;
let pipeline: Pipeline;
let port: number;
let rsa: Pem, ecdsa: Pem, wild: Pem, fallback: Pem;

function secret(name: string, pem: Pem): Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/tls', data: tlsSecretData(pem) };
}

function resources(rotating: Pem): Resources {
  const listener = (name: string, hostname: string | undefined, refs: string[]) => ({
    name, port, protocol: 'HTTPS', ...(hostname === undefined ? {} : { hostname }), tls: { certificateRefs: refs.map((n) => ({ name: n })) },
  });
  return sortResources({
    ...emptyResources(),
    gatewayClasses: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'fluxgate' }, spec: { controllerName: OPTIONS.controllerName } }],
    namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } } }],
    gateways: [{
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' },
      spec: {
        gatewayClassName: 'fluxgate',
        addresses: [{ type: 'IPAddress', value: ADDRESS }],
        listeners: [
          listener('rsa', 'rsa.example.com', ['rsa']),
          listener('ecdsa', 'ecdsa.example.com', ['ecdsa']),
          listener('rotating', 'rotating.example.com', ['rotating']),
          listener('wild', '*.wild.example', ['wild']),
          listener('default', undefined, ['fallback']),
        ],
      },
    }],
    httpRoutes: [{
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'default' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
    }],
    services: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } }],
    endpointSlices: [{
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      ports: [{ name: 'http', port: be.port }], endpoints: [{ addresses: [ADDRESS] }],
    }],
    secrets: [secret('rsa', rsa), secret('ecdsa', ecdsa), secret('rotating', rotating), secret('wild', wild), secret('fallback', fallback)],
  });
}

before(async () => {
  rsa = certs.selfSigned({ cn: 'rsa.example.com', alg: 'rsa' });
  ecdsa = certs.selfSigned({ cn: 'ecdsa.example.com', alg: 'ec' });
  wild = certs.selfSigned({ cn: '*.wild.example' });
  fallback = certs.selfSigned({ cn: 'default.example' });
  be = await startBackend('web');
  port = await freePort();
  proxy = createProxy({ limits: { drainTimeoutMs: 2000 } });
  pipeline = createPipeline({ proxy, translateOptions: OPTIONS, logger: createLogger('silent') });
  const snap = await pipeline.update(resources(certs.selfSigned({ cn: 'rotating.example.com' })));
  assert.deepEqual(snap.applied?.listeners.map((l) => [l.bound, l.certificateErrors]), [[true, undefined]]);
});

after(async () => {
  pipeline.close();
  await proxy.close();
  await be.close();
  certs.close();
});

interface Reply { status: number; fingerprint: string; reused: boolean; alpn: string | false | null }

function get(servername: string | undefined, host: string, agent: HttpsAgent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // ALPNProtocols is a tls.connect option that https.request passes through (not in its type).
    const options = { host: ADDRESS, port, path: '/', servername: servername ?? '', headers: { host }, rejectUnauthorized: false, agent, ALPNProtocols: ['http/1.1'] };
    const req = httpsRequest(options, (res) => {
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, fingerprint, reused: req.reusedSocket, alpn: socket.alpnProtocol }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The certificate a bare TLS handshake gets, optionally limited to some signature algorithms. */
function handshake(servername: string, sigalgs?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: ADDRESS, port, servername, rejectUnauthorized: false, ...(sigalgs === undefined ? {} : { sigalgs }) }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

function h2get(session: ClientHttp2Session, authority: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/', ':authority': authority });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('error', reject);
    req.resume();
    req.on('end', () => resolve(status));
    req.setTimeout(5000, () => req.close());
    req.end();
  });
}

test('SNI from Secrets: exact, wildcard, default (unknown and no SNI); 421 for a Host of another listener', async () => {
  assert.equal((await get('x.y.wild.example', 'x.y.wild.example')).fingerprint, wild.fingerprint);
  assert.equal((await get('unknown.example', 'unknown.example')).fingerprint, fallback.fingerprint);
  const noSni = await get(undefined, 'unknown.example');
  assert.equal(noSni.fingerprint, fallback.fingerprint, 'no SNI: the socket default (first listener with a certificate) or the catch-all');
  assert.equal(noSni.status, 200);
  assert.equal((await get('x.wild.example', 'dual.example.com')).status, 421, 'Host of another listener than SNI chose');
  assert.equal((await get('dual.example.com', 'x.wild.example')).status, 421);
  assert.equal((await get('x.wild.example', 'x.wild.example')).status, 200);
});

test('RSA and ECDSA certificates on separate listeners, over HTTP/1.1 and h2', async () => {
  assert.equal(await handshake('rsa.example.com', 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256'), rsa.fingerprint);
  assert.equal(await handshake('ecdsa.example.com', 'ecdsa_secp256r1_sha256'), ecdsa.fingerprint);
  for (const [host, pem] of [['rsa.example.com', rsa], ['ecdsa.example.com', ecdsa]] as const) {
    const r = await get(host, host);
    assert.deepEqual([r.status, r.fingerprint, r.alpn], [200, pem.fingerprint, 'http/1.1']);
    const session = h2connect(`https://${ADDRESS}:${port}`, { servername: host, rejectUnauthorized: false });
    assert.equal(await h2get(session, host), 200);
    assert.equal(session.alpnProtocol, 'h2');
    assert.equal((session.socket as TLSSocket).getPeerCertificate().fingerprint256, pem.fingerprint);
    session.close();
  }
});

test('certificate rotation every second under load: zero failed handshakes or requests, no connection dropped', { timeout: 60_000 }, async (t) => {
  const host = 'rotating.example.com';
  // Generated before the load starts (RSA key generation is slow), alternating key types.
  const next = Array.from({ length: 6 }, (_, i) => certs.selfSigned({ cn: host, alg: i % 2 === 0 ? 'rsa' : 'ec' }));
  const failures: string[] = [];
  const counts = { h1: 0, h2: 0, keepAlive: 0, h2Long: 0 };
  let stop = false;

  // New TLS connection per request, HTTP/1.1 and HTTP/2 (ALPN).
  const h1Worker = async (): Promise<void> => {
    while (!stop) {
      try {
        const r = await get(host, host);
        if (r.status !== 200 || r.alpn !== 'http/1.1') failures.push(`h1 status ${r.status} alpn ${r.alpn}`);
        counts.h1++;
      } catch (err) {
        failures.push(`h1: ${(err as Error).message}`);
      }
    }
  };
  const h2Worker = async (): Promise<void> => {
    while (!stop) {
      const session = h2connect(`https://${ADDRESS}:${port}`, { servername: host, rejectUnauthorized: false });
      session.on('error', (err) => failures.push(`h2 session: ${err.message}`));
      try {
        const status = await h2get(session, host);
        if (status !== 200 || session.alpnProtocol !== 'h2') failures.push(`h2 status ${status} alpn ${session.alpnProtocol}`);
        counts.h2++;
      } catch (err) {
        failures.push(`h2: ${(err as Error).message}`);
      }
      session.close();
    }
  };
  // Long-lived connections opened before the first rotation: they must stay open throughout.
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
  const first = await get(host, host, agent);
  const keepAliveWorker = async (): Promise<void> => {
    while (!stop) {
      try {
        const r = await get(host, host, agent);
        if (!r.reused) failures.push('keep-alive connection was not reused (dropped?)');
        if (r.fingerprint !== first.fingerprint) failures.push('keep-alive connection changed certificate');
        counts.keepAlive++;
      } catch (err) {
        failures.push(`keep-alive: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const longSession = h2connect(`https://${ADDRESS}:${port}`, { servername: host, rejectUnauthorized: false });
  let longClosed = false;
  longSession.on('close', () => (longClosed = true));
  longSession.on('goaway', () => failures.push('long-lived h2 session got GOAWAY'));
  longSession.on('error', (err) => failures.push(`long-lived h2 session: ${err.message}`));
  const h2LongWorker = async (): Promise<void> => {
    while (!stop) {
      try {
        if ((await h2get(longSession, host)) !== 200) failures.push('long-lived h2 request failed');
        counts.h2Long++;
      } catch (err) {
        failures.push(`long-lived h2: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const workers = [h1Worker(), h1Worker(), h1Worker(), h2Worker(), h2Worker(), keepAliveWorker(), h2LongWorker()];
  const applyMs: number[] = [];
  try {
    for (const pem of next) {
      await new Promise((r) => setTimeout(r, 1000));
      const started = performance.now();
      const snap = await pipeline.update(resources(pem));
      applyMs.push(performance.now() - started);
      assert.equal(snap.applied?.listeners[0]?.certificateErrors, undefined);
      // Visible to the very next handshake once the apply returned.
      assert.equal(await handshake(host), pem.fingerprint, 'a new handshake gets the new certificate');
      assert.equal((await get(host, host)).fingerprint, pem.fingerprint);
    }
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  assert.equal(longClosed, false, 'the long-lived h2 session survived every rotation');
  longSession.close();
  agent.destroy();
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures`);
  // Traffic on every path throughout (the counts are low on a loaded machine, never zero).
  assert.ok(Object.values(counts).every((n) => n >= 20), JSON.stringify(counts));
  // In the runner's output, so the load that was proven is on record.
  t.diagnostic(`requests ${JSON.stringify(counts)}; apply ms ${applyMs.map((m) => m.toFixed(1)).join(', ')}`);
});
