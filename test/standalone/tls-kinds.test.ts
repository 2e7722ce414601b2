// Standalone mode reads the TLS validation kinds: ConfigMap (CA bundles) and BackendTLSPolicy,
// with schema checks like every other kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/standalone/load-config.ts';

const POLICY = `apiVersion: v1
kind: ConfigMap
metadata: {name: ca}
data: {ca.crt: "-----BEGIN CERTIFICATE-----"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: web}
spec:
  targetRefs: [{group: "", kind: Service, name: web}]
  validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: web.example.com}
`;

test('ConfigMaps and BackendTLSPolicies load in standalone mode; a policy that breaks the schema is refused with its field', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxgate-tls-kinds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, POLICY);
  const ok = await loadConfig(file);
  assert.deepEqual(ok.errors ?? [], []);
  assert.equal(ok.resources?.configMaps?.[0]?.metadata?.namespace, 'default');
  assert.equal(ok.resources?.backendTLSPolicies?.[0]?.spec.validation.hostname, 'web.example.com');
  writeFileSync(file, POLICY.replace('hostname: web.example.com', 'hostnameTypo: web.example.com'));
  const bad = await loadConfig(file);
  assert.match(JSON.stringify(bad.errors), /validation/);
});
