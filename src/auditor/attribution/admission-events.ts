/**
 * The admission webhook's Events about allowed out-of-band changes: attribution facts for
 * drift. The contract (reporter, annotations, label) is kube/event-contract.ts, shared with
 * src/admission/events.ts, which the auditor must not import. Its denials (action Deny) are
 * not facts about a change: journal-events.ts journals them.
 */
import {
  ADMISSION_EVENT_ANNOTATIONS,
  DENIED_ACTION,
  EVENT_REPORTERS,
  GUARD_EVENT_SELECTOR,
} from "../../kube/event-contract.js";
import { groupOf, type KubeObject } from "../../kube/objects.js";
import { compact } from "../compact.js";
import type { AdmissionFact, UserFact } from "./facts.js";

export const ADMISSION_REPORTER = EVENT_REPORTERS.admission;
/** The requester's UID, when the API server gave one; absent from Events written before it. */
export const USER_UID_ANNOTATION = ADMISSION_EVENT_ANNOTATIONS.uid;
/** The label that selects gitops-guard's Events (and only those) for the Event informer. */
export const ADMISSION_EVENT_SELECTOR = GUARD_EVENT_SELECTOR;

/** A JSON array of strings, or [] when absent or malformed. */
export function stringList(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The user an admission Event's (or more-facts entry's) annotations name: uid only when set. */
export function userOf(annotations: Readonly<Record<string, string>>, username: string): UserFact {
  const groups = stringList(annotations[ADMISSION_EVENT_ANNOTATIONS.groups]);
  const uid = str(annotations[USER_UID_ANNOTATION]);
  return uid === undefined ? { username, groups } : { username, groups, uid };
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

type FactObject = Pick<
  AdmissionFact,
  "group" | "kind" | "name" | "namespace" | "apiVersion" | "objectUid"
>;

/** The object an Event's regarding (or a batched fact's own regarding) names. */
function regardingOf(value: unknown): FactObject | undefined {
  const regarding = (typeof value === "object" && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const kind = str(regarding["kind"]);
  const name = str(regarding["name"]);
  if (kind === undefined || name === undefined) return undefined;
  const apiVersion = str(regarding["apiVersion"]) ?? "v1";
  return compact({
    group: groupOf(apiVersion),
    kind,
    name,
    namespace: str(regarding["namespace"]),
    apiVersion,
    objectUid: str(regarding["uid"]),
  });
}

function eventRefOf(event: KubeObject): AdmissionFact["event"] {
  const { namespace, name, uid } = event.metadata;
  return namespace === undefined || name === undefined || uid === undefined
    ? undefined
    : { namespace, name, uid };
}

/**
 * The facts of one admission Event about an allowed change, or undefined when it is not one of
 * the webhook's, or is a denial (nothing changed: attributing a drift to it would be wrong).
 */
export function parseAdmissionEvent(event: KubeObject): AdmissionFact | undefined {
  return parseAdmissionFacts(event)[0];
}

/** One fact from the annotations of one request, about object. */
function factOf(
  event: KubeObject,
  annotations: Readonly<Record<string, string>>,
  at: {
    readonly timeMs: number;
    readonly ref: AdmissionFact["event"];
    readonly object: FactObject | undefined;
  },
): AdmissionFact | undefined {
  const a = ADMISSION_EVENT_ANNOTATIONS;
  const username = annotations[a.user];
  const object = at.object;
  if (username === undefined || object === undefined) return undefined;
  return compact({
    user: userOf(annotations, username),
    ...object,
    decision: annotations[a.decision] ?? str(event["reason"]) ?? "",
    operation: annotations[a.operation],
    breakGlass: breakGlassOf(annotations),
    changedFields: stringList(annotations[a.changedFields]),
    timeMs: at.timeMs,
    oldResourceVersion: annotations[a.oldResourceVersion],
    event: at.ref,
  });
}

interface MoreFact {
  readonly annotations?: unknown;
  readonly time?: unknown;
  /** Its own object, when the batch holds facts about several; else the Event's. */
  readonly regarding?: unknown;
}

/** The more-facts annotation's entries; [] when absent or malformed. */
function moreFactsOf(text: string | undefined): MoreFact[] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as MoreFact[]) : [];
  } catch {
    return [];
  }
}

/**
 * Every fact of one admission Event about allowed changes: the one in its annotations and those
 * of a burst it carries (more-facts), each with an Event reference of its own (uid "<uid>#<n>")
 * so each is joined or journaled once. [] when it is not the webhook's, or is a denial.
 */
export function parseAdmissionFacts(event: KubeObject): AdmissionFact[] {
  if (event["reportingController"] !== ADMISSION_REPORTER) return [];
  if (event["action"] === DENIED_ACTION) return [];
  const annotations = event.metadata.annotations ?? {};
  const ref = eventRefOf(event);
  const object = regardingOf(event["regarding"]);
  const first = factOf(event, annotations, { timeMs: eventTimeMs(event), ref, object });
  if (first === undefined) return [];
  const more = moreFactsOf(annotations[ADMISSION_EVENT_ANNOTATIONS.moreFacts]).flatMap((m, i) => {
    const own = (
      typeof m.annotations === "object" && m.annotations !== null ? m.annotations : {}
    ) as Record<string, string>;
    const timeMs = typeof m.time === "string" ? Date.parse(m.time) : Number.NaN;
    const fact = factOf(event, own, {
      timeMs: Number.isNaN(timeMs) ? first.timeMs : timeMs,
      ref: ref === undefined ? undefined : { ...ref, uid: `${ref.uid}#${String(i + 1)}` },
      object: m.regarding === undefined ? object : regardingOf(m.regarding),
    });
    return fact === undefined ? [] : [fact];
  });
  return [first, ...more];
}
