import type { KubeObject, ManagedFieldsEntry } from "../../kube/objects.js";

/** One field manager whose entry a change touched: who wrote (as a program), how and when. */
export interface ManagerChange {
  readonly manager: string;
  readonly operation: string;
  readonly subresource?: string;
  /** managedFields time in ms (second precision, as the API server stores it). */
  readonly timeMs?: number;
}

function sameManager(a: ManagedFieldsEntry, b: ManagedFieldsEntry): boolean {
  return a.manager === b.manager && a.operation === b.operation && a.subresource === b.subresource;
}

/**
 * Whether entry (in the new state) shows a write by its manager. A manager that wrote gets a
 * new time; one that only lost fields to another's forced apply keeps its old time. Times have
 * second precision, so a second write in the same second shows only as changed fields.
 */
function wrote(
  entry: ManagedFieldsEntry,
  old: readonly ManagedFieldsEntry[],
  newest: string | undefined,
): boolean {
  const prior = old.find((o) => sameManager(o, entry));
  if (prior === undefined || prior.time !== entry.time) return true;
  return entry.time === newest && JSON.stringify(prior.fieldsV1) !== JSON.stringify(entry.fieldsV1);
}

function toChange(entry: ManagedFieldsEntry): ManagerChange {
  const timeMs = entry.time === undefined ? Number.NaN : Date.parse(entry.time);
  return {
    manager: entry.manager ?? "",
    operation: entry.operation ?? "",
    ...(entry.subresource === undefined || entry.subresource === ""
      ? {}
      : { subresource: entry.subresource }),
    ...(Number.isNaN(timeMs) ? {} : { timeMs }),
  };
}

/**
 * Subresources whose writes change the main resource's fields: a scale writes /spec/replicas
 * (its entry says subresource "scale"). Status writes are never drift.
 */
const SPEC_SUBRESOURCES: ReadonlySet<string> = new Set(["", "scale"]);

/**
 * The managedFields entries of after that before does not have as they are: the managers (and
 * operations) that wrote between the two states. The main resource and its scale count.
 */
export function changedManagers(
  before: KubeObject | undefined,
  after: KubeObject,
): ManagerChange[] {
  const old = before?.metadata.managedFields ?? [];
  const entries = (after.metadata.managedFields ?? []).filter((entry) =>
    SPEC_SUBRESOURCES.has(entry.subresource ?? ""),
  );
  const newest = entries
    .map((e) => e.time ?? "")
    .sort()
    .at(-1);
  return entries.filter((entry) => wrote(entry, old, newest)).map(toChange);
}

/** The latest write time among the changed managers, when the API server recorded one. */
export function latestWrite(changes: readonly ManagerChange[]): number | undefined {
  const times = changes.map((c) => c.timeMs).filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : Math.max(...times);
}
