// One informer per kind: list, then watch from the list's resourceVersion, forever. Every way a
// watch can fail ends in the same place: back off and start again (re-listing when the
// resourceVersion expired). A watchdog restarts an informer that made no progress for too long,
// so an informer is never silently dead.
import type { Logger } from '../observability/logger.ts';
import type { KubeClient, WatchHandle } from './kube-client.ts';
import { describeAnswer, describeNetworkError } from './kube-client.ts';
import { ControllerError } from './errors.ts';
import { backoffDelay } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { collectionPath } from './kinds.ts';
import type { WatchedKind } from './kinds.ts';
import type { KubeObject } from './store.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface InformerHandlers {
  /** The full current list of the kind (after the first list and every re-list). */
  replace(kind: string, items: readonly KubeObject[]): void;
  event(kind: string, type: WatchEventType, object: KubeObject): void;
}

export interface InformerOptions {
  readonly client: KubeClient;
  readonly kind: WatchedKind;
  readonly handlers: InformerHandlers;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
  /** Restart when no event, bookmark or successful (re)connect arrives for this long. */
  readonly watchdogMs?: number;
  /** Asks the server to end each watch after about this long (randomised), like client-go. */
  readonly watchTimeoutSeconds?: number;
  readonly pageSize?: number;
  /** How often a kind the API does not serve is looked for again (default 30 s). */
  readonly notServedRetryMs?: number;
}

export interface InformerState {
  readonly kind: string;
  readonly version: string | undefined;
  readonly synced: boolean;
  readonly resourceVersion: string | undefined;
  readonly failures: number;
  readonly lastError: string | undefined;
  readonly restarts: number;
}

export interface Informer {
  start(): void;
  stop(): void;
  /** True once the first list completed; stays true across restarts (the store keeps serving). */
  synced(): boolean;
  state(): InformerState;
}

interface ListPage {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

/** How often a kind the API does not serve (CRD not installed) is looked for again. */
const NOT_SERVED_RETRY_MS = 30_000;

class Gone extends ControllerError {
  constructor(message: string) {
    super('KUBE_WATCH_EXPIRED', message, 410);
  }
}

export function createInformer(options: InformerOptions): Informer {
  const { client, kind, handlers, logger } = options;
  const watchdogMs = options.watchdogMs ?? 5 * 60_000;
  const log = logger.child({ informer: kind.kind });
  let stopped = true;
  let synced = false;
  let version: string | undefined;
  let resourceVersion: string | undefined;
  let failures = 0;
  let restarts = 0;
  let lastError: string | undefined;
  let lastProgress = Date.now();
  let notServedLogged = false;
  // Aborts whatever the loop is waiting on (a list, a watch, a backoff sleep).
  let interrupt: ((reason: Error) => void) | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  const progress = (): void => {
    lastProgress = Date.now();
  };

  /** Races `work` against interrupt(): the watchdog and stop() end any wait this way. */
  function interruptible<T>(work: (onAbort: (cb: () => void) => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const aborters: (() => void)[] = [];
      interrupt = (reason) => {
        for (const a of aborters) a();
        reject(reason);
      };
      work((cb) => aborters.push(cb)).then(resolve, reject);
    }).finally(() => {
      interrupt = undefined;
    });
  }

  async function list(): Promise<void> {
    const versions = version === undefined ? kind.versions : [version];
    let lastAnswer = '';
    for (const v of versions) {
      const items: KubeObject[] = [];
      let cont: string | undefined;
      let rv: string | undefined;
      let notServed = false;
      do {
        const res = await client.request('GET', collectionPath(kind, v), { query: { limit: options.pageSize ?? 500, continue: cont, fieldSelector: kind.fieldSelector } });
        if (res.status === 404 && cont === undefined) {
          // The API answered: not a stalled informer (the watchdog must not restart it).
          progress();
          notServed = true;
          lastAnswer = describeAnswer(res);
          break;
        }
        if (res.status === 410) throw new Gone(`list ${kind.kind}: continue token expired`);
        if (res.status !== 200) {
          throw new ControllerError('KUBE_REQUEST_FAILED', `list ${kind.kind}: ${describeAnswer(res)}`, res.status);
        }
        const page = res.body as ListPage;
        const apiVersion = kind.group === '' ? v : `${kind.group}/${v}`;
        // List items carry no apiVersion/kind; the translator and status writer want them.
        for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind: kind.kind });
        rv = page.metadata?.resourceVersion;
        cont = page.metadata?.continue || undefined;
        progress();
      } while (cont !== undefined);
      if (notServed) continue;
      if (notServedLogged && kind.optional === true) log.info({ version: v }, `${kind.kind} is served now`);
      notServedLogged = false;
      version = v;
      resourceVersion = rv;
      if (!synced) log.info({ items: items.length, version: v }, 'informer synced');
      // Synced before the handler runs, so the handler sees the whole set synced when this
      // list is the last one to arrive.
      synced = true;
      handlers.replace(kind.kind, items);
      return;
    }
    // A kind whose CRD is not installed has no objects: count it as synced and empty, so the
    // other kinds still serve, and keep looking for it (slowly) in case the CRD arrives. A CRD
    // removed while we ran took its objects with it, whatever DELETED events we missed; it may
    // come back in another version.
    synced = true;
    version = undefined;
    resourceVersion = undefined;
    handlers.replace(kind.kind, []);
    throw new ControllerError('KUBE_KIND_NOT_SERVED', `${kind.kind}: none of ${kind.versions.join(', ')} is served by ${kind.group || 'core'} (${lastAnswer}); are the CRDs installed?`, 404);
  }

  /** Resolves when the server ends the watch cleanly; rejects on every failure. */
  async function watchOnce(): Promise<{ events: number }> {
    let events = 0;
    return interruptible<{ events: number }>((onAbort) => new Promise((resolve, reject) => {
      let handle: WatchHandle | undefined;
      let finished = false;
      const finish = (err: Error | undefined): void => {
        if (finished) return;
        finished = true;
        handle?.abort();
        if (err === undefined) resolve({ events });
        else reject(err);
      };
      onAbort(() => {
        finished = true;
        handle?.abort();
      });
      const timeout = options.watchTimeoutSeconds ?? 300;
      client.watch(collectionPath(kind, version as string), {
        resourceVersion,
        allowWatchBookmarks: true,
        fieldSelector: kind.fieldSelector,
        // Randomised so the informers do not all reconnect at the same moment.
        timeoutSeconds: Math.round(timeout * (1 + Math.random())),
      }, (type, object) => {
        if (finished) return;
        progress();
        const obj = object as KubeObject;
        if (type === 'BOOKMARK') {
          resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
          return;
        }
        if (type === 'ERROR') {
          const status = object as { code?: number; message?: string };
          if (status.code === 410) finish(new Gone(`watch ${kind.kind}: ${status.message ?? 'resourceVersion too old'}`));
          else finish(new ControllerError('KUBE_REQUEST_FAILED', `watch ${kind.kind}: ${status.code ?? '?'} ${status.message ?? ''}`, status.code));
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        events++;
        resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
        const apiVersion = kind.group === '' ? (version as string) : `${kind.group}/${version as string}`;
        handlers.event(kind.kind, type, { ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: kind.kind });
      }, (err: unknown) => {
        if (err === null || err === undefined) {
          finish(undefined);
          return;
        }
        // client-node's inactivity timer: nothing (not even a bookmark) for watchInactivityMs.
        // Idle watches do that (the API server does not always send bookmarks that often), and
        // a dead connection too: either way, reconnecting from the same resourceVersion is the
        // cure, and a reconnect that fails is counted as a failure then.
        if ((err as { name?: string }).name === 'TimeoutError') {
          log.debug('watch idle; reconnecting from the same resourceVersion');
          finish(undefined);
          return;
        }
        const statusCode = (err as { statusCode?: number }).statusCode;
        if (statusCode === 410) finish(new Gone(`watch ${kind.kind}: 410 Gone`));
        else if (statusCode !== undefined) finish(new ControllerError('KUBE_REQUEST_FAILED', `watch ${kind.kind}: ${statusCode} ${(err as Error).message}`, statusCode));
        else finish(new ControllerError('KUBE_UNREACHABLE', `watch ${kind.kind}: ${describeNetworkError(err)}`, undefined, { cause: err }));
      }).then((h) => {
        handle = h;
        if (finished) h.abort();
        else progress();
      }, (err: unknown) => finish(new ControllerError('KUBE_UNREACHABLE', `watch ${kind.kind}: ${describeNetworkError(err)}`, undefined, { cause: err })));
    }));
  }

  function sleep(ms: number): Promise<void> {
    return interruptible((onAbort) => new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      onAbort(() => clearTimeout(t));
    }));
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        if (resourceVersion === undefined) await interruptible(() => list());
        if (stopped) return;
        const started = Date.now();
        const { events } = await watchOnce();
        // A clean end is the server's timeoutSeconds: reconnect from where we are. One that
        // ends at once with nothing delivered is a misbehaving proxy: treat it as a failure.
        if (events === 0 && Date.now() - started < 1000) throw new ControllerError('KUBE_REQUEST_FAILED', `watch ${kind.kind}: closed immediately`);
        failures = 0;
      } catch (err) {
        if (stopped) return;
        restarts++;
        const message = err instanceof Error ? err.message : String(err);
        lastError = message;
        if (err instanceof Gone) {
          // Expected after long disconnects or compaction: re-list at once, keep the store.
          log.info({ code: err.code }, `${message}; re-listing`);
          resourceVersion = undefined;
          failures++;
          if (failures === 1) continue;
        } else {
          failures++;
          // A watch answered 404: the kind stopped being served (its CRD was removed, or this
          // version dropped). Re-list, which finds out which, instead of watching forever.
          if (err instanceof ControllerError && err.statusCode === 404 && err.code !== 'KUBE_KIND_NOT_SERVED') resourceVersion = undefined;
        }
        const code = err instanceof ControllerError ? err.code : 'KUBE_UNREACHABLE';
        const delay = code === 'KUBE_KIND_NOT_SERVED' ? (options.notServedRetryMs ?? NOT_SERVED_RETRY_MS) : backoffDelay(failures, options.backoff);
        if (code === 'KUBE_KIND_NOT_SERVED' && kind.optional === true) {
          // FluxGate's own CRDs are optional: say so once, then look again quietly.
          if (!notServedLogged) log.info({ code, retryInMs: delay }, `${message}; running without ${kind.kind} (plugins from it are off) until the CRD is installed`);
          else log.debug({ code, failures, retryInMs: delay }, message);
          notServedLogged = true;
        } else if (failures <= 1 || failures % 10 === 0) log.warn({ code, failures, retryInMs: delay }, message);
        else log.debug({ code, failures, retryInMs: delay }, message);
        try {
          await sleep(delay);
        } catch {
          // interrupted by the watchdog or stop(): loop again (or exit)
        }
      }
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      progress();
      watchdog = setInterval(() => {
        if (Date.now() - lastProgress < watchdogMs) return;
        log.warn({ code: 'KUBE_UNREACHABLE', sinceMs: Date.now() - lastProgress }, 'informer made no progress; restarting its watch');
        progress();
        interrupt?.(new ControllerError('KUBE_UNREACHABLE', `watch ${kind.kind}: watchdog: no event or bookmark for ${Math.round(watchdogMs / 1000)} s`));
      }, Math.min(watchdogMs, 10_000));
      watchdog.unref();
      // run() catches every failure itself; this is the last line against a bug in it.
      const launch = (): void => {
        run().catch((err: unknown) => {
          log.error({ err }, 'informer loop crashed; restarting it');
          if (!stopped) setTimeout(launch, 1000).unref();
        });
      };
      launch();
    },
    stop() {
      stopped = true;
      if (watchdog !== undefined) clearInterval(watchdog);
      interrupt?.(new Error('stopped'));
    },
    synced: () => synced,
    state: () => ({ kind: kind.kind, version, synced, resourceVersion, failures, lastError, restarts }),
  };
}
