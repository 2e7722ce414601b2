// Shared by the integration tests: the test cluster (npm run cluster:up), kubectl, FluxGate
// controller processes, a cuttable TCP proxy in front of the API server, and HTTP probes.
// Every wait is bounded; every process and namespace a test creates is cleaned up by it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../helpers/net.ts';
import { apiServerReady, clusterConfigured, eventually, kubeconfig, kubectl } from '../helpers/cluster.ts';

export const repo = join(import.meta.dirname, '..', '..');
export { eventually, kubeconfig, kubectl } from '../helpers/cluster.ts';
export const ECHO_IMAGE = 'registry.k8s.io/gateway-api/echo-basic:v1.6.3';

/** Why the integration tests cannot run here, or undefined when a cluster answers. */
export async function skipReason(): Promise<string | undefined> {
  if (!clusterConfigured()) return 'no test cluster: .cluster/kubeconfig is absent (start one with npm run cluster:up)';
  try {
    if (!(await apiServerReady())) return 'the test cluster API server is not ready';
    await kubectl(['get', 'crd', 'httproutes.gateway.networking.k8s.io', '-o', 'name'], undefined, 10_000);
    return undefined;
  } catch (err) {
    return `the test cluster API server is unreachable: ${(err as Error).message.split('\n')[0]}`;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export async function getJson<T = Record<string, unknown>>(resource: string, ns: string | undefined, name: string): Promise<T> {
  const nsArgs = ns === undefined ? [] : ['-n', ns];
  return JSON.parse(await kubectl(['get', resource, name, ...nsArgs, '-o', 'json'])) as T;
}

export interface Condition { type: string; status: string; reason: string; message: string; lastTransitionTime?: string; observedGeneration?: number }

export function findCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * A GatewayClass of its own for one test file, with a controllerName only that test's FluxGate
 * serves: other FluxGate processes on the same cluster (a conformance run, another test) then
 * never touch this test's Gateways, and this test's FluxGate never touches theirs.
 */
export interface TestClass { readonly className: string; readonly controllerName: string }

export async function createGatewayClass(): Promise<TestClass> {
  const id = randomBytes(3).toString('hex');
  const cls = { className: `fg-test-${id}`, controllerName: `fluxgate.io/test-${id}` };
  await kubectl(['apply', '-f', '-'], `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: ${cls.className}
spec:
  controllerName: ${cls.controllerName}
`);
  return cls;
}

export async function deleteGatewayClass(cls: TestClass | undefined): Promise<void> {
  if (cls === undefined) return;
  await kubectl(['delete', 'gatewayclass', cls.className, '--ignore-not-found', '--wait=false']).catch(() => undefined);
}

/** A namespace with echo-basic Deployments and Services named after `apps` (1 replica each). */
export async function createNamespaceWithEcho(ns: string, apps: readonly string[], replicas = 1): Promise<void> {
  const docs = [`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`];
  for (const app of apps) docs.push(echoApp(ns, app, replicas));
  await kubectl(['apply', '-f', '-'], docs.join('---\n'));
  await eventually(`echo pods of ${apps.join(', ')} ready in ${ns}`, 120_000, async () => {
    const list = JSON.parse(await kubectl(['get', 'endpointslices', '-n', ns, '-o', 'json'])) as { items: { metadata: { labels?: Record<string, string> }; endpoints?: { conditions?: { ready?: boolean } }[] }[] };
    for (const app of apps) {
      const ready = list.items.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === app)
        .flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).length;
      if (ready < replicas) return undefined;
    }
    return true;
  }, 500);
}

function echoApp(ns: string, app: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app}, namespace: ${ns} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app} } }
    spec:
      containers:
        - name: echo
          image: ${ECHO_IMAGE}
          env:
            - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
            - { name: NAMESPACE, valueFrom: { fieldRef: { fieldPath: metadata.namespace } } }
---
apiVersion: v1
kind: Service
metadata: { name: ${app}, namespace: ${ns} }
spec:
  selector: { app: ${app} }
  ports: [{ name: http, port: 8080, targetPort: 3000 }]
`;
}

export async function deleteNamespace(ns: string): Promise<void> {
  await kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']).catch(() => undefined);
}

// ---- FluxGate controller processes ----

export interface FluxgateProcess {
  readonly child: ChildProcess;
  readonly adminUrl: string;
  readonly logs: string[];
  /** GET /debug/status: the controller state and computed statuses. */
  debugStatus(): Promise<{ controller: { leader: boolean; synced: boolean; statusWrites?: { writes: number } } }>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  readonly controllerName: string;
  readonly kubeconfig?: string;
  readonly leaderElect?: { namespace: string; name: string };
  readonly readyTimeoutMs?: number;
}

export async function startFluxgate(options: StartOptions): Promise<FluxgateProcess> {
  const port = await freePort();
  const args = [join(repo, 'src', 'main.ts'), 'controller', '--local', '--controller-name', options.controllerName, '--kubeconfig', options.kubeconfig ?? kubeconfig, '--metrics-address', `127.0.0.1:${port}`];
  if (options.leaderElect !== undefined) {
    args.push('--leader-elect', '--leader-elect-namespace', options.leaderElect.namespace, '--leader-elect-name', options.leaderElect.name);
  }
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  const logs: string[] = [];
  let buffered = '';
  const collect = (chunk: Buffer): void => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    logs.push(...lines);
    if (logs.length > 20_000) logs.splice(0, logs.length - 20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const adminUrl = `http://127.0.0.1:${port}`;
  const proc: FluxgateProcess = {
    child, adminUrl, logs,
    async debugStatus() {
      const res = await fetch(`${adminUrl}/debug/status`, { signal: AbortSignal.timeout(3000) });
      return (await res.json()) as Awaited<ReturnType<FluxgateProcess['debugStatus']>>;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await eventually('FluxGate /readyz', options.readyTimeoutMs ?? 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${logs.slice(-5).join('\n')}`);
      const res = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      return res.status === 200 ? true : undefined;
    }, 100);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return proc;
}

// ---- a TCP proxy in front of the API server that a test can cut ----

export interface ApiProxy {
  /** A kubeconfig that reaches the API server through the proxy. */
  readonly kubeconfig: string;
  /** Refuses new connections and resets open ones: the API server is "down". */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startApiProxy(): Promise<ApiProxy> {
  const config = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  const target = new URL(config.clusters[0]!.cluster.server);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const port = await freePort();
  const listen = async (): Promise<void> => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      sockets.add(client);
      sockets.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
  };
  await listen();
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'fluxgate-apiproxy-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, stringify(config), { mode: 0o600 });
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  return {
    kubeconfig: path,
    cut: stop,
    async restore() {
      if (server === undefined) await listen();
    },
    close: stop,
  };
}

// ---- HTTP through the Gateway ----

export interface HttpAnswer {
  status: number;
  body: string;
  json(): { pod?: string; namespace?: string; path?: string; headers?: Record<string, string[]> };
}

/** One HTTP/1.1 request without keep-alive (each probe sees the table that serves it now). */
export function httpGet(address: string, port: number, path: string, host: string, headers: Record<string, string> = {}, timeoutMs = 3000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, method: 'GET', headers: { host, ...headers }, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) as ReturnType<HttpAnswer['json']> });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The loopback address FluxGate reports for a Gateway once it is Programmed. */
export async function programmedAddress(ns: string, name: string, timeoutMs = 30_000): Promise<string> {
  return eventually(`Gateway ${ns}/${name} Programmed with an address`, timeoutMs, async () => {
    const gw = await getJson<{ status?: { conditions?: Condition[]; addresses?: { value: string }[] } }>('gateway', ns, name);
    if (findCondition(gw.status?.conditions, 'Programmed')?.status !== 'True') return undefined;
    return gw.status?.addresses?.[0]?.value;
  }, 200);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}
