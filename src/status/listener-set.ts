// ListenerSet conditions (Gateway API v1 ListenerSetConditionType and reasons, GEP-1713) and
// the conflict conditions of ListenerSet listeners (ListenerEntryConditionType).
import { condition, type ConditionInput } from './conditions.ts';

export type ListenerSetConditionType = 'Accepted' | 'Programmed';
export type ListenerSetReason =
  | 'Accepted' | 'Programmed' | 'NotAllowed' | 'ParentNotAccepted' | 'ListenersNotValid' | 'Invalid' | 'Pending';
type S = ConditionInput<ListenerSetConditionType, ListenerSetReason>;

export function listenerSetAccepted(): S {
  return condition('Accepted', 'True', 'Accepted', 'ListenerSet is accepted');
}
/** Some listeners invalid, the others serve: Accepted stays True. */
export function listenerSetSomeListenersNotValid(message: string): S {
  return condition('Accepted', 'True', 'ListenersNotValid', message);
}
/** Both conditions False with the same reason: nothing of the set is served. */
export function listenerSetRejected(reason: 'NotAllowed' | 'ParentNotAccepted' | 'ListenersNotValid', message: string): S[] {
  return [condition('Accepted', 'False', reason, message), condition('Programmed', 'False', reason, message)];
}
export function listenerSetProgrammedPending(message = 'Waiting for the proxy to apply the configuration'): S {
  return condition('Programmed', 'False', 'Pending', message);
}
export function listenerSetProgrammed(): S {
  return condition('Programmed', 'True', 'Programmed', 'ListenerSet is programmed');
}
export function listenerSetNotProgrammed(message: string): S {
  return condition('Programmed', 'False', 'Invalid', message);
}

/**
 * A ListenerSet listener that lost to a listener of higher precedence on its port: not
 * accepted, not programmed, conflicted, all with the conflict as reason (conformance
 * ListenerSetHostnameConflict / ListenerSetProtocolConflict).
 */
export function listenerEntryConflicted(reason: 'HostnameConflict' | 'ProtocolConflict', message: string): ConditionInput[] {
  return [condition('Accepted', 'False', reason, message), condition('Programmed', 'False', reason, message), condition('Conflicted', 'True', reason, message)];
}
