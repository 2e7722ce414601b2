import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** What the admin endpoint shows; read on every request, so it is always live. */
export interface AdminState {
  /** True once a routing table is serving. */
  ready(): boolean;
  /** The serving routing table, with private keys redacted. */
  config(): unknown;
  /** Statuses of every object, and the last configuration errors if any. */
  status(): unknown;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the admin endpoint: `/healthz`, `/readyz`, `/debug/config`, `/debug/status`,
 * `/metrics`. It binds loopback by default because the configuration it shows is sensitive.
 */
export async function startAdminServer(address: string, state: AdminState, registry: Registry): Promise<AdminServer> {
  const [host, portText] = splitHostPort(address);
  const server: Server = createServer((req, res) => {
    void handle(req, res, state, registry).catch((err: unknown) => {
      send(res, 500, { error: { code: 'ADMIN_ERROR', message: String(err) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText), host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, state: AdminState, registry: Registry): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'admin endpoints are read-only' } });
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/healthz':
      send(res, 200, { status: 'ok' });
      return;
    case '/readyz':
      send(res, state.ready() ? 200 : 503, { status: state.ready() ? 'ready' : 'no configuration applied yet' });
      return;
    case '/debug/config':
      send(res, 200, state.config());
      return;
    case '/debug/status':
      send(res, 200, state.status());
      return;
    case '/metrics': {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
      return;
    }
    default:
      send(res, 404, { error: { code: 'NOT_FOUND', message: 'try /healthz, /readyz, /debug/config, /debug/status, /metrics' } });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export function splitHostPort(address: string): [string, string] {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  if (m === null) throw new Error(`invalid address "${address}": expected HOST:PORT`);
  return [m[1] ?? '', m[2] ?? ''];
}
