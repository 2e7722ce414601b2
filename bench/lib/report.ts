// Turns one run's samples into bench/RESULTS.md: medians, per-round ratios, the issue's
// targets with PASS/FAIL, and notes on what limits each figure.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fmt, fmtInt, median, percentile } from './stats.ts';

export type TargetName = 'direct' | 'nginx' | 'bare' | 'floor' | 'node' | 'fluxgate';

export interface Cell { readonly workload: string; readonly target: TargetName }

export interface Sample {
  readonly round: number;
  readonly workload: string;
  readonly target: TargetName;
  readonly routes: number;
  readonly rps: number;
  readonly requests: number;
  readonly seconds: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly meanUs: number;
  /** CPU (user+system) of the proxy's process tree per request; for `direct`, the backend's. */
  readonly proxyCpuUsPerReq: number;
  /** Proxy CPU seconds per wall second (1.0 = one core saturated). */
  readonly proxyUtil: number;
  readonly backendCpuUsPerReq: number;
  readonly core0Busy: number;
  readonly core1Busy: number;
  readonly failed: number;
  readonly errorDetail: Record<string, number>;
  readonly loadavg: number;
  readonly alive: boolean;
}

export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly wrk: string;
  readonly h2load: string;
  readonly commit: string;
  readonly clkTck: number;
}

export interface ChangeSummary {
  readonly underLoad: boolean;
  readonly latenciesMs: number[];
  readonly timedOut: number;
  readonly polls: number[];
  readonly load?: {
    readonly requests: number; readonly rps: number; readonly failed: number; readonly errorDetail: Record<string, number>;
    readonly p99Us?: number; readonly maxUs: number;
  };
  readonly pipeline?: { translateMs: number; totalMs: number }[];
}

export interface RunResult {
  readonly command: string;
  readonly started: string;
  readonly finished: string;
  readonly quick: boolean;
  readonly machine: Machine;
  /** Where the measured FluxGate came from (working tree snapshot or git ref). */
  readonly fluxgateSource: string;
  readonly loadBefore: number[];
  readonly loadAfter: number[];
  readonly settings: {
    readonly rounds: number; readonly seconds: number; readonly latencySeconds: number; readonly warmup: number;
    readonly connections: number; readonly sizes: number[]; readonly proxyCore: number; readonly loadCore: number; readonly changes: number;
    /** Measuring slice length; absent in runs from before slices (one window per cell). */
    readonly sliceSeconds?: number;
  };
  readonly workloads: { id: string; title: string; path: string; routes: number; proto: string; connections: number }[];
  readonly cells: Cell[];
  readonly disabled: { workload: string; target: TargetName; reason: string }[];
  readonly samples: Sample[];
  readonly changes: ChangeSummary[];
  readonly exitedEarly: string[];
}

/** Failed requests of a sample (h2load samples of older runs are recomputed from the detail). */
function failedOf(s: Sample): number {
  const d = s.errorDetail;
  if (d.non2xx !== undefined) return (d.failed ?? 0) + (d.errored ?? 0) + (d.timeout ?? 0) + d.non2xx;
  return s.failed;
}

const LABEL: Record<TargetName, string> = {
  direct: 'direct (backend)',
  nginx: 'nginx',
  bare: 'bare Node server (answers itself)',
  floor: 'minimal Node proxy (node:http + undici, no routing)',
  node: 'Node proxy (@fastify/http-proxy)',
  fluxgate: 'FluxGate',
};

type Verdict = 'PASS' | 'FAIL' | 'NOT MEASURED';

interface TargetRow { readonly name: string; readonly measured: string; readonly limit: string; readonly verdict: Verdict }

export function analyse(r: RunResult): {
  rounds: number[];
  get: (w: string, t: TargetName, round: number) => Sample | undefined;
  ratio: (round: number, f: (g: (w: string, t: TargetName) => Sample | undefined) => number | undefined) => number | undefined;
} {
  const rounds = [...new Set(r.samples.map((s) => s.round))].sort((a, b) => a - b);
  const get = (w: string, t: TargetName, round: number): Sample | undefined =>
    r.samples.find((s) => s.workload === w && s.target === t && s.round === round);
  const ratio = (round: number, f: (g: (w: string, t: TargetName) => Sample | undefined) => number | undefined): number | undefined =>
    f((w, t) => get(w, t, round));
  return { rounds, get, ratio };
}

export interface Metric {
  readonly id: string;
  readonly title: string;
  readonly unit: 'x' | 'us';
  readonly f: (g: (w: string, t: TargetName) => Sample | undefined) => number | undefined;
}

const div = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;
const sub = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : a - b;

export function metrics(big: number): Metric[] {
  const m: Metric[] = [
    { id: 'cpu-fg-nginx-h1', title: 'CPU/req FluxGate / nginx (h1)', unit: 'x', f: (g) => div(g('h1', 'fluxgate')?.proxyCpuUsPerReq, g('h1', 'nginx')?.proxyCpuUsPerReq) },
    { id: 'thr-fg-node-h1', title: 'req/s FluxGate / Node proxy (h1)', unit: 'x', f: (g) => div(g('h1', 'fluxgate')?.rps, g('h1', 'node')?.rps) },
    { id: 'cpu-node-fg-h1', title: 'CPU/req Node proxy / FluxGate (h1)', unit: 'x', f: (g) => div(g('h1', 'node')?.proxyCpuUsPerReq, g('h1', 'fluxgate')?.proxyCpuUsPerReq) },
    { id: 'cpu-bare-nginx-h1', title: 'CPU/req bare Node server / nginx (h1)', unit: 'x', f: (g) => div(g('h1', 'bare')?.proxyCpuUsPerReq, g('h1', 'nginx')?.proxyCpuUsPerReq) },
    { id: 'cpu-floor-nginx-h1', title: 'CPU/req minimal Node proxy / nginx (h1)', unit: 'x', f: (g) => div(g('h1', 'floor')?.proxyCpuUsPerReq, g('h1', 'nginx')?.proxyCpuUsPerReq) },
    { id: 'cpu-fg-floor-h1', title: 'CPU/req FluxGate / minimal Node proxy (h1)', unit: 'x', f: (g) => div(g('h1', 'fluxgate')?.proxyCpuUsPerReq, g('h1', 'floor')?.proxyCpuUsPerReq) },
    { id: 'p50-added-fg', title: 'added p50 FluxGate (us, c=1)', unit: 'us', f: (g) => sub(g('h1-latency', 'fluxgate')?.p50Us, g('h1-latency', 'direct')?.p50Us) },
    { id: 'p50-added-nginx', title: 'added p50 nginx (us, c=1)', unit: 'us', f: (g) => sub(g('h1-latency', 'nginx')?.p50Us, g('h1-latency', 'direct')?.p50Us) },
    { id: 'p50-added-node', title: 'added p50 Node proxy (us, c=1)', unit: 'us', f: (g) => sub(g('h1-latency', 'node')?.p50Us, g('h1-latency', 'direct')?.p50Us) },
  ];
  if (big > 1) {
    m.push(
      { id: 'scale-fg', title: `req/s FluxGate ${big} / 1 routes`, unit: 'x', f: (g) => div(g(`h1-${big}`, 'fluxgate')?.rps, g('h1', 'fluxgate')?.rps) },
      { id: 'scale-cpu-fg', title: `CPU/req FluxGate 1 / ${big} routes`, unit: 'x', f: (g) => div(g('h1', 'fluxgate')?.proxyCpuUsPerReq, g(`h1-${big}`, 'fluxgate')?.proxyCpuUsPerReq) },
      { id: 'scale-nginx', title: `req/s nginx ${big} / 1 routes`, unit: 'x', f: (g) => div(g(`h1-${big}`, 'nginx')?.rps, g('h1', 'nginx')?.rps) },
      { id: 'scale-node', title: `req/s Node proxy ${big} / 1 routes`, unit: 'x', f: (g) => div(g(`h1-${big}`, 'node')?.rps, g('h1', 'node')?.rps) },
    );
  }
  m.push(
    { id: 'cpu-fg-nginx-h2c', title: 'CPU/req FluxGate / nginx (h2c)', unit: 'x', f: (g) => div(g('h2c', 'fluxgate')?.proxyCpuUsPerReq, g('h2c', 'nginx')?.proxyCpuUsPerReq) },
    { id: 'thr-fg-node-h2c', title: 'req/s FluxGate / Node proxy (h2c)', unit: 'x', f: (g) => div(g('h2c', 'fluxgate')?.rps, g('h2c', 'node')?.rps) },
    { id: 'cpu-fg-nginx-h2-h2c', title: 'CPU/req FluxGate / nginx (h2c to h2c)', unit: 'x', f: (g) => div(g('h2-h2c', 'fluxgate')?.proxyCpuUsPerReq, g('h2-h2c', 'nginx')?.proxyCpuUsPerReq) },
    { id: 'thr-fg-nginx-h2-h2c', title: 'req/s FluxGate / nginx (h2c to h2c)', unit: 'x', f: (g) => div(g('h2-h2c', 'fluxgate')?.rps, g('h2-h2c', 'nginx')?.rps) },
    { id: 'cpu-fg-nginx-grpc', title: 'CPU/req FluxGate / nginx (gRPC unary)', unit: 'x', f: (g) => div(g('grpc', 'fluxgate')?.proxyCpuUsPerReq, g('grpc', 'nginx')?.proxyCpuUsPerReq) },
    { id: 'thr-fg-nginx-grpc', title: 'req/s FluxGate / nginx (gRPC unary)', unit: 'x', f: (g) => div(g('grpc', 'fluxgate')?.rps, g('grpc', 'nginx')?.rps) },
    { id: 'cpu-fg-nginx-filter', title: 'CPU/req FluxGate / nginx (filter)', unit: 'x', f: (g) => div(g('h1-filter', 'fluxgate')?.proxyCpuUsPerReq, g('h1-filter', 'nginx')?.proxyCpuUsPerReq) },
    { id: 'thr-fg-node-filter', title: 'req/s FluxGate / Node proxy (filter)', unit: 'x', f: (g) => div(g('h1-filter', 'fluxgate')?.rps, g('h1-filter', 'node')?.rps) },
    { id: 'thr-fg-ratelimit-off', title: 'req/s FluxGate rate limit on / off (h1)', unit: 'x', f: (g) => div(g('h1-ratelimit', 'fluxgate')?.rps, g('h1', 'fluxgate')?.rps) },
    { id: 'thr-fg-ratelimit-keyauth-off', title: 'req/s FluxGate rate limit + key-auth / off (h1)', unit: 'x', f: (g) => div(g('h1-ratelimit-keyauth', 'fluxgate')?.rps, g('h1', 'fluxgate')?.rps) },
    { id: 'cpu-fg-off-ratelimit', title: 'CPU/req FluxGate off / rate limit on (h1)', unit: 'x', f: (g) => div(g('h1', 'fluxgate')?.proxyCpuUsPerReq, g('h1-ratelimit', 'fluxgate')?.proxyCpuUsPerReq) },
    { id: 'cpu-fg-off-ratelimit-keyauth', title: 'CPU/req FluxGate off / rate limit + key-auth (h1)', unit: 'x', f: (g) => div(g('h1', 'fluxgate')?.proxyCpuUsPerReq, g('h1-ratelimit-keyauth', 'fluxgate')?.proxyCpuUsPerReq) },
  );
  return m;
}

function perRound(r: RunResult, m: Metric): (number | undefined)[] {
  const a = analyse(r);
  return a.rounds.map((round) => a.ratio(round, m.f));
}

function medianOf(r: RunResult, m: Metric): number | undefined {
  return median(perRound(r, m).filter((x): x is number => x !== undefined));
}

const showMetric = (x: number | undefined, unit: 'x' | 'us'): string => (unit === 'x' ? `${fmt(x, 2)}x` : `${fmt(x, 0)} us`);

export function targets(r: RunResult): TargetRow[] {
  const big = Math.max(...r.settings.sizes);
  const byId = new Map(metrics(big).map((m) => [m.id, m]));
  const med = (id: string): number | undefined => {
    const m = byId.get(id);
    return m === undefined ? undefined : medianOf(r, m);
  };
  const verdict = (x: number | undefined, ok: (v: number) => boolean): Verdict => (x === undefined ? 'NOT MEASURED' : ok(x) ? 'PASS' : 'FAIL');
  const rows: TargetRow[] = [];
  const cpu = med('cpu-fg-nginx-h1');
  rows.push({ name: 'CPU per request within 3x of nginx (HTTP/1.1, 1 route)', measured: `${fmt(cpu)}x`, limit: '<= 3.00x', verdict: verdict(cpu, (v) => v <= 3) });
  const thr = med('thr-fg-node-h1');
  rows.push({ name: 'Throughput at least 1.2x the plain Node proxy (HTTP/1.1, 1 route)', measured: `${fmt(thr)}x`, limit: '>= 1.20x', verdict: verdict(thr, (v) => v >= 1.2) });
  const addFg = med('p50-added-fg');
  const addNginx = med('p50-added-nginx');
  const limit = addNginx === undefined ? undefined : Math.max(500, 2 * addNginx);
  rows.push({
    name: 'Added p50 latency <= max(0.5 ms, 2x nginx added p50) (1 connection)',
    measured: `${fmt(addFg, 0)} us (nginx ${fmt(addNginx, 0)} us)`,
    limit: `<= ${fmt(limit, 0)} us`,
    verdict: limit === undefined ? 'NOT MEASURED' : verdict(addFg, (v) => v <= limit),
  });
  // Issue 7: plugins cost little next to proxying (same run, same round, FluxGate's own h1).
  const rl = med('thr-fg-ratelimit-off');
  rows.push({ name: 'Throughput with the rate-limit plugin on >= 0.95x off (issue 7)', measured: `${fmt(rl)}x (CPU/req off / on: ${fmt(med('cpu-fg-off-ratelimit'))}x)`, limit: '>= 0.95x', verdict: verdict(rl, (v) => v >= 0.95) });
  const rla = med('thr-fg-ratelimit-keyauth-off');
  rows.push({ name: 'Throughput with rate limit + key-auth >= 0.90x off (issue 7)', measured: `${fmt(rla)}x (CPU/req off / on: ${fmt(med('cpu-fg-off-ratelimit-keyauth'))}x)`, limit: '>= 0.90x', verdict: verdict(rla, (v) => v >= 0.9) });
  if (big > 1) {
    const sc = med('scale-fg');
    rows.push({ name: `Throughput at ${big} routes >= 0.97x that at 1 route`, measured: `${fmt(sc, 3)}x (CPU/req 1 / ${big}: ${fmt(med('scale-cpu-fg'), 3)}x)`, limit: '>= 0.97x', verdict: verdict(sc, (v) => v >= 0.97) });
  }
  const ch = r.changes.find((c) => c.underLoad);
  if (ch === undefined) {
    rows.push({ name: `Config change to first 200 at ${big} routes, p50`, measured: 'n/a', limit: '<= 20 ms', verdict: 'NOT MEASURED' });
    rows.push({ name: 'Zero failed requests during config changes', measured: 'n/a', limit: '0', verdict: 'NOT MEASURED' });
  } else {
    const p50 = ch.timedOut > ch.latenciesMs.length ? Infinity : median(ch.latenciesMs.concat(Array(ch.timedOut).fill(Infinity) as number[]));
    rows.push({
      name: `Config change to first 200 at ${big} routes, p50 (under load)`,
      measured: `${p50 === Infinity ? 'timeout' : `${fmt(p50, 1)} ms`} (p99 ${fmt(percentile(ch.latenciesMs, 99), 1)} ms, ${ch.latenciesMs.length} changes${ch.timedOut > 0 ? `, ${ch.timedOut} timed out` : ''})`,
      limit: '<= 20 ms',
      verdict: verdict(p50, (v) => v <= 20),
    });
    const failed = (ch.load?.failed ?? 0);
    rows.push({ name: 'Zero failed requests during config changes', measured: `${failed} failed of ${fmtInt(ch.load?.requests)}${failed > 0 ? ` ${JSON.stringify(ch.load?.errorDetail)}` : ''}`, limit: '0', verdict: ch.load === undefined ? 'NOT MEASURED' : verdict(failed, (v) => v === 0) });
  }
  return rows;
}

/** Writes the report; `analysisPath` (hand-written notes) is appended when it exists. */
export function writeReport(path: string, r: RunResult, analysisPath?: string): void {
  const analysis = analysisPath !== undefined && existsSync(analysisPath) ? readFileSync(analysisPath, 'utf8') : undefined;
  writeFileSync(path, renderReport(r, analysis));
}

export function renderReport(r: RunResult, analysis?: string): string {
  const big = Math.max(...r.settings.sizes);
  const m = r.machine;
  const s = r.settings;
  const out: string[] = [];
  const a = analyse(r);
  out.push('# FluxGate benchmark results', '');
  out.push(`Produced by \`${r.command}\` (bench/run.ts) on ${r.started.slice(0, 10)}, ${r.started.slice(11, 19)}-${r.finished.slice(11, 19)} UTC, at commit ${m.commit}; FluxGate from ${r.fluxgateSource}.${r.quick ? ' **Quick run: too short to rely on.**' : ''}`, '');
  out.push(`Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memGiB} GiB, Linux ${m.kernel}; Node ${m.node}, nginx ${m.nginx}, wrk ${m.wrk}, h2load ${m.h2load}. ` +
    `Load average (1/5/15 min) before: ${r.loadBefore.join(' / ')}, after: ${r.loadAfter.join(' / ')}.`, '');
  out.push(`Settings: ${s.rounds} rounds, ${s.seconds} s per throughput cell and ${s.latencySeconds} s per latency cell, ${s.warmup} s warm-up per cell, ` +
    (s.sliceSeconds === undefined ? 'target order rotated each round. '
      : `each cell measured in ${s.sliceSeconds} s slices, the cells of a group (all HTTP/1.1 throughput cells; each other workload) taking turns slice by slice, order rotated each round and slice. `) +
    `Proxy under test pinned to core ${s.proxyCore}; wrk/h2load, the backend and the orchestrator pinned to core ${s.loadCore}.`, '');

  out.push('## Targets (issue 2, point 6)', '');
  out.push('Each figure is the median over rounds of the per-round ratio (both sides measured in the same round).', '');
  out.push('| Target | Measured | Limit | Result |', '|---|---|---|---|');
  for (const t of targets(r)) out.push(`| ${t.name} | ${t.measured} | ${t.limit} | **${t.verdict}** |`);
  out.push('');

  out.push('## Medians per workload and target', '');
  out.push('CPU/req is user+system CPU of the proxy process tree (from /proc/<pid>/stat) over the measured window divided by the requests served; for `direct` it is the backend\'s. ' +
    '"util" is that CPU per wall second (100% = the proxy\'s core saturated); "core1" is how busy the load-generator core was.', '');
  out.push('| Workload | Target | req/s | p50 ms | p99 ms | CPU us/req | util | core1 | backend us/req | failed |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of r.workloads) {
    for (const t of ['direct', 'nginx', 'bare', 'floor', 'node', 'fluxgate'] as const) {
      const ss = r.samples.filter((x) => x.workload === w.id && x.target === t);
      if (ss.length === 0) continue;
      const md = (f: (x: Sample) => number | undefined): number | undefined => median(ss.map(f).filter((v): v is number => v !== undefined));
      const lat = (f: (x: Sample) => number | undefined): string => fmt((md(f) ?? NaN) / 1000, 3);
      const p50 = ss[0]?.p50Us === undefined ? `(mean ${lat((x) => x.meanUs)})` : lat((x) => x.p50Us);
      out.push(`| ${w.id} | ${LABEL[t]} | ${fmtInt(md((x) => x.rps))} | ${p50} | ${ss[0]?.p99Us === undefined ? 'n/a' : lat((x) => x.p99Us)} | ${fmt(md((x) => x.proxyCpuUsPerReq), 1)} | ${fmt((md((x) => x.proxyUtil) ?? NaN) * 100, 0)}% | ${fmt((md((x) => x.core1Busy) ?? NaN) * 100, 0)}% | ${fmt(md((x) => x.backendCpuUsPerReq), 1)} | ${ss.reduce((acc, x) => acc + failedOf(x), 0)} |`);
    }
  }
  out.push('');
  out.push('Workloads:', '');
  for (const w of r.workloads) out.push(`- \`${w.id}\`: ${w.title}; requests \`${w.path}\``);
  out.push('');

  out.push('## Per-round ratios', '');
  const ms = metrics(big).filter((x) => a.rounds.some((round) => a.ratio(round, x.f) !== undefined));
  out.push(`| Ratio | ${a.rounds.map((x) => `round ${x + 1}`).join(' | ')} | median |`, `|---|${a.rounds.map(() => '---:').join('|')}|---:|`);
  for (const x of ms) {
    out.push(`| ${x.title} | ${perRound(r, x).map((v) => showMetric(v, x.unit)).join(' | ')} | **${showMetric(medianOf(r, x), x.unit)}** |`);
  }
  out.push('');

  out.push(`## Config change latency (FluxGate, ${big} routes)`, '');
  if (r.changes.length === 0) {
    out.push('Not measured (FluxGate was not serving the largest table).', '');
  } else {
    out.push('A new HTTPRoute file is renamed into the watched config folder; the time runs from the rename to the first 200 on the new route, polled about every 1 ms over one keep-alive connection.', '');
    out.push('| Condition | changes | p50 ms | p99 ms | max ms | timed out | background req/s | background p99 / max ms | background failed |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of r.changes) {
      out.push(`| ${c.underLoad ? `under wrk load (${s.connections} connections on an existing route)` : 'idle'} | ${c.latenciesMs.length + c.timedOut} | ${fmt(median(c.latenciesMs), 1)} | ${fmt(percentile(c.latenciesMs, 99), 1)} | ${fmt(percentile(c.latenciesMs, 100), 1)} | ${c.timedOut} | ${c.load === undefined ? '-' : fmtInt(c.load.rps)} | ${c.load === undefined ? '-' : `${fmt((c.load.p99Us ?? NaN) / 1000, 1)} / ${fmt(c.load.maxUs / 1000, 1)}`} | ${c.load === undefined ? '-' : `${c.load.failed}${c.load.failed > 0 ? ` ${JSON.stringify(c.load.errorDetail)}` : ''}`} |`);
    }
    out.push('');
    for (const c of r.changes) out.push(`- ${c.underLoad ? 'under load' : 'idle'}: ${c.latenciesMs.map((x) => x.toFixed(1)).join(', ')} ms`);
    out.push('');
    for (const c of r.changes) {
      const pl = c.pipeline ?? [];
      if (pl.length === 0) continue;
      out.push(`FluxGate's own log of the ${c.underLoad ? 'changes under load' : 'idle changes'}: its pipeline (translate + apply, "configuration applied" totalMs) took p50 ${fmt(median(pl.map((x) => x.totalMs)), 1)} ms (translate ${fmt(median(pl.map((x) => x.translateMs)), 1)} ms) of the p50 ${fmt(median(c.latenciesMs), 1)} ms end to end; the rest is the watcher's settle time, reading and validating the new file, and the probe's wait for its answer.`, '');
    }
  }

  out.push('## What limits these figures (generated from this run)', '');
  for (const line of limits(r)) out.push(`- ${line}`);
  out.push('');
  out.push(METHOD);

  if (r.disabled.length > 0 || r.exitedEarly.length > 0) {
    out.push('## Not measured', '');
    for (const d of r.disabled) out.push(`- \`${d.workload}\` / ${LABEL[d.target]}: ${d.reason}`);
    for (const e of r.exitedEarly) out.push(`- ${e} exited during the run`);
    out.push('');
  }
  if (analysis !== undefined) out.push('', analysis.trim());
  return `${out.join('\n')}\n`;
}

/** Observations that follow from the numbers of this run. */
function limits(r: RunResult): string[] {
  const out: string[] = [];
  const med = (w: string, t: TargetName, f: (s: Sample) => number | undefined): number | undefined =>
    median(r.samples.filter((x) => x.workload === w && x.target === t).map(f).filter((v): v is number => v !== undefined));
  const sampleLoad = median(r.samples.map((x) => x.loadavg));
  const busy = sampleLoad !== undefined && sampleLoad > r.machine.nproc + 0.5;
  out.push(`Machine load: the 1-minute load average was ${fmt(sampleLoad, 1)} (median at the start of the cells; ${fmt(r.loadBefore[0], 1)} at the start of the run, ${fmt(r.loadAfter[0], 1)} at its end) on ${r.machine.nproc} cores. ` +
    (busy
      ? 'Other work (builds, tests) shared both cores, so the processes under test were starved for CPU: absolute req/s and latencies are far below what the machine does when quiet, latencies include scheduler delays, and only the per-round ratios of CPU per request (both sides measured within minutes under the same contention) are worth reading closely.'
      : 'The machine was otherwise quiet.'));
  for (const t of ['nginx', 'bare', 'floor', 'node', 'fluxgate'] as const) {
    const util = med('h1', t, (x) => x.proxyUtil);
    const c1 = med('h1', t, (x) => x.core1Busy);
    if (util === undefined) continue;
    if (util >= 0.9) {
      out.push(`${LABEL[t]} (h1) saturated its core (${fmt(util * 100, 0)}%): its req/s is its own limit on one core.`);
    } else if (busy) {
      out.push(`${LABEL[t]} (h1) got ${fmt(util * 100, 0)}% of its core: its req/s is limited by other processes competing for both cores, not by the proxy; its CPU/request is still a valid figure.`);
    } else {
      out.push(`${LABEL[t]} (h1) used ${fmt(util * 100, 0)}% of its core while core ${r.settings.loadCore} (wrk + backend) was ${fmt((c1 ?? NaN) * 100, 0)}% busy: its req/s is limited by the load side, not by the proxy; its CPU/request is still valid, though a proxy that is not saturated handles fewer requests per wake-up and so pays somewhat more per request.`);
    }
  }
  // The bare Node server does the same trivial work every round: how far its cost moves is how
  // far the host's speed drifted for a Node process during the run.
  const perRoundCpu = (t: TargetName): number[] => r.samples.filter((x) => x.workload === 'h1' && x.target === t).map((x) => x.proxyCpuUsPerReq);
  const bare = perRoundCpu('bare'), nginx = perRoundCpu('nginx');
  if (bare.length > 1) {
    const lo = Math.min(...bare), hi = Math.max(...bare);
    const span = nginx.length > 1 ? ` (nginx: ${fmt(Math.min(...nginx), 1)} to ${fmt(Math.max(...nginx), 1)})` : '';
    out.push(hi / lo > 1.15
      ? `Host drift: the bare Node server's CPU per request, the same trivial work in every round, ranged from ${fmt(lo, 1)} to ${fmt(hi, 1)} us${span}. The host's speed changed during the run and Node processes felt it more than nginx, so every ratio to nginx carries that change; read the per-round ratios next to the bare Node server's.`
      : `Host drift: the bare Node server's CPU per request stayed within ${fmt((hi / lo - 1) * 100, 0)}% across rounds (${fmt(lo, 1)} to ${fmt(hi, 1)} us${span}).`);
  }
  const direct = med('h1', 'direct', (x) => x.rps);
  const bcpu = med('h1', 'direct', (x) => x.proxyCpuUsPerReq);
  if (direct !== undefined) out.push(`Direct: ${fmtInt(direct)} req/s with wrk and the backend sharing one core (backend ${fmt(bcpu, 1)} us CPU per request), so every proxied figure is far below the physical limit of the load side.`);
  out.push('CPU/request comes from /proc/<pid>/stat in clock ticks (1/' + r.machine.clkTck + ' s); over a ' + r.settings.seconds + ' s window its resolution is well under 1%. It counts all threads of the proxy (libuv pool, GC helpers) and its child processes, not the kernel\'s softirq work for its sockets.');
  out.push('Latency (p50/p99) of the throughput workloads is mostly queueing (50 connections kept busy), so the added-latency target uses the 1-connection workload; wrk measures from its own send to the last byte, coordinated omission included.');
  out.push('h2load reports no percentiles, so h2c latency is its mean.');
  return out;
}

const METHOD = `## Method

- **Backend**: nginx (one worker, pinned to core 1) answering a fixed 23-byte 200 from memory, HTTP/1.1 and h2c on two ports. Chosen over a Node server because it costs a few us of CPU per request, so the backend, which must share core 1 with the load generator, takes as little of it as possible. It echoes the filter's request header so the harness can check the filter works.
- **Targets**: \`direct\` (wrk to the backend: the load side's own limit); **nginx** (Debian's, one worker, N prefix \`location\`s, upstream keep-alive 256, X-Forwarded-For/Proto set like a Gateway does); a **plain Node proxy**, fastify + @fastify/http-proxy (undici, keep-alive), one plugin registration per route prefix; a calibration **minimal Node proxy** (bench/node-floor.ts: node:http server + one undici Pool through the dispatch API, no routing, no filters: what a straightforward node:http + undici proxy costs before doing any work of its own; HTTP/1.1 workloads only); a calibration **bare Node server** (bench/node-bare.ts: node:http answering the same body itself, pinned to core 0; the issue calibrates its CPU target against it; \`h1\` only); **FluxGate** (\`node src/main.ts serve --config DIR\`, run from a copy of src/ taken at start) with generated Gateway API YAML. Each proxy gets one process per table size, all started up front and pinned to core 0; the idle ones cost nothing measurable.
- **Route shape**: N HTTPRoutes, route i matches PathPrefix \`/r/<i, 5 digits>\`; all paths have the same length, so Gateway API precedence orders them by name, and the load requests route floor(N/2) (a linear scan would pay for half the table). One more route, \`/filter\`, has a RequestHeaderModifier (add) and ResponseHeaderModifier (set); nginx does the same with proxy_set_header / proxy_hide_header + add_header, fastify with rewriteRequestHeaders / rewriteHeaders. FluxGate's tables also hold the two plugin routes (\`/plugin-rl\`: a local rate limit; \`/plugin-auth\`: key-auth and a per-consumer rate limit; limits far above the load), measured against FluxGate's own \`h1\`.
- **Load**: wrk -t1 (keep-alive HTTP/1.1), h2load -t1 -c5 -m10 (h2c prior knowledge; nginx 1.22 supports h2c with \`listen ... http2\` without TLS). In \`h2c\` the upstream side stays HTTP/1.1 for all proxies (nginx's proxy module cannot speak HTTP/2 upstream).
- **HTTP/2 and gRPC end to end**: \`h2-h2c\` (GET) and \`grpc\` (h2load -d: a POST of one framed gRPC message with \`content-type: application/grpc\` and \`te: trailers\`) go h2c to the proxy and h2c to the backend's HTTP/2 port. nginx proxies both with \`grpc_pass\` (its HTTP/2 upstream client, keep-alive 256); FluxGate with an HTTPRoute to a Service with appProtocol \`kubernetes.io/h2c\` and a GRPCRoute (service \`bench.Echo\`). The backend answers the gRPC call with a framed message from a file and \`grpc-status: 0\` in the trailers, so the proxies forward trailers. The plain Node proxy has no HTTP/2 upstream and is not measured there. Warm-up once per cell, then every round runs every cell, with the order of workloads and of targets rotated each round. Within a round a cell is measured in slices (2 s by default), the cells of its group taking turns slice by slice, so that the two sides of a ratio see the same stretches of the machine's drift (on these shared hosts a bare Node server's CPU per request moved from 10.9 to 16.8 us within a minute with nothing else running).
- **CPU per request**: utime+stime of the proxy's process tree from /proc over the measured window, divided by the requests wrk/h2load counted. This is the primary figure: req/s swings 20-30% between runs on these machines, CPU per request much less.
- **Config change latency**: with FluxGate serving the largest table and wrk loading an existing route, a new HTTPRoute file is written next to the watched folder and renamed into it; the time runs from the rename to the first 200 on the new route, polled every ~1 ms on one keep-alive connection. A change that does not answer 200 within 15 s counts as timed out. Failed requests of the background load are wrk's non-2xx/3xx responses plus its socket errors and timeouts (a request unanswered after 5 s).
`;
