// Profiles FluxGate under one benchmark workload with `node --cpu-prof` and prints where the
// time goes (top functions by self and inclusive time, time by file), only for the samples
// taken during the measured window. Also writes it to bench/out/profile-<name>.md.
//
//   npm run bench:profile -- --workload h1 --routes 1 --seconds 10
//   npm run bench:profile -- --workload h1 --routes 10000
//   npm run bench:profile -- --workload filter | ratelimit | ratelimit-keyauth | h2c | h2-h2c | grpc
//   npm run bench:profile -- --workload change --routes 10000 --changes 3
import { parseArgs } from 'node:util';
import { mkdirSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { FILTER_PATH, GRPC_PATH, GRPC_REQUEST, H2_PATH, httpRouteYaml, middlePath, ports } from './lib/configs.ts';
import { get, runH2load, startWrk, waitFor200 } from './lib/load.ts';
import type { LoadResult } from './lib/load.ts';
import { killAllSync, pinSelf, requireTools, sleep, stopAll, stopServer, usePidFile } from './lib/procs.ts';
import { fluxgateConfigDir, fluxgateRuntimeFlags, portTaken, snapshotFluxgate, startBackend, startFluxgate } from './lib/servers.ts';
import type { Ctx } from './lib/servers.ts';
import { renderSummary, summarise } from './lib/cpuprofile.ts';
import { BENCH_KEY_HEADER, KEY_AUTH_PATH, RATE_LIMIT_PATH } from './lib/plugins.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(REPO, 'bench', 'out');

const { values: f } = parseArgs({
  options: {
    workload: { type: 'string', default: 'h1' },
    routes: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    changes: { type: 'string', default: '3' },
    'fluxgate-ref': { type: 'string' },
    'port-base': { type: 'string', default: '18700' },
    top: { type: 'string', default: '25' },
  },
  strict: true,
});

const n = Number(f.routes);
const workload = f.workload;
const seconds = Number(f.seconds);
const PROXY_CORE = 0;
const LOAD_CORE = availableParallelism() > 1 ? 1 : 0;
const P = ports(Number(f['port-base']), [n]);
const log = (m: string): void => { process.stdout.write(`[profile] ${m}\n`); };

process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void stopAll().finally(() => process.exit(130)); });

async function main(): Promise<void> {
  requireTools(['nginx', 'wrk', 'h2load', 'taskset', 'timeout']);
  mkdirSync(OUT, { recursive: true });
  pinSelf(LOAD_CORE);
  usePidFile(join(OUT, 'pids'));
  const work = join(OUT, `profile-run-${workload}-${n}-${f['port-base']}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const profDir = join(work, 'cpuprofile');
  const ctx: Ctx = { repo: REPO, work, ports: P, proxyCore: PROXY_CORE, loadCore: LOAD_CORE, lifetimeSec: 1800, node: process.execPath };
  for (const port of [P.backendH1, P.backendH2c, P.fluxgate(n).http, P.fluxgate(n).admin]) {
    if (await portTaken(port)) throw new Error(`port ${port} already in use on 127.0.0.1 (use --port-base)`);
  }
  const source = snapshotFluxgate(REPO, join(work, 'fluxgate-src'), f['fluxgate-ref']);
  const backend = startBackend(ctx);
  await waitFor200(`http://127.0.0.1:${P.backendH1}/`, 20_000, () => !backend.exited);
  const spawnedAt = performance.now();
  const fg = startFluxgate(ctx, join(work, 'fluxgate-src'), n, [...await fluxgateRuntimeFlags(join(work, 'fluxgate-src')), '--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=200']);
  const origin = `http://127.0.0.1:${P.fluxgate(n).http}`;
  await waitFor200(`${origin}${middlePath(n)}`, 300_000, () => !fg.exited);
  log(`FluxGate (${source}) serving ${n} routes after ${((performance.now() - spawnedAt) / 1000).toFixed(1)} s`);

  const paths: Record<string, string> = {
    filter: FILTER_PATH, 'h2-h2c': H2_PATH, grpc: GRPC_PATH, ratelimit: RATE_LIMIT_PATH, 'ratelimit-keyauth': KEY_AUTH_PATH,
  };
  const path = paths[workload] ?? middlePath(n);
  const wrkHeaders = workload === 'ratelimit-keyauth' ? [BENCH_KEY_HEADER] : [];
  // gRPC: a POST of one framed message (h2load -d) with the gRPC headers.
  const grpcFile = join(work, 'grpc-request.bin');
  writeFileSync(grpcFile, GRPC_REQUEST);
  const h2Extra = workload === 'grpc' ? { dataFile: grpcFile, headers: ['content-type: application/grpc', 'te: trailers'] } : {};
  // Warm-up outside the window, so the JIT has settled.
  if (workload === 'h2-h2c' || workload === 'grpc') await runH2load({ url: `${origin}${path}`, clients: 5, streams: 10, seconds: 3, core: LOAD_CORE, ...h2Extra });
  else await startWrk({ url: `${origin}${path}`, connections: Number(f.connections), seconds: 3, core: LOAD_CORE, headers: wrkHeaders }).done;
  const from = performance.now() - spawnedAt;
  let result: LoadResult | undefined;
  const notes: string[] = [];
  if (workload === 'h1' || workload === 'filter' || workload === 'ratelimit' || workload === 'ratelimit-keyauth') {
    result = await startWrk({ url: `${origin}${path}`, connections: Number(f.connections), seconds, core: LOAD_CORE, headers: wrkHeaders }).done;
  } else if (workload === 'h2c' || workload === 'h2-h2c' || workload === 'grpc') {
    result = await runH2load({ url: `${origin}${path}`, clients: 5, streams: 10, seconds, core: LOAD_CORE, ...h2Extra });
  } else if (workload === 'change') {
    const dir = fluxgateConfigDir(ctx, n);
    for (let k = 0; k < Number(f.changes); k++) {
      const name = `prof-added-${k}`;
      const staged = join(work, `${name}.yaml`);
      writeFileSync(staged, httpRouteYaml(name, `/prof/${k}`).replace(/^---\n/, ''));
      const t0 = performance.now();
      renameSync(staged, join(dir, `${name}.yaml`));
      const url = `${origin}/prof/${k}/x`;
      for (;;) {
        const r = await get(url, 30_000).catch(() => undefined);
        if (r?.status === 200 || performance.now() - t0 > 60_000) break;
        await sleep(1);
      }
      notes.push(`change ${k}: ${(performance.now() - t0).toFixed(0)} ms to first 200`);
      await sleep(300);
    }
  } else {
    throw new Error(`unknown workload ${workload} (h1, filter, ratelimit, ratelimit-keyauth, h2c, h2-h2c, grpc, change)`);
  }
  const to = performance.now() - spawnedAt;
  if (result !== undefined) notes.push(`${Math.round(result.rps)} req/s, ${result.failed} failed`);
  for (const x of notes) log(x);

  // SIGINT lets FluxGate close and exit, which is when --cpu-prof writes the profile.
  await stopServer(fg, 'SIGINT', 15_000);
  await stopAll();
  const files = readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no profile written in ${profDir} (did FluxGate exit cleanly on SIGINT? see ${fg.log})`);
  const s = summarise(join(profDir, files[0] as string), REPO, Number(f.top), { fromMs: from + 100, toMs: to - 100 });
  const title = `FluxGate, workload ${workload}, ${n} routes (${notes.join('; ')})`;
  const md = renderSummary(title, s);
  const outFile = join(OUT, `profile-${workload}-${n}.md`);
  writeFileSync(outFile, `${md}\nFluxGate from ${source}. Profile: ${join(profDir, files[0] as string)}\n`);
  process.stdout.write(`\n${md}\n`);
  log(`wrote ${outFile}`);
}

try {
  await main();
} catch (err) {
  log(`FAILED: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
