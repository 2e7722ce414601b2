// Times reloads of a large standalone configuration in process, stage by stage (load, translate,
// proxy apply, status bookkeeping), with no load generator: the quick loop for work on
// config-change latency. The full measurement, to first 200 under load, is `npm run bench`.
// Reports wall time and the process's CPU time (user + system) per stage: on a busy machine
// the CPU time is the steadier figure.
// Each change adds one HTTPRoute file, as bench/lib/config-change.ts does.
//
//   node bench/reload-stages.ts [--routes 10000] [--changes 20] [--each]
// --each prints every change's stages too (the first changes after start-up run cold code).
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { fluxgateBaseYaml, fluxgateRoutesYaml, httpRouteYaml, ports } from './lib/configs.ts';
import { createConfigLoader } from '../src/standalone/index.ts';
import { createTranslateCache, translate, withApplyResult } from '../src/translate/index.ts';
import { createProxy, validateRegex } from '../src/proxy/index.ts';
import { createProblemTracker } from '../src/pipeline/describe-problems.ts';
import { CONTROLLER_NAME } from '../src/commands/serve.ts';

const { values: f } = parseArgs({ options: { routes: { type: 'string', default: '10000' }, changes: { type: 'string', default: '20' }, each: { type: 'boolean', default: false } } });
const n = Number(f.routes);
const changes = Number(f.changes);
const dir = mkdtempSync(join(tmpdir(), 'fluxgate-reload-'));
const config = join(dir, 'config');
const staging = join(dir, 'staging');
mkdirSync(config);
mkdirSync(staging);
writeFileSync(join(config, 'base.yaml'), fluxgateBaseYaml(ports(19900, [n]), n));
writeFileSync(join(config, 'routes.yaml'), fluxgateRoutesYaml(n));

const loader = createConfigLoader(config);
const proxy = createProxy();
const problems = createProblemTracker();
const options = { controllerName: CONTROLLER_NAME, validateRegex, gatewayAddress: () => '127.0.0.1', cache: createTranslateCache() };
const stages = ['load', 'translate', 'apply', 'status', 'total'] as const;
type Stage = (typeof stages)[number];
const samples: Record<Stage, number[]> = { load: [], translate: [], apply: [], status: [], total: [] };
const cpuSamples: Record<Stage, number[]> = { load: [], translate: [], apply: [], status: [], total: [] };
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function reload(record: boolean): Promise<void> {
  const t = [performance.now()];
  const c = [cpuMs()];
  const mark = (): void => {
    t.push(performance.now());
    c.push(cpuMs());
  };
  const loaded = await loader.load();
  if (loaded.errors.length > 0) throw new Error(JSON.stringify(loaded.errors));
  mark();
  const { table, statuses } = translate(loaded.resources, options);
  mark();
  const applied = await proxy.apply(table);
  mark();
  problems.describe(withApplyResult(statuses, table, applied));
  mark();
  if (!record) return;
  stages.forEach((s, i) => {
    const [from, to] = s === 'total' ? [0, 4] : [i, i + 1];
    samples[s].push(t[to]! - t[from]!);
    cpuSamples[s].push(c[to]! - c[from]!);
  });
  if (f.each) process.stdout.write(`change ${samples.total.length}: ${stages.map((s) => `${s} ${samples[s].at(-1)!.toFixed(1)}`).join(', ')} ms wall\n`);
}

try {
  await reload(false);
  for (let k = 0; k < changes; k++) {
    const file = `added-${k}.yaml`;
    writeFileSync(join(staging, file), httpRouteYaml(`added-${k}`, `/added/${k}`));
    renameSync(join(staging, file), join(config, file));
    await reload(true);
  }
} finally {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
}
const p50 = (xs: number[]): string => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
process.stdout.write(`reload at ${n} routes, ${changes} changes, p50 wall ms: ${stages.map((s) => `${s} ${p50(samples[s])}`).join(', ')}\n`);
process.stdout.write(`  p50 CPU ms: ${stages.map((s) => `${s} ${p50(cpuSamples[s])}`).join(', ')}\n`);
