/**
 * Kubernetes Events for the out-of-band changes the webhook lets through (break-glass, Audit
 * mode), so the auditor and `kubectl events` see who did what under which reason. The facts
 * are also annotations on the Event, for machines. Only identities, reasons, times and field
 * paths go in: never a value, so a Secret's data cannot leak through an Event.
 */
import { errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import type { Logger } from "../telemetry/log.js";
import type { Decision } from "./decision.js";
import type { AdmissionRequest } from "./review-types.js";

export const REPORTING_CONTROLLER = "gitops-guard.io/admission";
const NOTE_MAX = 1024;
const EVENT_REASONS: ReadonlySet<string> = new Set(["BreakGlass", "BreakGlassEnded", "AuditMode"]);

export const EVENT_ANNOTATIONS = {
  user: "gitops-guard.io/user",
  groups: "gitops-guard.io/groups",
  decision: "gitops-guard.io/decision",
  policy: "gitops-guard.io/policy",
  operation: "gitops-guard.io/operation",
  changedFields: "gitops-guard.io/changed-fields",
  wouldDeny: "gitops-guard.io/would-deny",
  reason: "gitops-guard.io/break-glass-reason",
  expires: "gitops-guard.io/break-glass-expires",
  holder: "gitops-guard.io/break-glass-by",
  requestUid: "gitops-guard.io/request-uid",
} as const;

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** Whether a decision is an allowed out-of-band change that deserves an Event. */
export function wantsEvent(decision: Decision, request: AdmissionRequest): boolean {
  return request.dryRun !== true && EVENT_REASONS.has(decision.reason);
}

function note(decision: Decision, request: AdmissionRequest): string {
  const who = `${request.userInfo.username} (groups: ${(request.userInfo.groups ?? []).join(", ") || "none"})`;
  const what = `${request.operation} ${decision.changedFields.join(", ")}`.trim();
  const glass = decision.breakGlass;
  const text =
    glass === undefined
      ? `${decision.reason}: ${who} made an out-of-band change (${what}) that ${decision.wouldDeny ?? "Enforce"} mode would deny.`
      : `${decision.reason}: ${who}, reason "${glass.reason}", until ${glass.expires}: ${what}.`;
  return text.length > NOTE_MAX ? `${text.slice(0, NOTE_MAX - 3)}...` : text;
}

function annotations(decision: Decision, request: AdmissionRequest): Record<string, string> {
  const glass = decision.breakGlass;
  const a = EVENT_ANNOTATIONS;
  return {
    [a.user]: request.userInfo.username,
    [a.groups]: JSON.stringify(request.userInfo.groups ?? []),
    [a.decision]: decision.reason,
    [a.operation]: request.operation,
    [a.changedFields]: JSON.stringify(decision.changedFields),
    [a.requestUid]: request.uid,
    ...(decision.policy === undefined ? {} : { [a.policy]: decision.policy }),
    ...(decision.wouldDeny === undefined ? {} : { [a.wouldDeny]: decision.wouldDeny }),
    ...(glass === undefined
      ? {}
      : { [a.reason]: glass.reason, [a.expires]: glass.expires, [a.holder]: glass.by }),
  };
}

export interface EventInput {
  readonly decision: Decision;
  readonly request: AdmissionRequest;
  readonly now: number;
  /** This replica (pod name): reportingInstance. */
  readonly instance: string;
  /** Makes the Event's name unique: a random hex string. */
  readonly id: string;
}

function regarding(decision: Decision, request: AdmissionRequest): Record<string, string> {
  const ref = decision.object;
  const uid = request.oldObject?.metadata?.["uid"] ?? request.object?.metadata?.["uid"];
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    name: ref.name,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
    ...(typeof uid === "string" ? { uid } : {}),
  };
}

/** The events.k8s.io/v1 Event for an allowed out-of-band change. */
export function admissionEvent(input: EventInput): KubeObject {
  const { decision, request } = input;
  const ref = decision.object;
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: {
      // As kubectl names Events: the object's name, a dot, a unique suffix.
      name: `${(ref.name === "" ? ref.kind.toLowerCase() : ref.name).slice(0, 200)}.${input.id}`,
      namespace: ref.namespace ?? "default",
      labels: { "app.kubernetes.io/managed-by": "gitops-guard" },
      annotations: annotations(decision, request),
    },
    eventTime: microTime(input.now),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: input.instance.slice(0, 128),
    action: request.operation === "DELETE" ? "Delete" : "Admit",
    reason: decision.reason,
    type: "Warning",
    regarding: regarding(decision, request),
    note: note(decision, request),
  };
}

export interface EventSink {
  /** Sends the Event in the background; a failure is logged and counted, never thrown. */
  emit(event: KubeObject): void;
}

export interface EventSinkOptions {
  readonly kube: KubeClient;
  readonly logger: Logger;
  readonly onOutcome?: (outcome: "sent" | "failed" | "dropped") => void;
  /** Writes in flight at most; more are dropped (a flood must not pile up in memory). */
  readonly maxInFlight?: number;
}

export function kubeEventSink(options: EventSinkOptions): EventSink {
  const max = options.maxInFlight ?? 64;
  let inFlight = 0;
  const report = (outcome: "sent" | "failed" | "dropped"): void => options.onOutcome?.(outcome);
  return {
    emit(event) {
      if (inFlight >= max) {
        report("dropped");
        return;
      }
      inFlight++;
      void options.kube
        .create(event)
        .then(() => {
          report("sent");
        })
        .catch((err: unknown) => {
          report("failed");
          options.logger.warn(
            { err: errorMessage(err), reason: event["reason"] },
            "cannot write admission Event",
          );
        })
        .finally(() => {
          inFlight--;
        });
    },
  };
}
