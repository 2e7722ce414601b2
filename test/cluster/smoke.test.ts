// Smoke test of the local test cluster (npm run cluster:up): a Deployment of two echo-basic
// replicas and a Service go in through kubectl, the real endpointslice controller publishes both
// pods once the process kubelet reports them ready, each pod answers over HTTP on its own pod IP
// with its own name and namespace, and deleting the namespace removes it completely.
// Skips when no cluster answers at .cluster/kubeconfig.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { clusterReachable, eventually as pollEventually, kubectl } from '../helpers/cluster.ts';

// The smoke tests poll every 500 ms: pods and namespaces change on the kubelet's and
// controllers' own schedules.
const eventually = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> =>
  pollEventually(what, timeoutMs, fn, 500);

interface EndpointSlice {
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }[];
}

test('test cluster runs echo-basic pods behind a Service', { timeout: 240_000 }, async (t) => {
  if (!(await clusterReachable())) {
    t.skip('no test cluster reachable at .cluster/kubeconfig (start one with npm run cluster:up)');
    return;
  }
  const ns = `fluxgate-smoke-${randomBytes(3).toString('hex')}`;
  t.after(() => kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']).catch(() => undefined));

  await kubectl(['apply', '-f', '-'], manifests(ns));

  const endpoints = await eventually('an EndpointSlice with 2 ready endpoints', 90_000, async () => {
    const list = JSON.parse(await kubectl(['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=echo', '-o', 'json'])) as { items: EndpointSlice[] };
    const ready = list.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
    return ready.length === 2 ? ready : undefined;
  });

  const podNames = new Set<string>();
  for (const ep of endpoints) {
    const ip = ep.addresses[0] ?? '';
    const podName = ep.targetRef?.name ?? '';
    assert.match(ip, /^10\.244\./, 'pod IPs come from the pod network');
    const res = await fetch(`http://${ip}:3000/smoke`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { pod?: string; namespace?: string; path?: string };
    assert.equal(body.pod, podName, `the answer from ${ip} names its pod`);
    assert.equal(body.namespace, ns);
    assert.equal(body.path, '/smoke');
    podNames.add(podName);
  }
  assert.equal(podNames.size, 2, 'two distinct pods answered');

  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await eventually(`namespace ${ns} to be gone`, 120_000, async () => {
    const out = await kubectl(['get', 'namespace', ns, '--ignore-not-found', '-o', 'name']);
    return out.trim() === '' ? true : undefined;
  });
});

function manifests(ns: string): string {
  return `
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels: { app: echo }
  template:
    metadata:
      labels: { app: echo }
    spec:
      containers:
        - name: echo
          image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: ${ns}
spec:
  selector: { app: echo }
  ports:
    - name: http
      port: 8080
      targetPort: 3000
`;
}
