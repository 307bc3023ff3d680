import type { AdmissionFact, AuditFact, ObjectKey, UserFact } from "./facts.js";
import { latestWrite, type ManagerChange } from "./managed-fields.js";

/**
 * Where a record's user came from: the API server's audit webhook, the admission webhook's
 * fact (its Event), or nobody (only the field managers of managedFields are known).
 */
export type AttributionSource = "audit-webhook" | "admission" | "managedFields";

/** Who made a change, as far as the auditor can tell. */
export interface Attribution {
  /** Absent: unattributed (no audit event or admission Event matched). */
  readonly user?: UserFact;
  readonly source: AttributionSource;
  /** "manager (Operation)" of each field manager that wrote. */
  readonly fieldManagers: readonly string[];
  readonly breakGlass?: { readonly reason: string; readonly expires?: string };
  /** The admission fact's Event, when one matched: the record names it (journaled once). */
  readonly event?: AdmissionFact["event"];
}

export interface AttributeInput {
  readonly object: ObjectKey;
  /** The resourceVersion of the state being attributed. */
  readonly resourceVersion?: string;
  readonly managers: readonly ManagerChange[];
  /** When the previous state was seen and when this one was: the fallback time window. */
  readonly sinceMs: number;
  readonly observedMs: number;
  readonly audit: readonly AuditFact[];
  readonly admission: readonly AdmissionFact[];
  /** The object is gone: only delete requests can account for that. */
  readonly deletion?: boolean;
  /** The field paths the change touched: an admission fact must name one of them. */
  readonly paths?: readonly string[];
  /** A fact already joined to a record (its Event's uid): never joined to a second. */
  readonly consumed?: (eventUid: string) => boolean;
}

/** p and q are the same field, or one holds the other (at a path segment). */
function related(p: string, q: string): boolean {
  return p === q || p.startsWith(`${q}/`) || q.startsWith(`${p}/`) || p === "" || q === "";
}

/**
 * A request made on the very state being attributed (its old object had that resourceVersion)
 * came after the write that made it: a self-heal undoing an edit within milliseconds, whose
 * fact (an object no policy selects names any writer) must not take the edit's place.
 */
function later(fact: AdmissionFact, input: AttributeInput): boolean {
  const version = input.resourceVersion;
  return input.deletion !== true && version !== undefined && fact.oldResourceVersion === version;
}

/**
 * The fact is about this change: not joined to another record already, not a later request,
 * and (when both name fields) naming a field the change touched. A deletion has no fields to
 * compare.
 */
function fits(fact: AdmissionFact, input: AttributeInput): boolean {
  const uid = fact.event?.uid;
  if (uid !== undefined && input.consumed?.(uid) === true) return false;
  if (later(fact, input)) return false;
  const paths = input.paths ?? [];
  const fields = fact.changedFields.filter((f) => f.startsWith("/") || f === "");
  if (input.deletion === true || paths.length === 0 || fields.length === 0) return true;
  return fields.some((f) => paths.some((p) => related(f, p)));
}

// managedFields times are truncated to the second; a request is received a little before its
// write is stamped, and sources' clocks (one API server) agree within that.
const SLACK_MS = 2000;

function window(input: AttributeInput): { from: number; to: number } {
  // A writer with no time (the API server stamps none on a scale's entry) may be the latest:
  // the times of the others can be old, so only the observation window holds.
  const untimed = input.managers.some((m) => m.timeMs === undefined);
  const written = untimed ? undefined : latestWrite(input.managers);
  return written === undefined
    ? { from: input.sinceMs - SLACK_MS, to: input.observedMs + SLACK_MS }
    : { from: written - SLACK_MS, to: written + 1000 + SLACK_MS };
}

function latest<T>(facts: readonly T[], time: (f: T) => number): T | undefined {
  let best: T | undefined;
  for (const fact of facts) if (best === undefined || time(fact) >= time(best)) best = fact;
  return best;
}

/** The audit event of the request that wrote this state: by resourceVersion, else by time. */
export function matchAudit(input: AttributeInput): AuditFact | undefined {
  const o = input.object;
  const candidates = input.audit.filter(
    (f) =>
      f.group === o.group &&
      f.resource === o.resource &&
      f.name === o.name &&
      f.namespace === o.namespace &&
      f.subresource === undefined &&
      f.code >= 200 &&
      f.code < 300 &&
      (input.deletion !== true || f.verb === "delete"),
  );
  const exact = candidates.find(
    (f) => f.resourceVersion !== undefined && f.resourceVersion === input.resourceVersion,
  );
  if (exact !== undefined) return exact;
  const { from, to } = window(input);
  // A delete's response (when the audit level includes it) is the last state, whose
  // resourceVersion the auditor saw before the delete: only the time window can match it.
  const inWindow = candidates.filter(
    (f) =>
      (f.resourceVersion === undefined || input.deletion === true) &&
      f.receivedMs >= from &&
      f.receivedMs < to,
  );
  return latest(inWindow, (f) => f.receivedMs);
}

/** The admission webhook's Event about this change: same object, near the write time. */
export function matchAdmission(input: AttributeInput): AdmissionFact | undefined {
  const o = input.object;
  const { from, to } = window(input);
  return latest(
    input.admission.filter(
      (f) =>
        f.group === o.group &&
        f.kind === o.kind &&
        f.name === o.name &&
        f.namespace === o.namespace &&
        (input.deletion !== true || f.operation === "DELETE") &&
        f.timeMs >= from &&
        f.timeMs < to &&
        fits(f, input),
    ),
    (f) => f.timeMs,
  );
}

function managerNames(managers: readonly ManagerChange[]): string[] {
  return [...new Set(managers.map((m) => `${m.manager} (${m.operation})`))];
}

/**
 * Attributes one change. The audit webhook is the API server's own account of the request, so
 * it wins over the admission Event; the Event still contributes the break-glass reason.
 */
export function attribute(input: AttributeInput): Attribution {
  const fieldManagers = managerNames(input.managers);
  const audit = matchAudit(input);
  const admission = matchAdmission(input);
  const breakGlass = admission?.breakGlass;
  const event = admission?.event;
  const glass = {
    ...(breakGlass === undefined ? {} : { breakGlass }),
    ...(event === undefined ? {} : { event }),
  };
  if (audit !== undefined) {
    return { user: audit.user, source: "audit-webhook", fieldManagers, ...glass };
  }
  if (admission !== undefined) {
    return { user: admission.user, source: "admission", fieldManagers, ...glass };
  }
  return { source: "managedFields", fieldManagers };
}

/** The identities whose changes are Git changes (the reconciler, policy reconcilers). */
export interface ReconcilerIdentities {
  readonly usernames: ReadonlySet<string>;
  readonly groups: ReadonlySet<string>;
  /** The product's server-side apply field manager. */
  readonly fieldManager: string;
}

/**
 * Whether a change came from a reconciler. With a user, decide on the user alone (never trust a
 * field manager name someone can pick); without one, only when every writer is the product's
 * field manager with Apply, which is all the auditor can see.
 */
export function isReconcilerChange(
  attribution: Attribution,
  managers: readonly ManagerChange[],
  identities: ReconcilerIdentities,
): boolean {
  const user = attribution.user;
  if (user !== undefined) {
    return (
      identities.usernames.has(user.username) || user.groups.some((g) => identities.groups.has(g))
    );
  }
  return (
    managers.length > 0 &&
    managers.every((m) => m.manager === identities.fieldManager && m.operation === "Apply")
  );
}
