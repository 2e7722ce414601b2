// Standalone mode reads TLSRoute, TCPRoute and UDPRoute documents (v1, and the alpha versions
// of the same shape), checks them against their schema and hands them to the translator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/standalone/index.ts';
import { translate } from '../../src/translate/index.ts';
import { OPTIONS } from '../translate/harness.ts';

async function withConfig(text: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-streams-'));
  try {
    await writeFile(join(dir, 'config.yaml'), text);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
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
    - { name: tls, protocol: TLS, port: 8443, tls: { mode: Passthrough } }
    - { name: tcp, protocol: TCP, port: 9000 }
    - { name: udp, protocol: UDP, port: 5300 }
---
apiVersion: v1
kind: Service
metadata: { name: echo }
spec: { ports: [{ name: tcp, port: 3000 }, { name: dns, port: 53, protocol: UDP }] }
`;

const ROUTES = `apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: { name: secure }
spec:
  parentRefs: [{ name: gw, sectionName: tls }]
  hostnames: [secure.example.com]
  rules: [{ backendRefs: [{ name: echo, port: 3000 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: raw }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: echo, port: 3000 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: { name: dns }
spec:
  parentRefs: [{ name: gw, sectionName: udp }]
  rules: [{ backendRefs: [{ name: echo, port: 53 }] }]
`;

test('TLSRoute, TCPRoute (v1alpha2 spelling) and UDPRoute load, translate and attach', async () => {
  await withConfig(`${GATEWAY}---\n${ROUTES}`, async (dir) => {
    const loaded = await loadConfig(dir);
    assert.deepEqual(loaded.errors, []);
    assert.equal(loaded.resources.tlsRoutes?.length, 1);
    assert.equal(loaded.resources.tcpRoutes?.length, 1);
    assert.equal(loaded.resources.udpRoutes?.length, 1);
    const { table, statuses } = translate(loaded.resources, OPTIONS);
    const routes = table.listeners.flatMap((l) => (l.streamRoutes ?? []).map((r) => `${l.protocol} ${r.id} ${r.hostname}`));
    assert.deepEqual(routes.sort(), ['TCP tcproute/default/raw *', 'TLS tlsroute/default/secure secure.example.com', 'UDP udproute/default/dns *']);
    for (const kind of ['TLSRoute', 'TCPRoute', 'UDPRoute']) {
      const s = statuses.find((x) => x.kind === kind);
      const accepted = (s?.status as { parents: { conditions: { type: string; status: string }[] }[] }).parents[0]!.conditions.find((c) => c.type === 'Accepted');
      assert.equal(accepted?.status, 'True', kind);
    }
  });
});

test('a stream route schema error names the field; an unknown version is refused', async () => {
  const bad = ROUTES.replace('hostnames: [secure.example.com]', 'hostnames: []').replace('{ name: echo, port: 53 }', '{ name: echo, port: fifty-three }')
    .replace('gateway.networking.k8s.io/v1alpha2', 'gateway.networking.k8s.io/v1beta7');
  await withConfig(`${GATEWAY}---\n${bad}`, async (dir) => {
    const loaded = await loadConfig(dir);
    const errors = loaded.errors.map((e) => `${e.document} ${e.field}: ${e.message}`);
    assert.ok(errors.some((e) => e.startsWith('3 spec.hostnames:')), errors.join('\n'));
    assert.ok(errors.includes('5 spec.rules[0].backendRefs[0].port: must be integer'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('4 apiVersion: unsupported version "gateway.networking.k8s.io/v1beta7" for TCPRoute')), errors.join('\n'));
  });
});
