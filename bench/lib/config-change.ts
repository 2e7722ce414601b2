// Config change latency: with FluxGate serving a large table, add one HTTPRoute by moving a new
// file into the watched config folder, and time from that write to the first 200 on the new
// route (polled about every millisecond over one keep-alive connection). Optionally under a
// background wrk load on an existing route, whose failed requests are counted.
import { renameSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { httpRouteYaml } from './configs.ts';
import { get, startWrk } from './load.ts';
import type { LoadResult } from './load.ts';
import { sleep } from './procs.ts';

export interface ChangeOptions {
  /** The folder FluxGate watches. */
  readonly configDir: string;
  /** A folder on the same filesystem, outside the watched one, for the file before its rename. */
  readonly stagingDir: string;
  /** http://127.0.0.1:PORT of the FluxGate listener. */
  readonly origin: string;
  /** Existing route for the background load; undefined runs without load. */
  readonly loadPath?: string;
  readonly loadConnections: number;
  readonly loadCore: number;
  readonly changes: number;
  /** Unique tag so repeated runs add new routes. */
  readonly tag: string;
  readonly perChangeTimeoutMs: number;
  /** Pause between changes, so each reload is measured on its own. */
  readonly gapMs: number;
}

export interface ChangeResult {
  readonly underLoad: boolean;
  /** Milliseconds from the rename to the first 200, one per change that became visible. */
  readonly latenciesMs: number[];
  /** Changes that did not answer 200 within the timeout. */
  readonly timedOut: number;
  /** Non-200 answers the poller saw before the first 200 (404 expected), per change. */
  readonly polls: number[];
  /** The background load over the whole test, including its failed requests. */
  readonly load?: LoadResult;
  /** FluxGate's own pipeline timings of the reloads in this test, from its log. */
  readonly pipeline?: { translateMs: number; totalMs: number }[];
}

export async function measureConfigChanges(o: ChangeOptions): Promise<ChangeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const polls: number[] = [];
  let timedOut = 0;
  // Bounded: wrk stops by itself at this duration; it is interrupted as soon as we are done.
  const loadSeconds = Math.ceil((o.changes * (o.perChangeTimeoutMs + o.gapMs)) / 1000) + 5;
  const wrk = o.loadPath === undefined ? undefined
    : startWrk({ url: `${o.origin}${o.loadPath}`, connections: o.loadConnections, seconds: loadSeconds, core: o.loadCore });
  try {
    await sleep(1000);
    for (let k = 0; k < o.changes; k++) {
      const name = `added-${o.tag}-${k}`;
      const prefix = `/added/${o.tag}/${k}`;
      const url = `${o.origin}${prefix}/bench`;
      const before = await get(url, 5000, agent).catch(() => undefined);
      if (before?.status === 200) throw new Error(`${url} answers 200 before its route exists`);
      const staged = join(o.stagingDir, `${name}.yaml`);
      writeFileSync(staged, httpRouteYaml(name, prefix).replace(/^---\n/, ''));
      const t0 = performance.now();
      renameSync(staged, join(o.configDir, `${name}.yaml`));
      let n = 0;
      let ok = false;
      while (performance.now() - t0 < o.perChangeTimeoutMs) {
        const r = await get(url, 5000, agent).catch(() => undefined);
        if (r?.status === 200) { ok = true; break; }
        n++;
        await sleep(1);
      }
      if (ok) latencies.push(performance.now() - t0);
      else timedOut++;
      polls.push(n);
      await sleep(o.gapMs);
    }
  } finally {
    wrk?.interrupt();
    agent.destroy();
  }
  const load = wrk === undefined ? undefined : await wrk.done;
  return { underLoad: wrk !== undefined, latenciesMs: latencies, timedOut, polls, ...(load === undefined ? {} : { load }) };
}

/** Removes the routes a change test added (used when the folder is reused). */
export function removeAdded(configDir: string, names: readonly string[]): void {
  for (const n of names) rmSync(join(configDir, `${n}.yaml`), { force: true });
}
