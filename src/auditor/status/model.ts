/**
 * What the status page shows, as plain data: built from the GitSyncs in the auditor's cache,
 * the journal, the break-glass book and the key Secrets' metadata. Pure: no I/O, no clock.
 */
import type { KubeObject } from "../../kube/objects.js";
import type { BreakGlassEntry } from "../break-glass.js";
import type { JournalObject, JournalRecord } from "../journal/record.js";

export interface ConditionView {
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface GitSyncRow {
  readonly namespace: string;
  readonly name: string;
  readonly url: string;
  readonly path?: string;
  /** "branch main", "tag v1", "commit 0123…"; absent: the remote's default branch. */
  readonly ref?: string;
  readonly revision?: string;
  readonly ready?: ConditionView;
  readonly healthy?: ConditionView;
  readonly drifted?: ConditionView;
  readonly suspended: boolean;
  readonly lastSyncMs?: number;
}

export interface DriftRow {
  readonly seq: number;
  readonly type: "drift-detected" | "break-glass";
  readonly atMs: number;
  readonly object: JournalObject;
  readonly user?: { readonly username: string; readonly groups: readonly string[] };
  /** JSON pointers of the changed fields; "" is the whole object (a deletion). */
  readonly fields: readonly string[];
  readonly reason?: string;
  readonly gitSync?: { readonly namespace: string; readonly name: string };
  readonly revision?: string;
  /** When the next drift-healed record of the same object was written. */
  readonly healedAtMs?: number;
}

export interface BreakGlassRow extends BreakGlassEntry {
  /** Who broke glass: the newest break-glass record of the object in the journal. */
  readonly user?: string;
}

/** A key Secret as the page sees it: metadata only, never its data. */
export interface KeySecretMeta {
  readonly namespace: string;
  readonly name: string;
  readonly createdMs?: number;
  /** Which labels mark it: gitops-guard's, Bitnami's, or both. */
  readonly labels: readonly ("gitops-guard" | "bitnami")[];
}

export interface KeyRow extends KeySecretMeta {
  /** The newest key: the one new values are sealed with. */
  readonly newest: boolean;
}

export interface StatusModel {
  readonly gitSyncs: readonly GitSyncRow[];
  readonly drifts: readonly DriftRow[];
  /** How many journal records the timeline was built from, and the chain head. */
  readonly journal: { readonly scanned: number; readonly headSeq: number };
  readonly breakGlass: readonly BreakGlassRow[];
  /** The controller's namespace, where the key Secrets live. */
  readonly keyNamespace: string;
  readonly keys: { readonly rows: readonly KeyRow[] } | { readonly error: string };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function timeMs(value: unknown): number | undefined {
  const ms = Date.parse(text(value) ?? "");
  return Number.isNaN(ms) ? undefined : ms;
}

function conditionOf(conditions: unknown, type: string): ConditionView | undefined {
  if (!Array.isArray(conditions)) return undefined;
  const found = conditions.map(record).find((c) => c.type === type);
  const status = text(found?.status);
  if (found === undefined || status === undefined) return undefined;
  const reason = text(found.reason);
  const message = text(found.message);
  return {
    status,
    ...(reason === undefined ? {} : { reason }),
    ...(message === undefined ? {} : { message }),
  };
}

function refOf(spec: Record<string, unknown>): string | undefined {
  const ref = record(spec.ref);
  for (const kind of ["branch", "tag", "commit"] as const) {
    const value = text(ref[kind]);
    if (value !== undefined) return `${kind} ${value}`;
  }
  return undefined;
}

/** Optional fields, left out when absent (exactOptionalPropertyTypes). */
function present<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

export function gitSyncRow(obj: KubeObject): GitSyncRow {
  const spec = record(obj.spec);
  const status = record(obj.status);
  return {
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name ?? "",
    url: text(spec.url) ?? "",
    suspended: spec.suspend === true,
    ...present({
      path: text(spec.path),
      ref: refOf(spec),
      revision: text(status.lastAppliedRevision),
      ready: conditionOf(status.conditions, "Ready"),
      healthy: conditionOf(status.conditions, "Healthy"),
      drifted: conditionOf(status.conditions, "Drifted"),
      lastSyncMs: timeMs(status.lastSyncTime),
    }),
  };
}

export function gitSyncRows(objects: readonly KubeObject[]): GitSyncRow[] {
  return objects
    .map(gitSyncRow)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** One object across records: a deletion's heal (re-creation) has a new uid, so no uid. */
export function objectKey(o: JournalObject | undefined): string {
  return o === undefined ? "" : `${o.apiVersion}|${o.kind}|${o.namespace ?? ""}|${o.name}`;
}

function driftRow(r: JournalRecord & { readonly type: DriftRow["type"] }): DriftRow {
  return {
    seq: r.seq,
    type: r.type,
    atMs: Date.parse(r.time),
    object: r.object ?? { apiVersion: "", kind: "", name: "" },
    fields: (r.diff ?? []).map((change) => change.path),
    ...present({ user: r.user, reason: r.reason, gitSync: r.gitSync, revision: r.revision }),
  };
}

function isDrift(r: JournalRecord): r is JournalRecord & { readonly type: DriftRow["type"] } {
  return r.type === "drift-detected" || r.type === "break-glass";
}

/**
 * Drift and break-glass records, newest first, each with the time of the heal that followed:
 * a drift-healed record heals every drift of its object still open before it (an object
 * changed twice before Git put it back is two drifts and one heal).
 */
export function driftTimeline(records: readonly JournalRecord[], limit: number): DriftRow[] {
  const rows: DriftRow[] = [];
  const open = new Map<string, number[]>();
  for (const r of records) {
    const key = objectKey(r.object);
    if (isDrift(r)) {
      open.set(key, [...(open.get(key) ?? []), rows.length]);
      rows.push(driftRow(r));
    } else if (r.type === "drift-healed") {
      const healedAtMs = Date.parse(r.time);
      for (const i of open.get(key) ?? []) rows[i] = { ...(rows[i] as DriftRow), healedAtMs };
      open.delete(key);
    }
  }
  return rows.reverse().slice(0, limit);
}

/** Active break-glass, with who broke glass when the journal still holds the record. */
export function breakGlassRows(
  entries: readonly BreakGlassEntry[],
  records: readonly JournalRecord[],
): BreakGlassRow[] {
  const by = new Map<string, string>();
  for (const r of records) {
    if (r.type === "break-glass" && r.user !== undefined)
      by.set(objectKey(r.object), r.user.username);
  }
  return entries.map((entry) => {
    const user = by.get(objectKey(entry.object));
    return user === undefined ? entry : { ...entry, user };
  });
}

/** Key Secrets, newest first; the newest seals new values (the keyring's rule). */
export function keyRows(keys: readonly KeySecretMeta[]): KeyRow[] {
  const sorted = [...keys].sort((a, b) => (b.createdMs ?? 0) - (a.createdMs ?? 0));
  return sorted.map((key, i) => ({ ...key, newest: i === 0 }));
}
