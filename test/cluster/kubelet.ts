// The process kubelet: plays one Node of the test cluster without containers. It registers the
// Node, binds pending pods to it (there is no scheduler), gives each pod a network namespace on
// the pod bridge, runs the program behind each container image as a process inside it, writes
// pod status (Ready only once the ports answer), restarts crashed processes and finishes pod
// deletions so namespaces can terminate. EndpointSlices come from the real endpointslice
// controller, fed by the status written here. Images: echo-basic, and with --coredns the coredns
// image of the conformance base manifests (the UDPRoute backend).
//
//   node test/cluster/kubelet.ts --kubeconfig K --node-name N --state-dir D --echo-basic BIN
//     [--coredns BIN] [--bridge fg-br0 --bridge-ip 10.244.0.1 --pod-cidr 10.244.0.0/16 --netns-prefix fg-pod-]
//     [--port 10250 --tls-cert-file C --tls-private-key-file K --client-ca-file CA]
// With the TLS files it serves the kubelet API subset for `pods/log` on the bridge address
// (container-logs.ts) and publishes that port in the Node's daemonEndpoints.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { arch, constants, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Container, V1ContainerStatus, V1Node, V1NodeCondition, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { pipeLog, serveContainerLogs } from './container-logs.ts';
import { PodNetwork } from './pod-network.ts';
import { canConnect, dnsAnswers } from './probes.ts';
import {
  apiMessage, buildEnv, containerArgs, corednsConfPath, materializeVolumes, MountMap, NotReadyYet, PodReader, programKinds, PROGRAMS_ANNOTATION, readinessChecks,
  resolveProgram, supportedImagesHint,
} from './pod-spec.ts';
import type { Program, ReadinessCheck } from './pod-spec.ts';

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'node-name': { type: 'string', default: 'fluxgate-node' },
    'state-dir': { type: 'string' },
    'echo-basic': { type: 'string' },
    coredns: { type: 'string' },
    bridge: { type: 'string', default: 'fg-br0' },
    'bridge-ip': { type: 'string', default: '10.244.0.1' },
    'pod-cidr': { type: 'string', default: '10.244.0.0/16' },
    'netns-prefix': { type: 'string', default: 'fg-pod-' },
    port: { type: 'string', default: '10250' },
    'tls-cert-file': { type: 'string' },
    'tls-private-key-file': { type: 'string' },
    'client-ca-file': { type: 'string' },
  },
});
if (!args.kubeconfig || !args['state-dir'] || !args['echo-basic']) {
  console.error('usage: kubelet.ts --kubeconfig FILE --state-dir DIR --echo-basic BIN [--coredns BIN] [--node-name NAME]');
  process.exit(2);
}
const nodeName = args['node-name'];
const bridgeIp = args['bridge-ip'];
const podsDir = join(args['state-dir'], 'pods');
const programs = { echoBasic: args['echo-basic'], coredns: args.coredns };
const kubeletPort = Number(args.port);
const serveApi = !!(args['tls-cert-file'] && args['tls-private-key-file'] && args['client-ca-file']);

const kc = new KubeConfig();
kc.loadFromFile(args.kubeconfig);
const api = kc.makeApiClient(CoreV1Api);
const reader = new PodReader(api);
const network = new PodNetwork({ bridge: args.bridge, bridgeIp, podCidr: args['pod-cidr'], netnsPrefix: args['netns-prefix'] });
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const log = (msg: string): void => console.log(`${new Date().toISOString()} ${msg}`);
const now = (): Date => new Date();
const errText = (err: unknown): string => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? `HTTP ${code}: ${apiMessage(err)}` : apiMessage(err);
};
const isCode = (err: unknown, code: number): boolean => (err as { code?: number }).code === code;

// ---------------------------------------------------------------- per-pod runtime state

interface ContainerRuntime {
  spec: V1Container;
  program?: Program;
  env: Record<string, string>;
  /** The program's arguments: the container's args with $(VAR)s expanded and mount paths rewritten. */
  args: string[];
  checks: ReadinessCheck[];
  proc?: ChildProcess;
  startedAt?: Date;
  ready: boolean;
  restartCount: number;
  /** Why the container is not running: an unknown image, a crash back-off. */
  waiting?: { reason: string; message: string };
  lastTerminated?: { exitCode: number; signal?: string; reason: string; startedAt?: Date; finishedAt: Date };
  terminated?: { exitCode: number; reason: string; startedAt?: Date; finishedAt: Date };
  restartTimer?: NodeJS.Timeout;
  probeTimer?: NodeJS.Timeout;
}

interface PodRuntime {
  uid: string;
  namespace: string;
  name: string;
  pod: V1Pod;
  dir: string;
  netns?: string;
  ip?: string;
  startTime: Date;
  containers: Map<string, ContainerRuntime>;
  /** Set once the pod is being torn down: nothing restarts any more. */
  stopping: boolean;
  /** Set once the containers were started: a queued retry of setupPod must not start them twice. */
  started: boolean;
  /** Why the pod could not start yet (a Secret not there); retried by the resync. */
  pending?: { reason: string; message: string; retryAt: number };
  lastStatus?: string;
  statusTimer?: NodeJS.Timeout;
}

const pods = new Map<string, PodRuntime>();
/** One operation at a time per pod: start, stop and status writes never interleave. */
const queues = new Map<string, Promise<void>>();
function serial(uid: string, op: () => Promise<void>): Promise<void> {
  const prev = queues.get(uid) ?? Promise.resolve();
  const next = prev.then(op).catch((err: unknown) => log(`pod ${uid}: ${errText(err)}`));
  queues.set(uid, next);
  void next.then(() => {
    if (queues.get(uid) === next) queues.delete(uid);
  });
  return next;
}

// ---------------------------------------------------------------- the node

function nodeConditions(): V1NodeCondition[] {
  const t = now();
  const cond = (type: string, status: string, reason: string, message: string): V1NodeCondition => ({
    type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: startedAt,
  });
  return [
    cond('Ready', 'True', 'KubeletReady', 'fluxgate process kubelet is posting ready status'),
    cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
  ];
}
const startedAt = now();

async function registerNode(): Promise<void> {
  // Which images this node plays, for tools that need one (conformance/run.ts checks coredns
  // before waiting minutes for a pod that can never start).
  const annotations = { [PROGRAMS_ANNOTATION]: programKinds(programs).join(',') };
  const goArch = arch() === 'x64' ? 'amd64' : arch();
  const capacity = { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '250', 'ephemeral-storage': '10Gi' };
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': goArch,
        'node.kubernetes.io/instance-type': 'fluxgate-process-kubelet',
      },
      annotations,
    },
    spec: { podCIDR: args['pod-cidr'], podCIDRs: [args['pod-cidr']] },
  };
  try {
    await api.createNode({ body: node });
    log(`registered node ${nodeName}`);
  } catch (err) {
    if (!isCode(err, 409)) throw err;
    // The Node outlived an earlier kubelet, perhaps one started with other programs.
    await api.patchNode({ name: nodeName, body: { metadata: { annotations } } }, mergePatch);
  }
  const status = {
    capacity,
    allocatable: capacity,
    conditions: nodeConditions(),
    addresses: [
      { type: 'InternalIP', address: bridgeIp },
      { type: 'Hostname', address: nodeName },
    ],
    // The API server reaches the kubelet API (pods/log) at the InternalIP and this port.
    ...(serveApi ? { daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } } : {}),
    nodeInfo: {
      architecture: goArch,
      bootID: '',
      containerRuntimeVersion: 'fluxgate-process://1',
      kernelVersion: release(),
      kubeProxyVersion: '',
      kubeletVersion: process.env['KUBERNETES_VERSION'] ?? 'fluxgate-process-kubelet',
      machineID: hostname(),
      operatingSystem: 'linux',
      osImage: 'fluxgate process kubelet',
      systemUUID: '',
    },
  };
  await api.patchNodeStatus({ name: nodeName, body: { status } }, mergePatch);
}

async function heartbeat(): Promise<void> {
  try {
    await api.patchNodeStatus({ name: nodeName, body: { status: { conditions: nodeConditions() } } }, mergePatch);
  } catch (err) {
    if (isCode(err, 404)) await registerNode().catch((e: unknown) => log(`register node: ${errText(e)}`));
    else log(`node heartbeat: ${errText(err)}`);
  }
}

// ---------------------------------------------------------------- reconcile

function isOurs(pod: V1Pod): boolean {
  return pod.spec?.nodeName === nodeName;
}

async function bind(pod: V1Pod): Promise<void> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  try {
    await api.createNamespacedBinding({
      namespace,
      body: { metadata: { name, namespace, uid: pod.metadata?.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
    });
    log(`bound ${namespace}/${name}`);
  } catch (err) {
    // 409: bound meanwhile; 404: deleted meanwhile.
    if (!isCode(err, 409) && !isCode(err, 404)) log(`bind ${namespace}/${name}: ${errText(err)}`);
  }
}

function reconcile(pod: V1Pod): void {
  const uid = pod.metadata?.uid;
  if (!uid) return;
  const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
  if (!pod.spec?.nodeName) {
    if (scheduler === 'default-scheduler' && !pod.metadata?.deletionTimestamp) void serial(uid, () => bind(pod));
    return;
  }
  if (!isOurs(pod)) return;
  const rt = pods.get(uid);
  if (rt) rt.pod = pod;
  if (pod.metadata?.deletionTimestamp) {
    void serial(uid, () => finishDeletion(pod));
    return;
  }
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
    if (!rt) return;
  }
  if (!rt) {
    void serial(uid, () => startPod(pod));
  } else if (rt.pending && Date.now() >= rt.pending.retryAt) {
    void serial(uid, () => setupPod(rt));
  }
}

async function startPod(pod: V1Pod): Promise<void> {
  const uid = pod.metadata?.uid ?? '';
  if (pods.has(uid)) return;
  const rt: PodRuntime = {
    uid,
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    pod,
    dir: join(podsDir, uid),
    startTime: now(),
    containers: new Map(),
    stopping: false,
    started: false,
  };
  for (const c of pod.spec?.containers ?? []) {
    rt.containers.set(c.name, { spec: c, program: resolveProgram(c.image ?? '', programs), env: {}, args: [], checks: [], ready: false, restartCount: 0 });
  }
  pods.set(uid, rt);
  log(`starting ${rt.namespace}/${rt.name}`);
  await setupPod(rt);
}

/** Network, volumes, env, then the processes. A transient failure leaves the pod pending. */
async function setupPod(rt: PodRuntime): Promise<void> {
  if (rt.stopping || rt.started) return;
  const pod = rt.pod;
  const unknown = [...rt.containers.values()].filter((c) => !c.program);
  for (const c of unknown) {
    c.waiting = {
      reason: 'ImageNotSupported',
      message: `the fluxgate process kubelet cannot run image "${c.spec.image}": it runs only ${supportedImagesHint(programs)}`,
    };
  }
  if (unknown.length && !rt.pending) await event(rt, 'Warning', 'ImageNotSupported', unknown.map((c) => c.waiting?.message).join('; '));
  if ((pod.spec?.initContainers ?? []).length) {
    rt.pending = { reason: 'InitContainersNotSupported', message: 'the fluxgate process kubelet does not run init containers', retryAt: Infinity };
    await writeStatus(rt);
    return;
  }
  try {
    if (!rt.netns) {
      await mkdir(rt.dir, { recursive: true });
      const { netns, ip } = await network.create(rt.uid);
      rt.netns = netns;
      rt.ip = ip;
      rt.pod = { ...pod, status: { ...pod.status, podIP: ip, podIPs: [{ ip }], hostIP: bridgeIp } };
    }
    const volumes = await materializeVolumes(rt.pod, rt.dir, reader);
    for (const c of rt.containers.values()) {
      const mounts = new MountMap();
      for (const m of c.spec.volumeMounts ?? []) {
        const dir = volumes.get(m.name);
        if (dir) mounts.add(m.mountPath, m.subPath ? join(dir, m.subPath) : dir);
      }
      c.env = await buildEnv(rt.pod, c.spec, reader, mounts);
      c.args = containerArgs(c.spec, c.env, mounts);
      if (c.program) c.checks = readinessChecks(c.spec, c.env, c.program.kind, await corefileOf(rt, c));
    }
    rt.pending = undefined;
  } catch (err) {
    const transient = err instanceof NotReadyYet;
    const message = transient ? err.message : errText(err);
    if (rt.pending?.message !== message) log(`${rt.namespace}/${rt.name}: ${message} (retrying)`);
    rt.pending = {
      reason: transient ? 'CreateContainerConfigError' : 'CreatePodSandboxError',
      message,
      retryAt: Date.now() + 2000,
    };
    await writeStatus(rt);
    return;
  }
  rt.started = true;
  for (const c of rt.containers.values()) if (c.program) runContainer(rt, c);
  await writeStatus(rt);
}

function runContainer(rt: PodRuntime, c: ContainerRuntime): void {
  if (rt.stopping || !c.program || !rt.netns) return;
  const logFile = createWriteStream(join(rt.dir, `${c.spec.name}.log`), { flags: 'a' });
  // `ip netns exec` execs the program in place: the child's pid is the program's pid.
  const proc = spawn('ip', ['netns', 'exec', rt.netns, c.program.path, ...c.args], {
    env: c.env,
    cwd: rt.dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Two sources share one log file: neither may end it; the process's 'close' does.
  logFile.on('error', (err) => log(`${rt.namespace}/${rt.name}: ${c.spec.name} log: ${err.message}`));
  if (proc.stdout) pipeLog(proc.stdout, 'stdout', logFile);
  if (proc.stderr) pipeLog(proc.stderr, 'stderr', logFile);
  proc.once('close', () => logFile.end());
  c.proc = proc;
  c.startedAt = now();
  c.ready = false;
  c.waiting = undefined;
  c.terminated = undefined;
  log(`${rt.namespace}/${rt.name}: container ${c.spec.name} started (pid ${proc.pid})`);
  proc.on('error', (err) => log(`${rt.namespace}/${rt.name}: ${c.spec.name}: ${err.message}`));
  proc.on('exit', (code, signal) => {
    if (c.proc !== proc) return;
    c.proc = undefined;
    c.ready = false;
    clearTimeout(c.probeTimer);
    if (rt.stopping) return;
    const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 9) : 9);
    const finished = { exitCode, signal: signal ?? undefined, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: c.startedAt, finishedAt: now() };
    log(`${rt.namespace}/${rt.name}: container ${c.spec.name} exited (${signal ?? code})`);
    const policy = rt.pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)) {
      c.lastTerminated = finished;
      c.restartCount++;
      // Kubernetes backs off from 10 s; a test cluster wants crashed servers back sooner.
      const delay = Math.min(500 * 2 ** (c.restartCount - 1), 30_000);
      c.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 100) / 10}s restarting failed container ${c.spec.name}` };
      c.restartTimer = setTimeout(() => {
        void serial(rt.uid, async () => {
          runContainer(rt, c);
          await writeStatus(rt);
        });
      }, delay);
    } else {
      c.terminated = finished;
    }
    scheduleStatus(rt);
  });
  probe(rt, c, proc);
}

/** CoreDNS's Corefile as materialised (its serving ports are the readiness checks), if any. */
async function corefileOf(rt: PodRuntime, c: ContainerRuntime): Promise<string | undefined> {
  if (c.program?.kind !== 'coredns') return undefined;
  // coredns reads a relative -conf (and its default ./Corefile) from its working directory.
  const path = corednsConfPath(c.args) ?? 'Corefile';
  return readFile(path.startsWith('/') ? path : join(rt.dir, path), 'utf8').catch(() => undefined);
}

/** Ready once every readiness check passes on the pod's address (TCP connect, DNS over UDP). */
function probe(rt: PodRuntime, c: ContainerRuntime, proc: ChildProcess): void {
  const ip = rt.ip;
  if (!ip) return;
  const attempt = async (): Promise<void> => {
    if (c.proc !== proc || rt.stopping) return;
    const ok = (await Promise.all(c.checks.map((k) => (k.protocol === 'DNS' ? dnsAnswers(ip, k.port) : canConnect(ip, k.port))))).every(Boolean);
    if (c.proc !== proc || rt.stopping) return;
    if (ok !== c.ready) {
      c.ready = ok;
      scheduleStatus(rt);
    }
    // Fast until ready, then a slow re-check so a hung server is noticed.
    c.probeTimer = setTimeout(() => void attempt(), ok ? 5000 : 200);
  };
  c.probeTimer = setTimeout(() => void attempt(), 100);
}

async function stopProcesses(rt: PodRuntime, graceSeconds: number): Promise<void> {
  rt.stopping = true;
  clearTimeout(rt.statusTimer);
  const running: Promise<void>[] = [];
  for (const c of rt.containers.values()) {
    clearTimeout(c.restartTimer);
    clearTimeout(c.probeTimer);
    const proc = c.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) continue;
    running.push(
      new Promise<void>((resolve) => {
        const kill = setTimeout(() => proc.kill('SIGKILL'), Math.max(0, Math.min(graceSeconds, 10)) * 1000);
        proc.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
    );
  }
  await Promise.all(running);
}

async function teardown(rt: PodRuntime, graceSeconds: number): Promise<void> {
  await stopProcesses(rt, graceSeconds);
  await network.delete(rt.uid);
  if (rt.ip) network.release(rt.ip);
  await rm(rt.dir, { recursive: true, force: true });
  pods.delete(rt.uid);
  log(`stopped ${rt.namespace}/${rt.name}`);
}

async function finishDeletion(pod: V1Pod): Promise<void> {
  const uid = pod.metadata?.uid ?? '';
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const rt = pods.get(uid);
  if (rt) await teardown(rt, pod.metadata?.deletionGracePeriodSeconds ?? 30);
  try {
    await api.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
    log(`deleted ${namespace}/${name}`);
  } catch (err) {
    if (!isCode(err, 404) && !isCode(err, 409)) throw err;
  }
}

// ---------------------------------------------------------------- status

function containerStatus(rt: PodRuntime, c: ContainerRuntime): V1ContainerStatus {
  const state: V1ContainerStatus['state'] = c.proc
    ? { running: { startedAt: c.startedAt } }
    : c.terminated
      ? { terminated: { exitCode: c.terminated.exitCode, reason: c.terminated.reason, startedAt: c.terminated.startedAt, finishedAt: c.terminated.finishedAt } }
      : { waiting: c.waiting ?? (rt.pending ? { reason: rt.pending.reason, message: rt.pending.message } : { reason: 'ContainerCreating' }) };
  const status: V1ContainerStatus = {
    name: c.spec.name,
    image: c.spec.image ?? '',
    imageID: c.program ? `fluxgate-process://${c.program.path}` : '',
    containerID: c.proc?.pid ? `fluxgate-process://${c.proc.pid}` : undefined,
    ready: c.ready,
    started: !!c.proc,
    restartCount: c.restartCount,
    state,
  };
  if (c.lastTerminated) {
    status.lastState = {
      terminated: {
        exitCode: c.lastTerminated.exitCode,
        signal: c.lastTerminated.signal ? constants.signals[c.lastTerminated.signal as NodeJS.Signals] : undefined,
        reason: c.lastTerminated.reason,
        startedAt: c.lastTerminated.startedAt,
        finishedAt: c.lastTerminated.finishedAt,
      },
    };
  }
  return status;
}

function podStatus(rt: PodRuntime): V1PodStatus {
  const containers = [...rt.containers.values()];
  const statuses = containers.map((c) => containerStatus(rt, c));
  const allReady = containers.length > 0 && containers.every((c) => c.ready);
  const anyRunning = containers.some((c) => c.proc);
  const allTerminated = containers.length > 0 && containers.every((c) => c.terminated);
  const phase = allTerminated ? (containers.every((c) => c.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed') : anyRunning ? 'Running' : 'Pending';
  const notReady = containers.filter((c) => !c.ready).map((c) => c.spec.name);
  const unknown = containers.find((c) => !c.program);
  const cond = (type: string, ok: boolean, reason?: string, message?: string): V1PodCondition => ({
    type,
    status: ok ? 'True' : 'False',
    reason: ok ? undefined : reason,
    message: ok ? undefined : message,
    lastTransitionTime: undefined,
  });
  const notReadyMessage = unknown?.waiting?.message ?? rt.pending?.message ?? `containers with unready status: [${notReady.join(' ')}]`;
  const conditions: V1PodCondition[] = [
    cond('PodReadyToStartContainers', !!rt.netns, 'PodSandboxNotReady', rt.pending?.message),
    cond('Initialized', !(rt.pending?.reason === 'InitContainersNotSupported'), rt.pending?.reason, rt.pending?.message),
    cond('ContainersReady', allReady, unknown ? 'ImageNotSupported' : 'ContainersNotReady', notReadyMessage),
    cond('Ready', allReady, unknown ? 'ImageNotSupported' : 'ContainersNotReady', notReadyMessage),
    cond('PodScheduled', true),
  ];
  return {
    phase,
    conditions,
    hostIP: bridgeIp,
    hostIPs: [{ ip: bridgeIp }],
    podIP: rt.ip,
    podIPs: rt.ip ? [{ ip: rt.ip }] : undefined,
    startTime: rt.startTime,
    containerStatuses: statuses,
    qosClass: rt.pod.status?.qosClass,
  };
}

/** Keeps lastTransitionTime of conditions whose status did not change. */
function withTransitionTimes(status: V1PodStatus, previous: V1PodStatus | undefined): V1PodStatus {
  const t = now();
  status.conditions = status.conditions?.map((c) => {
    const old = previous?.conditions?.find((o) => o.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : t };
  });
  return status;
}

function scheduleStatus(rt: PodRuntime): void {
  if (rt.statusTimer || rt.stopping) return;
  rt.statusTimer = setTimeout(() => {
    rt.statusTimer = undefined;
    void serial(rt.uid, () => writeStatus(rt));
  }, 20);
}

async function writeStatus(rt: PodRuntime): Promise<void> {
  if (rt.stopping) return;
  const status = podStatus(rt);
  const key = JSON.stringify(status);
  if (key === rt.lastStatus) return;
  const body = { status: withTransitionTimes(status, rt.pod.status) };
  try {
    // A merge patch replaces lists whole: conditions and containerStatuses are ours alone.
    await api.patchNamespacedPodStatus({ namespace: rt.namespace, name: rt.name, body }, mergePatch);
    rt.lastStatus = key;
  } catch (err) {
    if (isCode(err, 404)) return;
    log(`status ${rt.namespace}/${rt.name}: ${errText(err)}`);
    setTimeout(() => scheduleStatus(rt), 1000);
  }
}

async function event(rt: PodRuntime, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  try {
    await api.createNamespacedEvent({
      namespace: rt.namespace,
      body: {
        metadata: { generateName: `${rt.name}.`, namespace: rt.namespace },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: rt.namespace, name: rt.name, uid: rt.uid },
        type,
        reason,
        message,
        source: { component: 'kubelet', host: nodeName },
        firstTimestamp: now(),
        lastTimestamp: now(),
        count: 1,
        reportingComponent: 'kubelet',
        reportingInstance: nodeName,
      },
    });
  } catch (err) {
    log(`event for ${rt.namespace}/${rt.name}: ${errText(err)}`);
  }
}

// ---------------------------------------------------------------- main

function findPod(namespace: string, name: string): PodRuntime | undefined {
  for (const rt of pods.values()) if (rt.namespace === namespace && rt.name === name && !rt.stopping) return rt;
  return undefined;
}

async function main(): Promise<void> {
  await mkdir(podsDir, { recursive: true });
  await network.ensureBridge();
  // Pods of an earlier kubelet run lost their processes' owner: start them afresh.
  for (const ns of await network.listNamespaces()) await network.deleteNamespace(ns);
  await rm(podsDir, { recursive: true, force: true });
  await mkdir(podsDir, { recursive: true });
  if (serveApi) {
    const [cert, key, clientCa] = await Promise.all(
      [args['tls-cert-file'], args['tls-private-key-file'], args['client-ca-file']].map((f) => readFile(f ?? '')),
    );
    await serveContainerLogs({
      host: bridgeIp, port: kubeletPort, cert: cert as Buffer, key: key as Buffer, clientCa: clientCa as Buffer, log,
      logFile: (namespace, name, container) => {
        const rt = findPod(namespace, name);
        return rt?.containers.has(container) ? join(rt.dir, `${container}.log`) : undefined;
      },
      running: (namespace, name, container) => !!findPod(namespace, name)?.containers.get(container)?.proc,
    });
    log(`kubelet API (container logs) on https://${bridgeIp}:${kubeletPort}`);
  }
  await registerNode();

  const informer = makeInformer(kc, '/api/v1/pods', () => api.listPodForAllNamespaces());
  informer.on('add', reconcile);
  informer.on('update', reconcile);
  informer.on('delete', (pod: V1Pod) => {
    const rt = pods.get(pod.metadata?.uid ?? '');
    if (rt) void serial(rt.uid, () => teardown(rt, 0));
  });
  informer.on('error', (err: unknown) => {
    log(`pod watch: ${errText(err)}; restarting in 1s`);
    setTimeout(() => void informer.start().catch((e: unknown) => log(`pod watch: ${errText(e)}`)), 1000);
  });
  await informer.start();
  log(`node ${nodeName} ready; watching pods`);

  // Resync: retries pods that were waiting (a Secret, a bind that failed) and pods whose
  // deletion an earlier attempt could not finish.
  const resync = setInterval(() => {
    for (const pod of informer.list()) reconcile(pod);
  }, 2000);
  const beat = setInterval(() => void heartbeat(), 10_000);

  const shutdown = (signal: string): void => {
    log(`${signal}: stopping (pod processes are left to cluster:down)`);
    clearInterval(resync);
    clearInterval(beat);
    void informer.stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  log(`fatal: ${errText(err)}`);
  process.exit(1);
});
