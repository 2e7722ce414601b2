// The upstream Gateway API conformance base manifests, read from the Go module cache at the
// release pinned in versions.sh (never copied into this repository). Tests use the coredns
// Deployment and ConfigMap from them exactly as the conformance suite applies them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const exec = promisify(execFile);

/** A value pinned in versions.sh (plain NAME=value lines). */
export async function pinnedVersion(name: string): Promise<string> {
  const text = await readFile(join(import.meta.dirname, 'versions.sh'), 'utf8');
  const m = new RegExp(`^${name}=("?)([^"\\n]*)\\1$`, 'm').exec(text);
  if (!m?.[2]) throw new Error(`versions.sh pins no ${name}`);
  return m[2];
}

/** The conformance module's directory in the Go module cache (downloaded through the proxy if missing). */
export async function conformanceModuleDir(): Promise<string> {
  const version = await pinnedVersion('GATEWAY_API_VERSION');
  const { stdout } = await exec('go', ['mod', 'download', '-json', `sigs.k8s.io/gateway-api/conformance@${version}`], {
    // Outside any module: the download must not touch a go.mod.
    cwd: '/',
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOWORK: 'off' },
    timeout: 120_000,
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download sigs.k8s.io/gateway-api/conformance@${version}: ${info.Error ?? 'no Dir'}`);
  return info.Dir;
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Every object of conformance/base/manifests.yaml. */
export async function baseManifests(): Promise<ManifestObject[]> {
  const text = await readFile(join(await conformanceModuleDir(), 'base', 'manifests.yaml'), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as ManifestObject | null)
    .filter((o): o is ManifestObject => !!o?.kind);
}

/** The base manifests' coredns Deployment, its ConfigMap and its Service (the UDPRoute backend). */
export async function corednsManifests(): Promise<{ deployment: ManifestObject; configMap: ManifestObject; service: ManifestObject }> {
  const all = await baseManifests();
  const find = (kind: string): ManifestObject => {
    const o = all.find((x) => x.kind === kind && x.metadata.name === 'coredns');
    if (!o) throw new Error(`no ${kind} coredns in the conformance base manifests`);
    return o;
  };
  return { deployment: find('Deployment'), configMap: find('ConfigMap'), service: find('Service') };
}
