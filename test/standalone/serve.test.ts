import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startServe } from '../../src/commands/serve.ts';
import type { Serving } from '../../src/commands/serve.ts';
import { startDemoBackend } from '../../src/demo/backend.ts';
import { createLogger } from '../../src/observability/index.ts';
import { freePort, waitFor } from '../helpers/net.ts';

/**
 * Edits replace the file in one rename, as the README asks of writers: an in-place write is a
 * truncation (a valid, empty file) and then the text, and a reload may see the empty file.
 */
async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

function baseConfig(gatewayPort: number, backendPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: fluxgate }
spec: { controllerName: fluxgate.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  gatewayClassName: fluxgate
  listeners: [{ name: http, protocol: HTTP, port: ${gatewayPort} }]
---
apiVersion: v1
kind: Service
metadata: { name: app }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: app-1, labels: { kubernetes.io/service-name: app } }
addressType: IPv4
ports: [{ name: http, port: ${backendPort} }]
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
`;
}

function route(name: string, path: string, service = 'app'): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${path} } }]
      backendRefs: [{ name: ${service}, port: 80 }]
`;
}

/** A config folder with the base objects and route `a` on `/a`, served with watching on. */
async function serveFolder(t: TestContext, adminAddress: string): Promise<{ dir: string; serving: Serving; get(path: string): Promise<number> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-serve-'));
  const backendPort = await freePort();
  const gatewayPort = await freePort();
  const backend = await startDemoBackend('app', '127.0.0.1', backendPort);
  await writeFile(join(dir, 'base.yaml'), baseConfig(gatewayPort, backendPort));
  await writeFile(join(dir, 'route-a.yaml'), route('a', '/a'));
  const serving = await startServe({ config: dir, bindAddress: '127.0.0.1', adminAddress, watch: true, logger: createLogger('silent') });
  t.after(async () => {
    await serving.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });
  const gateway = `http://127.0.0.1:${gatewayPort}`;
  const get = async (path: string): Promise<number> => {
    const res = await request(`${gateway}${path}`);
    await res.body.dump();
    return res.statusCode;
  };
  return { dir, serving, get };
}

test('serve: files in, traffic out; edits apply within a second; broken edits keep the last good table', async (t) => {
  const { dir, serving, get } = await serveFolder(t, '127.0.0.1:0');

  assert.equal(await get('/a/x'), 200);
  assert.equal(await get('/b'), 404);

  // An edit: a new route is served soon after the write (the latency target is measured by
  // bench/; this bound only has to hold on a busy machine).
  await replaceFile(join(dir, 'route-b.yaml'), route('b', '/b'));
  const tookMs = await waitFor(async () => (await get('/b')) === 200, 5000);
  assert.ok(tookMs < 5000, `new route served after ${tookMs} ms`);

  // A broken edit: rejected with file, document and field; the last good table keeps serving.
  await replaceFile(join(dir, 'route-b.yaml'), route('b', '/b').replace('port: 80', 'port: "eighty"'));
  await waitFor(async () => serving.lastErrors().length > 0, 2000);
  assert.equal(await get('/b'), 200, 'the last good table keeps serving');
  assert.equal(await get('/a'), 200);
  const status = (await (await request(`${serving.admin?.url}/debug/status`)).body.json()) as { configErrors: string[] };
  assert.match(status.configErrors.join('\n'), /route-b\.yaml: document 0: spec\.rules\[0\]\.backendRefs\[0\]\.port: must be integer/);

  // Fixed again, and a route to a Service that does not exist: the route says why.
  await replaceFile(join(dir, 'route-b.yaml'), route('b', '/b', 'missing'));
  await waitFor(async () => serving.lastErrors().length === 0 && (await get('/b')) === 500, 2000);
  const fixed = (await (await request(`${serving.admin?.url}/debug/status`)).body.json()) as { configErrors: string[]; objects: unknown[] };
  assert.deepEqual(fixed.configErrors, []);
  assert.match(JSON.stringify(fixed.objects), /BackendNotFound/);
  assert.match(JSON.stringify(fixed.objects), /spec\.rules\[0\]\.backendRefs\[0\]/);

  const config = (await (await request(`${serving.admin?.url}/debug/config`)).body.json()) as { version: string };
  assert.match(config.version, /^[0-9a-f]{16,}$/);
  assert.equal((await request(`${serving.admin?.url}/readyz`)).statusCode, 200);
  const metrics = await (await request(`${serving.admin?.url}/metrics`)).body.text();
  assert.match(metrics, /fluxgate_config_reloads_total\{result="rejected"\} [1-9]/);
});

test('serve: an in-place rewrite (truncate, pause, write) never drops the file\'s routes; a file left empty does', async (t) => {
  const { dir, serving, get } = await serveFolder(t, '');
  assert.equal(await get('/a/x'), 200);

  // A slow writer: the truncated file sits on disk, empty, for 30 ms (far beyond the watcher's
  // settle time) before the new content arrives. Without the guard, /a would answer 404 here.
  const file = join(dir, 'route-a.yaml');
  await writeFile(file, '');
  const seen: number[] = [];
  const deadline = Date.now() + 30;
  while (Date.now() < deadline) seen.push(await get('/a/x'));
  await writeFile(file, route('a', '/a2'));
  await waitFor(async () => (await get('/a2/x')) === 200, 5000);
  assert.ok(seen.length > 0 && seen.every((s) => s === 200), `answers while the file was empty: ${seen.join(',')}`);
  assert.equal(await get('/a/x'), 404, 'the rewritten content applies');

  // A file emptied on purpose: its routes go once it has stayed empty.
  await writeFile(file, '');
  const tookMs = await waitFor(async () => (await get('/a2/x')) === 404, 5000);
  assert.ok(tookMs < 5000, `emptied file applied after ${tookMs} ms`);
  assert.deepEqual(serving.lastErrors(), []);
});

test('serve refuses to start on an invalid configuration and lists every error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-serve-'));
  try {
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\n---\napiVersion: v1\nkind: Service\nmetadata: {}\n');
    await assert.rejects(
      startServe({ config: dir, adminAddress: '', watch: false, logger: createLogger('silent') }),
      (err: Error) => /bad\.yaml: document 0: kind: unsupported kind "Pod"/.test(err.message) && /bad\.yaml: document 1: metadata\.name: required/.test(err.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
