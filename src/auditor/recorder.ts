import { groupOf, type KubeObject } from "../kube/objects.js";
import type { Logger } from "../telemetry/log.js";
import type { Attribution } from "./attribution/attribute.js";
import { secretSafeChanges } from "./diff/diff.js";
import type { FieldChange, JournalEntry, JournalObject, JournalRecord } from "./journal/record.js";
import type { JournalStore } from "./journal/store.js";
import type { AuditorMetrics } from "./metrics.js";
import type { GitOrigin } from "./scope.js";

export const BREAK_GLASS_ANNOTATION = "gitops-guard.io/break-glass";
export const BREAK_GLASS_EXPIRES_ANNOTATION = "gitops-guard.io/break-glass-expires";

/** What an alert sink is told about a journal record. */
export type RecordListener = (record: JournalRecord, origin: GitOrigin | undefined) => void;

export interface RecorderDeps {
  readonly journal: JournalStore;
  readonly metrics: AuditorMetrics;
  readonly logger: Logger;
  readonly onRecord?: RecordListener;
}

export function journalObject(obj: KubeObject): JournalObject {
  const { namespace, uid } = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    ...(namespace === undefined ? {} : { namespace }),
    name: obj.metadata.name ?? "",
    ...(uid === undefined ? {} : { uid }),
  };
}

// How far back journaledState looks: a restart's drift was journaled moments before it.
const RECENT_RECORDS = 10_000;

/** The object of a drift record, with the resourceVersion of the state (or last state) recorded. */
function driftObject(obj: KubeObject): JournalObject {
  const version = obj.metadata.resourceVersion;
  return version === undefined
    ? journalObject(obj)
    : { ...journalObject(obj), resourceVersion: version };
}

function whoDid(what: string, attribution: Attribution): string {
  return attribution.user === undefined
    ? `${what} by an unknown user (unattributed)`
    : `${what} by ${attribution.user.username} (from ${attribution.source})`;
}

function originFields(origin: GitOrigin | undefined): Pick<JournalEntry, "gitSync" | "revision"> {
  if (origin === undefined) return {};
  return {
    gitSync: origin.gitSync,
    ...(origin.revision === undefined ? {} : { revision: origin.revision }),
  };
}

function safeDiff(obj: KubeObject, changes: readonly FieldChange[]): readonly FieldChange[] {
  return obj.kind === "Secret" && groupOf(obj.apiVersion) === ""
    ? secretSafeChanges(changes)
    : changes;
}

/** The break-glass reason an object carries (from the admission Event, else its annotation). */
export function breakGlassOf(obj: KubeObject, attribution: Attribution): string | undefined {
  return attribution.breakGlass?.reason ?? obj.metadata.annotations?.[BREAK_GLASS_ANNOTATION];
}

/** Journal records for drift and heal, with the metrics that go with them. */
export class DriftRecorder {
  private readonly deps: RecorderDeps;

  constructor(deps: RecorderDeps) {
    this.deps = deps;
  }

  drift(input: {
    readonly object: KubeObject;
    readonly changes: readonly FieldChange[];
    readonly attribution: Attribution;
    readonly origin: GitOrigin | undefined;
    /** The whole object was deleted (changes says so too). */
    readonly deleted?: boolean;
    /** Made while no auditor watched: the last time one saw the object (found at start). */
    readonly unwatchedSinceMs?: number;
    /** Said after the message (how the change was learned of). */
    readonly note?: string;
  }): JournalRecord {
    const { object, attribution } = input;
    const what = input.deleted === true ? "out-of-band deletion" : "out-of-band change";
    const unwatched =
      input.unwatchedSinceMs === undefined
        ? ""
        : `, made while the auditor was not running (last seen ${new Date(input.unwatchedSinceMs).toISOString()})`;
    const reason = breakGlassOf(object, attribution);
    const labels = { kind: object.kind, namespace: object.metadata.namespace ?? "" };
    const entry: JournalEntry = {
      type: reason === undefined ? "drift-detected" : "break-glass",
      object: driftObject(object),
      ...(attribution.user === undefined ? {} : { user: attribution.user }),
      userSource: attribution.source,
      ...(attribution.event === undefined ? {} : { event: attribution.event }),
      fieldManagers: attribution.fieldManagers,
      diff: safeDiff(object, input.changes),
      ...originFields(input.origin),
      ...(reason === undefined ? {} : { reason }),
      message: whoDid(what, attribution) + unwatched + (input.note ?? ""),
    };
    this.deps.metrics.driftDetected.inc(labels);
    if (attribution.user === undefined) this.deps.metrics.driftUnattributed.inc(labels);
    return this.append(entry, input.origin);
  }

  healed(input: {
    readonly object: KubeObject;
    readonly driftSinceMs: number;
    readonly nowMs: number;
    readonly fieldManagers: readonly string[];
    readonly origin: GitOrigin | undefined;
  }): JournalRecord {
    const { object } = input;
    const seconds = Math.max(0, (input.nowMs - input.driftSinceMs) / 1000);
    this.deps.metrics.driftHealed.inc({
      kind: object.kind,
      namespace: object.metadata.namespace ?? "",
    });
    this.deps.metrics.driftToHeal.observe({ kind: object.kind }, seconds);
    return this.append(
      {
        type: "drift-healed",
        object: journalObject(object),
        fieldManagers: input.fieldManagers,
        ...originFields(input.origin),
        message: `returned to its state before the drift after ${seconds.toFixed(3)} s`,
      },
      input.origin,
    );
  }

  /**
   * Whether a drift record already names this state of the object (its uid and
   * resourceVersion): a restart that finds an object drifted from its kept baseline may be
   * looking at drift it journaled just before it died, before the baseline was written.
   */
  journaledState(object: KubeObject, deleted: boolean): boolean {
    const { namespace, name, uid, resourceVersion } = object.metadata;
    if (resourceVersion === undefined) return false;
    const journal = this.deps.journal;
    return journal
      .list({
        afterSeq: Math.max(0, journal.head().seq - RECENT_RECORDS),
        kind: object.kind,
        name: name ?? "",
        ...(namespace === undefined ? {} : { namespace }),
        limit: RECENT_RECORDS,
      })
      .some(
        (r) =>
          (r.type === "drift-detected" || r.type === "break-glass") &&
          r.object?.resourceVersion === resourceVersion &&
          r.object.uid === uid &&
          (r.diff ?? []).some((d) => d.path === "" && d.op === "remove") === deleted,
      );
  }

  /** Writes one record (and tells the listeners); drift() and healed() build theirs. */
  append(entry: JournalEntry, origin: GitOrigin | undefined): JournalRecord {
    const record = this.deps.journal.append(entry);
    this.deps.metrics.journalRecords.set(record.seq);
    // Only identities, kinds and names: a record's diff stays in the journal, not the log.
    this.deps.logger.info(
      { seq: record.seq, type: record.type, object: entry.object, user: entry.user?.username },
      "journal record written",
    );
    this.deps.onRecord?.(record, origin);
    return record;
  }
}
