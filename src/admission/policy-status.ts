/**
 * A GuardPolicy's status as the admission component sees it: Ready=True when the webhook
 * enforces it (and the API server, through its compiled ValidatingAdmissionPolicy), Ready=False
 * with the problem otherwise: invalid (the message names the field) or the backstop could not
 * be applied. Pure; the write is skipped when nothing changed, so replicas do not loop.
 */
import type { KubeObject } from "../kube/objects.js";
import { conditionsEqual, setCondition, type Condition } from "../runtime/conditions.js";

export type BackstopOutcome =
  | { readonly kind: "applied"; readonly name: string }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "disabled" };

export interface PolicyStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly Condition[];
}

/** The Ready condition for a policy: problem is the parse error, when it is invalid. */
export function readyCondition(
  problem: string | undefined,
  backstop: BackstopOutcome,
  generation: number | undefined,
): Omit<Condition, "lastTransitionTime"> {
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  if (problem !== undefined) {
    return {
      type: "Ready",
      status: "False",
      reason: "Invalid",
      message: `ignored: ${problem}`,
      ...observed,
    };
  }
  if (backstop.kind === "failed") {
    return {
      type: "Ready",
      status: "False",
      reason: "BackstopFailed",
      message: `the webhook enforces it, but its ValidatingAdmissionPolicy could not be applied: ${backstop.message}`,
      ...observed,
    };
  }
  const also =
    backstop.kind === "applied"
      ? ` and the API server (ValidatingAdmissionPolicy ${backstop.name})`
      : "";
  return {
    type: "Ready",
    status: "True",
    reason: "Enforced",
    message: `enforced by the admission webhook${also}`,
    ...observed,
  };
}

function liveStatus(object: KubeObject): PolicyStatus {
  const status = object["status"];
  if (typeof status !== "object" || status === null) return { conditions: [] };
  const s = status as { observedGeneration?: unknown; conditions?: unknown };
  const conditions = Array.isArray(s.conditions) ? (s.conditions as Condition[]) : [];
  return typeof s.observedGeneration === "number"
    ? { observedGeneration: s.observedGeneration, conditions }
    : { conditions };
}

/** The status to write, or undefined when the live one already says it. */
export function nextStatus(
  object: KubeObject,
  ready: Omit<Condition, "lastTransitionTime">,
  now: number,
): PolicyStatus | undefined {
  const live = liveStatus(object);
  const conditions = setCondition(live.conditions, ready, now);
  const generation = object.metadata.generation;
  const sameGeneration = live.observedGeneration === generation;
  if (sameGeneration && conditionsEqual(live.conditions, conditions)) return undefined;
  return generation === undefined ? { conditions } : { observedGeneration: generation, conditions };
}
