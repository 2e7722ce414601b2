// Active health checks end to end through `fluxgate serve`: a TrafficPolicy healthCheck on an
// HTTPRoute whose Service has two loopback endpoints; one fails its probe and gets no traffic,
// the admin endpoint shows it, and removing the policy (hot reload) stops the probes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServe } from '../../src/commands/serve.ts';
import { freePort } from '../helpers/net.ts';
import { startBackend } from '../proxy/helpers.ts';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const config = (port: number, a: number, b: number, withPolicy: boolean): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fluxgate}
spec: {controllerName: fluxgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: fluxgate
  listeners: [{name: http, port: ${port}, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: ${a}}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-2, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: ${b}}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
${withPolicy ? `---
apiVersion: fluxgate.io/v1alpha1
kind: TrafficPolicy
metadata: {name: hc}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
  healthCheck:
    active: {path: /healthz, interval: 100ms, timeout: 200ms, unhealthyThreshold: 2, healthyThreshold: 1}
` : ''}`;

test('serve: a TrafficPolicy healthCheck takes a failing endpoint out; removing the policy stops the probes', async () => {
  let bHealth = 503;
  let bProbes = 0;
  const a = await startBackend('a', (req, _b, res) => {
    if (req.url !== '/healthz') return false;
    res.writeHead(200, { 'content-length': '0' }).end();
    return true;
  });
  const b = await startBackend('b', (req, _b, res) => {
    if (req.url !== '/healthz') return false;
    bProbes++;
    res.writeHead(bHealth, { 'content-length': '0' }).end();
    return true;
  });
  const port = await freePort();
  const admin = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fluxgate-hc-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, config(port, a.port, b.port, true));
  const serving = await startServe({ config: file, bindAddress: '127.0.0.1', adminAddress: `127.0.0.1:${admin}`, watch: true, logger: pino({ level: 'silent' }) });
  try {
    const health = async (): Promise<{ endpoint: string; healthy: boolean }[]> =>
      ((await (await fetch(`http://127.0.0.1:${admin}/debug/status`)).json()) as { endpointHealth: { endpoint: string; healthy: boolean }[] }).endpointHealth;
    await until('b reported unhealthy', async () => (await health()).some((h) => h.endpoint === `127.0.0.1:${b.port}` && !h.healthy));
    for (let i = 0; i < 6; i++) assert.equal(JSON.parse((await get(port, `/x${i}`)).body).backend, 'a');
    bHealth = 200;
    await until('b back', async () => (await health()).every((h) => h.healthy));
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(String(JSON.parse((await get(port, `/y${i}`)).body).backend));
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    // Hot reload without the policy: the probes stop.
    writeFileSync(`${file}.tmp`, config(port, a.port, b.port, false));
    renameSync(`${file}.tmp`, file);
    await until('no endpoint under checks', async () => (await health()).length === 0);
    const before = bProbes;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(bProbes <= before + 1, `probes stopped (${before} -> ${bProbes})`);
  } finally {
    await serving.close();
    await Promise.all([a.close(), b.close()]);
  }
});
