// `npm run conformance`: the upstream Gateway API conformance suite against FluxGate on the
// local test cluster. Brings the cluster up (npm run cluster:up), makes sure the GatewayClass
// `fluxgate` exists, starts `fluxgate controller --local` (log in conformance/out/), runs the
// Go test of this folder with -json, checks the upstream report against the per-test results,
// keeps the report under conformance/reports/<gateway-api-version>/ when it is a full run,
// prints passed/failed/skipped per profile, stops the controller. Exits non-zero on any
// failed test, on a report that disagrees with the test results, or when the run broke off.
//
//   npm run conformance                                   # GATEWAY-HTTP, -GRPC, -TLS, -TCP, -UDP; report written
//   npm run conformance -- --run HTTPRouteSimpleSameNamespace
//   CONFORMANCE_PROFILES=GATEWAY-HTTP,GATEWAY-GRPC npm run conformance
//   npm run conformance -- --skip A,B -- -debug           # after a second --: upstream flags
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { checkReport, collectResults, formatSummary, parseGoTestLine, reportFileName, summarizeReport } from './results.ts';
import { RUNTIME_FLAGS } from '../src/runtime-flags.ts';
import type { ConformanceReport, GoTestEvent } from './results.ts';

const USAGE = `usage: npm run conformance -- [options] [-- upstream flags]
  --profiles P1,P2    conformance profiles (env CONFORMANCE_PROFILES; default
                      GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS,GATEWAY-TCP,GATEWAY-UDP)
  --run NAME          run one upstream test, e.g. HTTPRouteSimpleSameNamespace (env CONFORMANCE_RUN);
                      no report is written
  --skip A,B          upstream tests to skip (env CONFORMANCE_SKIP); they show as skipped in the report
  --no-report         do not write conformance/reports/
  --no-cluster-up     do not run npm run cluster:up (the cluster is already up)
  --no-controller     do not start a controller (one already runs against the cluster)
  --parallel N        how many parallel-marked upstream tests run at once (go test -parallel;
                      env CONFORMANCE_PARALLEL; default 4: most of them wait on status, not CPU)
  --timeout D         go test -timeout (env CONFORMANCE_TIMEOUT; default 90m)
  --fail-on WHAT      any (default): exit non-zero on any failed test; core: only on failed core
                      tests, setup failures and bad reports (env CONFORMANCE_FAIL_ON; CI)
  --verbose           print every test's output, not only the failed ones'
  --without-coredns   base manifests without the coredns Deployment, for a cluster that cannot run
                      it, such as one whose process kubelet was started before it could play the
                      coredns image (env CONFORMANCE_WITHOUT_COREDNS=1; the UDPRoute test, whose
                      backend is coredns, is skipped then)
`;

const repo = resolve(import.meta.dirname, '..');
const here = join(repo, 'conformance');
const out = join(here, 'out');
const kubeconfig = process.env.KUBECONFIG_CONFORMANCE ?? join(repo, '.cluster', 'kubeconfig');
const kubectlBin = join(repo, '.cluster', 'bin', 'kubectl');
const GATEWAY_CLASS = 'fluxgate';
const CONTROLLER_NAME = 'fluxgate.io/gateway-controller';
const BASE_NAMESPACE_PREFIX = 'gateway-conformance';

function log(message: string): void {
  process.stdout.write(`conformance: ${message}\n`);
}

function fail(message: string): never {
  process.stderr.write(`conformance: ${message}\n`);
  process.exit(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function kubectl(args: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8', input, timeout: 60_000, maxBuffer: 64 << 20,
  });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

function runInherit(cmd: string, args: readonly string[]): Promise<number> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd: repo, stdio: 'inherit' });
    child.on('exit', (code, signal) => res(code ?? (signal ? 1 : 0)));
    child.on('error', () => res(1));
  });
}

// ---- options ----

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const ownArgs = split === -1 ? argv : argv.slice(0, split);
const upstreamArgs = split === -1 ? [] : argv.slice(split + 1);
function parseOptions() {
  try {
    return parseArgs({
      args: ownArgs,
      options: {
        profiles: { type: 'string' },
        run: { type: 'string' },
        skip: { type: 'string' },
        'no-report': { type: 'boolean', default: false },
        'no-cluster-up': { type: 'boolean', default: false },
        'no-controller': { type: 'boolean', default: false },
        timeout: { type: 'string' },
        parallel: { type: 'string' },
        'fail-on': { type: 'string' },
        verbose: { type: 'boolean', default: false },
        'without-coredns': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const values = parseOptions();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
// One report file holds every profile of a run, so the default run covers every profile the
// report in conformance/reports/ shows (a GATEWAY-HTTP-only run would drop the others).
const profiles = values.profiles ?? process.env.CONFORMANCE_PROFILES ?? 'GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS,GATEWAY-TCP,GATEWAY-UDP';
const runTest = values.run ?? process.env.CONFORMANCE_RUN ?? '';
const skipTests = values.skip ?? process.env.CONFORMANCE_SKIP ?? '';
const timeout = values.timeout ?? process.env.CONFORMANCE_TIMEOUT ?? '90m';
const parallel = values.parallel ?? process.env.CONFORMANCE_PARALLEL ?? '4';
if (!/^[1-9][0-9]*$/.test(parallel)) {
  process.stderr.write(`--parallel must be a positive integer\n${USAGE}`);
  process.exit(2);
}
const metricsAddress = process.env.CONFORMANCE_METRICS_ADDRESS ?? '127.0.0.1:19902';
const withoutCoreDNS = values['without-coredns'] || process.env.CONFORMANCE_WITHOUT_COREDNS === '1';
// The UDPRoute test's only backend is the coredns Deployment that --without-coredns leaves out:
// it cannot pass then, so it is skipped (and the report says skipped) instead of failing the run.
const COREDNS_TESTS = ['UDPRoute'];
const skipped = [...skipTests.split(',').filter((t) => t !== ''), ...(withoutCoreDNS ? COREDNS_TESTS : [])].join(',');
const failOn = values['fail-on'] ?? process.env.CONFORMANCE_FAIL_ON ?? 'any';
if (failOn !== 'any' && failOn !== 'core') {
  process.stderr.write(`--fail-on must be any or core\n${USAGE}`);
  process.exit(2);
}
const writeReport = !values['no-report'] && runTest === '';

// ---- cluster, GatewayClass, leftovers ----

async function ensureCluster(): Promise<void> {
  if (!values['no-cluster-up']) {
    log('npm run cluster:up');
    const code = await runInherit('npm', ['run', '--silent', 'cluster:up']);
    if (code !== 0) fail(`npm run cluster:up failed (exit ${code}); see .cluster/logs/`);
  }
  if (!existsSync(kubeconfig) || !existsSync(kubectlBin)) fail(`no test cluster: ${kubeconfig} or ${kubectlBin} missing`);
  const r = kubectl(['get', '--raw', '/readyz']);
  if (r.code !== 0) fail(`the test cluster does not answer: ${r.stderr.trim()}`);
}

// The base setup waits up to 300 s for every infra pod, the coredns one included. A test
// cluster's process kubelet says on its Node which images it plays (test/cluster/kubelet.ts):
// when none plays coredns, say so now. Nodes of other clusters carry no such annotation.
const KUBELET_PROGRAMS_ANNOTATION = 'fluxgate.io/process-kubelet-programs';
function ensureCoreDNSRuns(): void {
  if (withoutCoreDNS) return;
  const r = kubectl(['get', 'nodes', '-l', 'node.kubernetes.io/instance-type=fluxgate-process-kubelet', '-o', 'json']);
  if (r.code !== 0) fail(`listing nodes: ${r.stderr.trim()}`);
  const nodes = (JSON.parse(r.stdout) as { items: { metadata: { annotations?: Record<string, string> } }[] }).items;
  if (nodes.length === 0) return;
  const plays = nodes.some((n) => (n.metadata.annotations?.[KUBELET_PROGRAMS_ANNOTATION] ?? '').split(',').includes('coredns'));
  if (!plays) {
    fail('the test cluster\'s process kubelet does not run the coredns image of the base manifests (it was started '
      + 'before it could): restart the cluster (npm run cluster:down && npm run cluster:up), or run with --without-coredns');
  }
}

function ensureGatewayClass(): void {
  const r = kubectl(['get', 'gatewayclass', GATEWAY_CLASS, '-o', 'json']);
  if (r.code === 0) {
    const gwc = JSON.parse(r.stdout) as { spec?: { controllerName?: string } };
    if (gwc.spec?.controllerName !== CONTROLLER_NAME) {
      fail(`GatewayClass ${GATEWAY_CLASS} exists with controllerName ${gwc.spec?.controllerName}, not ${CONTROLLER_NAME}`);
    }
    return;
  }
  if (!r.stderr.includes('NotFound')) fail(`reading GatewayClass ${GATEWAY_CLASS}: ${r.stderr.trim()}`);
  const manifest = JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: GATEWAY_CLASS },
    spec: { controllerName: CONTROLLER_NAME, description: 'FluxGate (conformance runs)' },
  });
  const c = kubectl(['create', '-f', '-'], manifest);
  if (c.code !== 0) fail(`creating GatewayClass ${GATEWAY_CLASS}: ${c.stderr.trim()}`);
  log(`created GatewayClass ${GATEWAY_CLASS} (controllerName ${CONTROLLER_NAME})`);
}

/**
 * Namespaces of an earlier run (gateway-conformance-*) are deleted first, so every run starts
 * from the upstream base manifests and no leftover route or Gateway takes part in it.
 */
async function removeLeftovers(): Promise<void> {
  const list = (): string[] => {
    const r = kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}']);
    if (r.code !== 0) fail(`listing namespaces: ${r.stderr.trim()}`);
    return r.stdout.split(/\s+/).filter((n) => n.startsWith(BASE_NAMESPACE_PREFIX));
  };
  let left = list();
  if (left.length === 0) return;
  log(`deleting namespaces of an earlier run: ${left.join(' ')}`);
  kubectl(['delete', 'namespace', '--wait=false', '--ignore-not-found', ...left]);
  const deadline = Date.now() + 300_000;
  while (left.length > 0) {
    if (Date.now() > deadline) fail(`namespaces still terminating after 300 s: ${left.join(' ')}`);
    await sleep(1000);
    left = list();
  }
}

// ---- controller ----

let controller: ChildProcess | undefined;
/** How the controller ended (undefined while it runs); `stopped` when stopController asked it to. */
let controllerExit: { code: number | null; signal: NodeJS.Signals | null; stopped: boolean } | undefined;
let stopping = false;

function startController(): void {
  const logFile = join(out, 'controller.log');
  const fd = openSync(logFile, 'w');
  controller = spawn(process.execPath, [...RUNTIME_FLAGS, join(repo, 'src', 'main.ts'), 'controller', '--local', '--metrics-address', metricsAddress], {
    cwd: repo, stdio: ['ignore', fd, fd], env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  closeSync(fd);
  controller.on('exit', (code, signal) => {
    controllerExit = { code, signal, stopped: stopping };
    log(`controller exited (${signal ?? `code ${code}`}); log: conformance/out/controller.log`);
  });
  log(`started fluxgate controller --local (pid ${controller.pid}, log conformance/out/controller.log)`);
}

async function stopController(): Promise<void> {
  const child = controller;
  if (child === undefined || controllerExit !== undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  stopping = true;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface Condition { type: string; status: string; observedGeneration?: number }

async function waitGatewayClassReady(): Promise<string[]> {
  const deadline = Date.now() + 90_000;
  let last = '';
  while (Date.now() < deadline) {
    if (controllerExit !== undefined) fail('the controller exited before accepting the GatewayClass; see conformance/out/controller.log');
    const r = kubectl(['get', 'gatewayclass', GATEWAY_CLASS, '-o', 'json']);
    if (r.code === 0) {
      const gwc = JSON.parse(r.stdout) as {
        metadata: { generation?: number };
        status?: { conditions?: Condition[]; supportedFeatures?: { name: string }[] };
      };
      const accepted = gwc.status?.conditions?.find((c) => c.type === 'Accepted');
      const features = (gwc.status?.supportedFeatures ?? []).map((f) => f.name);
      if (accepted?.status === 'True' && accepted.observedGeneration === gwc.metadata.generation && features.length > 0) {
        return features;
      }
      last = `Accepted=${accepted?.status ?? 'unset'}, ${features.length} supported features`;
    } else {
      last = r.stderr.trim();
    }
    await sleep(500);
  }
  fail(`GatewayClass ${GATEWAY_CLASS} not accepted within 90 s (${last}); see conformance/out/controller.log`);
}

// ---- go test ----

interface GoRun { code: number; events: GoTestEvent[] }

function runGoTest(reportPath: string): Promise<GoRun> {
  const args = [
    'test', '-count=1', '-json', '-timeout', timeout, '-parallel', parallel, '-run', '^TestConformance$', '.', '-args',
    `-conformance-profiles=${profiles}`,
    `-report-output=${reportPath}`,
    ...(runTest === '' ? [] : [`-run-test=${runTest}`]),
    ...(skipped === '' ? [] : [`-skip-tests=${skipped}`]),
    ...(withoutCoreDNS ? ['-fluxgate.without-coredns'] : []),
    ...upstreamArgs,
  ];
  log(`go ${args.join(' ')}`);
  const raw = createWriteStream(join(out, 'go-test.json'));
  const child = spawn('go', args, {
    cwd: here, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  goTest = child;
  const events: GoTestEvent[] = [];
  const output = new Map<string, string[]>();
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    raw.write(`${line}\n`);
    const ev = parseGoTestLine(line);
    if (ev === undefined) {
      process.stdout.write(`${line}\n`);
      return;
    }
    events.push(ev);
    const test = ev.Test ?? '';
    const top = test.split('/').slice(0, 2).join('/');
    if (ev.Action === 'output' && ev.Output !== undefined) {
      if (test === '' || test === 'TestConformance') process.stdout.write(collapse(ev.Output));
      else if (values.verbose) process.stdout.write(ev.Output);
      else {
        const buf = output.get(top) ?? [];
        buf.push(ev.Output);
        output.set(top, buf);
      }
      return;
    }
    if (test.split('/').length !== 2 || !['pass', 'fail', 'skip'].includes(ev.Action)) return;
    const name = test.slice('TestConformance/'.length);
    if (ev.Action === 'fail') {
      if (!values.verbose) process.stdout.write((output.get(top) ?? []).join(''));
      process.stdout.write(`FAIL  ${name} (${ev.Elapsed ?? 0}s)\n`);
    } else if (ev.Action === 'pass') {
      process.stdout.write(`PASS  ${name} (${ev.Elapsed ?? 0}s)\n`);
    }
    output.delete(top);
  });
  const linesDone = new Promise<void>((r) => lines.once('close', () => r()));
  const exited = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 1 : 0))));
  return Promise.all([exited, linesDone]).then(([code]) => {
    goTest = undefined;
    return new Promise<GoRun>((r) => raw.end(() => r({ code, events })));
  });
}

let goTest: ChildProcess | undefined;

// The suite polls every 100 ms and logs each attempt: print a line again only once it stops
// repeating, with a count of what was left out.
const recent: string[] = [];
let repeated = 0;
function collapse(line: string): string {
  const key = line.replace(/^\s*\S+\.go:\d+: /, '').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z: /, '');
  if (recent.includes(key)) {
    repeated++;
    return '';
  }
  recent.push(key);
  if (recent.length > 4) recent.shift();
  const note = repeated > 0 ? `    ... (${repeated} repeated poll lines left out)\n` : '';
  repeated = 0;
  return note + line;
}

function onSignal(signal: NodeJS.Signals): void {
  log(`${signal}: stopping`);
  goTest?.kill(signal);
  void stopController().then(() => process.exit(130));
}

// ---- main ----

async function main(): Promise<number> {
  mkdirSync(out, { recursive: true });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  await ensureCluster();
  ensureCoreDNSRuns();
  ensureGatewayClass();
  await removeLeftovers();
  if (!values['no-controller']) startController();
  let status = 1;
  try {
    status = await runSuite();
  } finally {
    await stopController();
  }
  // A controller that crashed, or did not stop cleanly when asked, fails the run even when
  // every test passed: conformance says nothing about a gateway that falls over.
  if (controllerExit !== undefined && !(controllerExit.stopped && controllerExit.code === 0)) {
    const how = controllerExit.signal ?? `code ${controllerExit.code}`;
    process.stdout.write(controllerExit.stopped ? `the controller did not stop cleanly (${how}): failing the run\n` : `the controller exited during the run (${how}): failing the run\n`);
    return 1;
  }
  return status;
}

/** The suite against a started controller: the exit status from the tests and the report. */
async function runSuite(): Promise<number> {
  const features = await waitGatewayClassReady();
  log(`GatewayClass ${GATEWAY_CLASS} accepted; supportedFeatures: ${features.join(', ')}`);

  const rawReport = join(out, 'report.yaml');
  writeFileSync(rawReport, '');
  const started = Date.now();
  const go = await runGoTest(rawReport);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);

  const results = collectResults(go.events);
  const text = readFileSync(rawReport, 'utf8');
  const report = text.trim() === '' ? undefined : (parseYaml(text) as ConformanceReport);
  const problems = report === undefined ? [] : checkReport(report, results);
  const summaries = report === undefined ? [] : summarizeReport(report);

  process.stdout.write(`\n== conformance summary (${profiles}${runTest ? `, only ${runTest}` : ''}; ${minutes} min)\n`);
  process.stdout.write(`${formatSummary(results, summaries)}\n`);
  if (withoutCoreDNS) process.stdout.write('NOTE: run with --without-coredns: base manifests lack the coredns Deployment\n');
  for (const p of problems) process.stdout.write(`REPORT MISMATCH: ${p}\n`);

  const server = /server: https:\/\/(\S+)/.exec(readFileSync(kubeconfig, 'utf8'))?.[1] ?? '127.0.0.1:6443';
  const lostCluster = go.events.some((e) => e.Output?.includes(`${server}: connect: connection refused`) ?? false)
    || kubectl(['get', '--raw', '/readyz']).code !== 0;
  if (lostCluster) {
    process.stdout.write('WARNING: the test cluster went away during the run (a cluster:down elsewhere?); failures after that say nothing about FluxGate\n');
  }
  const failed = results.tests.some((t) => t.outcome === 'fail');
  const broken = go.code !== 0 && !failed; // setup failure, build error, timeout, panic
  if (broken) process.stdout.write(`go test exited ${go.code} without a failed conformance test: setup, build or timeout problem (see above)\n`);

  if (report !== undefined && writeReport) {
    if (problems.length > 0 || results.packageOutcome === undefined) {
      process.stdout.write('report NOT kept: it disagrees with the test results or the run broke off\n');
    } else {
      const dir = join(here, 'reports', report.gatewayAPIVersion ?? 'unknown');
      mkdirSync(dir, { recursive: true });
      const target = join(dir, reportFileName(report));
      writeFileSync(target, text);
      process.stdout.write(`report: ${target.slice(repo.length + 1)}\n`);
    }
  }
  process.stdout.write(`logs: conformance/out/go-test.json, conformance/out/controller.log\n`);
  if (broken || problems.length > 0 || results.packageOutcome === undefined) return 1;
  if (failOn === 'core') {
    // Core failures come from the report; without one (a --run of one test) any failure counts.
    const coreFailed = report === undefined ? failed : summaries.some((p) => p.core.failed > 0);
    if (!coreFailed && failed) process.stdout.write('only extended tests failed; --fail-on core: exit 0\n');
    return coreFailed ? 1 : 0;
  }
  return failed || results.packageOutcome !== 'pass' ? 1 : 0;
}

process.exitCode = await main();
