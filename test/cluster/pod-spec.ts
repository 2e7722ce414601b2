// What the process kubelet makes of a pod spec: which local program plays a container image,
// the container's environment (env, envFrom, the downward API) and its volumes written out as
// files. Containers run as host processes without their own mount namespace, so a path under a
// volume's mountPath in an env value is rewritten to where the volume was materialised.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { CoreV1Api, V1Container, V1EnvVar, V1KeyToPath, V1ObjectFieldSelector, V1Pod, V1Volume } from '@kubernetes/client-node';

export interface Programs {
  echoBasic: string;
}

/** The local program behind an image, or undefined when the kubelet cannot run it. */
export function resolveProgram(image: string, programs: Programs): string | undefined {
  // registry.k8s.io/gateway-api/echo-basic:v1.5.1, gcr.io/k8s-staging-gateway-api/echo-basic:...
  const repository = image.replace(/@.*$/, '').replace(/:[^/]*$/, '');
  if (repository.split('/').pop() === 'echo-basic' || repository.includes('echo-basic')) return programs.echoBasic;
  return undefined;
}

export const supportedImagesHint = 'images named echo-basic (the Gateway API conformance echo server)';

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

/** The TCP ports that must accept a connection before the container counts as ready. */
export function readinessPorts(container: V1Container, env: Record<string, string>): number[] {
  const declared = (container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort);
  if (declared.length) return declared;
  // The conformance manifests declare no ports: use the ports echo-basic listens on.
  if (env['UDP_ECHO_SERVER']) return [];
  const port = env['TCP_ECHO_SERVER'] ? env['TCP_PORT'] : env['HTTP_PORT'];
  return [Number(port || 3000)];
}
