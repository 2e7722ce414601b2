/**
 * A tiny demo backend for the quickstart: answers every request with a JSON echo of what it
 * received and an `x-backend` header naming itself, so a canary split, a header filter and a
 * redirect can be seen with curl alone.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';

export interface DemoBackend {
  readonly name: string;
  readonly url: string;
  close(): Promise<void>;
}

export async function startDemoBackend(name: string, host: string, port: number): Promise<DemoBackend> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        backend: name,
        method: req.method,
        url: req.url,
        headers: req.headers,
        bodyBytes: chunks.reduce((n, c) => n + c.length, 0),
      }, null, 2);
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(`${body}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    name,
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
