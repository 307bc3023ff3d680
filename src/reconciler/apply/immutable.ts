import type { ObjectRef } from "../../kube/objects.js";

/**
 * Recognises the API server's refusal to change an immutable field and says what to do instead,
 * so a GitSync condition reads "Job db/migrate: spec.template is immutable: give the Job a new
 * name..." rather than a 4 KB dump of a PodTemplateSpec. Pure. The refusal decides control flow
 * (a hook Job is deleted and created anew on it), so it is read from the 422 Invalid Status's
 * details.causes, their type and field, never from message text: the message names the object,
 * and an object called "immutable-db" would make any error about it read as this one.
 */
export interface ImmutableRefusal {
  readonly field: string;
  readonly migration: string;
}

interface Cause {
  readonly field?: string;
  readonly reason?: string;
}

/** The cause types of apimachinery's field.Invalid and field.Forbidden, which immutability uses. */
const REFUSAL_TYPES: ReadonlySet<string> = new Set(["FieldValueInvalid", "FieldValueForbidden"]);

/**
 * The fields an update may not change, by kind, exactly as the API server names them in a
 * cause (ValidateImmutableField and the kinds' update validation); a cause below one of them
 * (spec.template.spec.containers[0].image) is an invalid value, not an immutable field.
 */
const FIXED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Job: ["spec.template", "spec.selector", "spec.completionMode", "spec.podFailurePolicy"],
  StatefulSet: ["spec", "spec.selector"],
  PersistentVolumeClaim: ["spec"],
  ConfigMap: ["data", "binaryData", "immutable"],
  Secret: ["data", "type", "immutable"],
  Service: ["spec.clusterIP", "spec.clusterIPs[0]", "spec.ipFamilies[0]"],
};

/** Every other kind: a selector (Deployments, DaemonSets, ReplicaSets, PodDisruptionBudgets). */
function isFixed(kind: string, field: string): boolean {
  return FIXED_FIELDS[kind]?.includes(field) ?? /(^|\.)selector$/.test(field);
}

function causesOf(details: Readonly<Record<string, unknown>>): Cause[] {
  const causes = details["causes"];
  return Array.isArray(causes) ? (causes as Cause[]) : [];
}

/** The immutable field the refusal names, from its causes. */
function immutableField(
  ref: ObjectRef,
  details: Readonly<Record<string, unknown>>,
): string | undefined {
  const cause = causesOf(details).find(
    (c) => REFUSAL_TYPES.has(c.reason ?? "") && isFixed(ref.kind, c.field ?? ""),
  );
  return cause?.field;
}

function migrationFor(ref: ObjectRef, field: string): string {
  switch (ref.kind) {
    case "StatefulSet":
      return (
        "a StatefulSet may change only replicas, template, updateStrategy, minReadySeconds, ordinals " +
        "and persistentVolumeClaimRetentionPolicy (volumeClaimTemplates, selector and serviceName are " +
        `fixed): run \`kubectl delete statefulset ${ref.name} -n ${ref.namespace ?? ""} --cascade=orphan\` ` +
        "(Pods and PVCs stay) and the next sync recreates it; resize existing PVCs on the claims themselves"
      );
    case "Job":
      return (
        "a Job's template and selector cannot change: give the Job a new name in Git (for example a " +
        "version suffix), or delete it so the next sync recreates it"
      );
    case "Service":
      return "remove the field from Git so the API server keeps its value, or delete the Service so it is recreated";
    case "ConfigMap":
    case "Secret":
      return `an immutable ${ref.kind} cannot change: give it a new name in Git and point its users at it`;
    case "PersistentVolumeClaim":
      return "a bound claim changes only resources.requests: create a new claim and move the data to it";
    default:
      return field.includes("selector")
        ? "the selector cannot change: rename the object in Git, or delete it (--cascade=orphan keeps its Pods) so the next sync recreates it"
        : "delete the object so the next sync recreates it, or give it a new name in Git";
  }
}

/** The refusal, or undefined when the error is not about an immutable field. */
export function immutableRefusal(
  ref: ObjectRef,
  details: Readonly<Record<string, unknown>>,
): ImmutableRefusal | undefined {
  if (details["status"] !== 422 || details["reason"] !== "Invalid") return undefined;
  const field = immutableField(ref, details);
  return field === undefined ? undefined : { field, migration: migrationFor(ref, field) };
}
