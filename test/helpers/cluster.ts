// The local test cluster (npm run cluster:up) as the tests reach it: kubectl against
// .cluster/kubeconfig, a readiness probe, and a bounded poll. Shared by test/cluster and
// test/integration.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const state = join(import.meta.dirname, '..', '..', '.cluster');
export const kubeconfig = join(state, 'kubeconfig');
export const kubectlBin = join(state, 'bin', 'kubectl');

export function kubectl(args: string[], input?: string, timeoutMs = 30_000, config = kubeconfig): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(kubectlBin, ['--kubeconfig', config, ...args], { timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Whether the cluster's files exist at all (before asking its API server anything). */
export function clusterConfigured(): boolean {
  return existsSync(kubeconfig) && existsSync(kubectlBin);
}

/** True when the API server answers /readyz with ok; throws when it cannot be reached. */
export async function apiServerReady(): Promise<boolean> {
  return (await kubectl(['get', '--raw', '/readyz', '--request-timeout', '5s'], undefined, 10_000)).trim() === 'ok';
}

/** A cluster is configured and its API server is ready. */
export async function clusterReachable(): Promise<boolean> {
  if (!clusterConfigured()) return false;
  try {
    return await apiServerReady();
  } catch {
    return false;
  }
}

/** Polls fn every `everyMs` until it returns a value other than undefined; fails after timeoutMs. */
export async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
}
