/**
 * Kubernetes Events for the out-of-band changes the webhook lets through (break-glass, Audit
 * mode) and for its policy denials in Enforce mode, so the auditor and `kubectl events` see who
 * did what, or tried to, under which reason. The facts are also annotations on the Event, for
 * machines (kube/event-contract.ts). Only identities, reasons, times and field paths go in:
 * never a value, so a Secret's data cannot leak through an Event.
 */
import { ErrorCodes, errorMessage, isGuardError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import {
  ADMISSION_EVENT_ANNOTATIONS,
  DENIED_ACTION,
  EVENT_REPORTERS,
  GUARD_EVENT_LABELS,
} from "../kube/event-contract.js";
import type { KubeObject } from "../kube/objects.js";
import type { Logger } from "../telemetry/log.js";
import type { Decision } from "./decision.js";
import type { AdmissionRequest } from "./review-types.js";

export const REPORTING_CONTROLLER = EVENT_REPORTERS.admission;
export const EVENT_ANNOTATIONS = ADMISSION_EVENT_ANNOTATIONS;
/** The requester's UID annotation (the Event contract's uid). */
export const USER_UID_ANNOTATION = ADMISSION_EVENT_ANNOTATIONS.uid;
const NOTE_MAX = 1024;
/**
 * Allowed writes by someone who is not a reconciler, to an object a policy guards: the auditor
 * needs a fact to name who made the drift it will see (most clusters have no audit webhook).
 */
const FACT_REASONS: ReadonlySet<string> = new Set([
  "BreakGlass",
  "BreakGlassEnded",
  "AuditMode",
  "Exempt",
  "ScaleSubresource",
]);
/** Allowed because no policy guards it, yet a GitSync applied it: the auditor watches it too. */
const INVENTORY_FACT_REASONS: ReadonlySet<string> = new Set(["NotGuarded", "NoPolicy"]);
/**
 * Denials a GuardPolicy made (Audit mode turns them into AuditMode allows). InternalError is
 * not one: it is the webhook failing, counted in admission_review_failures_total.
 */
const DENIAL_REASONS: ReadonlySet<string> = new Set([
  "OutOfBandChange",
  "PlaintextSecret",
  "BreakGlassDenied",
]);

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** A GuardPolicy's denial (Enforce mode): journaled by the auditor as admission-denied. */
export function isPolicyDenial(decision: Decision): boolean {
  return decision.effect === "deny" && DENIAL_REASONS.has(decision.reason);
}

/**
 * Whether a decision deserves an Event: an allowed out-of-band change, or a policy's denial.
 * Never a dry run: `kubectl diff` and --dry-run=server change nothing and try nothing.
 */
export function wantsEvent(decision: Decision, request: AdmissionRequest): boolean {
  return (
    request.dryRun !== true && (isAttributionFact(decision, request) || isPolicyDenial(decision))
  );
}

/**
 * An allowed out-of-band write the auditor may see as drift: its Event names the user. Status
 * and other subresources change no field Git sets (scale does: /spec/replicas).
 */
export function isAttributionFact(decision: Decision, request: AdmissionRequest): boolean {
  if (decision.effect === "deny" || decision.byReconciler === true) return false;
  const sub = request.subResource ?? "";
  if (sub !== "" && sub !== "scale") return false;
  if (FACT_REASONS.has(decision.reason))
    return decision.reason !== "ScaleSubresource" || changes(decision, request);
  return (
    INVENTORY_FACT_REASONS.has(decision.reason) &&
    decision.location !== undefined &&
    changes(decision, request)
  );
}

/**
 * The request changes a field (or creates or deletes): an update that changes none (a
 * reconciler's no-op apply of an inventoried object, a scale to the same count) is no drift, and
 * is worth no API write.
 */
function changes(decision: Decision, request: AdmissionRequest): boolean {
  return request.operation !== "UPDATE" || decision.changedFields.length > 0;
}

function noteText(decision: Decision, request: AdmissionRequest): string {
  const who = `${request.userInfo.username} (groups: ${(request.userInfo.groups ?? []).join(", ") || "none"})`;
  const what = `${request.operation} ${decision.changedFields.join(", ")}`.trim();
  const glass = decision.breakGlass;
  if (isPolicyDenial(decision)) {
    const by = decision.policy === undefined ? "" : ` by GuardPolicy ${decision.policy}`;
    return `${decision.reason}: ${who} was denied ${what}${by}.`;
  }
  if (glass !== undefined)
    return `${decision.reason}: ${who}, reason "${glass.reason}", until ${glass.expires}: ${what}.`;
  return decision.reason === "AuditMode"
    ? `${decision.reason}: ${who} made an out-of-band change (${what}) that ${decision.wouldDeny ?? "Enforce"} mode would deny.`
    : `${decision.reason}: ${who} made an out-of-band change (${what}), allowed: ${decision.message}.`;
}

function note(decision: Decision, request: AdmissionRequest): string {
  const text = noteText(decision, request);
  return text.length > NOTE_MAX ? `${text.slice(0, NOTE_MAX - 3)}...` : text;
}

function actionOf(decision: Decision, request: AdmissionRequest): string {
  if (isPolicyDenial(decision)) return DENIED_ACTION;
  return request.operation === "DELETE" ? "Delete" : "Admit";
}

export function annotations(decision: Decision, request: AdmissionRequest): Record<string, string> {
  const glass = decision.breakGlass;
  const a = EVENT_ANNOTATIONS;
  return {
    [a.user]: request.userInfo.username,
    ...userUidOf(request),
    [a.groups]: JSON.stringify(request.userInfo.groups ?? []),
    [a.decision]: decision.reason,
    [a.operation]: request.operation,
    [a.changedFields]: JSON.stringify(decision.changedFields),
    [a.requestUid]: request.uid,
    ...oldVersionOf(request),
    ...(decision.policy === undefined ? {} : { [a.policy]: decision.policy }),
    ...(decision.wouldDeny === undefined ? {} : { [a.wouldDeny]: decision.wouldDeny }),
    ...(glass === undefined
      ? {}
      : { [a.reason]: glass.reason, [a.expires]: glass.expires, [a.holder]: glass.by }),
  };
}

function userUidOf(request: AdmissionRequest): Record<string, string> {
  const uid = request.userInfo.uid;
  return uid === undefined || uid === "" ? {} : { [USER_UID_ANNOTATION]: uid };
}

function oldVersionOf(request: AdmissionRequest): Record<string, string> {
  const version = request.oldObject?.metadata?.["resourceVersion"];
  return typeof version === "string" && version !== ""
    ? { [EVENT_ANNOTATIONS.oldResourceVersion]: version }
    : {};
}

export interface EventInput {
  readonly decision: Decision;
  readonly request: AdmissionRequest;
  readonly now: number;
  /** This replica (pod name): reportingInstance. */
  readonly instance: string;
  /** Makes the Event's name unique: a random hex string, or a denial's repeat id. */
  readonly id: string;
}

/** The object a fact is about, as an Event's regarding (and a batched fact's own) names it. */
export function regarding(decision: Decision, request: AdmissionRequest): Record<string, string> {
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

/** The events.k8s.io/v1 Event for an allowed out-of-band change or a policy's denial. */
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
      labels: { ...GUARD_EVENT_LABELS },
      annotations: annotations(decision, request),
    },
    eventTime: microTime(input.now),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: input.instance.slice(0, 128),
    action: actionOf(decision, request),
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
          // Another replica wrote this denial's Event (same repeat id): it exists, as wanted.
          if (isGuardError(err, ErrorCodes.KUBE_CONFLICT)) {
            report("sent");
            return;
          }
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
