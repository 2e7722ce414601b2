// fluxgate.io Consumers: a username (what rate limits and upstream headers know) and
// credentials kept in Secrets of the Consumer's namespace. Secret data is decoded here so
// that plugin validators stay free of Kubernetes shapes.
import type { ResolvedConsumer, ResolvedCredential } from '../plugins/types.ts';
import type { Graph } from './graph.ts';
import { key } from './graph.ts';
import { compareStrings, indexed, meta, obj, str, type Meta } from './safe.ts';

export interface ConsumerInfo {
  readonly object: unknown;
  readonly meta: Meta;
  /** Absent when the Consumer is unusable (no username or a duplicate). */
  readonly resolved?: ResolvedConsumer;
  /** Field problems, `spec.credentials[0].secretRef: Secret "x" not found`. */
  readonly errors: readonly string[];
}

function decode(value: unknown): string | undefined {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

/** Decoded data of a Secret in `ns`, or undefined. */
export function secretData(graph: Graph, ns: string, name: string): Record<string, string> | undefined {
  const s = graph.secrets.get(key(ns, name));
  if (s === undefined) return undefined;
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const data = obj(obj(s)?.data) ?? {};
  for (const [k, v] of Object.entries(data)) {
    const d = decode(v);
    if (d !== undefined) out[k] = d;
  }
  return out;
}

export function resolveConsumers(graph: Graph, consumers: readonly unknown[]): ConsumerInfo[] {
  const out: ConsumerInfo[] = [];
  // Oldest first, so that of two Consumers claiming one username the older keeps it.
  const ordered = [...consumers].sort((a, b) => {
    const ma = meta(a), mb = meta(b);
    return compareStrings(ma.creationTimestamp, mb.creationTimestamp) || compareStrings(ma.namespace, mb.namespace) || compareStrings(ma.name, mb.name);
  });
  const taken = new Map<string, string>();
  for (const c of ordered) {
    const m = meta(c);
    const spec = obj(obj(c)?.spec) ?? {};
    const errors: string[] = [];
    const username = str(spec.username);
    if (username === undefined || username === '' || /[\r\n\0]/.test(username)) {
      out.push({ object: c, meta: m, errors: ['spec.username: required, without CR, LF or NUL'] });
      continue;
    }
    const owner = taken.get(`${m.namespace}/${username}`);
    if (owner !== undefined) {
      out.push({ object: c, meta: m, errors: [`spec.username: "${username}" is already the username of Consumer ${owner}`] });
      continue;
    }
    taken.set(`${m.namespace}/${username}`, `${m.namespace}/${m.name}`);
    const customId = str(spec.customId);
    const credentials: ResolvedCredential[] = [];
    for (const [cred, i] of indexed(spec.credentials)) {
      const f = `spec.credentials[${i}]`;
      const type = str(cred.type);
      if (type !== 'KeyAuth' && type !== 'BasicAuth') {
        errors.push(`${f}.type: must be KeyAuth or BasicAuth`);
        continue;
      }
      const name = str(obj(cred.secretRef)?.name);
      if (name === undefined) {
        errors.push(`${f}.secretRef.name: required`);
        continue;
      }
      const data = secretData(graph, m.namespace, name);
      if (data === undefined) {
        errors.push(`${f}.secretRef: Secret "${name}" not found`);
        continue;
      }
      credentials.push({ type, data, source: `Consumer ${m.namespace}/${m.name} ${f}` });
    }
    out.push({
      object: c, meta: m, errors,
      resolved: { id: `${m.namespace}/${m.name}`, username, ...(customId !== undefined ? { customId } : {}), credentials },
    });
  }
  return out.sort((a, b) => compareStrings(a.meta.namespace, b.meta.namespace) || compareStrings(a.meta.name, b.meta.name));
}
