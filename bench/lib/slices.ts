// Interleaved measurement: a round measures each cell of a unit in slices, cycling through the
// unit's cells slice by slice (nginx 2 s, FluxGate 2 s, ..., nginx 2 s, FluxGate 2 s, ...),
// rather than one long window per cell. The machine's speed drifts over tens of seconds on these
// shared hosts (a bare Node server measured 10.9 then 16.8 us/req a minute apart, nothing else
// running); with slices, every cell of a ratio sees the same stretches of that drift.
import { median } from './stats.ts';
import type { Sample } from './report.ts';

/** One Sample for a cell from its slices: totals for counts and CPU, percentiles per slice. */
export function mergeSlices(slices: readonly Sample[]): Sample {
  const first = slices[0];
  if (first === undefined) throw new Error('mergeSlices: no slices');
  if (slices.length === 1) return first;
  let requests = 0, seconds = 0, proxyCpu = 0, backendCpu = 0, meanWeighted = 0, core0 = 0, core1 = 0, failed = 0;
  const errorDetail: Record<string, number> = {};
  for (const s of slices) {
    // measure() divides by max(1, requests); undo that to add CPU seconds exactly.
    const req = Math.max(1, s.requests);
    requests += s.requests;
    seconds += s.seconds;
    proxyCpu += (s.proxyCpuUsPerReq * req) / 1e6;
    backendCpu += (s.backendCpuUsPerReq * req) / 1e6;
    meanWeighted += s.meanUs * s.requests;
    core0 += s.core0Busy * s.seconds;
    core1 += s.core1Busy * s.seconds;
    failed += s.failed;
    for (const [k, v] of Object.entries(s.errorDetail)) errorDetail[k] = (errorDetail[k] ?? 0) + v;
  }
  const req = Math.max(1, requests);
  const p50 = median(slices.flatMap((s) => (s.p50Us === undefined ? [] : [s.p50Us])));
  const p99s = slices.flatMap((s) => (s.p99Us === undefined ? [] : [s.p99Us]));
  return {
    round: first.round, workload: first.workload, target: first.target, routes: first.routes,
    rps: requests / seconds, requests, seconds,
    ...(p50 === undefined ? {} : { p50Us: p50 }),
    // The worst slice's p99: a conservative figure (slices cannot be merged into one histogram).
    ...(p99s.length === 0 ? {} : { p99Us: Math.max(...p99s) }),
    meanUs: meanWeighted / req,
    proxyCpuUsPerReq: (proxyCpu / req) * 1e6,
    proxyUtil: proxyCpu / seconds,
    backendCpuUsPerReq: (backendCpu / req) * 1e6,
    core0Busy: core0 / seconds, core1Busy: core1 / seconds,
    failed, errorDetail, loadavg: first.loadavg,
    alive: slices.every((s) => s.alive),
  };
}
