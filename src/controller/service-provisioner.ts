// Keeps one Service per Gateway of ours (gateway-services.ts; in-cluster mode in FluxGate's
// namespace, local mode in the Gateway's) and deletes the Services of Gateways that are gone.
// Leader only, like status: replicas must not race.
import type { Logger } from '../observability/logger.ts';
import type { Gateway, Resources } from '../translate/resources.ts';
import { admittedListenerSets } from '../translate/index.ts';
import type { KubeClient } from './kube-client.ts';
import { describeAnswer } from './kube-client.ts';
import type { Store } from './store.ts';
import {
  CONTROLLER_ANNOTATION, desiredGatewayService, GATEWAY_NAME_LABEL, GATEWAY_NAMESPACE_LABEL, MANAGED_BY, serviceUpdate,
} from './gateway-services.ts';
import type { GatewayServiceOptions } from './gateway-services.ts';

export interface ServiceProvisioner {
  sync(resources: Resources): Promise<void>;
}

export function createServiceProvisioner(deps: { client: KubeClient; store: Store; controllerName: string; options: GatewayServiceOptions; logger: Logger }): ServiceProvisioner {
  const { client, store, controllerName, options } = deps;
  const log = deps.logger.child({ component: 'service-provisioner' });
  const collection = (ns: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}/services`;

  return {
    async sync(resources) {
      const classes = new Set(resources.gatewayClasses.filter((c) => c.spec?.controllerName === controllerName).map((c) => c.metadata?.name));
      const ours: Gateway[] = resources.gateways.filter((g) => classes.has(g.spec?.gatewayClassName));
      const wanted = new Set<string>();
      const sets = admittedListenerSets(resources, controllerName);
      for (const gw of ours) {
        const base = desiredGatewayService(gw, options, sets.get(`${gw.metadata?.namespace ?? ''}/${gw.metadata?.name ?? ''}`));
        const desired = { ...base, metadata: { ...base.metadata, annotations: { ...base.metadata?.annotations, [CONTROLLER_ANNOTATION]: controllerName } } };
        const name = desired.metadata?.name ?? '';
        const ns = desired.metadata?.namespace ?? '';
        wanted.add(`${ns}/${name}`);
        const existing = store.get('Service', ns, name);
        try {
          if (existing === undefined) {
            const res = await client.request('POST', collection(ns), { body: desired });
            if (res.status !== 201 && res.status !== 409) log.error({ code: 'KUBE_REQUEST_FAILED', service: name }, `create Service: ${describeAnswer(res)}`);
            else if (res.status === 201) log.info({ service: name, gateway: `${gw.metadata?.namespace}/${gw.metadata?.name}` }, 'Service for Gateway created');
            continue;
          }
          const update = serviceUpdate(existing, desired);
          if (update === undefined) continue;
          const res = await client.request('PUT', `${collection(ns)}/${encodeURIComponent(name)}`, { body: update });
          // 409: someone changed it; the informer brings the new version and the next sync retries.
          if (res.status !== 200 && res.status !== 409) log.error({ code: 'KUBE_REQUEST_FAILED', service: name }, `update Service: ${describeAnswer(res)}`);
        } catch (err) {
          log.warn({ code: 'KUBE_UNREACHABLE', service: name }, (err as Error).message);
        }
      }
      for (const svc of store.list('Service')) {
        const labels = svc.metadata?.labels ?? {};
        const ns = svc.metadata?.namespace ?? '';
        // Local mode: any namespace, but only Services in the namespace of the Gateway they name.
        const home = options.local === true ? labels[GATEWAY_NAMESPACE_LABEL] : options.namespace;
        if (ns !== home || labels[MANAGED_BY] !== 'fluxgate' || labels[GATEWAY_NAMESPACE_LABEL] === undefined || labels[GATEWAY_NAME_LABEL] === undefined) continue;
        // Another controller's (unmarked ones predate the annotation: in-cluster mode only).
        const madeBy = svc.metadata?.annotations?.[CONTROLLER_ANNOTATION];
        if (madeBy === undefined ? options.local === true : madeBy !== controllerName) continue;
        const name = svc.metadata?.name ?? '';
        if (wanted.has(`${ns}/${name}`)) continue;
        try {
          const res = await client.request('DELETE', `${collection(ns)}/${encodeURIComponent(name)}`);
          if (res.status === 200 || res.status === 202) log.info({ service: name }, 'Service of a removed Gateway deleted');
          else if (res.status !== 404) log.error({ code: 'KUBE_REQUEST_FAILED', service: name }, `delete Service: ${describeAnswer(res)}`);
        } catch (err) {
          log.warn({ code: 'KUBE_UNREACHABLE', service: name }, (err as Error).message);
        }
      }
    },
  };
}
