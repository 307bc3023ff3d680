import { groupOf, type KubeObject } from "../../kube/objects.js";
import { compact } from "../compact.js";
import type { AdmissionFact } from "./facts.js";

/**
 * The contract with the admission webhook, which the auditor must not import: it writes an
 * events.k8s.io/v1 Event per allowed out-of-band change, from this reporting controller, with
 * the facts in these annotations (src/admission/events.ts writes the same names).
 */
export const ADMISSION_REPORTER = "gitops-guard.io/admission";
export const ADMISSION_EVENT_ANNOTATIONS = {
  user: "gitops-guard.io/user",
  groups: "gitops-guard.io/groups",
  decision: "gitops-guard.io/decision",
  operation: "gitops-guard.io/operation",
  changedFields: "gitops-guard.io/changed-fields",
  reason: "gitops-guard.io/break-glass-reason",
  expires: "gitops-guard.io/break-glass-expires",
} as const;
/** The label that selects these Events (and only gitops-guard's) for the Event informer. */
export const ADMISSION_EVENT_SELECTOR = "app.kubernetes.io/managed-by=gitops-guard";

function stringList(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function eventTimeMs(event: KubeObject): number {
  const raw = str(event["eventTime"]) ?? event.metadata.creationTimestamp;
  const ms = raw === undefined ? Number.NaN : Date.parse(raw);
  return Number.isNaN(ms) ? 0 : ms;
}

function breakGlassOf(
  annotations: Readonly<Record<string, string>>,
): AdmissionFact["breakGlass"] | undefined {
  const a = ADMISSION_EVENT_ANNOTATIONS;
  const reason = annotations[a.reason];
  if (reason === undefined) return undefined;
  const expires = annotations[a.expires];
  return expires === undefined ? { reason } : { reason, expires };
}

/** The facts of one admission Event, or undefined when it is not one of the webhook's. */
export function parseAdmissionEvent(event: KubeObject): AdmissionFact | undefined {
  if (event["reportingController"] !== ADMISSION_REPORTER) return undefined;
  const annotations = event.metadata.annotations ?? {};
  const a = ADMISSION_EVENT_ANNOTATIONS;
  const username = annotations[a.user];
  const regarding = (event["regarding"] ?? {}) as Record<string, unknown>;
  const kind = str(regarding["kind"]);
  const name = str(regarding["name"]);
  if (username === undefined || kind === undefined || name === undefined) return undefined;
  return compact({
    user: { username, groups: stringList(annotations[a.groups]) },
    group: groupOf(str(regarding["apiVersion"]) ?? "v1"),
    kind,
    name,
    namespace: str(regarding["namespace"]),
    decision: annotations[a.decision] ?? str(event["reason"]) ?? "",
    operation: annotations[a.operation],
    breakGlass: breakGlassOf(annotations),
    changedFields: stringList(annotations[a.changedFields]),
    timeMs: eventTimeMs(event),
  });
}
