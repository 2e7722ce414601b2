// The admin endpoint's view of the table: plugin secrets (OIDC client secret, cookie key) are
// redacted wherever they sit, also inside policy-select candidates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactTable } from '../../src/commands/serve.ts';
import type { RoutingTable } from '../../src/ir/index.ts';

test('plugin secrets never reach /debug/config', () => {
  const oidc = { issuer: 'https://idp.test', clientId: 'gw', clientSecret: 'top-secret', cookieSecret: 'k'.repeat(40) };
  const table: RoutingTable = {
    version: 'v', backends: [],
    listeners: [{
      id: 'l', address: '', port: 80, protocol: 'HTTP', gatewayListeners: [],
      virtualHosts: [{ id: 'vh', hostname: '*', listenerId: 'x', routes: [{
        id: 'r', match: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }, backendRefs: [],
        filters: [
          { type: 'Plugin', plugin: { kind: 'oidc', id: 'a', config: oidc } },
          { type: 'Plugin', plugin: { kind: 'policy-select', id: 'b', config: { candidates: [{ id: 'c', kind: 'oidc', config: oidc }] } } },
        ],
      }] }],
    }],
  };
  const text = JSON.stringify(redactTable(table));
  assert.ok(!text.includes('top-secret') && !text.includes('kkkk'), text);
  assert.ok(text.includes('"clientId":"gw"'));
});
