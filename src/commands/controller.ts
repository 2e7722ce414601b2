// `fluxgate controller`: wiring of the Kubernetes front end. Informers → pipeline → proxy, the
// leader writes status, the admin endpoint serves health, readiness and metrics. Logic lives
// in src/controller.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { createProxy, validateRegex } from '../proxy/index.ts';
import { createPipeline } from '../pipeline/index.ts';
import type { Pipeline } from '../pipeline/index.ts';
import { createLogger, createMetrics, startAdminServer } from '../observability/index.ts';
import type { AdminServer, Logger } from '../observability/index.ts';
import { ControllerError, createKubeClient, createLocalAddressAllocator, loadKubeConfig, startController } from '../controller/index.ts';
import type { Controller, GatewayServiceOptions, LeaderElectionConfig } from '../controller/index.ts';
import { CONTROLLER_NAME, redactTable } from './serve.ts';
import { BUILTIN_PLUGINS, createPluginRuntime, pluginValidators } from '../plugins/index.ts';
import { CONTROLLER_USAGE } from './controller-usage.ts';

export interface ControllerCommandOptions {
  readonly kubeconfig?: string;
  /**
   * GatewayClasses with this spec.controllerName are ours (default fluxgate.io/gateway-controller).
   * Several FluxGate installations (or test runs) can share a cluster under different names.
   */
  readonly controllerName?: string;
  /** Local mode: every Gateway on its own loopback address (the test cluster, no kube-proxy). */
  readonly local: boolean;
  /** HOST:PORT for /healthz, /readyz, /metrics and /debug/*; '' disables it. */
  readonly metricsAddress: string;
  readonly leaderElect: boolean;
  readonly leaderElectNamespace?: string;
  readonly leaderElectName?: string;
  readonly leaseDurationMs?: number;
  /** In-cluster mode: the type of the Service made for each Gateway. */
  readonly serviceType?: 'LoadBalancer' | 'ClusterIP' | 'NodePort';
  readonly logger?: Logger;
}

export interface RunningController {
  readonly controller: Controller;
  readonly pipeline: Pipeline;
  readonly admin?: AdminServer;
  readonly identity: string;
  close(): Promise<void>;
}

export async function startControllerCommand(options: ControllerCommandOptions): Promise<RunningController> {
  const logger = options.logger ?? createLogger();
  const kc = loadKubeConfig(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig });
  const client = createKubeClient(kc);
  const metrics = createMetrics();
  // The same plugin runtime and validators as `serve`: policies and Consumers from the
  // fluxgate.io CRDs go through the same translator (a cluster without the CRDs has none).
  const plugins = createPluginRuntime({ plugins: BUILTIN_PLUGINS, logger });
  const proxy = createProxy({ logger, plugins });
  const allocator = options.local ? createLocalAddressAllocator() : undefined;
  const controllerName = options.controllerName ?? CONTROLLER_NAME;
  const pipeline = createPipeline({
    proxy, logger, metrics,
    translateOptions: {
      controllerName,
      validateRegex,
      plugins: pluginValidators,
      // In a pod every Gateway binds all interfaces on its ports and is reached through its
      // own Service (see the README); locally each gets its own loopback address.
      gatewayAddress: allocator === undefined ? () => '' : (gw) => allocator.addressFor(gw),
    },
  });
  const identity = `${hostname()}_${randomUUID().slice(0, 8)}`;
  const leaderElection: LeaderElectionConfig | undefined = options.leaderElect
    ? {
      namespace: options.leaderElectNamespace ?? process.env.POD_NAMESPACE ?? 'fluxgate-system',
      name: options.leaderElectName ?? 'fluxgate-controller',
      identity,
      ...(options.leaseDurationMs === undefined ? {} : { leaseDurationMs: options.leaseDurationMs }),
    }
    : undefined;
  const podNamespace = options.leaderElectNamespace ?? process.env.POD_NAMESPACE ?? 'fluxgate-system';
  // Local mode: FluxGate listens on the host; the Service only carries the Gateway's
  // spec.infrastructure labels and annotations (GatewayInfrastructure).
  const gatewayServices: GatewayServiceOptions = options.local ? { local: true, namespace: '', podSelector: {}, serviceType: 'ClusterIP' } : {
    namespace: podNamespace,
    podSelector: { 'app.kubernetes.io/name': 'fluxgate' },
    serviceType: options.serviceType ?? 'LoadBalancer',
  };
  logger.info({ server: client.server, controllerName, local: options.local, leaderElect: options.leaderElect, identity }, 'starting controller');
  const controller = startController({
    client, pipeline, controllerName, logger,
    ...(allocator === undefined ? {} : { allocator }),
    ...(leaderElection === undefined ? {} : { leaderElection }),
    gatewayServices,
  });

  let admin: AdminServer | undefined;
  if (options.metricsAddress !== '') {
    admin = await startAdminServer(options.metricsAddress, {
      ready: () => pipeline.snapshot().table !== undefined,
      config: () => redactTable(pipeline.snapshot().table),
      status: () => ({ controller: controller.state(), objects: pipeline.snapshot().statuses, endpointHealth: proxy.health() }),
    }, metrics.registry);
    logger.info({ url: admin.url }, 'admin endpoint listening');
  }

  return {
    controller, pipeline, identity,
    ...(admin === undefined ? {} : { admin }),
    async close() {
      pipeline.close();
      await controller.stop();
      await admin?.close();
      await proxy.close();
      plugins.close();
    },
  };
}


/** Parses `fluxgate controller` flags, runs until SIGINT/SIGTERM, returns the exit code. */
export async function runControllerCli(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        kubeconfig: { type: 'string' },
        'controller-name': { type: 'string' },
        local: { type: 'boolean', default: false },
        'metrics-address': { type: 'string', default: '127.0.0.1:9902' },
        'leader-elect': { type: 'boolean', default: false },
        'leader-elect-namespace': { type: 'string' },
        'leader-elect-name': { type: 'string' },
        'lease-duration': { type: 'string' },
        'service-type': { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`fluxgate controller: ${(err as Error).message}\n\n${CONTROLLER_USAGE}`);
    return 2;
  }
  const serviceType = values['service-type'];
  if (serviceType !== undefined && !['LoadBalancer', 'ClusterIP', 'NodePort'].includes(serviceType)) {
    process.stderr.write(`fluxgate controller: --service-type must be LoadBalancer, ClusterIP or NodePort\n`);
    return 2;
  }
  let running: RunningController;
  try {
    running = await startControllerCommand({
      local: values.local,
      metricsAddress: values['metrics-address'],
      leaderElect: values['leader-elect'],
      ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
      ...(values['controller-name'] === undefined ? {} : { controllerName: values['controller-name'] }),
      ...(values['leader-elect-namespace'] === undefined ? {} : { leaderElectNamespace: values['leader-elect-namespace'] }),
      ...(values['leader-elect-name'] === undefined ? {} : { leaderElectName: values['leader-elect-name'] }),
      ...(values['lease-duration'] === undefined ? {} : { leaseDurationMs: Number(values['lease-duration']) * 1000 }),
      ...(values['service-type'] === undefined ? {} : { serviceType: values['service-type'] as 'LoadBalancer' | 'ClusterIP' | 'NodePort' }),
    });
  } catch (err) {
    if (err instanceof ControllerError) {
      process.stderr.write(`fluxgate controller: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // Releasing the Lease on the way out lets another replica take over at once.
      void running.close().then(() => resolve(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
