// Load generators (wrk for HTTP/1.1, h2load for h2c), each run pinned to the load core and
// bounded in time, and small HTTP probes used for readiness and sanity checks.
import { spawn } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { fileURLToPath } from 'node:url';

const WRK_LUA = fileURLToPath(new URL('../wrk/report.lua', import.meta.url));

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Latency percentiles in microseconds (h2load gives no percentiles: mean only there). */
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly meanUs: number;
  readonly maxUs: number;
  /** Failed requests: non-2xx/3xx responses plus socket errors and timeouts. */
  readonly failed: number;
  readonly errorDetail: Record<string, number>;
}

export interface RunningTool {
  readonly done: Promise<LoadResult>;
  /** Stops the tool early (wrk prints its summary on SIGINT). */
  interrupt(): void;
}

function run(cmd: string, args: string[], core: number, hardLimitSec: number): { done: Promise<string>; pid: () => number | undefined } {
  const child = spawn('taskset', ['-c', String(core), 'timeout', '-s', 'INT', '-k', '5', String(Math.ceil(hardLimitSec)), cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  return { done, pid: () => child.pid };
}

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly core: number;
  readonly timeoutSec?: number;
  /** Extra request headers, `name: value` (wrk -H). */
  readonly headers?: readonly string[];
}

export function startWrk(o: WrkOptions): RunningTool {
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, `--timeout`, `${o.timeoutSec ?? 5}s`, '-s', WRK_LUA];
  for (const h of o.headers ?? []) args.push('-H', h);
  args.push(o.url);
  const r = run('wrk', args, o.core, o.seconds + 30);
  const done = r.done.then((out) => {
    const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
    if (line === undefined) throw new Error(`wrk gave no summary for ${o.url}:\n${out}`);
    const j = JSON.parse(line.slice(8)) as {
      requests: number; duration_us: number;
      errors: Record<string, number>;
      latency_us: { p50: number; p99: number; mean: number; max: number };
    };
    const seconds = j.duration_us / 1e6;
    const failed = Object.values(j.errors).reduce((a, b) => a + b, 0);
    return {
      requests: j.requests, seconds, rps: j.requests / seconds,
      p50Us: j.latency_us.p50, p99Us: j.latency_us.p99, meanUs: j.latency_us.mean, maxUs: j.latency_us.max,
      failed, errorDetail: j.errors,
    };
  });
  return {
    done,
    interrupt: () => {
      const pid = r.pid();
      // `taskset` execs `timeout`, which relays SIGINT to wrk; wrk then prints its summary.
      if (pid !== undefined) {
        try { process.kill(pid, 'SIGINT'); } catch { /* already gone */ }
      }
    },
  };
}

export interface H2loadOptions {
  readonly url: string;
  readonly clients: number;
  readonly streams: number;
  readonly seconds: number;
  readonly core: number;
  /** A file sent as every request's body (h2load -d: the requests become POSTs). */
  readonly dataFile?: string;
  /** Extra request headers, `name: value` (h2load -H). */
  readonly headers?: readonly string[];
}

/** h2load with prior knowledge (h2c) on an http:// URL. */
export function runH2load(o: H2loadOptions): Promise<LoadResult> {
  const extra: string[] = [];
  if (o.dataFile !== undefined) extra.push('-d', o.dataFile);
  for (const h of o.headers ?? []) extra.push('-H', h);
  const args = ['-t1', `-c${o.clients}`, `-m${o.streams}`, `-D`, String(o.seconds), ...extra, o.url];
  return run('h2load', args, o.core, o.seconds + 30).done.then((out) => {
    const fin = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(out);
    const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
    const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
    const time = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
    if (fin === null || req === null || codes === null || time === null) throw new Error(`h2load output not understood for ${o.url}:\n${out}`);
    const seconds = Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
    const ok = Number(codes[1]) + Number(codes[2]);
    const toUs = (v: string, u: string): number => Number(v) * (u === 's' ? 1e6 : u === 'ms' ? 1e3 : 1);
    const errorDetail = {
      failed: Number(req[5]), errored: Number(req[6]), timeout: Number(req[7]),
      non2xx: Number(codes[3]) + Number(codes[4]),
    };
    return {
      requests: ok, seconds, rps: ok / seconds,
      meanUs: toUs(time[5] ?? '0', time[6] ?? 'us'),
      maxUs: toUs(time[3] ?? '0', time[4] ?? 'us'),
      failed: errorDetail.failed + errorDetail.errored + errorDetail.timeout + errorDetail.non2xx,
      errorDetail,
    };
  });
}

export interface ProbeResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One GET over HTTP/1.1 (keep-alive agent), bounded by `timeoutMs`. */
export function get(url: string, timeoutMs = 2000, agent: Agent = probeAgent, headers: Record<string, string> = {}): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, timeout: timeoutMs, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** One GET over h2c with prior knowledge. */
export function getH2c(url: string, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const session = h2connect(u.origin);
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`h2c timeout: ${url}`)); }, timeoutMs);
    session.on('error', (err) => { clearTimeout(timer); reject(err); });
    const stream = session.request({ ':path': u.pathname + u.search });
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => { status = Number(h[':status']); headers = h as typeof headers; });
    stream.on('data', (d: string) => { body += d; });
    stream.on('end', () => { clearTimeout(timer); session.close(); resolve({ status, headers, body }); });
    stream.on('error', (err) => { clearTimeout(timer); session.destroy(); reject(err); });
  });
}

/** Polls `url` until it answers 200, or throws after `timeoutMs`. */
export async function waitFor200(url: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`process behind ${url} exited`);
    try {
      const r = await get(url, 1000, new Agent({ keepAlive: false }));
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

export interface GrpcProbeResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One gRPC unary call over h2c with prior knowledge: a POST of `message` (a framed message). */
export function postGrpc(url: string, message: Buffer, timeoutMs = 2000): Promise<GrpcProbeResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const session = h2connect(u.origin);
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`gRPC timeout: ${url}`)); }, timeoutMs);
    session.on('error', (err) => { clearTimeout(timer); reject(err); });
    const stream = session.request({ ':method': 'POST', ':path': u.pathname, 'content-type': 'application/grpc', te: 'trailers' });
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let trailers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => { status = Number(h[':status']); headers = h as typeof headers; });
    stream.on('trailers', (t) => { trailers = t as typeof trailers; });
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => { clearTimeout(timer); session.close(); resolve({ status, headers, trailers, body: Buffer.concat(chunks) }); });
    stream.on('error', (err) => { clearTimeout(timer); session.destroy(); reject(err); });
    stream.end(message);
  });
}
