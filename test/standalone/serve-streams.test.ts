// End to end in standalone mode: YAML with TLS passthrough, TLS terminate and TCP listeners →
// translator → proxy, real sockets; then an edit that removes the TCPRoute closes the TCP
// connection that route carried while the TLS one keeps running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { startServe } from '../../src/commands/serve.ts';
import { createLogger } from '../../src/observability/index.ts';
import { CertFactory, tlsSecretData } from '../helpers/certs.ts';
import { freePort, waitFor } from '../helpers/net.ts';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function readLine(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i === -1) return;
      s.removeListener('data', onData);
      resolve(buf.slice(0, i));
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error(`closed (got ${JSON.stringify(buf)})`)));
  });
}

test('serve: TLS passthrough, TLS terminate and TCP from YAML; removing a TCPRoute closes its connection', async (t) => {
  const certs = new CertFactory();
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-serve-streams-'));
  const backendPem = certs.selfSigned({ cn: 'pass.example.com' });
  const ca = certs.ca('serve ca');
  const listenerPem = certs.leaf(ca, { cn: 'term.example.com' });
  const tlsBackend = createTlsServer({ cert: backendPem.certPem, key: backendPem.keyPem }, (s) => {
    s.on('error', () => {});
    s.on('data', () => s.write('passthrough backend\n'));
  });
  const plainSockets = new Set<Socket>();
  const plain = createNetServer((s) => {
    plainSockets.add(s);
    s.on('close', () => plainSockets.delete(s));
    s.on('error', () => {});
    s.write('plain backend\n');
    s.pipe(s);
  });
  const tlsPort = await listen(tlsBackend);
  const plainPort = await listen(plain);
  const gwTls = await freePort();
  const gwTcp = await freePort();
  const secret = tlsSecretData(listenerPem);
  const base = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: fluxgate }
spec: { controllerName: fluxgate.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  gatewayClassName: fluxgate
  listeners:
    - { name: pass, protocol: TLS, port: ${gwTls}, hostname: pass.example.com, tls: { mode: Passthrough } }
    - { name: term, protocol: TLS, port: ${gwTls}, hostname: term.example.com, tls: { mode: Terminate, certificateRefs: [{ name: term }] } }
    - { name: tcp, protocol: TCP, port: ${gwTcp} }
---
apiVersion: v1
kind: Secret
metadata: { name: term }
type: kubernetes.io/tls
data: { tls.crt: ${secret['tls.crt']}, tls.key: ${secret['tls.key']} }
---
apiVersion: v1
kind: Service
metadata: { name: tls-app }
spec: { ports: [{ name: tls, port: 443 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: tls-app-1, labels: { kubernetes.io/service-name: tls-app } }
addressType: IPv4
ports: [{ name: tls, port: ${tlsPort} }]
endpoints: [{ addresses: ["127.0.0.1"] }]
---
apiVersion: v1
kind: Service
metadata: { name: plain-app }
spec: { ports: [{ name: tcp, port: 3000 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: plain-app-1, labels: { kubernetes.io/service-name: plain-app } }
addressType: IPv4
ports: [{ name: tcp, port: ${plainPort} }]
endpoints: [{ addresses: ["127.0.0.1"] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: { name: pass }
spec:
  parentRefs: [{ name: gw, sectionName: pass }]
  hostnames: [pass.example.com]
  rules: [{ backendRefs: [{ name: tls-app, port: 443 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: { name: term }
spec:
  parentRefs: [{ name: gw, sectionName: term }]
  hostnames: [term.example.com]
  rules: [{ backendRefs: [{ name: plain-app, port: 3000 }] }]
`;
  const tcpRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: { name: raw }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: plain-app, port: 3000 }] }]
`;
  await writeFile(join(dir, 'base.yaml'), base);
  await writeFile(join(dir, 'tcp.yaml'), tcpRoute);
  const serving = await startServe({ config: dir, bindAddress: '127.0.0.1', adminAddress: '', watch: true, logger: createLogger('silent') });
  const open: Socket[] = [];
  t.after(async () => {
    for (const s of open) s.destroy();
    await serving.close();
    for (const s of plainSockets) s.destroy();
    await new Promise((r) => tlsBackend.close(() => r(undefined)));
    await new Promise((r) => plain.close(() => r(undefined)));
    await rm(dir, { recursive: true, force: true });
    certs.close();
  });

  const tlsTo = (servername: string, caPem?: string): Promise<TLSSocket> => new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: gwTls, servername, rejectUnauthorized: caPem !== undefined, ...(caPem ? { ca: caPem } : {}) }, () => resolve(s));
    open.push(s);
    s.once('error', reject);
  });
  // Passthrough: the backend's own certificate and its answer.
  const p = await tlsTo('pass.example.com');
  assert.equal(p.getPeerCertificate().fingerprint256, backendPem.fingerprint);
  p.write('hi\n');
  assert.equal(await readLine(p), 'passthrough backend');
  // Terminate: the listener's certificate (verified against its CA), plaintext backend.
  const term = await tlsTo('term.example.com', ca.certPem);
  assert.equal(await readLine(term), 'plain backend');
  // TCP.
  const tcp = await new Promise<Socket>((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port: gwTcp }, () => resolve(s));
    open.push(s);
    s.once('error', reject);
  });
  assert.equal(await readLine(tcp), 'plain backend');

  // Remove the TCPRoute (written as a rename, as the README advises): its connection closes,
  // the terminated TLS connection (route unchanged) keeps working.
  const tcpClosed = new Promise<void>((r) => tcp.once('close', () => r()));
  await writeFile(join(dir, 'tcp.yaml.tmp'), '# no routes\n');
  await rename(join(dir, 'tcp.yaml.tmp'), join(dir, 'tcp.yaml'));
  await waitFor(async () => tcp.destroyed, 5000, 20);
  await tcpClosed;
  term.write('echo\n');
  assert.equal(await readLine(term), 'echo');
});
