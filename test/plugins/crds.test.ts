// CRDs: manifests/crds is what schemas.ts renders, and standalone mode checks fluxgate.io
// documents against the same schemas (field paths in errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderAll } from '../../src/plugins/crds/render.ts';
import { validateDocument } from '../../src/standalone/validate-document.ts';

test('manifests/crds matches src/plugins/crds/schemas.ts (npm run crds:update)', () => {
  for (const [file, text] of renderAll()) {
    assert.equal(readFileSync(join(import.meta.dirname, '..', '..', 'manifests', 'crds', file), 'utf8'), text, file);
    const crd = parse(text) as { spec: { versions: { additionalPrinterColumns: unknown[] }[] } };
    assert.ok(crd.spec.versions[0]!.additionalPrinterColumns.length >= 2);
  }
});

test('standalone: fluxgate.io kinds are accepted and schema-checked with field paths', () => {
  const ok = validateDocument({ apiVersion: 'fluxgate.io/v1alpha1', kind: 'TrafficPolicy', metadata: { name: 'p' }, spec: { rateLimit: { second: 5 } } });
  assert.equal(ok.ok, true);
  assert.equal(ok.ok && ok.object.apiVersion, 'fluxgate.io/v1alpha1');
  const bad = validateDocument({ apiVersion: 'fluxgate.io/v1alpha1', kind: 'TrafficPolicy', metadata: { name: 'p' }, spec: { rateLimit: { second: -1, policy: 'memcached' } } });
  assert.equal(bad.ok, false);
  const fields = bad.ok ? [] : bad.errors.map((e) => e.field);
  assert.ok(fields.includes('spec.rateLimit.second') && fields.includes('spec.rateLimit.policy'), JSON.stringify(bad));
  const consumer = validateDocument({ apiVersion: 'fluxgate.io/v1alpha1', kind: 'Consumer', metadata: { name: 'c' }, spec: {} });
  assert.deepEqual(consumer.ok ? [] : consumer.errors.map((e) => e.field), ['spec.username']);
  const version = validateDocument({ apiVersion: 'fluxgate.io/v1', kind: 'Consumer', metadata: { name: 'c' }, spec: { username: 'c' } });
  assert.equal(version.ok, false);
});
