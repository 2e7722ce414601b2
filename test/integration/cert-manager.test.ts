// The cert-manager flow against the real API server, with FluxGate as the controller: a Gateway
// annotated for cert-manager's gateway-shim whose HTTPS listener names a Secret that does not
// exist yet. The HTTPS listener is reported (ResolvedRefs=False InvalidCertificateRef,
// Programmed=False) while the HTTP listener serves the ACME HTTP-01 challenge route; the Secret
// appears (as cert-manager writes it) and the listener becomes Programmed and serves that
// certificate; the Secret is renewed and new handshakes get the new certificate, no restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { CertFactory, tlsSecretData, type Pem } from '../helpers/certs.ts';
import {
  createGatewayClass, createNamespaceWithEcho, deleteGatewayClass, deleteNamespace, eventually, findCondition, getJson,
  httpGet, kubectl, skipReason, startFluxgate, uniqueName,
} from './helpers.ts';
import type { Condition, FluxgateProcess, TestClass } from './helpers.ts';

const GROUP = 'gateway.networking.k8s.io/v1';
const HOST = 'app.example.com';

interface GatewayStatus {
  metadata: { generation: number; annotations?: Record<string, string> };
  status?: { addresses?: { value: string }[]; conditions?: Condition[]; listeners?: { name: string; conditions: Condition[] }[] };
}

function listenerConditions(gw: GatewayStatus, name: string): Condition[] | undefined {
  return gw.status?.listeners?.find((l) => l.name === name)?.conditions;
}

/** The certificate a fresh TLS handshake with SNI `HOST` gets, or undefined when it fails. */
function handshake(address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: address, port: 443, servername: HOST, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.setTimeout(3000, () => s.destroy());
    s.on('error', () => resolve(undefined));
    s.on('close', () => resolve(undefined));
  });
}

function httpsGet(address: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: address, port: 443, path, servername: HOST, headers: { host: HOST }, rejectUnauthorized: false, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function secret(ns: string, pem: Pem): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    // What cert-manager puts on the Secrets it issues.
    metadata: { name: 'app-tls', namespace: ns, annotations: { 'cert-manager.io/issuer-name': 'letsencrypt', 'cert-manager.io/issuer-kind': 'ClusterIssuer', 'cert-manager.io/common-name': HOST } },
    data: tlsSecretData(pem),
  });
}

test('cert-manager flow: Secret appears later, listener becomes Programmed, renewal without restart', { timeout: 300_000 }, async (t) => {
  const reason = await skipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  const ns = uniqueName('fg-certmgr');
  const certs = new CertFactory();
  const started: { cls?: TestClass; fluxgate?: FluxgateProcess } = {};
  t.after(async () => {
    await deleteGatewayClass(started.cls);
    await started.fluxgate?.stop();
    await deleteNamespace(ns);
    certs.close();
  });
  const cls = started.cls = await createGatewayClass();
  await createNamespaceWithEcho(ns, ['acme-solver', 'app']);
  const fluxgate = started.fluxgate = await startFluxgate({ controllerName: cls.controllerName });
  const pid = fluxgate.child.pid;

  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      {
        apiVersion: GROUP, kind: 'Gateway',
        metadata: { name: 'gw', namespace: ns, annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' } },
        spec: {
          gatewayClassName: cls.className,
          listeners: [
            { name: 'http', port: 80, protocol: 'HTTP' },
            { name: 'https', port: 443, protocol: 'HTTPS', hostname: HOST, tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'app-tls' }] } },
          ],
        },
      },
      // The route cert-manager's HTTP-01 solver creates: the challenge path on the HTTP listener.
      {
        apiVersion: GROUP, kind: 'HTTPRoute', metadata: { name: 'cm-acme-http-solver', namespace: ns },
        spec: {
          parentRefs: [{ name: 'gw', sectionName: 'http' }], hostnames: [HOST],
          rules: [{ matches: [{ path: { type: 'Exact', value: '/.well-known/acme-challenge/tok3n' } }], backendRefs: [{ name: 'acme-solver', port: 8080 }] }],
        },
      },
      {
        apiVersion: GROUP, kind: 'HTTPRoute', metadata: { name: 'app', namespace: ns },
        spec: { parentRefs: [{ name: 'gw', sectionName: 'https' }], hostnames: [HOST], rules: [{ backendRefs: [{ name: 'app', port: 8080 }] }] },
      },
    ],
  }));

  const address = await eventually('Gateway address', 30_000, async () => {
    const gw = await getJson<GatewayStatus>('gateway', ns, 'gw');
    if (findCondition(listenerConditions(gw, 'http'), 'Programmed')?.status !== 'True') return undefined;
    return gw.status?.addresses?.[0]?.value;
  });

  await t.test('without the Secret: HTTPS listener InvalidCertificateRef and not Programmed; HTTP serves the challenge', async () => {
    const gw = await eventually('https listener ResolvedRefs=False', 20_000, async () => {
      const g = await getJson<GatewayStatus>('gateway', ns, 'gw');
      return findCondition(listenerConditions(g, 'https'), 'ResolvedRefs')?.status === 'False' ? g : undefined;
    });
    const https = listenerConditions(gw, 'https');
    const resolved = findCondition(https, 'ResolvedRefs')!;
    assert.equal(resolved.reason, 'InvalidCertificateRef');
    assert.match(resolved.message, /spec\.listeners\[1\]\.tls\.certificateRefs\[0\]/);
    assert.match(resolved.message, /app-tls/);
    assert.equal(findCondition(https, 'Programmed')?.status, 'False');
    assert.equal(findCondition(https, 'Programmed')?.reason, 'Invalid');
    assert.equal(findCondition(listenerConditions(gw, 'http'), 'Programmed')?.status, 'True');
    assert.equal(findCondition(gw.status?.conditions, 'Programmed')?.status, 'True', 'the Gateway is Programmed through its HTTP listener');
    const challenge = await eventually('challenge served', 10_000, async () => {
      const r = await httpGet(address, 80, '/.well-known/acme-challenge/tok3n', HOST);
      return r.status === 200 ? r : undefined;
    }, 100);
    assert.equal(challenge.json().path, '/.well-known/acme-challenge/tok3n');
    assert.match(challenge.json().pod ?? '', /^acme-solver-/);
    assert.equal(await handshake(address), undefined, 'nothing serves TLS on 443 yet');
  });

  const issued = certs.selfSigned({ cn: HOST });
  await t.test('the Secret appears: listener ResolvedRefs=True, Programmed=True, serves that certificate', async () => {
    await kubectl(['apply', '-f', '-'], secret(ns, issued));
    await eventually('https listener Programmed', 20_000, async () => {
      const g = await getJson<GatewayStatus>('gateway', ns, 'gw');
      const c = listenerConditions(g, 'https');
      return findCondition(c, 'ResolvedRefs')?.status === 'True' && findCondition(c, 'Programmed')?.status === 'True' ? true : undefined;
    });
    assert.equal(await eventually('new certificate served', 10_000, async () => ((await handshake(address)) === issued.fingerprint ? true : undefined), 100), true);
    const r = await httpsGet(address, '/hello');
    assert.equal(r.status, 200);
    assert.match((JSON.parse(r.body) as { pod: string }).pod, /^app-/);
    // The challenge route keeps working on HTTP.
    assert.equal((await httpGet(address, 80, '/.well-known/acme-challenge/tok3n', HOST)).status, 200);
  });

  await t.test('renewal: the Secret is updated, new handshakes get the new certificate, same process', async () => {
    const renewed = certs.selfSigned({ cn: HOST, alg: 'rsa' });
    await kubectl(['apply', '-f', '-'], secret(ns, renewed));
    await eventually('renewed certificate served', 15_000, async () => ((await handshake(address)) === renewed.fingerprint ? true : undefined), 100);
    assert.equal((await httpsGet(address, '/after-renewal')).status, 200);
    assert.equal(fluxgate.child.pid, pid);
    assert.equal(fluxgate.child.exitCode, null, 'FluxGate was not restarted');
    const gw = await getJson<GatewayStatus>('gateway', ns, 'gw');
    assert.equal(gw.metadata.annotations?.['cert-manager.io/cluster-issuer'], 'letsencrypt', 'the gateway-shim annotation is left alone');
    assert.equal(findCondition(listenerConditions(gw, 'https'), 'Programmed')?.status, 'True');
  });
});
