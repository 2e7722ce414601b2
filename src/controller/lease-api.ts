// The LeaseApi of leader election over the real coordination.k8s.io/v1 API.
import type { KubeClient } from './kube-client.ts';
import { describeAnswer } from './kube-client.ts';
import { ControllerError } from './errors.ts';
import type { LeaseApi, LeaseRecord } from './leader-election.ts';

export function createLeaseApi(client: KubeClient, namespace: string, name: string): LeaseApi {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  const body = (spec: LeaseRecord, resourceVersion?: string): unknown => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec,
  });
  const fail = (what: string, res: { status: number; body: unknown }): never => {
    throw new ControllerError('KUBE_REQUEST_FAILED', `${what} lease ${namespace}/${name}: ${describeAnswer(res)}`, res.status);
  };
  return {
    async get() {
      const res = await client.request('GET', path, { timeoutMs: 5000 });
      if (res.status === 404) return undefined;
      if (res.status !== 200) return fail('get', res);
      const lease = res.body as { spec?: LeaseRecord; metadata?: { resourceVersion?: string } };
      return { record: lease.spec ?? {}, resourceVersion: lease.metadata?.resourceVersion ?? '' };
    },
    async create(record) {
      const res = await client.request('POST', collection, { body: body(record), timeoutMs: 5000 });
      if (res.status === 409) return 'conflict';
      if (res.status !== 201 && res.status !== 200) return fail('create', res);
      return 'ok';
    },
    async update(record, resourceVersion) {
      const res = await client.request('PUT', path, { body: body(record, resourceVersion), timeoutMs: 5000 });
      if (res.status === 409) return 'conflict';
      if (res.status !== 200) return fail('update', res);
      return 'ok';
    },
  };
}
