/**
 * The Kubernetes front end: informers over the API (list, watch, restart with backoff, re-list
 * on 410), the store, relevance (which changes can matter to us), the batcher, the status
 * writer, Lease-based leader election and local-mode Gateway addresses.
 *
 * Must not: translate or build tables (the pipeline and translator do), or touch the proxy.
 */
export { startController } from './controller.ts';
export type { Controller, ControllerOptions, ControllerState, LeaderElectionConfig } from './controller.ts';
export { createKubeClient, loadKubeConfig } from './kube-client.ts';
export type { KubeClient } from './kube-client.ts';
export { createLocalAddressAllocator } from './local-addresses.ts';
export type { LocalAddressAllocator } from './local-addresses.ts';
export { ControllerError } from './errors.ts';
export type { GatewayServiceOptions } from './gateway-services.ts';
export { supportedFeatures } from './supported-features.ts';
