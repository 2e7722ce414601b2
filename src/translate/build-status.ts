// Assembles the Gateway API status of every object we own: GatewayClass, Gateway (with
// listeners) and route parents. Conditions: defaults first, failures appended, last of each
// type wins (src/status).
import * as st from '../status/index.ts';
import { condition, mergeConditions, type ConditionInput } from '../status/index.ts';
import type { ParentAttachment } from './attach.ts';
import type { GatewayInfo, ListenerInfo } from './listeners.ts';
import { serves } from './listeners.ts';
import { insecureFrontendValidation } from './frontend-tls.ts';
import type { RefFailure } from './backends.ts';
import type { RuleOutput } from './rules.ts';
import { meta, type Meta } from './safe.ts';
import type { GatewayClass } from './resources.ts';
import type { ObjectStatus } from './types.ts';

export const CONTROLLER_API_VERSION = 'gateway.networking.k8s.io/v1';

export function gatewayClassStatus(c: GatewayClass): ObjectStatus {
  const m = meta(c);
  return {
    apiVersion: CONTROLLER_API_VERSION, kind: 'GatewayClass', name: m.name,
    status: { conditions: mergeConditions([st.gatewayClassAccepted(), st.gatewayClassSupportedVersion()], m.generation) },
  };
}

export function listenerIsValid(l: ListenerInfo): boolean {
  return serves(l) && l.failures.length === 0;
}

function describe(l: ListenerInfo): string {
  return `listener "${l.name}" (spec.listeners[${l.index}])`;
}

function optional<T>(x: T | undefined): T[] {
  return x === undefined ? [] : [x];
}

/** A listener's status (of a Gateway or a ListenerSet): defaults overridden by its failures. */
export function listenerStatus(l: ListenerInfo, gen: number | undefined): unknown {
  return {
    name: l.name,
    supportedKinds: l.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
    attachedRoutes: l.attached.size,
    conditions: mergeConditions([
      st.listenerAccepted(), st.listenerNoConflicts(), st.listenerResolvedRefs(),
      serves(l) ? st.listenerProgrammedPending() : st.listenerNotProgrammedInvalid('Listener is invalid; see the other conditions'),
      ...l.failures,
    ], gen),
  };
}

export function gatewayStatus(g: GatewayInfo): ObjectStatus {
  const invalid = g.listeners.filter((l) => !listenerIsValid(l));
  const failures: ConditionInput[] = [...g.failures];
  const serving = g.listeners.some(serves);
  if (g.failures.length === 0 && invalid.length > 0) {
    const msg = `${invalid.map(describe).join(', ')} ${invalid.length === 1 ? 'is' : 'are'} invalid; see the listener conditions`;
    // Gateway API: ListenersNotValid with Accepted=True while some listener still serves.
    failures.push(serving ? st.gatewaySomeListenersNotValid(msg) : st.gatewayNoValidListeners(msg));
  }
  const accepted = g.failures.length === 0 && serving;
  const programmed = accepted ? st.gatewayProgrammedPending() : st.gatewayNotProgrammedInvalid('Gateway is not accepted; see the Accepted condition');
  const gen = g.meta.generation;
  return {
    apiVersion: CONTROLLER_API_VERSION, kind: 'Gateway', namespace: g.meta.namespace, name: g.meta.name,
    status: {
      conditions: mergeConditions([st.gatewayAccepted(), programmed, ...failures, ...optional(insecureFrontendValidation(g.gateway)), ...optional(g.backendTls?.condition)], gen),
      listeners: g.listeners.map((l) => listenerStatus(l, gen)),
    },
  };
}

/** Everything known about one route, for its status. */
export interface RouteStatusInput {
  readonly apiVersion: string;
  readonly kind: string;
  readonly meta: Meta;
  readonly parents: readonly ParentAttachment[];
  readonly rules: readonly RuleOutput[];
  readonly refFailures: readonly RefFailure[];
  /** Set when translating the route failed unexpectedly. */
  readonly internalError?: string;
  /** fluxgate.io policies this route uses that are missing or invalid (it fails closed). */
  readonly policyFailures?: readonly string[];
}

export function routeFailures(input: RouteStatusInput): ConditionInput[] {
  const failures: ConditionInput[] = [];
  const invalid = input.rules.filter((r) => r.errors.length > 0);
  if (input.internalError !== undefined) {
    failures.push(st.routeAllRulesInvalid(input.internalError));
  } else if (invalid.length > 0) {
    const msg = invalid.flatMap((r) => r.errors).join('; ');
    // Gateway API: some rules invalid → Accepted stays True with PartiallyInvalid=True; all
    // invalid → Accepted=False, reason UnsupportedValue.
    failures.push(invalid.length === input.rules.length ? st.routeAllRulesInvalid(msg) : st.routePartiallyInvalid(msg));
  }
  const policy = input.policyFailures ?? [];
  if (input.refFailures.length > 0) {
    failures.push(st.routeRefsNotResolved(input.refFailures[0]!.reason, [...input.refFailures.map((f) => f.message), ...policy].join('; ')));
  } else if (policy.length > 0) {
    // Not a Gateway API reason: the rule stays (it answers 500) and the message says which
    // policy and field, so ResolvedRefs=False carries it.
    failures.push(condition('ResolvedRefs', 'False', 'InvalidPolicy', policy.join('; ')));
  }
  return failures;
}

export function routeStatus(input: RouteStatusInput, controllerName: string): ObjectStatus | undefined {
  if (input.parents.length === 0) return undefined;
  const failures = routeFailures(input);
  return {
    apiVersion: input.apiVersion, kind: input.kind, namespace: input.meta.namespace, name: input.meta.name,
    status: {
      parents: input.parents.map((p) => ({
        parentRef: { ...p.parentRef },
        controllerName,
        conditions: mergeConditions([
          st.routeAccepted(), st.routeResolvedRefs(), ...failures, ...(p.failure ? [p.failure] : []),
        ], input.meta.generation),
      })),
    },
  };
}

/** Is the route usable on its parents at all (not every rule invalid)? */
export function routeUsable(input: RouteStatusInput): boolean {
  return input.internalError === undefined && input.rules.some((r) => r.errors.length === 0);
}
