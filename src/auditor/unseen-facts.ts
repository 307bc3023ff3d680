/**
 * Admission facts whose change the auditor never saw as drift. Self-heal can undo an edit within
 * milliseconds, and a controller killed in that moment restarts to find the object equal to Git:
 * the drift is gone, but the webhook's fact (an Event, in etcd) outlived the process. Each fact
 * is looked at once, a little after it arrived (or after a restart, when the informer lists it):
 *
 *  - a record already names its Event (the drift was seen and joined to it): nothing to do;
 *  - the object still has the resourceVersion the request started from (a later admission step
 *    refused the write, or it never happened): the fact expires without a record;
 *  - the object moved on, and no drift record of it was written since the fact: the change
 *    happened and was undone unseen, so the fact itself is journaled, with the fields it names
 *    (the values are gone) and the user, source admission.
 *
 * A concurrent write by someone else also moves the resourceVersion: that is the price of having
 * no audit webhook, and the record says its values are unknown.
 */
import type { KubeObject, ObjectRef } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import { done, requeueAfter, type ReconcileResult } from "../runtime/result.js";
import { parseAdmissionFacts } from "./attribution/admission-events.js";
import { isReconcilerChange, type ReconcilerIdentities } from "./attribution/attribute.js";
import type { AdmissionFact } from "./attribution/facts.js";
import type { FactIndex } from "./attribution/index.js";
import type { EventJournal } from "./event-journal.js";
import type { JournalStore } from "./journal/store.js";
import type { DriftRecorder } from "./recorder.js";
import type { GitOrigin } from "./scope.js";

export const FACT_KEY_PREFIX = "fact:";
/** Records of the object written from this long before the fact count as its drift record. */
const SLACK_MS = 2000;

export interface UnseenFactsDeps {
  readonly clock: Clock;
  readonly read: (ref: ObjectRef) => Promise<KubeObject | undefined>;
  readonly journal: JournalStore;
  readonly eventJournal: EventJournal;
  readonly recorder: DriftRecorder;
  readonly originOf: (fact: AdmissionFact) => GitOrigin | undefined;
  /** The state Git last left the fact's object in, when the auditor tracks it. */
  readonly baselineOf: (fact: AdmissionFact) => KubeObject | undefined;
  /** How long after a fact the drift it explains has surely been journaled, if seen. */
  readonly settleMs: number;
  /**
   * The user is a reconciler (its changes are Git's): a fact about its write is never drift. Facts
   * of objects no policy selects name whoever wrote, the reconciler's self-heal too.
   */
  readonly reconcilers: () => ReconcilerIdentities;
  /** Counts each fact checked that no seen drift took: expired or journaled. */
  readonly onOutcome?: (outcome: "expired" | "journaled") => void;
}

function refOf(fact: AdmissionFact): ObjectRef {
  return {
    apiVersion: fact.apiVersion ?? "v1",
    kind: fact.kind,
    name: fact.name,
    ...(fact.namespace === undefined ? {} : { namespace: fact.namespace }),
  };
}

/** Whether the request the fact describes changed the object (as far as the object can tell). */
function happened(fact: AdmissionFact, live: KubeObject | undefined): boolean {
  if (fact.operation === "DELETE") {
    return (
      live === undefined || (fact.objectUid !== undefined && live.metadata.uid !== fact.objectUid)
    );
  }
  if (live === undefined || fact.oldResourceVersion === undefined) return false;
  return live.metadata.resourceVersion !== fact.oldResourceVersion;
}

function pointerTokens(pointer: string): string[] {
  return pointer
    .split("/")
    .slice(1)
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** Whether Git's state holds a value at pointer (so a change there is drift, not an addition). */
function holds(baseline: unknown, pointer: string): boolean {
  let at: unknown = baseline;
  for (const token of pointerTokens(pointer)) {
    if (typeof at !== "object" || at === null) return false;
    at = (at as Record<string, unknown>)[token];
    if (at === undefined) return false;
  }
  return true;
}

/**
 * Whether the fact's change is drift of what Git set: a deletion of a tracked object, or a
 * change to a field Git's state holds. A label Git does not set is not drift (as when seen).
 */
function touchesGit(fact: AdmissionFact, baseline: KubeObject | undefined): boolean {
  if (baseline === undefined) return false;
  if (fact.operation === "DELETE") return true;
  return fact.changedFields.some((path) => holds(baseline, path));
}

export class UnseenFacts {
  private readonly deps: UnseenFactsDeps;
  private readonly pending = new Map<string, AdmissionFact>();

  constructor(deps: UnseenFactsDeps) {
    this.deps = deps;
  }

  /** Takes a fact; the key to reconcile, and when, or undefined when there is nothing to check. */
  add(fact: AdmissionFact): { key: string; afterMs: number } | undefined {
    const uid = fact.event?.uid;
    if (uid === undefined || fact.operation === "CREATE") return undefined;
    if (this.deps.eventJournal.hasEvent(uid) || fact.timeMs < this.deps.eventJournal.watermark())
      return undefined;
    this.pending.set(uid, fact);
    const due = fact.timeMs + this.deps.settleMs - this.deps.clock.now();
    return { key: `${FACT_KEY_PREFIX}${uid}`, afterMs: Math.max(0, due) };
  }

  async reconcile(uid: string): Promise<ReconcileResult> {
    const fact = this.pending.get(uid);
    if (fact === undefined) return done();
    const wait = fact.timeMs + this.deps.settleMs - this.deps.clock.now();
    if (wait > 0) return requeueAfter(wait);
    this.pending.delete(uid);
    if (this.deps.eventJournal.hasEvent(uid)) return done();
    const live = await this.deps.read(refOf(fact));
    const drift = !this.byReconciler(fact) && touchesGit(fact, this.deps.baselineOf(fact));
    if (!drift || !happened(fact, live) || this.recordedSince(fact)) {
      this.deps.onOutcome?.("expired");
      return done();
    }
    this.journal(fact);
    this.deps.onOutcome?.("journaled");
    return done();
  }

  private byReconciler(fact: AdmissionFact): boolean {
    const attribution = { user: fact.user, source: "admission" as const, fieldManagers: [] };
    return isReconcilerChange(attribution, [], this.deps.reconcilers());
  }

  /**
   * A drift record of the object written since the fact (or just before it: the change can be
   * seen before its Event arrives) that may be this fact's change: one joined to another fact
   * is another request's change, however close in time (edits of one object in quick succession).
   */
  private recordedSince(fact: AdmissionFact): boolean {
    const records = this.deps.journal.list({
      afterSeq: Math.max(0, this.deps.journal.head().seq - 10_000),
      kind: fact.kind,
      name: fact.name,
      ...(fact.namespace === undefined ? {} : { namespace: fact.namespace }),
      limit: 10_000,
    });
    return records.some(
      (r) =>
        (r.type === "drift-detected" || r.type === "break-glass") &&
        Date.parse(r.time) >= fact.timeMs - SLACK_MS &&
        (r.event === undefined || r.event.uid === fact.event?.uid),
    );
  }

  private journal(fact: AdmissionFact): void {
    const ref = refOf(fact);
    const deleted = fact.operation === "DELETE";
    const object: KubeObject = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: {
        name: ref.name,
        ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
        ...(fact.objectUid === undefined ? {} : { uid: fact.objectUid }),
      },
    };
    const record = this.deps.recorder.drift({
      object,
      changes: deleted ? [] : fact.changedFields.map((path) => ({ path, op: "replace" as const })),
      attribution: {
        user: fact.user,
        source: "admission",
        fieldManagers: [],
        ...(fact.breakGlass === undefined ? {} : { breakGlass: fact.breakGlass }),
        ...(fact.event === undefined ? {} : { event: fact.event }),
      },
      origin: this.deps.originOf(fact),
      deleted,
      note: ", not seen as drift by the auditor (undone before it looked, or made while none ran): fields from the admission webhook, values unknown",
    });
    this.deps.eventJournal.note(record);
  }
}

/**
 * One of gitops-guard's Events: an admission fact joins the index attribution reads and is
 * checked later for a change never seen; any other is a record of its own (denials, Secrets
 * unsealed, keys generated), once per Event.
 */
export function onGuardEvent(
  event: KubeObject,
  to: {
    readonly admission: FactIndex<AdmissionFact>;
    readonly eventJournal: EventJournal;
    readonly unseen: UnseenFacts;
    readonly queue: { addAfter(key: string, ms: number): void };
  },
): void {
  const facts = parseAdmissionFacts(event);
  if (facts.length === 0) {
    to.eventJournal.onEvent(event);
    return;
  }
  for (const fact of facts) {
    to.admission.add(fact);
    const due = to.unseen.add(fact);
    if (due !== undefined) to.queue.addAfter(due.key, due.afterMs);
  }
}
