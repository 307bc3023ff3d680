import { compact } from "../compact.js";
import type { JournalRecord } from "../journal/record.js";
import type { GitOrigin } from "../scope.js";

/**
 * What every sink is told: the object, the user, the changed fields (paths only, never values)
 * and where the object lives in Git.
 */
export interface Alert {
  /** Deduplication key: the same change reported twice is one alert. */
  readonly key: string;
  readonly title: string;
  readonly severity: "warning" | "critical" | "info";
  readonly type: JournalRecord["type"];
  /** "Kind namespace/name" */
  readonly object: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** The user, or "unattributed". */
  readonly user: string;
  readonly fields: readonly string[];
  readonly gitSync?: string;
  readonly gitPath?: string;
  readonly revision?: string;
  readonly reason?: string;
  readonly seq: number;
  readonly time: string;
}

const ALERTED: ReadonlySet<string> = new Set(["drift-detected", "break-glass", "drift-healed"]);

/** A deletion's diff is one removal of the whole object (JSON pointer ""). */
function isDeletion(record: JournalRecord): boolean {
  return (record.diff ?? []).some((c) => c.path === "" && c.op === "remove");
}

function titleOf(record: JournalRecord, object: string): string {
  if (record.type === "break-glass") return `Break-glass change to ${object}`;
  if (record.type === "drift-healed") return `Drift healed on ${object}`;
  if (isDeletion(record)) {
    return record.user === undefined
      ? `Unattributed deletion of ${object}`
      : `Out-of-band deletion of ${object}`;
  }
  return record.user === undefined
    ? `Unattributed drift on ${object}`
    : `Out-of-band change to ${object}`;
}

function severityOf(record: JournalRecord): Alert["severity"] {
  if (record.type === "drift-healed") return "info";
  return record.user === undefined ? "critical" : "warning";
}

/** The alert for a journal record, or undefined for types that are not alerted. */
export function alertFromRecord(record: JournalRecord, origin?: GitOrigin): Alert | undefined {
  const o = record.object;
  if (o === undefined || !ALERTED.has(record.type)) return undefined;
  const object = `${o.kind} ${o.namespace === undefined ? "" : `${o.namespace}/`}${o.name}`;
  const fields = [...new Set((record.diff ?? []).map((c) => c.path))];
  const user = record.user?.username ?? "unattributed";
  const gitSync = record.gitSync && `${record.gitSync.namespace}/${record.gitSync.name}`;
  return compact({
    key: [record.type, object, user, fields.join(","), record.reason ?? ""].join("|"),
    title: titleOf(record, object),
    severity: severityOf(record),
    type: record.type,
    object,
    kind: o.kind,
    namespace: o.namespace,
    name: o.name,
    user,
    fields,
    gitSync,
    gitPath: origin?.path,
    revision: record.revision,
    reason: record.reason,
    seq: record.seq,
    time: record.time,
  });
}

/** One line a person reads in Slack or a log: never a value, only paths. */
export function alertText(alert: Alert): string {
  // "" is the whole object (a deletion), which the title says already.
  const fields = alert.fields.filter((f) => f !== "");
  const parts = [
    `${alert.title} by ${alert.user}`,
    fields.length === 0 ? undefined : `fields: ${fields.join(", ")}`,
    alert.reason === undefined ? undefined : `reason: ${alert.reason}`,
    alert.gitPath === undefined ? undefined : `Git: ${alert.gitSync ?? ""} ${alert.gitPath}`,
    alert.revision === undefined ? undefined : `revision: ${alert.revision}`,
    `journal #${String(alert.seq)}`,
  ];
  return parts.filter((p) => p !== undefined).join("; ");
}
