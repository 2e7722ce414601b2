/**
 * Test helpers: real backends on 127.0.0.1:0, routing-table literals, and a tiny HTTP client.
 * The IR is the contract, so tests build tables by hand; no translator, no Kubernetes.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type Agent, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type {
  Backend,
  BackendFilter,
  BackendProtocol,
  Filter,
  Listener,
  Route,
  RouteMatch,
  RoutingTable,
  VirtualHost,
  WeightedBackendRef,
} from '../../src/ir/index.ts';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/proxy/index.ts';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  httpVersion: string;
}

export interface TestBackend {
  readonly name: string;
  readonly port: number;
  readonly seen: Seen[];
  readonly server: Server | Http2Server;
  close(): Promise<void>;
}

export type BackendBehaviour = (req: IncomingMessage, body: string, res: ServerResponse) => boolean | void;

/** An echo backend: answers 200 with JSON {backend, method, url, headers, body}. */
export async function startBackend(name: string, behaviour?: BackendBehaviour): Promise<TestBackend> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, httpVersion: req.httpVersion });
      if (behaviour?.(req, body, res) === true) return;
      const out = JSON.stringify({ backend: name, method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name, 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An h2c (prior knowledge) echo backend. */
export async function startH2cBackend(name: string): Promise<TestBackend> {
  const seen: Seen[] = [];
  const server = createH2Server();
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method, url: req.url, headers: req.headers, body, httpVersion: req.httpVersion });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(JSON.stringify({ backend: name, httpVersion: req.httpVersion, url: req.url, headers: req.headers }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

// ---- table literals ------------------------------------------------------------------------

export function backend(id: string, ports: number[], protocol: BackendProtocol = 'http1'): Backend {
  return { id, protocol, endpoints: ports.map((port) => ({ address: '127.0.0.1', port })) };
}

export function ref(backendId: string, weight = 1, filters: readonly BackendFilter[] = []): WeightedBackendRef {
  return { kind: 'backend', backendId, weight, filters };
}

export function match(path: string, type: RouteMatch['path']['type'] = 'PathPrefix', extra: Partial<RouteMatch> = {}): RouteMatch {
  return { path: { type, value: path }, headers: [], queryParams: [], ...extra };
}

export function route(id: string, m: RouteMatch, backendRefs: WeightedBackendRef[], filters: Filter[] = [], extra: Partial<Route> = {}): Route {
  return { id, match: m, filters, backendRefs, ...extra };
}

export function vhost(hostname: string, routes: Route[], listenerId = 'listener/default/gw/http'): VirtualHost {
  return { id: `vhost/${listenerId}/${hostname}`, hostname, listenerId, routes };
}

export function listener(virtualHosts: VirtualHost[], extra: Partial<Listener> = {}): Listener {
  return {
    id: 'port/127.0.0.1/0',
    address: '127.0.0.1',
    port: 0,
    protocol: 'HTTP',
    gatewayListeners: [{ id: 'listener/default/gw/http', hostname: '*', certificates: [] }],
    virtualHosts,
    ...extra,
  };
}

let versionCounter = 0;
export function table(listeners: Listener[], backends: Backend[]): RoutingTable {
  return { version: `v${++versionCounter}`, listeners, backends: [...backends].sort((a, b) => a.id.localeCompare(b.id)) };
}

/** Start a proxy on a table and return it with the bound port of its first listener. */
export async function startProxy(t: RoutingTable, options: ProxyOptions = {}): Promise<{ proxy: Proxy; port: number }> {
  const proxy = createProxy({ ...options, limits: { drainTimeoutMs: 2000, ...options.limits } });
  const result = await proxy.apply(t);
  const first = result.listeners[0];
  if (first === undefined || !first.bound) throw new Error(`proxy failed to bind: ${JSON.stringify(result)}`);
  return { proxy, port: first.boundPort! };
}

// ---- client ----------------------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export function send(
  port: number,
  path: string,
  opts: { host?: string; method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; agent?: Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: opts.host ?? 'example.com', ...opts.headers },
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
