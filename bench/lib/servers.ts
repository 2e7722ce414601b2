// Starting the servers of the benchmark: the backend, nginx, the plain Node proxy and FluxGate,
// each from a generated configuration in its own folder under the run's work folder.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  fluxgateBaseYaml, fluxgateRoutesYaml, nginxBackendConf, nginxBackendFiles, nginxProxyConf, nginxRoutesConf, nodeProxySpec,
} from './configs.ts';
import { fluxgatePluginYaml } from './plugins.ts';
import type { Ports } from './configs.ts';
import { startServer } from './procs.ts';
import type { Server } from './procs.ts';

export interface Ctx {
  readonly repo: string;
  readonly work: string;
  readonly ports: Ports;
  readonly proxyCore: number;
  readonly loadCore: number;
  readonly lifetimeSec: number;
  readonly node: string;
}

function writeFile(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

const logPath = (c: Ctx, name: string): string => {
  mkdirSync(join(c.work, 'logs'), { recursive: true });
  return join(c.work, 'logs', `${name}.log`);
};

/** Output of a command (stdout and stderr: some tools print their version on stderr). */
export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim();
}

/** Resolves true when something already accepts connections on 127.0.0.1:port. */
export function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = netConnect({ host: '127.0.0.1', port });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

export function startBackend(c: Ctx): Server {
  const dir = join(c.work, 'backend');
  mkdirSync(dir, { recursive: true });
  const conf = writeFile(join(dir, 'nginx.conf'), nginxBackendConf(dir, c.ports));
  for (const [rel, data] of Object.entries(nginxBackendFiles())) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), data);
  }
  return startServer({ name: 'backend', core: c.loadCore, cmd: 'nginx', args: ['-p', dir, '-e', 'stderr', '-c', conf], log: logPath(c, 'backend'), lifetimeSec: c.lifetimeSec });
}

export function startNginxProxy(c: Ctx, n: number): Server {
  const dir = join(c.work, `nginx-${n}`);
  mkdirSync(dir, { recursive: true });
  writeFile(join(dir, 'routes.conf'), nginxRoutesConf(n));
  const conf = writeFile(join(dir, 'nginx.conf'), nginxProxyConf(dir, c.ports, n));
  return startServer({ name: `nginx-${n}`, core: c.proxyCore, cmd: 'nginx', args: ['-p', dir, '-e', 'stderr', '-c', conf], log: logPath(c, `nginx-${n}`), lifetimeSec: c.lifetimeSec });
}

export function startNodeProxy(c: Ctx, n: number): Server {
  const spec = writeFile(join(c.work, `node-proxy-${n}.json`), nodeProxySpec(c.ports, n));
  return startServer({ name: `node-${n}`, core: c.proxyCore, cmd: c.node, args: [join(c.repo, 'bench', 'node-proxy.ts'), spec], log: logPath(c, `node-proxy-${n}`), lifetimeSec: c.lifetimeSec, cwd: c.repo });
}

export function startFloor(c: Ctx): Server {
  return startServer({ name: 'floor', core: c.proxyCore, cmd: c.node, args: [join(c.repo, 'bench', 'node-floor.ts'), String(c.ports.floor), `http://127.0.0.1:${c.ports.backendH1}`], log: logPath(c, 'floor'), lifetimeSec: c.lifetimeSec, cwd: c.repo });
}

export function startBare(c: Ctx): Server {
  return startServer({ name: 'bare', core: c.proxyCore, cmd: c.node, args: [join(c.repo, 'bench', 'node-bare.ts'), String(c.ports.bare)], log: logPath(c, 'bare'), lifetimeSec: c.lifetimeSec, cwd: c.repo });
}

/**
 * Copies FluxGate's sources (working tree, or a git ref) into `dir`, so that others editing the
 * tree during a run cannot change what is measured. Returns a description for the report.
 */
export function snapshotFluxgate(repo: string, dir: string, ref: string | undefined): string {
  mkdirSync(dir, { recursive: true });
  if (ref !== undefined) {
    const tar = spawnSync('git', ['-C', repo, 'archive', '--format=tar', ref, 'src', 'package.json'], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) throw new Error(`git archive ${ref} failed: ${tar.stderr.toString()}`);
    const x = spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
    if (x.status !== 0) throw new Error(`tar failed: ${x.stderr.toString()}`);
  } else {
    cpSync(join(repo, 'src'), join(dir, 'src'), { recursive: true });
    cpSync(join(repo, 'package.json'), join(dir, 'package.json'));
  }
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  const head = sh('git', ['-C', repo, 'rev-parse', '--short', ref ?? 'HEAD']);
  if (ref !== undefined) return `git ${ref} (${head})`;
  const dirty = sh('git', ['-C', repo, 'status', '--porcelain', '--', 'src']).split('\n').filter((l) => l.trim() !== '').length;
  return `a copy of the working tree at ${head}${dirty > 0 ? ` with ${dirty} uncommitted path(s) under src/` : ''}`;
}

/**
 * The Node.js flags FluxGate's own launchers pass, as the snapshot in `src` defines them (none
 * for a ref older than src/runtime-flags.ts), so the benchmark measures FluxGate as users run it.
 */
export async function fluxgateRuntimeFlags(src: string): Promise<readonly string[]> {
  const file = join(src, 'src', 'runtime-flags.ts');
  if (!existsSync(file)) return [];
  const mod = await import(pathToFileURL(file).href) as { RUNTIME_FLAGS?: readonly string[] };
  return mod.RUNTIME_FLAGS ?? [];
}

/** The folder FluxGate of table size n watches. */
export const fluxgateConfigDir = (c: Ctx, n: number): string => join(c.work, `fluxgate-${n}`, 'config');

/** Starts FluxGate from the snapshot in `src`, serving n routes. `nodeArgs`: its runtime flags, e.g. --cpu-prof. */
export function startFluxgate(c: Ctx, src: string, n: number, nodeArgs: readonly string[] = []): Server {
  const dir = fluxgateConfigDir(c, n);
  mkdirSync(dir, { recursive: true });
  writeFile(join(dir, 'base.yaml'), fluxgateBaseYaml(c.ports, n));
  writeFile(join(dir, 'routes.yaml'), fluxgateRoutesYaml(n));
  writeFile(join(dir, 'plugins.yaml'), fluxgatePluginYaml('bench'));
  return startServer({
    name: `fluxgate-${n}`, core: c.proxyCore, cmd: c.node,
    args: [...nodeArgs, join(src, 'src', 'main.ts'), 'serve', '--config', dir, '--bind-address', '127.0.0.1', '--admin-address', `127.0.0.1:${c.ports.fluxgate(n).admin}`],
    log: logPath(c, `fluxgate-${n}`), lifetimeSec: c.lifetimeSec, cwd: src,
  });
}
