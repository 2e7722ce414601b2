// FluxGate benchmark: direct, nginx, a plain Node proxy (@fastify/http-proxy) and FluxGate,
// side by side in one run. See bench/README.md for what is measured and why.
//
//   npm run bench                  full run (~15 min), writes bench/RESULTS.md
//   npm run bench -- --quick       short development run, writes bench/out/RESULTS.quick.md
//   npm run bench -- --quick --rounds 1 --workloads h2-h2c,grpc --routes 1 --changes 0
//                                  one short round of the HTTP/2 and gRPC workloads only
import { parseArgs } from 'node:util';
import { mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import {
  CLK_TCK, cpuTimes, killAllSync, loadAverage, pinSelf, requireTools, stopAll,
  treeCpuSeconds, usePidFile,
} from './lib/procs.ts';
import type { Server } from './lib/procs.ts';
import { BACKEND_BODY, FILTER_PATH, GRPC_PATH, GRPC_REQUEST, GRPC_RESPONSE, H2_PATH, middlePath, ports } from './lib/configs.ts';
import {
  fluxgateConfigDir, fluxgateRuntimeFlags, portTaken, sh, snapshotFluxgate, startBackend, startBare, startFloor, startFluxgate, startNginxProxy, startNodeProxy,
} from './lib/servers.ts';
import type { Ctx } from './lib/servers.ts';
import { get, getH2c, postGrpc, runH2load, startWrk, waitFor200 } from './lib/load.ts';
import { BENCH_API_KEY, BENCH_KEY_HEADER, KEY_AUTH_PATH, RATE_LIMIT_HEADER, RATE_LIMIT_PATH } from './lib/plugins.ts';
import type { LoadResult } from './lib/load.ts';
import { measureConfigChanges } from './lib/config-change.ts';
import type { ChangeResult } from './lib/config-change.ts';
import { writeReport } from './lib/report.ts';
import { mergeSlices } from './lib/slices.ts';
import type { Cell, Machine, RunResult, Sample, TargetName } from './lib/report.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(REPO, 'bench', 'out');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    'slice-seconds': { type: 'string', default: '2' },
    routes: { type: 'string', default: '1,1000,10000' },
    targets: { type: 'string', default: 'direct,nginx,bare,floor,node,fluxgate' },
    workloads: { type: 'string' },
    connections: { type: 'string', default: '50' },
    changes: { type: 'string' },
    'port-base': { type: 'string', default: '18100' },
    'fluxgate-ref': { type: 'string' },
    results: { type: 'string' },
    'report-only': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(`Usage: npm run bench -- [--quick] [--rounds N] [--seconds S] [--warmup S]
    [--routes 1,1000,10000] [--targets direct,nginx,bare,floor,node,fluxgate] [--connections C]
    [--slice-seconds S]            each cell measured in slices of S seconds, cells taking turns
    [--changes N] [--port-base P] [--results FILE] [--fluxgate-ref GIT_REF]
    [--workloads h1,h1-latency,h2c,h2-h2c,grpc,h1-filter,h1-ratelimit,h1-ratelimit-keyauth,h1-N]
                                   only these workloads
    [--report-only RESULTS.json]   re-render the report from a saved run (no measuring)
  FluxGate runs from a snapshot of src/ taken at start (the working tree, or GIT_REF), so
  edits made in the tree during the run do not reach the processes being measured.
`);
  process.exit(0);
}

const quick = flags.quick;
const ROUNDS = Number(flags.rounds ?? (quick ? 2 : 5));
const SECONDS = Number(flags.seconds ?? (quick ? 2 : 6));
const LATENCY_SECONDS = Math.max(2, Math.round(SECONDS * 2 / 3));
const WARMUP = Number(flags.warmup ?? (quick ? 1 : 3));
/** Length of one measuring slice (wrk and h2load take whole seconds). */
const SLICE_SECONDS = Math.max(1, Math.round(Number(flags['slice-seconds'])));
const slicesOf = (seconds: number): number => Math.max(1, Math.floor(seconds / SLICE_SECONDS));
const CONNECTIONS = Number(flags.connections);
const CHANGES = Number(flags.changes ?? (quick ? 4 : 10));
const SIZES = [...new Set([1, ...flags.routes.split(',').map(Number)])].filter((n) => n > 0).sort((a, b) => a - b);
const TARGETS = flags.targets.split(',').filter((t): t is TargetName => ['direct', 'nginx', 'bare', 'floor', 'node', 'fluxgate'].includes(t));
const RESULTS = flags.results ?? join(REPO, 'bench', quick ? 'out/RESULTS.quick.md' : 'RESULTS.md');
const BIG = SIZES[SIZES.length - 1] as number;
/** Hand-written analysis (profiles, causes), appended to the report. */
const ANALYSIS = join(REPO, 'bench', 'ANALYSIS.md');

const cores = availableParallelism();
const PROXY_CORE = 0;
const LOAD_CORE = cores > 1 ? 1 : 0;
const NODE = process.execPath;
const P = ports(Number(flags['port-base']), SIZES);

const log = (msg: string): void => { process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`); };

// ---- cleanup on every way out -------------------------------------------------------------
let stopping = false;
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping every process the benchmark started`);
    void stopAll().finally(() => process.exit(130));
  });
}

// ---- workloads ----------------------------------------------------------------------------
interface Workload {
  readonly id: string;
  readonly title: string;
  readonly proto: 'h1' | 'h2c';
  readonly routes: number;
  readonly path: string;
  readonly connections: number;
  readonly seconds: number;
  readonly targets: readonly TargetName[];
  /**
   * plain: GET answering the backend's body; filter: and the filter headers; grpc: a unary
   * call; plugin: and the rate limiter's headers (the plugins ran).
   */
  readonly check: 'plain' | 'filter' | 'grpc' | 'plugin';
  /** Request headers the load sends (`name: value`). */
  readonly headers?: readonly string[];
}

const all: readonly TargetName[] = ['direct', 'nginx', 'floor', 'node', 'fluxgate'];
const calibration: readonly TargetName[] = ['bare'];
const proxies: readonly TargetName[] = ['nginx', 'node', 'fluxgate'];
const WORKLOADS: Workload[] = ([
  { id: 'h1', title: `HTTP/1.1 keep-alive, ${CONNECTIONS} connections, 1 route`, proto: 'h1', routes: 1, path: middlePath(1), connections: CONNECTIONS, seconds: SECONDS, targets: [...all, ...calibration], check: 'plain' },
  { id: 'h1-latency', title: 'HTTP/1.1 keep-alive, 1 connection (latency), 1 route', proto: 'h1', routes: 1, path: middlePath(1), connections: 1, seconds: LATENCY_SECONDS, targets: all, check: 'plain' },
  { id: 'h2c', title: 'h2c prior knowledge, 5 connections x 10 streams, 1 route', proto: 'h2c', routes: 1, path: middlePath(1), connections: 5, seconds: SECONDS, targets: all.filter((t) => t !== 'floor'), check: 'plain' },
  // HTTP/2 end to end (h2c client, h2c backend): nginx proxies it with grpc_pass, the only
  // HTTP/2 upstream client it has; the Node proxy (HTTP/1.1 upstreams) is left out.
  { id: 'h2-h2c', title: 'h2c to the proxy and h2c to the backend, 5 connections x 10 streams, 1 route', proto: 'h2c', routes: 1, path: H2_PATH, connections: 5, seconds: SECONDS, targets: ['direct', 'nginx', 'fluxgate'], check: 'plain' },
  { id: 'grpc', title: 'gRPC unary (POST, framed message, trailers), 5 connections x 10 streams, GRPCRoute', proto: 'h2c', routes: 1, path: GRPC_PATH, connections: 5, seconds: SECONDS, targets: ['direct', 'nginx', 'fluxgate'], check: 'grpc' },
  { id: 'h1-filter', title: `HTTP/1.1, ${CONNECTIONS} connections, request+response header filter`, proto: 'h1', routes: 1, path: FILTER_PATH, connections: CONNECTIONS, seconds: SECONDS, targets: proxies, check: 'filter' },
  // Plugins (issue 7): compared with FluxGate's own `h1` (plugins off) of the same round.
  { id: 'h1-ratelimit', title: `HTTP/1.1, ${CONNECTIONS} connections, local rate limit (TrafficPolicy)`, proto: 'h1', routes: 1, path: RATE_LIMIT_PATH, connections: CONNECTIONS, seconds: SECONDS, targets: ['fluxgate'], check: 'plugin' },
  { id: 'h1-ratelimit-keyauth', title: `HTTP/1.1, ${CONNECTIONS} connections, key-auth + per-consumer rate limit`, proto: 'h1', routes: 1, path: KEY_AUTH_PATH, connections: CONNECTIONS, seconds: SECONDS, targets: ['fluxgate'], check: 'plugin', headers: [BENCH_KEY_HEADER] },
  ...SIZES.filter((n) => n > 1).map((n): Workload => ({
    id: `h1-${n}`, title: `HTTP/1.1, ${CONNECTIONS} connections, ${n} routes (middle one requested)`, proto: 'h1', routes: n, path: middlePath(n),
    connections: CONNECTIONS, seconds: SECONDS, targets: proxies, check: 'plain',
  })),
] as Workload[]).map((w): Workload => ({ ...w, targets: w.targets.filter((t) => TARGETS.includes(t)) }))
  .filter((w) => w.targets.length > 0 && (flags.workloads === undefined || flags.workloads.split(',').includes(w.id)));

// ---- servers ------------------------------------------------------------------------------
const servers = new Map<string, Server>();
const key = (t: TargetName, n: number): string => (t === 'direct' ? 'backend' : t === 'floor' || t === 'bare' ? t : `${t}-${n}`);

function origin(t: TargetName, n: number, proto: 'h1' | 'h2c'): string {
  switch (t) {
    case 'direct': return `http://127.0.0.1:${proto === 'h1' ? P.backendH1 : P.backendH2c}`;
    case 'nginx': return `http://127.0.0.1:${proto === 'h1' ? P.nginx(n).h1 : P.nginx(n).h2c}`;
    case 'floor': return `http://127.0.0.1:${P.floor}`;
    case 'bare': return `http://127.0.0.1:${P.bare}`;
    case 'node': return `http://127.0.0.1:${proto === 'h1' ? P.node(n).h1 : P.node(n).h2c}`;
    case 'fluxgate': return `http://127.0.0.1:${P.fluxgate(n).http}`;
  }
}

let fluxgateSource = 'not run';
/** The gRPC request message h2load sends (written at start into the run's folder). */
let grpcRequestFile = '';

function allPorts(): number[] {
  const list = [P.backendH1, P.backendH2c, P.floor, P.bare];
  for (const n of SIZES) list.push(P.nginx(n).h1, P.nginx(n).h2c, P.node(n).h1, P.node(n).h2c, P.fluxgate(n).http, P.fluxgate(n).admin);
  return list;
}

async function startAll(c: Ctx): Promise<Map<string, string>> {
  // A stray server on one of our ports would answer in place of ours and fool every check.
  const taken = [];
  for (const port of allPorts()) if (await portTaken(port)) taken.push(port);
  if (taken.length > 0) throw new Error(`ports already in use on 127.0.0.1: ${taken.join(', ')} (another run? use --port-base)`);
  const problems = new Map<string, string>();
  const waits: Promise<void>[] = [];
  const track = (k: string, s: Server, url: string, timeoutMs: number): void => {
    servers.set(k, s);
    waits.push(waitFor200(url, timeoutMs, () => !s.exited).catch((err: unknown) => {
      problems.set(k, `did not start: ${(err as Error).message} (log: ${s.log})`);
    }));
  };
  track('backend', startBackend(c), `http://127.0.0.1:${P.backendH1}/`, 20_000);
  if (TARGETS.includes('bare')) track('bare', startBare(c), `http://127.0.0.1:${P.bare}/`, 60_000);
  if (TARGETS.includes('floor')) track('floor', startFloor(c), `http://127.0.0.1:${P.floor}${middlePath(1)}`, 60_000);
  const src = join(c.work, 'fluxgate-src');
  if (TARGETS.includes('fluxgate')) fluxgateSource = snapshotFluxgate(REPO, src, flags['fluxgate-ref']);
  const fluxgateFlags = TARGETS.includes('fluxgate') ? await fluxgateRuntimeFlags(src) : [];
  if (fluxgateFlags.length > 0) fluxgateSource += `, run with node ${fluxgateFlags.join(' ')}`;
  for (const n of SIZES) {
    const url = (t: TargetName): string => `${origin(t, n, 'h1')}${middlePath(n)}`;
    if (TARGETS.includes('nginx')) track(`nginx-${n}`, startNginxProxy(c, n), url('nginx'), 60_000);
    if (TARGETS.includes('node')) track(`node-${n}`, startNodeProxy(c, n), url('node'), 300_000);
    if (TARGETS.includes('fluxgate')) track(`fluxgate-${n}`, startFluxgate(c, src, n, fluxgateFlags), url('fluxgate'), 300_000);
  }
  await Promise.all(waits);
  return problems;
}

/** Checks that a cell answers what it should (200, the backend's body, the filter headers). */
async function sanity(w: Workload, t: TargetName): Promise<string | undefined> {
  const url = `${origin(t, w.routes, w.proto)}${w.path}`;
  try {
    if (w.check === 'grpc') {
      const g = await postGrpc(url, GRPC_REQUEST);
      if (g.status !== 200) return `${url}: status ${g.status}`;
      const status = g.trailers['grpc-status'] ?? g.headers['grpc-status'];
      if (status !== '0') return `${url}: grpc-status ${String(status)} ${String(g.trailers['grpc-message'] ?? g.headers['grpc-message'] ?? '')}`;
      if (!g.body.equals(GRPC_RESPONSE)) return `${url}: unexpected gRPC answer ${g.body.toString('hex').slice(0, 80)}`;
      return undefined;
    }
    const r = w.proto === 'h1' ? await get(url, 2000, undefined, w.headers === undefined ? {} : { apikey: BENCH_API_KEY }) : await getH2c(url);
    if (r.status !== 200) return `${url}: status ${r.status}`;
    if (w.check === 'plugin' && r.headers[RATE_LIMIT_HEADER] === undefined) return `${url}: no ${RATE_LIMIT_HEADER} header: the rate limit did not run`;
    if (r.body !== BACKEND_BODY) return `${url}: unexpected body ${JSON.stringify(r.body.slice(0, 80))}`;
    if (w.check === 'filter') {
      if (r.headers['x-bench-response'] !== 'set') return `${url}: response header filter missing (x-bench-response=${String(r.headers['x-bench-response'])})`;
      if (r.headers['x-echo-request'] !== 'added') return `${url}: request header filter did not reach the backend`;
    }
    return undefined;
  } catch (err) {
    return `${url}: ${(err as Error).message}`;
  }
}

async function measure(w: Workload, t: TargetName, seconds: number, round: number): Promise<Sample> {
  const proxy = servers.get(key(t, w.routes)) as Server;
  const backend = servers.get('backend') as Server;
  const url = `${origin(t, w.routes, w.proto)}${w.path}`;
  const cpu0 = treeCpuSeconds(proxy.pid);
  const b0 = treeCpuSeconds(backend.pid);
  const c0 = cpuTimes();
  const load0 = loadAverage()[0] as number;
  let r: LoadResult;
  if (w.proto === 'h1') {
    r = await startWrk({ url, connections: w.connections, seconds, core: LOAD_CORE, ...(w.headers === undefined ? {} : { headers: w.headers }) }).done;
  } else {
    const grpc = w.check === 'grpc' ? { dataFile: grpcRequestFile, headers: ['content-type: application/grpc', 'te: trailers'] } : {};
    r = await runH2load({ url, clients: w.connections, streams: 10, seconds, core: LOAD_CORE, ...grpc });
  }
  const cpu1 = treeCpuSeconds(proxy.pid);
  const b1 = treeCpuSeconds(backend.pid);
  const c1 = cpuTimes();
  const busy = (i: number): number => {
    const a = c0[i]; const b = c1[i];
    if (a === undefined || b === undefined || b.total === a.total) return NaN;
    return (b.busy - a.busy) / (b.total - a.total);
  };
  const req = Math.max(1, r.requests);
  return {
    round, workload: w.id, target: t, routes: w.routes,
    rps: r.rps, requests: r.requests, seconds: r.seconds,
    ...(r.p50Us === undefined ? {} : { p50Us: r.p50Us }),
    ...(r.p99Us === undefined ? {} : { p99Us: r.p99Us }),
    meanUs: r.meanUs,
    proxyCpuUsPerReq: ((cpu1 - cpu0) / req) * 1e6,
    proxyUtil: (cpu1 - cpu0) / r.seconds,
    backendCpuUsPerReq: ((b1 - b0) / req) * 1e6,
    core0Busy: busy(PROXY_CORE), core1Busy: busy(LOAD_CORE),
    failed: r.failed, errorDetail: r.errorDetail, loadavg: load0,
    alive: !proxy.exited && !backend.exited,
  };
}

function rotate<T>(xs: readonly T[], by: number): T[] {
  if (xs.length === 0) return [];
  const k = ((by % xs.length) + xs.length) % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/**
 * FluxGate's own timing of each reload ("configuration applied" log lines: translateMs,
 * totalMs of the pipeline) between two wall-clock times, to split the end-to-end change
 * latency into file loading and pipeline. Best effort: the log format is FluxGate's.
 */
function pipelineTimes(logFile: string, fromMs: number, toMs: number): { translateMs: number; totalMs: number }[] {
  const out: { translateMs: number; totalMs: number }[] = [];
  let text = '';
  try { text = readFileSync(logFile, 'utf8'); } catch { return out; }
  for (const line of text.split('\n')) {
    if (!line.includes('configuration applied')) continue;
    try {
      const j = JSON.parse(line) as { time?: string; translateMs?: number; totalMs?: number };
      const t = Date.parse(j.time ?? '');
      if (t >= fromMs && t <= toMs && typeof j.totalMs === 'number') out.push({ translateMs: j.translateMs ?? NaN, totalMs: j.totalMs });
    } catch { /* not JSON */ }
  }
  return out;
}

function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: cores,
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    memGiB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024),
    kernel: sh('uname', ['-r']),
    node: process.version,
    nginx: sh('nginx', ['-v']).replace(/^nginx version: /, ''),
    wrk: sh('wrk', ['--version']).split('\n')[0]?.split(' ')[1] ?? 'unknown',
    h2load: sh('h2load', ['--version']).replace(/^h2load /, ''),
    commit: sh('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']),
    clkTck: CLK_TCK,
  };
}

async function main(): Promise<number> {
  requireTools(['nginx', 'wrk', 'h2load', 'taskset', 'timeout']);
  mkdirSync(OUT, { recursive: true });
  pinSelf(LOAD_CORE);
  usePidFile(join(OUT, 'pids'));
  // One work folder per port base: runs on different ports do not share files.
  const work = join(OUT, `run-${flags['port-base']}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const started = new Date();
  const cellCount = WORKLOADS.reduce((a, w) => a + w.targets.length, 0);
  const estimate = cellCount * (WARMUP + ROUNDS * (SECONDS + 1)) + CHANGES * 8 + 120;
  const lifetime = estimate * 2 + 600;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  log(`${command}: ${ROUNDS} rounds x ${cellCount} cells x ${SECONDS}s, routes ${SIZES.join('/')}, about ${Math.ceil(estimate / 60)} min; load ${loadAverage().join(' ')}`);
  log(`proxy under test on core ${PROXY_CORE}, load generator + backend + this script on core ${LOAD_CORE}`);

  const loadBefore = loadAverage();
  grpcRequestFile = join(work, 'grpc-request.bin');
  writeFileSync(grpcRequestFile, GRPC_REQUEST);
  const ctx: Ctx = { repo: REPO, work, ports: P, proxyCore: PROXY_CORE, loadCore: LOAD_CORE, lifetimeSec: lifetime, node: NODE };
  const problems = await startAll(ctx);
  for (const [k, why] of problems) log(`WARNING ${k} ${why}`);
  if (problems.has('backend')) throw new Error(`backend did not start: ${problems.get('backend')}`);

  // Sanity: every cell must answer correctly before it is measured.
  const cells: Cell[] = [];
  const disabled: { workload: string; target: TargetName; reason: string }[] = [];
  for (const w of WORKLOADS) {
    for (const t of w.targets) {
      const k = key(t, w.routes);
      const why = problems.get(k) ?? await sanity(w, t);
      if (why === undefined) cells.push({ workload: w.id, target: t });
      else { disabled.push({ workload: w.id, target: t, reason: why }); log(`skip ${w.id}/${t}: ${why}`); }
    }
  }
  const enabled = (w: Workload): TargetName[] => w.targets.filter((t) => cells.some((c) => c.workload === w.id && c.target === t));

  log(`warm-up ${WARMUP}s per cell`);
  for (const w of WORKLOADS) for (const t of enabled(w)) await measure(w, t, WARMUP, -1);

  const samples: Sample[] = [];
  // The workloads compared with `h1` (route counts h1-N, plugins) form one unit measured target
  // by target, so FluxGate's 1-route, 10,000-route and plugin cells run back to back under the
  // same machine load (their ratios are targets); others are measured workload by workload.
  const scaling = WORKLOADS.filter((w) => w.id === 'h1' || /^h1-\d+$/.test(w.id) || w.id.startsWith('h1-ratelimit'));
  const units: (readonly [Workload, TargetName])[][] = [];
  for (const w of WORKLOADS) {
    if (scaling.includes(w)) {
      if (w !== scaling[0]) continue;
      const targets = [...new Set(scaling.flatMap((x) => enabled(x)))];
      units.push(targets.flatMap((t) => scaling.filter((x) => enabled(x).includes(t)).map((x) => [x, t] as const)));
    } else {
      units.push(enabled(w).map((t) => [w, t] as const));
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    log(`round ${round + 1}/${ROUNDS} (load ${loadAverage()[0]})`);
    for (const unit of rotate(units, round)) {
      // Each cell in slices of about SLICE_SECONDS, the unit's cells taking turns slice by slice
      // (lib/slices.ts).
      const slices = new Map<string, Sample[]>();
      const most = Math.max(...unit.map(([w]) => slicesOf(w.seconds)));
      for (let k = 0; k < most; k++) {
        for (const [w, t] of rotate(unit, round + k)) {
          const n = slicesOf(w.seconds);
          if (k >= n) continue;
          const s = await measure(w, t, Math.round(w.seconds / n), round);
          const id = `${w.id}/${t}`;
          const list = slices.get(id);
          if (list === undefined) slices.set(id, [s]);
          else list.push(s);
        }
      }
      for (const [w, t] of unit) {
        const s = mergeSlices(slices.get(`${w.id}/${t}`) ?? []);
        samples.push(s);
        log(`  ${w.id.padEnd(10)} ${t.padEnd(8)} ${Math.round(s.rps).toString().padStart(7)} req/s  p50 ${s.p50Us === undefined ? '   n/a' : (s.p50Us / 1000).toFixed(3)} ms  cpu ${s.proxyCpuUsPerReq.toFixed(1)} us/req  util ${(s.proxyUtil * 100).toFixed(0)}%  core1 ${(s.core1Busy * 100).toFixed(0)}%${s.failed > 0 ? `  FAILED ${s.failed}` : ''}${s.alive ? '' : '  PROCESS EXITED'}`);
      }
    }
  }

  const changes: ChangeResult[] = [];
  const fg = servers.get(`fluxgate-${BIG}`);
  if (fg !== undefined && !problems.has(`fluxgate-${BIG}`) && !fg.exited && CHANGES > 0) {
    const base = {
      configDir: fluxgateConfigDir(ctx, BIG), stagingDir: join(work, `fluxgate-${BIG}`),
      origin: origin('fluxgate', BIG, 'h1'), loadConnections: CONNECTIONS, loadCore: LOAD_CORE,
      perChangeTimeoutMs: 15_000, gapMs: 1000,
    };
    const withPipeline = async (run: Promise<ChangeResult>): Promise<ChangeResult> => {
      const from = Date.now();
      const res = await run;
      return { ...res, pipeline: pipelineTimes(fg.log, from, Date.now()) };
    };
    log(`config change latency at ${BIG} routes, idle (${Math.ceil(CHANGES / 2)} changes)`);
    changes.push(await withPipeline(measureConfigChanges({ ...base, changes: Math.ceil(CHANGES / 2), tag: 'idle' })));
    log(`  ${changes[0]?.latenciesMs.map((x) => x.toFixed(1)).join(' ')} ms`);
    log(`config change latency at ${BIG} routes, under wrk load (${CHANGES} changes)`);
    changes.push(await withPipeline(measureConfigChanges({ ...base, changes: CHANGES, tag: 'load', loadPath: middlePath(BIG) })));
    log(`  ${changes[1]?.latenciesMs.map((x) => x.toFixed(1)).join(' ')} ms; background load failed requests: ${changes[1]?.load?.failed}`);
  } else {
    log('config change latency: skipped (FluxGate at the largest table is not serving)');
  }

  const loadAfter = loadAverage();
  const exitedEarly = [...servers.values()].filter((s) => s.exited).map((s) => s.name);
  log('stopping servers');
  await stopAll();

  const result: RunResult = {
    command, started: started.toISOString(), finished: new Date().toISOString(), quick,
    machine: machine(), fluxgateSource, loadBefore, loadAfter,
    settings: { rounds: ROUNDS, seconds: SECONDS, latencySeconds: LATENCY_SECONDS, warmup: WARMUP, connections: CONNECTIONS, sizes: SIZES, proxyCore: PROXY_CORE, loadCore: LOAD_CORE, changes: CHANGES, sliceSeconds: SLICE_SECONDS },
    workloads: WORKLOADS.map((w) => ({ id: w.id, title: w.title, path: w.path, routes: w.routes, proto: w.proto, connections: w.connections })),
    cells, disabled, samples, changes, exitedEarly,
  };
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(OUT, `results-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(OUT, 'results-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeReport(RESULTS, result, ANALYSIS);
  log(`wrote ${RESULTS} and bench/out/results-${stamp}.json`);
  return 0;
}

try {
  if (flags['report-only'] !== undefined) {
    const saved = JSON.parse(readFileSync(flags['report-only'], 'utf8')) as RunResult;
    const target = flags.results ?? join(REPO, 'bench', saved.quick ? 'out/RESULTS.quick.md' : 'RESULTS.md');
    writeReport(target, saved, ANALYSIS);
    log(`wrote ${target} from ${flags['report-only']}`);
  } else {
    process.exitCode = await main();
  }
} catch (err) {
  log(`FAILED: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
