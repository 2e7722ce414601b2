// Condition data and the merge rule shared by every status builder. Conditions here carry no
// lastTransitionTime: the status writer stamps it, only when status, reason or message changed.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A condition before it is stamped with the object's generation. */
export interface ConditionInput<T extends string = string, R extends string = string> {
  readonly type: T;
  readonly status: ConditionStatus;
  readonly reason: R;
  readonly message: string;
}

/** metav1.Condition without lastTransitionTime. */
export interface Condition extends ConditionInput {
  readonly observedGeneration?: number;
}

/**
 * Merges conditions: defaults first, failures appended, and the last condition of each type
 * wins. The output keeps the position where each type first appeared, so the defaults fix the
 * order (Accepted before ResolvedRefs...) whatever failures came later.
 */
export function mergeConditions(
  conditions: readonly ConditionInput[],
  generation?: number,
): Condition[] {
  const order: string[] = [];
  const last = new Map<string, ConditionInput>();
  for (const c of conditions) {
    if (!last.has(c.type)) order.push(c.type);
    last.set(c.type, c);
  }
  return order.map((type) => {
    const c = last.get(type)!;
    const out: Condition = { type: c.type, status: c.status, reason: c.reason, message: c.message };
    return generation === undefined ? out : { ...out, observedGeneration: generation };
  });
}

/** The generation to report as observedGeneration, when the object has a usable one. */
export function generationOf(obj: unknown): number | undefined {
  const meta = (obj as { metadata?: { generation?: unknown } } | null | undefined)?.metadata;
  const g = meta && typeof meta === 'object' ? meta.generation : undefined;
  return typeof g === 'number' && Number.isSafeInteger(g) && g >= 0 ? g : undefined;
}

export function condition<T extends string, R extends string>(
  type: T, status: ConditionStatus, reason: R, message: string,
): ConditionInput<T, R> {
  return { type, status, reason, message };
}
