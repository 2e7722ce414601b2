/** WebSocket upgrades are routed, filtered and tunnelled both ways (ws package). */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, startProxy, table, vhost } from './helpers.ts';

let server: Server;
let wss: WebSocketServer;
let proxy: Proxy;
let port: number;
const upgradeHeaders: Record<string, string | string[] | undefined>[] = [];

before(async () => {
  server = createServer((_req, res) => res.end('plain'));
  wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    upgradeHeaders.push(req.headers);
    ws.send(`hello ${req.url}`);
    ws.on('message', (m, isBinary) => ws.send(isBinary ? m : `echo:${m.toString()}`, { binary: isBinary }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const bePort = (server.address() as AddressInfo).port;
  ({ proxy, port } = await startProxy(
    table(
      [
        listener([
          vhost('*', [
            route('ws', match('/ws'), [ref('backend/ws')], [
              { type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-through', value: 'proxy' }], add: [], remove: [] } },
              { type: 'URLRewrite', rewrite: { path: { type: 'ReplacePrefixMatch', prefix: '/ws', value: '/socket' } } },
            ]),
            route('dead', match('/dead'), [ref('backend/none')]),
          ]),
        ]),
      ],
      [backend('backend/ws', [bePort]), backend('backend/none', [])],
    ),
  ));
});
after(async () => {
  await proxy.close();
  wss.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('websocket: upgrade through the proxy, messages both ways, filters applied', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/room?x=1`, { headers: { host: 'chat.example' } });
  const messages: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (m, isBinary) => {
      messages.push(isBinary ? `bin:${(m as Buffer).length}` : m.toString());
      if (messages.length === 1) {
        ws.send('ping');
        ws.send(Buffer.alloc(100_000, 7));
      }
      if (messages.length === 3) resolve();
    });
    ws.on('error', reject);
  });
  await done;
  ws.close();
  assert.deepEqual(messages, ['hello /socket/room?x=1', 'echo:ping', 'bin:100000']);
  const h = upgradeHeaders.at(-1)!;
  assert.equal(h['x-through'], 'proxy');
  assert.equal(h.host, 'chat.example');
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
});

test('websocket: routing errors answer the stable error instead of upgrading', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/dead`);
  const status = await new Promise<number>((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.on('error', () => resolve(-1));
  });
  assert.equal(status, 503);
  const nf = new WebSocket(`ws://127.0.0.1:${port}/nowhere`);
  const s2 = await new Promise<number>((resolve) => {
    nf.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    nf.on('error', () => resolve(-1));
  });
  assert.equal(s2, 404);
});
