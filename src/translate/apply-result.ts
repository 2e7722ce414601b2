// Programmed conditions from what the proxy really applied (Gateway API: Programmed means the
// configuration is live in the data plane, so only the proxy can say so).
import type { ApplyResult, ListenerApplyResult, RoutingTable } from '../ir/index.ts';
import * as st from '../status/index.ts';
import { mergeConditions, type Condition, type ConditionInput } from '../status/index.ts';
import { compareStrings, obj, str } from './safe.ts';
import type { ObjectStatus } from './types.ts';

interface ListenerStatusLike { readonly name: string; readonly conditions: readonly Condition[] }
interface GatewayStatusLike { readonly conditions: readonly Condition[]; readonly listeners: readonly ListenerStatusLike[] }

function generationOfConditions(conditions: readonly Condition[]): number | undefined {
  return conditions.find((c) => c.observedGeneration !== undefined)?.observedGeneration;
}

function isTrue(conditions: readonly Condition[], type: string): boolean {
  return conditions.some((c) => c.type === type && c.status === 'True');
}

export function withApplyResult(statuses: readonly ObjectStatus[], table: RoutingTable, applied: ApplyResult): readonly ObjectStatus[] {
  // Where each Gateway listener landed: socket and its apply result.
  const list: readonly ListenerApplyResult[] = Array.isArray(applied?.listeners) ? applied.listeners : [];
  const results = new Map(list.map((r) => [r.id, r]));
  const current = applied?.version === table.version;
  const bySocket = new Map<string, { address: string; socketId: string }>();
  for (const l of table.listeners) for (const gl of l.gatewayListeners) bySocket.set(gl.id, { address: l.address, socketId: l.id });

  return statuses.map((s) => {
    if (s.kind !== 'Gateway') return s;
    const status = obj(s.status) as unknown as GatewayStatusLike | undefined;
    if (!status || !Array.isArray(status.listeners) || !Array.isArray(status.conditions)) return s;
    const gen = generationOfConditions(status.conditions);
    const addresses = new Set<string>();
    const bindErrors: string[] = [];
    let programmed = 0;
    const listeners = status.listeners.map((ls) => {
      const id = `listener/${s.namespace ?? ''}/${s.name}/${str(ls.name) ?? ''}`;
      const socket = bySocket.get(id);
      if (!socket) return ls; // not in the table: translate() already said Programmed=False/Invalid
      const extra: ConditionInput[] = [];
      const r = results.get(socket.socketId);
      if (!current || !r) {
        extra.push(st.listenerNotProgrammedPending(`Waiting for the proxy to apply version ${table.version.slice(0, 12)}`));
      } else if (!r.bound) {
        const why = r.error ?? 'unknown error';
        bindErrors.push(`${ls.name}: ${why}`);
        // Gateway API: PortUnavailable is the Accepted reason for a port that cannot be used.
        extra.push(st.listenerPortUnavailable(`${socket.socketId} could not be bound: ${why}`), st.listenerNotProgrammedInvalid(`${socket.socketId} could not be bound: ${why}`));
      } else {
        const certError = r.certificateErrors?.find((e) => e.listenerId === id);
        if (certError) {
          extra.push(st.listenerInvalidCertificateRef(certError.message), st.listenerNotProgrammedInvalid(certError.message));
        } else {
          extra.push(st.listenerProgrammed());
          programmed++;
          if (socket.address !== '') addresses.add(socket.address);
        }
      }
      return { ...ls, conditions: mergeConditions([...ls.conditions, ...extra], gen) };
    });
    const extra: ConditionInput[] = [];
    if (isTrue(status.conditions, 'Accepted')) {
      if (!current) extra.push(st.gatewayProgrammedPending(`Waiting for the proxy to apply version ${table.version.slice(0, 12)}`));
      else if (programmed > 0) extra.push(st.gatewayProgrammed());
      else if (bindErrors.length > 0) extra.push(st.gatewayAddressNotUsable(`No listener could be bound: ${bindErrors.join('; ')}`));
      else extra.push(st.gatewayNotProgrammedInvalid('No listener is programmed; see the listener conditions'));
    }
    const next: Record<string, unknown> = { ...status, conditions: mergeConditions([...status.conditions, ...extra], gen), listeners };
    if (addresses.size > 0) {
      next.addresses = [...addresses].sort(compareStrings).map((value) => ({ type: 'IPAddress', value }));
    } else {
      delete next.addresses;
    }
    return { ...s, status: next };
  });
}
