// Container logs of the process kubelet: each container's stdout and stderr go, line by line, to
// one file in the CRI log format (`<RFC3339Nano time> <stream> <F|P> <text>`, P for a line the
// process left unterminated), and the kubelet API subset the API server proxies `pods/log` to
// (`GET /containerLogs/{namespace}/{pod}/{container}`) is served from those files over HTTPS,
// only to clients whose certificate the cluster CA signed (the API server's kubelet client).
import { createReadStream, type WriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** Copies one output stream of a process into a CRI-format log file, a timestamp per line. */
export function pipeLog(src: Readable, stream: 'stdout' | 'stderr', file: WriteStream): void {
  let rest = '';
  src.setEncoding('utf8');
  src.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    if (!parts.length) return;
    const t = new Date().toISOString();
    file.write(parts.map((line) => `${t} ${stream} F ${line}\n`).join(''));
  });
  src.on('end', () => {
    if (rest) file.write(`${new Date().toISOString()} ${stream} P ${rest}\n`);
    rest = '';
  });
}

export interface LogLine {
  time: string;
  ms: number;
  text: string;
  /** Ends with a newline (F) or not (P). */
  full: boolean;
}

export function parseLog(content: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of content.split('\n')) {
    const m = /^(\S+) (?:stdout|stderr) ([FP]) (.*)$/s.exec(raw);
    if (!m) continue;
    const time = m[1] ?? '';
    out.push({ time, ms: Date.parse(time), text: m[3] ?? '', full: m[2] === 'F' });
  }
  return out;
}

export interface LogQuery {
  sinceMs?: number;
  tailLines?: number;
  timestamps: boolean;
  limitBytes?: number;
}

/** What the kubelet answers for a query: the selected lines, optionally time-stamped. */
export function renderLog(lines: LogLine[], q: LogQuery): string {
  let sel = q.sinceMs === undefined ? lines : lines.filter((l) => l.ms >= (q.sinceMs ?? 0));
  if (q.tailLines !== undefined) sel = q.tailLines <= 0 ? [] : sel.slice(-q.tailLines);
  let text = sel.map((l) => `${q.timestamps ? `${l.time} ` : ''}${l.text}${l.full ? '\n' : ''}`).join('');
  if (q.limitBytes !== undefined) text = Buffer.from(text).subarray(0, q.limitBytes).toString();
  return text;
}

function intParam(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${v}`);
  return n;
}

export function parseQuery(params: URLSearchParams, nowMs = Date.now()): LogQuery {
  const sinceTime = params.get('sinceTime');
  const sinceSeconds = intParam(params.get('sinceSeconds'));
  let sinceMs: number | undefined;
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw new Error(`bad sinceTime: ${sinceTime}`);
  } else if (sinceSeconds !== undefined) {
    sinceMs = nowMs - sinceSeconds * 1000;
  }
  return {
    sinceMs,
    tailLines: intParam(params.get('tailLines')),
    timestamps: params.get('timestamps') === 'true',
    limitBytes: intParam(params.get('limitBytes')),
  };
}

export interface LogServerOptions {
  host: string;
  port: number;
  cert: Buffer;
  key: Buffer;
  clientCa: Buffer;
  /** The log file of a container, undefined when the kubelet runs no such container. */
  logFile: (namespace: string, pod: string, container: string) => string | undefined;
  /** Whether the container still runs (ends a follow). */
  running: (namespace: string, pod: string, container: string) => boolean;
  log: (msg: string) => void;
}

/** The kubelet API subset for logs. Resolves once listening. */
export function serveContainerLogs(opts: LogServerOptions): Promise<Server> {
  const server = createServer(
    // The API server authenticates with its kubelet client certificate: the CA must have signed it.
    { cert: opts.cert, key: opts.key, ca: opts.clientCa, requestCert: true, rejectUnauthorized: true },
    (req, res) => void handle(req, res, opts).catch((err: unknown) => {
      opts.log(`kubelet API ${req.url}: ${(err as Error).message}`);
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    }),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) => opts.log(`kubelet API: ${err.message}`));
      resolve(server);
    });
  });
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: LogServerOptions): Promise<void> {
  if (!(req.socket as TLSSocket).authorized) return reply(res, 401, 'Unauthorized');
  const url = new URL(req.url ?? '/', 'https://kubelet');
  if (url.pathname === '/healthz') return reply(res, 200, 'ok');
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (!m) return reply(res, 404, '404 page not found');
  if (req.method !== 'GET') return reply(res, 405, 'method not allowed');
  const [namespace, pod, container] = [m[1] ?? '', m[2] ?? '', m[3] ?? ''].map(decodeURIComponent) as [string, string, string];
  const file = opts.logFile(namespace, pod, container);
  if (!file) return reply(res, 404, `container "${container}" in pod "${pod}" (namespace "${namespace}") not found`);
  let q: LogQuery;
  try {
    q = parseQuery(url.searchParams);
  } catch (err) {
    return reply(res, 400, (err as Error).message);
  }
  const content = await readFile(file, 'utf8').catch(() => '');
  // Only whole lines: a line being written is sent by the next read (follow) or not yet.
  const cut = content.lastIndexOf('\n') + 1;
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write(renderLog(parseLog(content.slice(0, cut)), q));
  if (url.searchParams.get('follow') !== 'true' || q.limitBytes !== undefined) {
    res.end();
    return;
  }
  // follow: poll the file for appended lines until the client goes or the container stops.
  let offset = Buffer.byteLength(content.slice(0, cut));
  const follow = { timestamps: q.timestamps };
  let closed = false;
  req.socket.once('close', () => (closed = true));
  while (!closed) {
    await new Promise((r) => setTimeout(r, 250));
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size < 0) break;
    if (size > offset) {
      const chunk = await readRange(file, offset, size);
      const whole = chunk.lastIndexOf('\n') + 1;
      offset += Buffer.byteLength(chunk.slice(0, whole));
      if (whole) res.write(renderLog(parseLog(chunk.slice(0, whole)), follow));
    } else if (!opts.running(namespace, pod, container)) {
      break;
    }
  }
  res.end();
}

function readRange(file: string, start: number, endExclusive: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    createReadStream(file, { start, end: endExclusive - 1, encoding: 'utf8' })
      .on('data', (d) => (s += d))
      .on('end', () => resolve(s))
      .on('error', reject);
  });
}
