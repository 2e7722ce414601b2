// Process handling for the benchmark: every server is started pinned to a core (taskset),
// with a hard lifetime (coreutils `timeout`) so that nothing survives even a SIGKILL of the
// benchmark, in its own process group so that one kill reaches the whole tree, and with its
// output in a log file. CPU time is read from /proc.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, writeFileSync, existsSync, accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Server {
  readonly name: string;
  /** Pid of the `timeout` wrapper; the server is its descendant (same process group). */
  readonly pid: number;
  readonly log: string;
  readonly child: ChildProcess;
  exited: boolean;
}

const servers: Server[] = [];
let pidFile: string | undefined;

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ). */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/**
 * Fails at once, naming what is missing, when a tool the benchmark runs is not installed
 * (instead of a server that never answers and a wait for its start-up timeout).
 */
export function requireTools(tools: readonly string[]): void {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  const found = (t: string): boolean => dirs.some((d) => {
    try {
      accessSync(join(d, t), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  const missing = tools.filter((t) => !found(t));
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')} (run scripts/install-system-deps.sh)`);
}

/** Pins this process (every thread) to a core, so the orchestrator stays off the proxy's core. */
export function pinSelf(core: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Remembers the pids of this run in `file` (one "orchestrator-pid server-pid" line each), and
 * kills the process groups a previous run left behind there: only those whose orchestrator is
 * gone (so a concurrent run using the same file is never touched) and that are still our
 * `timeout` wrappers.
 */
export function usePidFile(file: string): void {
  pidFile = file;
  const keep: string[] = [];
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [owner, pid] = line.trim().split(' ').map(Number);
      if (owner === undefined || pid === undefined || !Number.isInteger(pid) || pid <= 1) continue;
      if (alive(owner)) { keep.push(line); continue; }
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes('fluxgate-bench')) process.kill(-pid, 'SIGKILL');
      } catch { /* gone */ }
    }
  }
  writeFileSync(file, keep.map((l) => `${l}\n`).join(''));
}

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('bench/');
  } catch {
    return false;
  }
}

export interface StartOptions {
  readonly name: string;
  readonly core: number;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly log: string;
  readonly lifetimeSec: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export function startServer(o: StartOptions): Server {
  const fd = openSync(o.log, 'a');
  // `timeout` is the group leader; `-k` escalates to SIGKILL. The marker in the wrapper's
  // argv (an env assignment via `env`) lets a later run recognise leftovers.
  const child = spawn('taskset', ['-c', String(o.core), 'timeout', '-k', '5', String(Math.ceil(o.lifetimeSec)),
    'env', 'FLUXGATE_BENCH=fluxgate-bench', o.cmd, ...o.args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: o.cwd,
    env: o.env ?? process.env,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${o.name}: spawn failed`);
  const server: Server = { name: o.name, pid: child.pid, log: o.log, child, exited: false };
  child.on('exit', () => { server.exited = true; });
  servers.push(server);
  if (pidFile !== undefined) writeFileSync(pidFile, `${process.pid} ${child.pid}\n`, { flag: 'a' });
  return server;
}

/** Sends `signal` to the server's process group, waits up to `graceMs`, then SIGKILLs it. */
export async function stopServer(s: Server, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  if (!s.exited) {
    // Signal the server itself, once: the `timeout` wrapper would forward a second copy, and a
    // Node process that handles only the first SIGINT dies on the second without exiting
    // cleanly (then --cpu-prof writes no profile). nginx's master handles its workers.
    const kids = descendants(s.pid);
    const first = kids[0];
    try { process.kill(first ?? s.pid, signal); } catch { /* gone */ }
    const deadline = Date.now() + graceMs;
    while (!s.exited && Date.now() < deadline) await sleep(50);
  }
  try { process.kill(-s.pid, 'SIGKILL'); } catch { /* gone */ }
}

export async function stopAll(): Promise<void> {
  await Promise.all(servers.map((s) => stopServer(s)));
}

/** Synchronous last resort, for process 'exit' handlers. */
export function killAllSync(): void {
  for (const s of servers) {
    try { process.kill(-s.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface StatLine { readonly pid: number; readonly ppid: number; readonly ticks: number }

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return { pid, ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** Pids of every live descendant of `root`. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = readStat(Number(entry));
    if (st === undefined) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(st.pid);
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const c of children.get(p) ?? []) { out.push(c); queue.push(c); }
  }
  return out;
}

/** utime+stime of a process tree, in seconds (all threads; children that exited are not counted). */
export function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of [root, ...descendants(root)]) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** Busy and total jiffies per CPU from /proc/stat, to see which core was saturated. */
export function cpuTimes(): { busy: number; total: number }[] {
  const out: { busy: number; total: number }[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (m === null) continue;
    const f = (m[2] ?? '').trim().split(/\s+/).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    out.push({ busy: total - idle, total });
  }
  return out;
}

export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}
