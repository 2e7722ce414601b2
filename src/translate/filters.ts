// HTTPRoute / GRPCRoute filters → IR filters (Gateway API HTTPRouteFilter). Filters are built
// per match because ReplacePrefixMatch needs the prefix that the match matched.
import type { BackendFilter, Cors, Filter, HeaderModifier, PathModifier, RouteMatch } from '../ir/index.ts';
import { resolveBackendRef, type BackendSource, type RefFailure } from './backends.ts';
import type { Graph } from './graph.ts';
import type { RouteKind } from './listeners.ts';
import { TOKEN } from './matches.ts';
import { extensionRefFilters } from './policy-attach.ts';
import { POLICY_GROUP } from './policies.ts';
import { bool, indexed, int, obj, str, strs, type Obj, show } from './safe.ts';

export interface FilterContext {
  readonly graph: Graph;
  readonly routeKind: RouteKind;
  readonly routeNs: string;
  /** The path match of the IR route being built. */
  readonly path: RouteMatch['path'];
}

export interface FilterOutput {
  readonly filters: Filter[];
  /** Invalid configuration: the rule is dropped. */
  readonly errors: string[];
  /** Unresolvable mirror backends: the mirror is dropped, the rule stays. */
  readonly refFailures: RefFailure[];
  readonly sources: BackendSource[];
  /** fluxgate.io references that fail closed (the rule stays, its requests answer 500). */
  readonly policyFailures: string[];
}

/** Filter types that may appear at most once per list (Gateway API CEL rules). */
const ONCE = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'CORS']);
const HTTP_RULE_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror', 'CORS', 'ExtensionRef'];
const GRPC_RULE_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef'];
const BACKEND_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'URLRewrite', 'RequestMirror', 'ExtensionRef'];

function headerModifier(x: unknown, field: string): HeaderModifier | string {
  const o = obj(x) ?? {};
  const values = (list: unknown, f: string): { name: string; value: string }[] | string => {
    const out: { name: string; value: string }[] = [];
    for (const [h, i] of indexed(list)) {
      const name = str(h.name) ?? '';
      const value = str(h.value);
      if (!TOKEN.test(name)) return `${field}.${f}[${i}].name: "${name}" is not a valid header name`;
      if (value === undefined || /[\r\n\0]/.test(value)) return `${field}.${f}[${i}].value: required, without CR, LF or NUL`;
      out.push({ name, value });
    }
    return out;
  };
  const set = values(o.set, 'set');
  if (typeof set === 'string') return set;
  const add = values(o.add, 'add');
  if (typeof add === 'string') return add;
  const remove = strs(o.remove);
  const bad = remove.find((n) => !TOKEN.test(n));
  if (bad !== undefined) return `${field}.remove: "${bad}" is not a valid header name`;
  return { set, add, remove: [...new Set(remove.map((n) => n.toLowerCase()))] };
}

/** Gateway API HTTPPathModifier. ReplacePrefixMatch is only compatible with a PathPrefix match. */
function pathModifier(x: unknown, field: string, path: RouteMatch['path']): PathModifier | string | undefined {
  const o = obj(x);
  if (!o) return undefined;
  const type = str(o.type);
  if (type === 'ReplaceFullPath') {
    const value = str(o.replaceFullPath);
    if (value === undefined || !value.startsWith('/')) return `${field}.replaceFullPath: must be a path starting with "/"`;
    return { type, value };
  }
  if (type === 'ReplacePrefixMatch') {
    const value = str(o.replacePrefixMatch);
    if (value === undefined || !value.startsWith('/')) return `${field}.replacePrefixMatch: must be a path starting with "/"`;
    if (path.type !== 'PathPrefix') return `${field}: ReplacePrefixMatch requires a PathPrefix match, not ${path.type}`;
    return { type, prefix: path.value, value };
  }
  return `${field}.type: ${show(o.type)} is not supported`;
}

function cors(x: unknown, field: string): Cors | string {
  const o = obj(x) ?? {};
  const allowOrigins = strs(o.allowOrigins);
  const badOrigin = allowOrigins.find((v) => v !== '*' && !/^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(v) && !/^https?:\/\/\*$/.test(v));
  if (badOrigin !== undefined) return `${field}.allowOrigins: "${badOrigin}" is not an origin (scheme://host[:port])`;
  const allowMethods = strs(o.allowMethods);
  const badMethod = allowMethods.find((m) => m !== '*' && !TOKEN.test(m));
  if (badMethod !== undefined) return `${field}.allowMethods: "${badMethod}" is not an HTTP method`;
  const allowHeaders = strs(o.allowHeaders), exposeHeaders = strs(o.exposeHeaders);
  const badHeader = [...allowHeaders, ...exposeHeaders].find((h) => h !== '*' && !TOKEN.test(h));
  if (badHeader !== undefined) return `${field}: "${badHeader}" is not a header name`;
  const maxAge = o.maxAge === undefined ? 5 : int(o.maxAge);
  if (maxAge === undefined || maxAge < 1) return `${field}.maxAge: must be a positive number of seconds`;
  return {
    allowOrigins, allowCredentials: bool(o.allowCredentials) ?? false,
    allowMethods: allowMethods.map((m) => (m === '*' ? m : m.toUpperCase())),
    allowHeaders: allowHeaders.map((h) => h.toLowerCase()),
    exposeHeaders: exposeHeaders.map((h) => h.toLowerCase()),
    // Gateway API HTTPCORSFilter.maxAge: default 5 seconds.
    maxAgeSeconds: maxAge,
  };
}

function mirrorFraction(o: Obj, field: string): number | undefined | string {
  if (o.percent !== undefined) {
    const p = int(o.percent);
    if (p === undefined || p < 0 || p > 100) return `${field}.percent: must be 0-100`;
    return p / 100;
  }
  const f = obj(o.fraction);
  if (!f) return undefined;
  const n = int(f.numerator), d = f.denominator === undefined ? 100 : int(f.denominator);
  if (n === undefined || d === undefined || n < 0 || d < 1 || n > d) return `${field}.fraction: numerator must be 0..denominator, denominator >= 1`;
  return n / d;
}

export type FilterScope = 'httpRule' | 'grpcRule' | 'backend';

export function buildFilters(list: unknown, field: string, scope: FilterScope, ctx: FilterContext): FilterOutput {
  const out: FilterOutput = { filters: [], errors: [], refFailures: [], sources: [], policyFailures: [] };
  const allowed = scope === 'httpRule' ? HTTP_RULE_TYPES : scope === 'grpcRule' ? GRPC_RULE_TYPES : BACKEND_TYPES;
  const seen = new Set<string>();
  for (const [f, i] of indexed(list)) {
    const ff = `${field}[${i}]`;
    const type = str(f.type) ?? '';
    if (!allowed.includes(type)) {
      out.errors.push(`${ff}.type: ${type || '(empty)'} is not supported here`);
      continue;
    }
    if (ONCE.has(type)) {
      if (seen.has(type)) {
        out.errors.push(`${ff}: ${type} may appear only once`);
        continue;
      }
      seen.add(type);
    }
    switch (type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const key = type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier';
        const m = headerModifier(f[key], `${ff}.${key}`);
        if (typeof m === 'string') out.errors.push(m);
        else out.filters.push({ type, modifier: m });
        break;
      }
      case 'RequestRedirect': {
        const r = obj(f.requestRedirect) ?? {};
        const rf = `${ff}.requestRedirect`;
        const path = pathModifier(r.path, `${rf}.path`, ctx.path);
        if (typeof path === 'string') { out.errors.push(path); break; }
        const scheme = r.scheme === undefined ? undefined : str(r.scheme);
        if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') { out.errors.push(`${rf}.scheme: ${scheme} is not http or https`); break; }
        if (r.scheme !== undefined && scheme === undefined) { out.errors.push(`${rf}.scheme: must be http or https`); break; }
        const statusCode = r.statusCode === undefined ? 302 : int(r.statusCode);
        if (statusCode !== 301 && statusCode !== 302 && statusCode !== 303 && statusCode !== 307 && statusCode !== 308) {
          out.errors.push(`${rf}.statusCode: ${show(r.statusCode)} is not 301, 302, 303, 307 or 308`);
          break;
        }
        const port = r.port === undefined ? undefined : int(r.port);
        if (r.port !== undefined && (port === undefined || port < 1 || port > 65535)) { out.errors.push(`${rf}.port: not a port number`); break; }
        const hostname = str(r.hostname);
        out.filters.push({ type, redirect: {
          ...(scheme !== undefined ? { scheme } : {}), ...(hostname !== undefined ? { hostname: hostname.toLowerCase() } : {}),
          ...(path !== undefined ? { path } : {}), ...(port !== undefined ? { port } : {}), statusCode,
        } });
        break;
      }
      case 'URLRewrite': {
        const r = obj(f.urlRewrite) ?? {};
        const path = pathModifier(r.path, `${ff}.urlRewrite.path`, ctx.path);
        if (typeof path === 'string') { out.errors.push(path); break; }
        const hostname = str(r.hostname);
        out.filters.push({ type, rewrite: { ...(hostname !== undefined ? { hostname: hostname.toLowerCase() } : {}), ...(path !== undefined ? { path } : {}) } });
        break;
      }
      case 'RequestMirror': {
        const r = obj(f.requestMirror) ?? {};
        const fraction = mirrorFraction(r, `${ff}.requestMirror`);
        if (typeof fraction === 'string') { out.errors.push(fraction); break; }
        const res = resolveBackendRef(ctx.graph, obj(r.backendRef) ?? {}, `${ff}.requestMirror.backendRef`, ctx.routeKind, ctx.routeNs);
        // Gateway API: an unresolvable mirror is a ResolvedRefs failure, not a reason to drop the rule.
        if (!res.ok) { out.refFailures.push(res.failure); break; }
        out.sources.push(res.source);
        out.filters.push({ type, mirror: { backendId: res.source.id, ...(fraction !== undefined && fraction !== 1 ? { fraction } : {}) } });
        break;
      }
      case 'CORS': {
        const c = cors(f.cors, `${ff}.cors`);
        if (typeof c === 'string') out.errors.push(c);
        else out.filters.push({ type, cors: c });
        break;
      }
      case 'ExtensionRef': {
        const ref = obj(f.extensionRef) ?? {};
        if (scope !== 'backend' && str(ref.group) === POLICY_GROUP) {
          // Our own kinds: resolved to plugin filters in place; unresolvable ones fail closed.
          const r = extensionRefFilters(ctx.graph.policies, POLICY_GROUP, str(ref.kind) ?? '', str(ref.name) ?? '', ctx.routeNs, `${ff}.extensionRef`);
          out.filters.push(...r.filters);
          out.policyFailures.push(...r.failures);
          break;
        }
        // Gateway API: an unresolvable custom filter must not be skipped, so the rule is invalid.
        out.errors.push(`${ff}.extensionRef: no plugin handles ${str(ref.group) ?? ''}/${str(ref.kind) ?? ''} "${str(ref.name) ?? ''}"`);
        break;
      }
    }
  }
  if (seen.has('RequestRedirect') && seen.has('URLRewrite')) {
    // Gateway API: RequestRedirect and URLRewrite cannot be used together.
    out.errors.push(`${field}: RequestRedirect and URLRewrite cannot be combined`);
  }
  return out;
}

export function asBackendFilters(filters: readonly Filter[]): BackendFilter[] {
  return filters.filter((f): f is BackendFilter =>
    f.type === 'RequestHeaderModifier' || f.type === 'ResponseHeaderModifier' || f.type === 'URLRewrite' || f.type === 'RequestMirror');
}

