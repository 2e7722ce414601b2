// The controller front end: informers fill the store, relevant changes go through the batcher
// into the pipeline, and the leader writes the resulting statuses. Every replica translates
// and serves; only status writing is gated by leadership.
import type { Logger } from '../observability/logger.ts';
import type { Pipeline } from '../pipeline/index.ts';
import type { ObjectStatus } from '../translate/index.ts';
import type { Gateway, Resources } from '../translate/resources.ts';
import type { KubeClient } from './kube-client.ts';
import { WATCHED_KINDS } from './kinds.ts';
import { createInformer } from './informer.ts';
import type { Informer, InformerState } from './informer.ts';
import { createStore } from './store.ts';
import type { Store, StoreChange } from './store.ts';
import { createRelevance } from './relevance.ts';
import { createBatcher } from './batcher.ts';
import { createStatusWriter } from './status-writer.ts';
import type { StatusWriter, StatusWriteStats } from './status-writer.ts';
import { createLeaderElector } from './leader-election.ts';
import type { LeaderElector } from './leader-election.ts';
import { createLeaseApi } from './lease-api.ts';
import type { LocalAddressAllocator } from './local-addresses.ts';
import { createServiceProvisioner } from './service-provisioner.ts';
import { gatewayServiceName, serviceAddresses } from './gateway-services.ts';
import type { GatewayServiceOptions } from './gateway-services.ts';

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export interface ControllerOptions {
  readonly client: KubeClient;
  readonly pipeline: Pipeline;
  readonly controllerName: string;
  readonly logger: Logger;
  /** Local mode: per-Gateway loopback addresses (the pipeline's gatewayAddress reads it). */
  readonly allocator?: LocalAddressAllocator;
  /**
   * One Service per Gateway (leader only): in-cluster mode in front of the FluxGate pods, local
   * mode a headless one carrying the Gateway's infrastructure labels and annotations.
   */
  readonly gatewayServices?: GatewayServiceOptions;
  /** Without it this replica always writes status (a single replica). */
  readonly leaderElection?: LeaderElectionConfig;
  readonly holdOffMs?: number;
  readonly maxDelayMs?: number;
  readonly watchdogMs?: number;
}

export interface ControllerState {
  readonly synced: boolean;
  readonly leader: boolean;
  readonly rebuilds: number;
  readonly skippedChanges: number;
  readonly informers: readonly InformerState[];
  readonly statusWrites: StatusWriteStats | undefined;
}

export interface Controller {
  readonly store: Store;
  /** Resolves once every informer listed and the first table was applied. */
  ready(): Promise<void>;
  state(): ControllerState;
  stop(): Promise<void>;
}

export function startController(options: ControllerOptions): Controller {
  const { client, pipeline, controllerName, logger } = options;
  const log = logger.child({ component: 'controller' });
  const store = createStore();
  const relevance = createRelevance(store, controllerName);
  let rebuilds = 0;
  let skippedChanges = 0;
  let writer: StatusWriter | undefined;
  let lastWriterStats: StatusWriteStats | undefined;
  let latestStatuses: readonly ObjectStatus[] | undefined;
  let leader = options.leaderElection === undefined;
  let resolveReady: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  let isReady = false;

  const startWriter = (): void => {
    writer?.stop();
    const services = options.gatewayServices;
    writer = createStatusWriter({
      client, store, controllerName, logger,
      servesNamespace: (ns: string) => relevance.servesNamespace(ns),
      // Local mode: the proxy's bound loopback addresses are the Gateway's addresses.
      ...(services === undefined || services.local === true ? {} : {
        gatewayAddresses: (ns: string, name: string) => serviceAddresses(store.get('Service', services.namespace, gatewayServiceName(ns, name))),
      }),
    });
    if (latestStatuses !== undefined) void writer.sync(latestStatuses);
  };
  const stopWriter = (): void => {
    lastWriterStats = writer?.stats();
    writer?.stop();
    writer = undefined;
  };

  const provisioner = options.gatewayServices === undefined ? undefined
    : createServiceProvisioner({ client, store, controllerName, options: options.gatewayServices, logger });

  const informers: Informer[] = [];
  const allSynced = (): boolean => informers.every((i) => i.synced());

  async function rebuild(): Promise<void> {
    // Never apply a partial view: an empty table after a restart would drop live traffic.
    if (!allSynced()) return;
    const resources = store.snapshot();
    options.allocator?.assign(ourGateways(resources));
    rebuilds++;
    const snapshot = await pipeline.update(resources);
    latestStatuses = snapshot.statuses;
    if (!isReady) {
      isReady = true;
      log.info({ rebuilds }, 'first configuration applied');
      resolveReady();
    }
    if (!leader) return;
    await provisioner?.sync(resources);
    await writer?.sync(snapshot.statuses);
  }

  function ourGateways(resources: Resources): Gateway[] {
    const classes = new Set(resources.gatewayClasses
      .filter((c) => c.spec?.controllerName === controllerName)
      .map((c) => c.metadata?.name));
    // Fresh objects from the store: the allocator reads status.addresses, which the cached
    // snapshot may hold in an older version.
    return resources.gateways
      .filter((g) => classes.has(g.spec?.gatewayClassName))
      .map((g) => (store.get('Gateway', g.metadata?.namespace, g.metadata?.name ?? '') ?? g) as Gateway);
  }

  const batcher = createBatcher({
    holdOffMs: options.holdOffMs,
    maxDelayMs: options.maxDelayMs,
    flush: () => {
      rebuild().catch((err: unknown) => log.error({ err }, 'rebuild failed; the last good configuration keeps serving'));
    },
  });

  let initialSync = false;
  const onChanges = (changes: readonly StoreChange[]): void => {
    let relevant = false;
    for (const c of changes) {
      if (relevance.isRelevant(c)) relevant = true;
      else skippedChanges++;
    }
    // The informer that completes the initial sync triggers the first build, relevant or not.
    if (!initialSync && allSynced()) {
      initialSync = true;
      relevant = true;
    }
    if (relevant) batcher.trigger();
  };

  for (const kind of WATCHED_KINDS) {
    const informer: Informer = createInformer({
      client, kind, logger,
      ...(options.watchdogMs === undefined ? {} : { watchdogMs: options.watchdogMs }),
      handlers: {
        replace(k, items) {
          onChanges(store.replace(k, items));
        },
        event(k, type, object) {
          const change = store.apply(k, type, object);
          if (change !== undefined) onChanges([change]);
        },
      },
    });
    informers.push(informer);
  }

  let elector: LeaderElector | undefined;
  if (options.leaderElection !== undefined) {
    const le = options.leaderElection;
    elector = createLeaderElector({
      api: createLeaseApi(client, le.namespace, le.name),
      identity: le.identity,
      ...(le.leaseDurationMs === undefined ? {} : { leaseDurationMs: le.leaseDurationMs }),
      ...(le.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: le.renewDeadlineMs }),
      ...(le.retryPeriodMs === undefined ? {} : { retryPeriodMs: le.retryPeriodMs }),
      logger,
      onStartedLeading: () => {
        leader = true;
        startWriter();
      },
      onStoppedLeading: () => {
        leader = false;
        stopWriter();
      },
    });
  } else {
    startWriter();
  }

  for (const i of informers) i.start();
  elector?.start();

  return {
    store,
    ready: () => readyPromise,
    state: () => ({
      synced: allSynced(),
      leader,
      rebuilds,
      skippedChanges,
      informers: informers.map((i) => i.state()),
      statusWrites: writer?.stats() ?? lastWriterStats,
    }),
    async stop() {
      batcher.close();
      for (const i of informers) i.stop();
      await elector?.stop();
      stopWriter();
    },
  };
}
