// The smallest REST client the controller needs over @kubernetes/client-node's KubeConfig:
// authentication and TLS come from the kubeconfig (or the pod's service account), requests are
// plain JSON. The generated API classes are not used because the controller needs raw status
// codes (409, 410, 404) and custom content types (merge patch) on custom resources.
import { KubeConfig, RequestContext, HttpMethod, Watch } from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { Dispatcher } from 'undici';
import { ControllerError } from './errors.ts';

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface RequestOptions {
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  /** Defaults to application/json; merge patches use application/merge-patch+json. */
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

export type WatchEventHandler = (type: string, object: unknown) => void;

export interface WatchHandle {
  abort(): void;
}

export interface KubeClient {
  /** Resolves with any HTTP answer; rejects (KUBE_UNREACHABLE) only when there was none. */
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options?: RequestOptions): Promise<KubeResponse>;
  /**
   * Starts a watch. `done` is called exactly once, when the stream ends for any reason (server
   * close, timeout, reset, non-200 answer with `statusCode` on the error).
   */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: WatchEventHandler, done: (err: unknown) => void): Promise<WatchHandle>;
  readonly server: string;
}

export interface LoadKubeConfigOptions {
  /** Explicit kubeconfig path; otherwise KUBECONFIG, ~/.kube/config, or the pod's service account. */
  readonly kubeconfig?: string;
}

export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig !== undefined) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ControllerError('KUBECONFIG_INVALID', `cannot load kubeconfig: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (kc.getCurrentCluster() === null) {
    throw new ControllerError('KUBECONFIG_INVALID', 'the kubeconfig has no current cluster (set --kubeconfig or KUBECONFIG)');
  }
  return kc;
}

export interface KubeClientOptions {
  /**
   * The watch stream is aborted when nothing (event or bookmark) arrives for this long. The API
   * server sends a bookmark about once a minute, so the default sits above that.
   */
  readonly watchInactivityMs?: number;
}

export function createKubeClient(kc: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new ControllerError('KUBECONFIG_INVALID', 'the kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  const watchInactivityMs = options.watchInactivityMs ?? 90_000;
  // client-node builds a new connection pool for every request it authenticates; one pool for
  // all of ours keeps TLS connections alive between status writes and lease renewals.
  // Authentication headers are still taken per request (tokens rotate).
  let dispatcher: Dispatcher | undefined;

  return {
    server,
    async request(method, path, opts = {}) {
      const url = new URL(server + path);
      for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
      const ctx = new RequestContext(url.toString(), HttpMethod[method]);
      await kc.applySecurityAuthentication(ctx);
      const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] = opts.contentType ?? 'application/json';
      }
      let response;
      try {
        response = await fetch(url, {
          method, headers, body,
          dispatcher: (dispatcher ??= ctx.getDispatcher()),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
        });
      } catch (err) {
        throw new ControllerError('KUBE_UNREACHABLE', `${method} ${path}: ${describeNetworkError(err)}`, undefined, { cause: err });
      }
      let text: string;
      try {
        text = await response.text();
      } catch (err) {
        throw new ControllerError('KUBE_UNREACHABLE', `${method} ${path}: reading the answer: ${describeNetworkError(err)}`, undefined, { cause: err });
      }
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON (a proxy's error page): keep the text for the error message.
      }
      return { status: response.status, body: parsed };
    },
    async watch(path, query, onEvent, done) {
      const watcher = new Watch(kc);
      // client-node aborts a watch after 30 s without data; with bookmarks arriving about once a
      // minute an idle watch would reconnect all the time. The field is private in its typings
      // but stable at runtime; if it ever disappears the 30 s default only costs reconnects.
      (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = watchInactivityMs;
      const controller = await watcher.watch(path, query, (type, object) => onEvent(type, object), done);
      return { abort: () => controller.abort() };
    },
  };
}

export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { code?: string } | undefined)?.code ?? (err as { code?: string }).code;
  return code === undefined ? err.message : `${err.message} (${code})`;
}

/** A short text for an API error answer: the Status message when there is one. */
export function describeAnswer(res: KubeResponse): string {
  const b = res.body as { message?: unknown } | string | undefined;
  if (typeof b === 'object' && b !== null && typeof b.message === 'string') return `${res.status}: ${b.message}`;
  if (typeof b === 'string' && b !== '') return `${res.status}: ${b.slice(0, 200)}`;
  return String(res.status);
}
