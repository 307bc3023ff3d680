import type { ObjectRef } from "../../kube/objects.js";

/**
 * Recognises the API server's refusal to change an immutable field and says what to do instead,
 * so a GitSync condition reads "Job db/migrate: spec.template is immutable: give the Job a new
 * name..." rather than a 4 KB dump of a PodTemplateSpec. Pure: it reads the 422 Status details.
 */
export interface ImmutableRefusal {
  readonly field: string;
  readonly migration: string;
}

interface Cause {
  readonly field?: string;
  readonly message?: string;
  readonly reason?: string;
}

const IMMUTABLE =
  /field is immutable|Forbidden: updates to|may not change once set|cannot be changed|is immutable/i;

function causesOf(details: Readonly<Record<string, unknown>>): Cause[] {
  const causes = details["causes"];
  return Array.isArray(causes) ? (causes as Cause[]) : [];
}

/** The field the refusal is about: from a cause, else from the Status message. */
function immutableField(details: Readonly<Record<string, unknown>>): string | undefined {
  const cause = causesOf(details).find((c) => IMMUTABLE.test(c.message ?? ""));
  if (cause?.field !== undefined && cause.field !== "") return cause.field;
  const message = typeof details["message"] === "string" ? details["message"] : "";
  if (!IMMUTABLE.test(message)) return undefined;
  const match = /is invalid: ([^:\s]+): (?:Invalid value|Forbidden)/.exec(message);
  return match?.[1] ?? (cause === undefined ? undefined : "spec");
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
  if (details["status"] !== 422) return undefined;
  const field = immutableField(details);
  return field === undefined ? undefined : { field, migration: migrationFor(ref, field) };
}
