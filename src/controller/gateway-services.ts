// The Service made for one Gateway. In-cluster mode: every FluxGate pod binds every Gateway's
// listener ports; each Gateway gets its own Service (its own address) selecting those pods,
// with the Gateway's spec.infrastructure labels and annotations (cloud load-balancer settings
// live there). Local mode: FluxGate listens on the host, so the Service is headless and
// selector-less, in the Gateway's own namespace: it stands for the Gateway's infrastructure
// (GatewayInfrastructure: labels and annotations "applied to any resources created in
// response to this Gateway"). Pure: the provisioner (service-provisioner.ts) does the I/O.
import type { Gateway, ListenerSet } from '../translate/resources.ts';
import type { KubeObject } from './store.ts';
import { hash32 } from './local-addresses.ts';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const GATEWAY_NAMESPACE_LABEL = 'gateway.fluxgate.io/namespace';
export const GATEWAY_NAME_LABEL = 'gateway.fluxgate.io/name';
/** Which controller made the Service: several controllers (GatewayClasses) may share a cluster. */
export const CONTROLLER_ANNOTATION = 'gateway.fluxgate.io/controller-name';
/** Gateway API GatewayNameLabelKey: the standard label on objects made for a Gateway. */
export const GATEWAY_API_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

export interface GatewayServiceOptions {
  /**
   * Local mode: one headless, selector-less Service per Gateway in the Gateway's namespace
   * (`namespace`, `podSelector` and `serviceType` are not used).
   */
  readonly local?: boolean;
  /** Where the Services live: the FluxGate pods' namespace (a Service selects pods of its own namespace). */
  readonly namespace: string;
  /** Labels of the FluxGate pods. */
  readonly podSelector: Readonly<Record<string, string>>;
  readonly serviceType: 'LoadBalancer' | 'ClusterIP' | 'NodePort';
}

/** `gw-<namespace>-<name>`, shortened with a hash when longer than a DNS label allows. */
export function gatewayServiceName(namespace: string, name: string): string {
  const full = `gw-${namespace}-${name}`;
  if (full.length <= 63) return full;
  return `${full.slice(0, 54).replace(/-+$/, '')}-${hash32(full).toString(16).padStart(8, '0')}`;
}

/** The namespace of the Gateway's Service. */
export function gatewayServiceNamespace(gatewayNamespace: string, options: GatewayServiceOptions): string {
  return options.local === true ? gatewayNamespace : options.namespace;
}

/**
 * `sets`: the ListenerSets the Gateway admits (admittedListenerSets): their listeners bind on
 * the Gateway's addresses, so their ports belong on its Service too (GEP-1713).
 */
export function desiredGatewayService(gw: Gateway, options: GatewayServiceOptions, sets: readonly ListenerSet[] = []): KubeObject {
  const ns = gw.metadata?.namespace ?? 'default';
  const name = gw.metadata?.name ?? '';
  const infra = (gw.spec as { infrastructure?: { labels?: Record<string, string>; annotations?: Record<string, string> } } | undefined)?.infrastructure;
  const listeners: { port: number; protocol: string }[] = [...(gw.spec?.listeners ?? []), ...sets.flatMap((s) => s.spec?.listeners ?? [])];
  const ports = [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b);
  const protocolOf = (port: number): string =>
    listeners.some((l) => l.port === port && l.protocol === 'UDP') ? 'UDP' : 'TCP';
  const servicePorts = ports.map((port) => ({ name: `port-${port}`, port, targetPort: port, protocol: protocolOf(port) }));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: gatewayServiceName(ns, name),
      namespace: gatewayServiceNamespace(ns, options),
      // Ours last: spec.infrastructure must not be able to take the Service away from us.
      labels: {
        ...infra?.labels, [MANAGED_BY]: 'fluxgate', [GATEWAY_NAMESPACE_LABEL]: ns, [GATEWAY_NAME_LABEL]: truncateLabel(name),
        [GATEWAY_API_NAME_LABEL]: truncateLabel(name),
      },
      annotations: { ...infra?.annotations, 'gateway.fluxgate.io/gateway': `${ns}/${name}` },
    },
    // Local mode: no pods to select and no cluster IP to spend; the listeners are on the host.
    spec: options.local === true
      ? { type: 'ClusterIP', clusterIP: 'None', ports: servicePorts }
      : { type: options.serviceType, selector: { ...options.podSelector }, ports: servicePorts },
  };
}

/** Label values are limited to 63 characters; the annotation keeps the full name. */
function truncateLabel(value: string): string {
  return value.length <= 63 ? value : `${value.slice(0, 54)}-${hash32(value).toString(16).padStart(8, '0')}`;
}

/**
 * The update to send when `existing` differs from `desired` in what we manage (labels,
 * annotations, type, selector, ports), else undefined. Fields the API server fills (clusterIP,
 * nodePorts) are kept from `existing`.
 */
export function serviceUpdate(existing: KubeObject, desired: KubeObject): KubeObject | undefined {
  const e = existing as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
  const d = desired as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { type: string; selector?: Record<string, string>; ports: { name: string; port: number; targetPort: number; protocol: string }[] } };
  const existingPorts = (e.spec?.ports ?? []) as { name?: string; port?: number; targetPort?: unknown; protocol?: string; nodePort?: number }[];
  const samePorts = existingPorts.length === d.spec.ports.length && d.spec.ports.every((p, i) => {
    const q = existingPorts[i];
    return q !== undefined && q.name === p.name && q.port === p.port && q.targetPort === p.targetPort && (q.protocol ?? 'TCP') === p.protocol;
  });
  const same = samePorts && e.spec?.type === d.spec.type && equalMaps(e.spec?.selector, d.spec.selector ?? {})
    && equalMaps(e.metadata?.labels, d.metadata.labels) && equalMaps(e.metadata?.annotations, d.metadata.annotations);
  if (same) return undefined;
  const ports = d.spec.ports.map((p) => {
    const nodePort = existingPorts.find((q) => q.port === p.port)?.nodePort;
    return d.spec.type !== 'ClusterIP' && nodePort !== undefined ? { ...p, nodePort } : p;
  });
  return { ...existing, metadata: { ...existing.metadata, labels: d.metadata.labels, annotations: d.metadata.annotations }, spec: { ...e.spec, type: d.spec.type, ...(d.spec.selector === undefined ? {} : { selector: d.spec.selector }), ports } };
}

function equalMaps(a: unknown, b: Record<string, string>): boolean {
  const x = (a ?? {}) as Record<string, string>;
  const ka = Object.keys(x), kb = Object.keys(b);
  return ka.length === kb.length && kb.every((k) => x[k] === b[k]);
}

/** The addresses a Gateway reports in-cluster: load-balancer ingress, else the cluster IP. */
export function serviceAddresses(service: KubeObject | undefined): { type: 'IPAddress' | 'Hostname'; value: string }[] {
  if (service === undefined) return [];
  const ingress = ((service.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)?.loadBalancer?.ingress ?? []);
  const out: { type: 'IPAddress' | 'Hostname'; value: string }[] = [];
  for (const i of ingress) {
    if (i.ip) out.push({ type: 'IPAddress', value: i.ip });
    else if (i.hostname) out.push({ type: 'Hostname', value: i.hostname });
  }
  if (out.length > 0) return out;
  const spec = service.spec as { type?: string; clusterIP?: string } | undefined;
  if (spec?.type !== 'LoadBalancer' && spec?.clusterIP && spec.clusterIP !== 'None') return [{ type: 'IPAddress', value: spec.clusterIP }];
  return [];
}
