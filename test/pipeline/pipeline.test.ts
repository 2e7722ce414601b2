import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPipeline } from '../../src/pipeline/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { emptyResources } from '../../src/translate/resources.ts';
import type { Resources } from '../../src/translate/resources.ts';
import type { ApplyResult, RoutingTable } from '../../src/ir/index.ts';
import { OPTIONS, parseResources } from '../translate/harness.ts';

const CONFIG = parseResources(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: fluxgate }
spec: { controllerName: fluxgate.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: fluxgate
  listeners: [{ name: http, protocol: HTTP, port: 8080 }]
`);

/** A proxy stand-in whose binds fail the first `failures` times. */
function fakeProxy(failures: number) {
  const applied: string[] = [];
  return {
    applied,
    async apply(table: RoutingTable): Promise<ApplyResult> {
      applied.push(table.version);
      const bound = applied.length > failures;
      return { version: table.version, listeners: table.listeners.map((l) => ({ id: l.id, bound, ...(bound ? {} : { error: 'EADDRINUSE' }) })) };
    },
  };
}

test('pipeline: an equal table is not applied again once every listener is bound', async () => {
  const proxy = fakeProxy(0);
  const pipeline = createPipeline({ proxy, translateOptions: OPTIONS, logger: createLogger('silent') });
  await pipeline.update(CONFIG);
  await pipeline.update({ ...CONFIG });
  assert.equal(proxy.applied.length, 1);
  pipeline.close();
});

test('pipeline: a listener that failed to bind is retried with backoff until it binds, and Programmed follows', async () => {
  const proxy = fakeProxy(2);
  const pipeline = createPipeline({ proxy, translateOptions: OPTIONS, logger: createLogger('silent'), bindRetryMs: { first: 20, max: 40 } });
  const first = await pipeline.update(CONFIG);
  assert.match(JSON.stringify(first.statuses), /"type":"Programmed","status":"False"/);
  const deadline = Date.now() + 2000;
  while (proxy.applied.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(proxy.applied.length, 3, 'applied again until the bind succeeded');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(proxy.applied.length, 3, 'no more retries once bound');
  assert.doesNotMatch(JSON.stringify(pipeline.snapshot().statuses.find((s) => s.kind === 'Gateway')), /"type":"Programmed","status":"False"/);
  pipeline.close();
});

test('pipeline: updates are coalesced; the newest full state wins', async () => {
  const proxy = fakeProxy(0);
  const pipeline = createPipeline({ proxy, translateOptions: OPTIONS, logger: createLogger('silent') });
  const states: Resources[] = [emptyResources(), CONFIG, emptyResources(), CONFIG];
  const results = await Promise.all(states.map((r) => pipeline.update(r)));
  assert.ok(proxy.applied.length <= 2, `applied ${proxy.applied.length} tables for 4 updates`);
  assert.equal(results.at(-1)?.table?.listeners.length, 1);
  pipeline.close();
});
