// Programmed conditions from what the proxy really applied (Gateway API: Programmed means the
// configuration is live in the data plane, so only the proxy can say so).
import type { ApplyResult, ListenerApplyResult, RoutingTable } from '../ir/index.ts';
import * as st from '../status/index.ts';
import * as lst from '../status/listener-set.ts';
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

interface SocketRef { readonly address: string; readonly socketId: string }

export function withApplyResult(statuses: readonly ObjectStatus[], table: RoutingTable, applied: ApplyResult): readonly ObjectStatus[] {
  // Where each Gateway listener landed: one socket per Gateway address, each with its apply result.
  const list: readonly ListenerApplyResult[] = Array.isArray(applied?.listeners) ? applied.listeners : [];
  const results = new Map(list.map((r) => [r.id, r]));
  const current = applied?.version === table.version;
  const bySocket = new Map<string, SocketRef[]>();
  for (const l of table.listeners) {
    for (const gl of l.gatewayListeners) {
      const refs = bySocket.get(gl.id);
      const ref = { address: l.address, socketId: l.id };
      if (refs) refs.push(ref); else bySocket.set(gl.id, [ref]);
    }
  }

  return statuses.map((s) => {
    // ListenerSet listeners bind on their Gateway's sockets (GEP-1713): same per-listener rules.
    if (s.kind !== 'Gateway' && s.kind !== 'ListenerSet') return s;
    const isSet = s.kind === 'ListenerSet';
    const status = obj(s.status) as unknown as GatewayStatusLike | undefined;
    if (!status || !Array.isArray(status.listeners) || !Array.isArray(status.conditions)) return s;
    const gen = generationOfConditions(status.conditions);
    const addresses = new Set<string>();
    // Per address of this Gateway: sockets bound there, and why the others failed.
    const perAddress = new Map<string, { bound: number; errors: string[] }>();
    const noteAddress = (address: string, error?: string): void => {
      let a = perAddress.get(address);
      if (!a) perAddress.set(address, a = { bound: 0, errors: [] });
      if (error === undefined) a.bound++; else a.errors.push(error);
    };
    const bindErrors: string[] = [];
    let programmed = 0;
    const listeners = status.listeners.map((ls) => {
      const id = `${isSet ? 'listenerset' : 'listener'}/${s.namespace ?? ''}/${s.name}/${str(ls.name) ?? ''}`;
      const sockets = bySocket.get(id);
      if (!sockets) return ls; // not in the table: translate() already said Programmed=False/Invalid
      const extra: ConditionInput[] = [];
      const failed: string[] = [];
      const bound: SocketRef[] = [];
      let pending = !current;
      for (const socket of sockets) {
        const r = results.get(socket.socketId);
        if (!current || !r) {
          pending = true;
        } else if (!r.bound) {
          const why = r.error ?? 'unknown error';
          failed.push(`${socket.socketId} could not be bound: ${why}`);
          noteAddress(socket.address, why);
        } else {
          bound.push(socket);
          noteAddress(socket.address);
        }
      }
      const certError = bound.flatMap((b) => results.get(b.socketId)?.certificateErrors ?? []).find((e) => e.listenerId === id);
      if (pending) {
        extra.push(st.listenerNotProgrammedPending(`Waiting for the proxy to apply version ${table.version.slice(0, 12)}`));
      } else if (bound.length === 0) {
        bindErrors.push(`${ls.name}: ${failed.join('; ')}`);
        // Gateway API: PortUnavailable is the Accepted reason for a port that cannot be used.
        extra.push(st.listenerPortUnavailable(failed.join('; ')), st.listenerNotProgrammedInvalid(failed.join('; ')));
      } else if (certError) {
        extra.push(st.listenerInvalidCertificateRef(certError.message), st.listenerNotProgrammedInvalid(certError.message));
      } else if (failed.length > 0) {
        // Serving on some of the Gateway's addresses only: not what the user asked for.
        extra.push(st.listenerNotProgrammedInvalid(`Serving on ${bound.map((b) => b.socketId).join(', ')} only: ${failed.join('; ')}`));
      } else {
        extra.push(st.listenerProgrammed());
        programmed++;
      }
      if (!pending) for (const b of bound) if (b.address !== '') addresses.add(b.address);
      return { ...ls, conditions: mergeConditions([...ls.conditions, ...extra], gen) };
    });
    // An address none of whose sockets could be bound is not usable (not on this host, or
    // taken): Gateway API AddressNotUsable, naming the address.
    const unusable = [...perAddress].filter(([, a]) => a.bound === 0).sort(([a], [b]) => compareStrings(a, b))
      .map(([address, a]) => `${address === '' ? 'all interfaces' : address} cannot be used: ${[...new Set(a.errors)].join('; ')}`);
    if (isSet) {
      const setExtra: ConditionInput[] = [];
      if (isTrue(status.conditions, 'Accepted')) {
        if (!current) setExtra.push(lst.listenerSetProgrammedPending(`Waiting for the proxy to apply version ${table.version.slice(0, 12)}`));
        else if (programmed > 0) setExtra.push(lst.listenerSetProgrammed());
        else setExtra.push(lst.listenerSetNotProgrammed('No listener is programmed; see the listener conditions'));
      }
      return { ...s, status: { ...status, conditions: mergeConditions([...status.conditions, ...setExtra], gen), listeners } };
    }
    const extra: ConditionInput[] = [];
    if (isTrue(status.conditions, 'Accepted')) {
      if (!current) extra.push(st.gatewayProgrammedPending(`Waiting for the proxy to apply version ${table.version.slice(0, 12)}`));
      else if (unusable.length > 0) extra.push(st.gatewayAddressNotUsable(`${unusable.join('; ')}. Use an address of this host, or remove it from spec.addresses`));
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
