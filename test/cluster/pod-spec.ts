// What the process kubelet makes of a pod spec: which local program plays a container image,
// the container's environment (env, envFrom, the downward API) and its volumes written out as
// files. Containers run as host processes without their own mount namespace, so a path under a
// volume's mountPath in an env value or an argument is rewritten to where the volume was
// materialised.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { CoreV1Api, V1Container, V1EnvVar, V1KeyToPath, V1ObjectFieldSelector, V1Pod, V1Volume } from '@kubernetes/client-node';

export interface Programs {
  echoBasic: string;
  /** CoreDNS built with the plugins the conformance Corefile uses; without it coredns images do not run. */
  coredns?: string;
}

/** Which server a program is: its readiness defaults depend on it. */
export type ProgramKind = 'echo-basic' | 'coredns';

export interface Program {
  kind: ProgramKind;
  path: string;
}

/** The image's repository: registry.k8s.io/coredns/coredns:v1.12.2@sha256:... -> registry.k8s.io/coredns/coredns. */
export function imageRepository(image: string): string {
  return image.replace(/@.*$/, '').replace(/:[^/]*$/, '');
}

/** The local program behind an image, or undefined when the kubelet cannot run it. */
export function resolveProgram(image: string, programs: Programs): Program | undefined {
  const repository = imageRepository(image);
  // registry.k8s.io/gateway-api/echo-basic:v1.5.1, gcr.io/k8s-staging-gateway-api/echo-basic:...
  if (repository.includes('echo-basic')) return { kind: 'echo-basic', path: programs.echoBasic };
  // registry.k8s.io/coredns/coredns (the conformance UDPRoute backend), coredns/coredns on Docker Hub.
  if (programs.coredns && repository.split('/').pop() === 'coredns') return { kind: 'coredns', path: programs.coredns };
  return undefined;
}

/** The node annotation that lists the program kinds the kubelet runs, comma-separated. */
export const PROGRAMS_ANNOTATION = 'fluxgate.io/process-kubelet-programs';

/** The kinds of image this kubelet can play. */
export function programKinds(programs: Programs): ProgramKind[] {
  return programs.coredns ? ['echo-basic', 'coredns'] : ['echo-basic'];
}

export function supportedImagesHint(programs: Programs): string {
  const hint = 'images named echo-basic (the Gateway API conformance echo server)';
  return programs.coredns ? `${hint} and coredns/coredns` : hint;
}

/** A transient problem (a Secret not there yet): the kubelet retries the pod later. */
export class NotReadyYet extends Error {}

/** The API server's own message for a failed call (its Status body), else the error's. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
    if (status?.message) return status.message;
  } catch {
    // not JSON
  }
  return err instanceof Error ? err.message : String(err);
}

function fieldValue(pod: V1Pod, ref: V1ObjectFieldSelector): string {
  const path = ref.fieldPath;
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) {
    const map = m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[m[2] ?? ''] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    case 'status.hostIPs':
      return (pod.status?.hostIPs ?? []).map((a) => a.ip).join(',');
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.podIPs':
      return (pod.status?.podIPs ?? []).map((a) => a.ip).join(',');
    default:
      return '';
  }
}

/** Kubernetes' $(VAR) expansion: known names expand, $$ escapes, unknown references stay. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && name in env ? (env[name] ?? '') : whole;
  });
}

export class PodReader {
  readonly #api: CoreV1Api;
  constructor(api: CoreV1Api) {
    this.#api = api;
  }

  async configMap(namespace: string, name: string, optional: boolean | undefined): Promise<Record<string, string>> {
    try {
      const cm = await this.#api.readNamespacedConfigMap({ namespace, name });
      const binary = Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('latin1')]));
      return { ...(cm.data ?? {}), ...binary };
    } catch (err) {
      if (optional) return {};
      throw new NotReadyYet(`configmap "${name}": ${apiMessage(err)}`);
    }
  }

  async secret(namespace: string, name: string, optional: boolean | undefined): Promise<Record<string, Buffer>> {
    try {
      const s = await this.#api.readNamespacedSecret({ namespace, name });
      const out: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
      for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = Buffer.from(v);
      return out;
    } catch (err) {
      if (optional) return {};
      throw new NotReadyYet(`secret "${name}": ${apiMessage(err)}`);
    }
  }

  async serviceAccountToken(pod: V1Pod, audience: string | undefined, expirationSeconds: number | undefined): Promise<string> {
    const namespace = pod.metadata?.namespace ?? 'default';
    try {
      const res = await this.#api.createNamespacedServiceAccountToken({
        namespace,
        name: pod.spec?.serviceAccountName ?? 'default',
        body: {
          spec: {
            audiences: audience ? [audience] : [],
            expirationSeconds: expirationSeconds ?? 3607,
            boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, uid: pod.metadata?.uid },
          },
        },
      });
      return res.status?.token ?? '';
    } catch (err) {
      throw new NotReadyYet(`service account token: ${apiMessage(err)}`);
    }
  }
}

/** The container's environment, as the real kubelet builds it, plus POD_NAME and NAMESPACE. */
export async function buildEnv(pod: V1Pod, container: V1Container, reader: PodReader, mounts: MountMap): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: pod.spec?.hostname ?? pod.metadata?.name ?? '',
    // echo-basic reports these; the conformance manifests set them through the downward API,
    // other manifests may not.
    POD_NAME: pod.metadata?.name ?? '',
    NAMESPACE: namespace,
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef?.name) {
      const data = await reader.configMap(namespace, from.configMapRef.name, from.configMapRef.optional);
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
    }
    if (from.secretRef?.name) {
      const data = await reader.secret(namespace, from.secretRef.name, from.secretRef.optional);
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v.toString();
    }
  }
  for (const e of container.env ?? []) env[e.name] = await envValue(pod, e, reader, env);
  for (const [k, v] of Object.entries(env)) env[k] = mounts.rewrite(v);
  return env;
}

async function envValue(pod: V1Pod, e: V1EnvVar, reader: PodReader, env: Record<string, string>): Promise<string> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const from = e.valueFrom;
  if (!from) return expand(e.value ?? '', env);
  if (from.fieldRef) return fieldValue(pod, from.fieldRef);
  if (from.configMapKeyRef) {
    const data = await reader.configMap(namespace, from.configMapKeyRef.name ?? '', from.configMapKeyRef.optional);
    return data[from.configMapKeyRef.key] ?? '';
  }
  if (from.secretKeyRef) {
    const data = await reader.secret(namespace, from.secretKeyRef.name ?? '', from.secretKeyRef.optional);
    return data[from.secretKeyRef.key]?.toString() ?? '';
  }
  // resourceFieldRef: there are no resource limits here; report none.
  return '0';
}

/** Maps container mount paths to the host directories the volumes were written to. */
export class MountMap {
  readonly #mounts: { mountPath: string; hostPath: string }[] = [];

  add(mountPath: string, hostPath: string): void {
    this.#mounts.push({ mountPath: normalize(mountPath).replace(/\/+$/, ''), hostPath });
    // Longest mount path first, so nested mounts win.
    this.#mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  }

  /** A path inside a mount, rewritten to the host; any other value unchanged. */
  rewrite(value: string): string {
    for (const m of this.#mounts) {
      if (value === m.mountPath) return m.hostPath;
      if (value.startsWith(m.mountPath + '/')) return m.hostPath + value.slice(m.mountPath.length);
    }
    return value;
  }

  /** A command-line argument: a path (`/root/Corefile`) or a flag's value (`--conf=/root/Corefile`). */
  rewriteArg(arg: string): string {
    const eq = arg.indexOf('=');
    if (arg.startsWith('-') && eq > 0) return arg.slice(0, eq + 1) + this.rewrite(arg.slice(eq + 1));
    return this.rewrite(arg);
  }
}

/**
 * The container's arguments as the program gets them: $(VAR) references expanded from the
 * container's environment (as the real kubelet does for args), then paths under volume mounts
 * rewritten, so `-conf /root/Corefile` reads the materialised ConfigMap.
 */
export function containerArgs(container: V1Container, env: Record<string, string>, mounts: MountMap): string[] {
  return (container.args ?? []).map((a) => mounts.rewriteArg(expand(a, env)));
}

function pick<T>(data: Record<string, T>, items: V1KeyToPath[] | undefined): [string, T][] {
  if (!items?.length) return Object.entries(data);
  return items.filter((i) => i.key in data).map((i) => [i.path, data[i.key] as T]);
}

async function writeFiles(dir: string, files: [string, string | Buffer][]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [path, content] of files) {
    const target = join(dir, normalize(path));
    if (!target.startsWith(dir + '/')) continue; // a path escaping the volume
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content, { mode: 0o644 });
  }
}

/** Writes every volume of the pod under <podDir>/volumes/<name>, for the container's mounts. */
export async function materializeVolumes(pod: V1Pod, podDir: string, reader: PodReader): Promise<Map<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    const dir = join(podDir, 'volumes', v.name);
    await writeFiles(dir, await volumeFiles(pod, namespace, v, reader));
    out.set(v.name, dir);
  }
  return out;
}

async function volumeFiles(pod: V1Pod, namespace: string, v: V1Volume, reader: PodReader): Promise<[string, string | Buffer][]> {
  if (v.secret) return pick(await reader.secret(namespace, v.secret.secretName ?? '', v.secret.optional), v.secret.items);
  if (v.configMap) return pick(await reader.configMap(namespace, v.configMap.name ?? '', v.configMap.optional), v.configMap.items);
  if (v.downwardAPI) {
    return (v.downwardAPI.items ?? []).filter((i) => i.fieldRef).map((i) => [i.path, fieldValue(pod, i.fieldRef as V1ObjectFieldSelector)]);
  }
  if (v.projected) {
    const files: [string, string | Buffer][] = [];
    for (const s of v.projected.sources ?? []) {
      if (s.secret) files.push(...pick(await reader.secret(namespace, s.secret.name ?? '', s.secret.optional), s.secret.items));
      if (s.configMap) files.push(...pick(await reader.configMap(namespace, s.configMap.name ?? '', s.configMap.optional), s.configMap.items));
      if (s.downwardAPI) {
        for (const i of s.downwardAPI.items ?? []) if (i.fieldRef) files.push([i.path, fieldValue(pod, i.fieldRef)]);
      }
      if (s.serviceAccountToken) {
        files.push([s.serviceAccountToken.path, await reader.serviceAccountToken(pod, s.serviceAccountToken.audience, s.serviceAccountToken.expirationSeconds)]);
      }
    }
    return files;
  }
  // emptyDir and anything else: an empty directory.
  return [];
}

/**
 * What must answer before the container counts as ready: a TCP port accepting a connection, or
 * a UDP port answering a DNS message (see kubelet.ts: a header without a question, which a DNS
 * server rejects itself with FORMERR, so the probe never reaches a plugin such as `forward`).
 */
export interface ReadinessCheck {
  protocol: 'TCP' | 'DNS';
  port: number;
}

/**
 * The readiness checks of a container. Declared TCP ports come first (and declared UDP ports of
 * a DNS server); the conformance manifests declare none, so each program has its defaults: the
 * ports echo-basic listens on, and for CoreDNS the ports its Corefile serves plain DNS on, over
 * both transports, since it binds TCP and UDP for every such server block.
 */
export function readinessChecks(container: V1Container, env: Record<string, string>, kind: ProgramKind, corefile?: string): ReadinessCheck[] {
  const declared = container.ports ?? [];
  const tcp = declared.filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p): ReadinessCheck => ({ protocol: 'TCP', port: p.containerPort }));
  const udp = kind === 'coredns' ? declared.filter((p) => p.protocol === 'UDP').map((p): ReadinessCheck => ({ protocol: 'DNS', port: p.containerPort })) : [];
  if (tcp.length || udp.length) return [...tcp, ...udp];
  if (kind === 'coredns') {
    const ports = corefilePorts(corefile ?? '', corednsDefaultPort(container.args ?? []));
    return ports.flatMap((port): ReadinessCheck[] => [{ protocol: 'TCP', port }, { protocol: 'DNS', port }]);
  }
  // echo-basic: a UDP echo server has no TCP port to probe.
  if (env['UDP_ECHO_SERVER']) return [];
  const port = env['TCP_ECHO_SERVER'] ? env['TCP_PORT'] : env['HTTP_PORT'];
  return [{ protocol: 'TCP', port: Number(port || 3000) }];
}

/** The Corefile path of a CoreDNS command line (`-conf FILE` or `-conf=FILE`), already rewritten. */
export function corednsConfPath(args: string[]): string | undefined {
  return flagValue(args, 'conf');
}

/** CoreDNS's port for server blocks that name none: `-dns.port`/`-p`, else 53. */
function corednsDefaultPort(args: string[]): number {
  const p = Number(flagValue(args, 'dns.port') ?? flagValue(args, 'p'));
  return Number.isInteger(p) && p > 0 && p < 65536 ? p : 53;
}

/** A Go flag's value: -name V, --name V, -name=V, --name=V; the last one wins, as in Go. */
function flagValue(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(args[i] ?? '');
    if (!m || m[1] !== name) continue;
    if (m[2] !== undefined) value = m[2];
    else if (i + 1 < args.length) value = args[++i];
  }
  return value;
}

/**
 * The ports a Corefile serves plain DNS on (server block keys such as `.:53`, `dns://example.org:5300`,
 * `example.org`), in order, without repeats. Blocks for other transports (tls://, https://,
 * grpc://, quic://) are skipped: they answer no plain DNS. Snippets (`(name) { }`), top-level
 * `import` lines and the contents of blocks are not keys. An unreadable Corefile gives the default port.
 */
export function corefilePorts(corefile: string, defaultPort = 53): number[] {
  const ports: number[] = [];
  let depth = 0;
  for (const raw of corefile.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (depth === 0 && line && !line.startsWith('(') && !/^import\s/.test(line)) {
      const keys = line.replace(/\{.*$/, '').split(/[\s,]+/).filter(Boolean);
      for (const key of keys) {
        const scheme = /^([a-z0-9]+):\/\//i.exec(key)?.[1]?.toLowerCase();
        if (scheme && scheme !== 'dns') continue;
        const rest = key.replace(/^[a-z0-9]+:\/\//i, '');
        const m = /:(\d+)$/.exec(rest);
        const port = m ? Number(m[1]) : defaultPort;
        if (!ports.includes(port)) ports.push(port);
      }
    }
    for (const ch of line) {
      if (ch === '{') depth++;
      else if (ch === '}') depth = Math.max(0, depth - 1);
    }
  }
  return ports.length ? ports : [defaultPort];
}
