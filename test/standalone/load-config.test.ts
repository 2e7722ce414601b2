import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigLoader, loadConfig } from '../../src/standalone/index.ts';
import { DEFAULT_CREATION_TIMESTAMP } from '../../src/standalone/to-resources.ts';

async function withFiles(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-config-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: apps }
spec:
  gatewayClassName: fluxgate
  listeners: [{ name: http, protocol: HTTP, port: 8080 }]
`;

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  parentRefs: [{ name: gw, namespace: apps }]
  rules:
    - backendRefs: [{ name: web, port: 80 }]
`;

test('a folder of multi-document YAML loads into sorted Resources with API-server defaults', async () => {
  await withFiles({ 'b/route.yaml': ROUTE, 'a.yaml': `${GATEWAY}---\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: s, namespace: apps }\nstringData: { tls.crt: hello }\n` }, async (dir) => {
    const loaded = await loadConfig(dir);
    assert.deepEqual(loaded.errors, []);
    assert.equal(loaded.files.length, 2);
    const [gw] = loaded.resources.gateways;
    assert.equal(gw?.metadata?.namespace, 'apps');
    assert.equal(gw?.metadata?.generation, 1);
    const [route] = loaded.resources.httpRoutes;
    assert.equal(route?.metadata?.namespace, 'default', 'namespace defaults to default');
    // Files carry no creation time: one shared instant, so precedence ties fall to namespace/name.
    assert.equal(gw?.metadata?.creationTimestamp, DEFAULT_CREATION_TIMESTAMP);
    assert.equal(route?.metadata?.creationTimestamp, DEFAULT_CREATION_TIMESTAMP);
    const [secret] = loaded.resources.secrets;
    assert.equal(Buffer.from(String(secret?.data?.['tls.crt']), 'base64').toString(), 'hello');
    assert.equal((secret as unknown as Record<string, unknown>).stringData, undefined);
    assert.deepEqual(loaded.resources.namespaces.map((n) => [n.metadata?.name, n.metadata?.labels?.['kubernetes.io/metadata.name']]),
      [['apps', 'apps'], ['default', 'default']], 'every namespace used exists, with its name label');
  });
});

test('a schema error names the file, the document index and the field path', async () => {
  const bad = ROUTE.replace('port: 80', 'port: eighty').replace('rules:', 'rules:\n    - matches: [{ path: { type: Prefix, value: /x } }]');
  await withFiles({ 'routes.yaml': `${GATEWAY}---\n${bad}` }, async (dir) => {
    const loaded = await loadConfig(dir);
    assert.equal(loaded.resources.httpRoutes.length, 0, 'a configuration with errors yields no resources');
    const fields = loaded.errors.map((e) => `${e.code} ${e.file.endsWith('routes.yaml')} ${e.document} ${e.field}: ${e.message}`);
    assert.ok(fields.includes('CONFIG_SCHEMA true 1 spec.rules[1].backendRefs[0].port: must be integer'), fields.join('\n'));
    assert.ok(fields.some((f) => f.startsWith('CONFIG_SCHEMA true 1 spec.rules[0].matches[0].path.type: must be one of "Exact", "PathPrefix", "RegularExpression"')), fields.join('\n'));
  });
});

test('unknown kinds, bad versions, missing names, YAML syntax errors and duplicates are all reported', async () => {
  const text = [
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }',
    'apiVersion: gateway.networking.k8s.io/v2\nkind: Gateway\nmetadata: { name: g }\nspec: {}',
    'apiVersion: v1\nkind: Service\nmetadata: {}',
    'apiVersion: v1\nkind: Service\nmetadata: { name: Bad_Name }',
    'apiVersion: v1\nkind: Service\nmetadata: { name: ok }',
    'apiVersion: v1\nkind: Service\nmetadata: { name: ok, namespace: default }',
  ].join('\n---\n');
  await withFiles({ 'x.yaml': text, 'y.yaml': 'a: [unclosed\n' }, async (dir) => {
    const loaded = await loadConfig(dir);
    const got = loaded.errors.map((e) => `${e.code} ${e.document} ${e.field ?? ''}`);
    assert.deepEqual(got, [
      'CONFIG_KIND 0 kind',
      'CONFIG_KIND 1 apiVersion',
      'CONFIG_SCHEMA 2 metadata.name',
      'CONFIG_SCHEMA 3 metadata.name',
      'CONFIG_YAML 0 ',
      'CONFIG_DUPLICATE 5 metadata.name',
    ]);
    assert.match(loaded.errors[0]?.message ?? '', /unsupported kind "Deployment"/);
    assert.match(loaded.errors[5]?.message ?? '', /already defined in .*x\.yaml document 4/);
  });
});

test('ReferenceGrant v1beta1 is accepted and normalised to v1; a List is flattened', async () => {
  const text = `apiVersion: v1
kind: List
items:
  - apiVersion: gateway.networking.k8s.io/v1beta1
    kind: ReferenceGrant
    metadata: { name: allow, namespace: backends }
    spec:
      from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default }]
      to: [{ group: "", kind: Service }]
`;
  await withFiles({ 'grants.yml': text }, async (dir) => {
    const loaded = await loadConfig(dir);
    assert.deepEqual(loaded.errors, []);
    assert.equal(loaded.resources.referenceGrants[0]?.apiVersion, 'gateway.networking.k8s.io/v1');
  });
});

test('a missing path and an empty folder are errors, not crashes', async () => {
  const missing = await loadConfig('/nonexistent/fluxgate/config.yaml');
  assert.equal(missing.errors[0]?.code, 'CONFIG_READ');
  await withFiles({ 'README.txt': 'not yaml' }, async (dir) => {
    const empty = await loadConfig(dir);
    assert.equal(empty.errors[0]?.code, 'CONFIG_READ');
    assert.match(empty.errors[0]?.message ?? '', /no \.yaml/);
  });
});

test('reloads reuse unchanged files and documents: same objects, only the edited document is new', async () => {
  const routes = ['a', 'b', 'c'].map((n) => ROUTE.replace('name: web }', `name: ${n} }`)).join('---\n');
  await withFiles({ 'gw.yaml': GATEWAY, 'routes.yaml': routes }, async (dir) => {
    const loader = createConfigLoader(dir);
    const first = await loader.load();
    assert.deepEqual(first.errors, []);
    const second = await loader.load();
    assert.equal(second.resources.gateways[0], first.resources.gateways[0], 'unchanged file: identical object');
    assert.deepEqual(second.resources.httpRoutes, first.resources.httpRoutes);
    second.resources.httpRoutes.forEach((r, i) => assert.equal(r, first.resources.httpRoutes[i]));
    assert.equal(second.resources.namespaces[0], first.resources.namespaces[0], 'implicit namespaces keep their identity');

    await writeFile(join(dir, 'routes.yaml'), routes.replace('name: b }', 'name: b2 }'));
    const third = await loader.load();
    assert.deepEqual(third.resources.httpRoutes.map((r) => r.metadata?.name), ['a', 'b2', 'c']);
    assert.equal(third.resources.httpRoutes[0], first.resources.httpRoutes[0], 'untouched document a: identical object');
    assert.equal(third.resources.httpRoutes[2], first.resources.httpRoutes[2], 'untouched document c: identical object');
    assert.equal(third.resources.gateways[0], first.resources.gateways[0]);
  });
});

test('a file emptied in place reads as before until the caller accepts it; a new empty file is just empty', async () => {
  await withFiles({ 'gw.yaml': GATEWAY, 'route.yaml': ROUTE }, async (dir) => {
    const loader = createConfigLoader(dir);
    const first = await loader.load();
    assert.deepEqual(first.errors, []);
    assert.deepEqual(first.emptied, []);
    // The first step of an in-place rewrite: truncation.
    await writeFile(join(dir, 'route.yaml'), '');
    await writeFile(join(dir, 'new.yaml'), '');
    const held = await loader.load();
    assert.deepEqual(held.errors, []);
    assert.deepEqual(held.emptied.map((f) => f.endsWith('route.yaml')), [true], 'only the file that had objects is held back');
    assert.deepEqual(held.resources.httpRoutes.map((r) => r.metadata?.name), ['web'], 'its previous content still counts');
    const accepted = await loader.load({ acceptEmptied: true });
    assert.deepEqual(accepted.emptied, []);
    assert.deepEqual(accepted.resources.httpRoutes, [], 'accepted: the file is empty');
    assert.equal(accepted.resources.gateways.length, 1);
  });
});

test('YAML syntax errors give the line in the file, counted across documents', async () => {
  await withFiles({ 'x.yaml': `${GATEWAY}---\napiVersion: v1\nkind: Service\nmetadata: { name: [unclosed\n` }, async (dir) => {
    const loaded = await loadConfig(dir);
    assert.equal(loaded.errors.length, 1);
    assert.equal(loaded.errors[0]?.code, 'CONFIG_YAML');
    assert.equal(loaded.errors[0]?.document, 1);
    assert.match(loaded.errors[0]?.message ?? '', /unexpected end of the stream.*\(line 11, column 1\)/, loaded.errors[0]?.message);
  });
});

test('a ListenerSet loads into Resources.listenerSets and is schema-checked', async () => {
  const set = `apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: { name: team, namespace: apps }
spec:
  parentRef: { name: gw }
  listeners: [{ name: extra, protocol: HTTP, port: 8081, hostname: team.example }]
`;
  await withFiles({ 'gw.yaml': GATEWAY, 'set.yaml': set }, async (dir) => {
    const loaded = await loadConfig(dir);
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.resources.listenerSets?.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`), ['apps/team']);
  });
  await withFiles({ 'set.yaml': set.replace('port: 8081', 'port: "x"') }, async (dir) => {
    const loaded = await loadConfig(dir);
    assert.equal(loaded.errors.length, 1);
    assert.match(`${loaded.errors[0]!.field} ${loaded.errors[0]!.message}`, /listeners.*port.*integer/);
  });
});
