// Pod logs through the API (`kubectl logs`, what the conformance mirror tests read): the API
// server proxies pods/log to the process kubelet's HTTPS API, which serves each container's
// stdout/stderr with sinceTime, tailLines and timestamps. The kubelet API itself refuses clients
// without a certificate from the cluster CA. Skips when no cluster answers at .cluster/kubeconfig.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { test } from 'node:test';
import { clusterReachable, eventually as pollEventually, kubectl } from '../helpers/cluster.ts';
import { parseLog, parseQuery, renderLog } from './container-logs.ts';

// The smoke tests poll every 500 ms: pods and namespaces change on the kubelet's and
// controllers' own schedules.
const eventually = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> =>
  pollEventually(what, timeoutMs, fn, 500);

test('CRI log lines render with sinceTime, tailLines and timestamps', () => {
  const file = [
    '2026-01-01T00:00:00.100Z stdout F one',
    '2026-01-01T00:00:01.500Z stderr F two',
    '2026-01-01T00:00:02.000Z stdout P three',
    '',
  ].join('\n');
  const lines = parseLog(file);
  assert.equal(renderLog(lines, { timestamps: false }), 'one\ntwo\nthree');
  assert.equal(renderLog(lines, parseQuery(new URLSearchParams('sinceTime=2026-01-01T00:00:01Z'))), 'two\nthree');
  assert.equal(renderLog(lines, parseQuery(new URLSearchParams('tailLines=1&timestamps=true'))), '2026-01-01T00:00:02.000Z three');
  assert.equal(renderLog(lines, parseQuery(new URLSearchParams('tailLines=0'))), '');
  assert.throws(() => parseQuery(new URLSearchParams('sinceTime=yesterday')));
});

test('kubectl logs returns an echo-basic pod\'s log lines', { timeout: 180_000 }, async (t) => {
  if (!(await clusterReachable())) {
    t.skip('no test cluster reachable at .cluster/kubeconfig (start one with npm run cluster:up)');
    return;
  }
  const ns = `fluxgate-logs-${randomBytes(3).toString('hex')}`;
  t.after(() => kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']).catch(() => undefined));
  await kubectl(['apply', '-f', '-'], manifest(ns));
  const ip = await eventually('pod echo to be Ready', 90_000, async () => {
    const pod = JSON.parse(await kubectl(['get', 'pod', 'echo', '-n', ns, '-o', 'json'])) as {
      status?: { podIP?: string; conditions?: { type: string; status: string }[] };
    };
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready ? pod.status?.podIP : undefined;
  });

  // A second's gap: sinceTime has one-second precision.
  await new Promise((r) => setTimeout(r, 1100));
  const since = new Date();
  const path = `/logs-test-${randomBytes(4).toString('hex')}`;
  const res = await fetch(`http://${ip}:3000${path}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);

  const all = await eventually(`a log line for ${path}`, 30_000, async () => {
    const out = await kubectl(['logs', '-n', ns, 'echo', '-c', 'echo']);
    return out.includes(path) ? out : undefined;
  });
  assert.ok(all.split('\n').length >= 2, 'the start-up lines are there too');

  const recent = await kubectl(['logs', '-n', ns, 'echo', `--since-time=${since.toISOString()}`, '--timestamps']);
  const lines = recent.trim().split('\n');
  assert.ok(lines.some((l) => l.includes(path)), `since-time output holds the request: ${recent}`);
  for (const l of lines) {
    const ts = Date.parse(l.split(' ')[0] ?? '');
    assert.ok(ts >= Math.floor(since.getTime() / 1000) * 1000, `line before sinceTime: ${l}`);
  }
  assert.ok(!recent.includes('Starting server'), 'start-up lines are older than sinceTime');
  assert.equal((await kubectl(['logs', '-n', ns, 'echo', '--tail=1'])).trim().split('\n').length, 1);

  // The kubelet API itself wants a client certificate signed by the cluster CA.
  const node = JSON.parse(await kubectl(['get', 'node', '-o', 'json'])) as {
    items: { status: { addresses: { type: string; address: string }[]; daemonEndpoints: { kubeletEndpoint: { Port: number } } } }[];
  };
  const status = node.items[0]?.status;
  const host = status?.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
  const port = status?.daemonEndpoints.kubeletEndpoint.Port ?? 0;
  assert.ok(port > 0, 'the node publishes its kubelet port');
  const anonymous = await new Promise<string>((resolve) => {
    const req = request({ host, port, path: `/containerLogs/${ns}/echo/echo`, rejectUnauthorized: false, timeout: 5000 }, (r) => {
      r.resume();
      resolve(`HTTP ${r.statusCode}`);
    });
    req.on('error', (err) => resolve(`error ${err.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
  assert.match(anonymous, /^error /, `a client without a certificate is refused (got ${anonymous})`);
});

function manifest(ns: string): string {
  return `
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: Pod
metadata:
  name: echo
  namespace: ${ns}
spec:
  containers:
    - name: echo
      image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
      env:
        - name: POD_NAME
          valueFrom: { fieldRef: { fieldPath: metadata.name } }
        - name: NAMESPACE
          valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
`;
}
