/**
 * Status conditions with the rules of apimachinery's meta.SetStatusCondition: lastTransitionTime
 * moves only when status flips, so "Ready since" stays true across reconciles and an unchanged
 * status can be detected and not written again (a write per reconcile would loop forever).
 */

export type ConditionStatus = "True" | "False" | "Unknown";

/** metav1.Condition, as it appears in a status. */
export interface Condition {
  /** CamelCase, e.g. "Ready", "Synced". */
  readonly type: string;
  readonly status: ConditionStatus;
  /** CamelCase machine-readable reason, e.g. "DecryptFailed". */
  readonly reason: string;
  /** For people; may be empty. */
  readonly message: string;
  /** metadata.generation this condition was computed from. */
  readonly observedGeneration?: number;
  /** RFC 3339, when status last changed. */
  readonly lastTransitionTime: string;
}

/** A condition to set; lastTransitionTime is filled in when status flips (or is new). */
export type ConditionUpdate = Omit<Condition, "lastTransitionTime"> & {
  readonly lastTransitionTime?: string;
};

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Returns conditions with next set, leaving the input untouched. An existing condition keeps its
 * place and its lastTransitionTime unless status changes; a new one is appended.
 * now is used only when a transition time is needed and next carries none.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: ConditionUpdate,
  now: number,
): Condition[] {
  const index = conditions.findIndex((c) => c.type === next.type);
  const existing = conditions[index];
  if (existing === undefined) {
    return [...conditions, withTransition(next, next.lastTransitionTime ?? rfc3339(now))];
  }
  const transition =
    existing.status === next.status
      ? existing.lastTransitionTime
      : (next.lastTransitionTime ?? rfc3339(now));
  const result = [...conditions];
  result[index] = withTransition(next, transition);
  return result;
}

/** Returns conditions without the one of this type. */
export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/**
 * True when both lists hold the same conditions, in any order. Callers compare the computed list
 * with the live one and skip the status write when nothing changed.
 */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  return left.every((condition) => {
    const other = findCondition(right, condition.type);
    return other !== undefined && sameCondition(condition, other);
  });
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}

// Builds a fresh object so no caller-owned condition (or extra property) leaks into the status.
function withTransition(next: ConditionUpdate, lastTransitionTime: string): Condition {
  const condition: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime,
  };
  return next.observedGeneration === undefined
    ? condition
    : { ...condition, observedGeneration: next.observedGeneration };
}
