/**
 * What the auditor knows about each guarded object, kept across restarts: the state Git last
 * left it in and the state last seen. Without it, an edit made while no auditor ran (an
 * upgrade, a node drain, a leader change) would become the next process's baseline and never
 * be journaled. A file of its own beside the journal: it is rewritten in place, the journal is
 * append-only.
 *
 * Objects are kept in their comparable form (normalize.ts): no status and no server
 * metadata; managedFields stay (names of fields, no values), because who wrote since is read
 * from them. Secrets are never kept: even the digests of their values would let whoever reads
 * the volume (a backup, a snapshot) test guesses of every guarded password offline. An edit to
 * a Secret made while no auditor ran is therefore not found.
 */
import { createHash } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { KubeObject } from "../../kube/objects.js";
import { normalizeObject } from "../diff/normalize.js";
import type { TrackedState } from "../drift-tracker.js";
import { openSqlite } from "./sqlite.js";

export const BASELINES_FILE = "auditor-baselines.db";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tracked (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL
);
`;

/** One kept object: its tracker id, its "group/Kind" and "namespace/name", and its state. */
export interface KeptState {
  readonly id: string;
  readonly kind: string;
  readonly key: string;
  readonly state: TrackedState;
}

function isSecret(obj: KubeObject): boolean {
  return obj.kind === "Secret" && obj.apiVersion === "v1";
}

/** The comparable form, plus what telling states and writers apart needs. */
export function keptForm(obj: KubeObject): KubeObject {
  const normal = normalizeObject(obj) as KubeObject;
  const managedFields = (obj.metadata.managedFields ?? []).filter(
    (entry) => entry.subresource === undefined || entry.subresource === "",
  );
  // resourceVersion tells an unchanged object at start; uid names it in a deletion's record.
  const { resourceVersion, uid } = obj.metadata;
  return {
    ...normal,
    metadata: {
      ...normal.metadata,
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      ...(uid === undefined ? {} : { uid }),
      ...(managedFields.length === 0 ? {} : { managedFields }),
    },
  };
}

function keptState(state: TrackedState): TrackedState {
  const lastSeen = keptForm(state.lastSeen);
  // Accepted states (the common case) are their own baseline: one conversion serves both.
  const baseline = state.baseline === state.lastSeen ? lastSeen : keptForm(state.baseline);
  const pending =
    state.pending === undefined
      ? {}
      : { pending: { ...state.pending, object: keptForm(state.pending.object) } };
  return { ...state, baseline, lastSeen, ...pending };
}

/**
 * A digest of the content apart from the resourceVersion and time: equal for a status or no-op
 * write, which is not worth a write. A digest, so the memory per object stays small.
 */
function contentOf(state: TrackedState): string {
  const strip = (o: KubeObject): KubeObject => ({
    ...o,
    metadata: { ...o.metadata, resourceVersion: "" },
  });
  const lastSeen = strip(state.lastSeen);
  const baseline = state.baseline === state.lastSeen ? "same" : strip(state.baseline);
  const content = JSON.stringify({ ...state, baseline, lastSeen, lastSeenMs: 0 });
  return createHash("sha256").update(content).digest("base64");
}

function isObjectState(value: unknown): value is KubeObject {
  if (typeof value !== "object" || value === null) return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return typeof metadata === "object" && metadata !== null;
}

/** A kept state as written by keep(), or undefined for anything else (a damaged row). */
function readState(text: string): TrackedState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const state = value as Record<string, unknown>;
  const ok =
    isObjectState(state["baseline"]) &&
    isObjectState(state["lastSeen"]) &&
    typeof state["lastSeenMs"] === "number";
  if (!ok) return undefined;
  // A damaged held change is dropped, not the whole state: the baseline is worth more.
  if (state["pending"] === undefined || isPending(state["pending"])) return value as TrackedState;
  const { pending: _dropped, ...rest } = state;
  return rest as unknown as TrackedState;
}

function isPending(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    isObjectState(p["object"]) &&
    (p["kind"] === "changed" || p["kind"] === "deleted") &&
    Array.isArray(p["changes"]) &&
    typeof p["sinceMs"] === "number"
  );
}

export class BaselineStore {
  private readonly db: DatabaseSync;
  private readonly upsert: StatementSync;
  private readonly remove: StatementSync;
  /** id -> digest of the content last written, so a write that changes nothing is skipped. */
  private readonly written = new Map<string, string>();
  /** Writes of one turn of the event loop share a transaction (a start-up burst, a big sync). */
  private open = false;

  private constructor(db: DatabaseSync) {
    this.db = db;
    this.upsert = db.prepare(
      "INSERT INTO tracked (id, kind, key, state) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, key = excluded.key, state = excluded.state",
    );
    this.remove = db.prepare("DELETE FROM tracked WHERE id = ?");
  }

  /** Opens (creating if needed) the store at path; ":memory:" for a throwaway one. */
  static open(path: string): BaselineStore {
    return new BaselineStore(openSqlite(path, SCHEMA, "the auditor's baselines"));
  }

  /** Every kept object; a row that cannot be read is dropped (the object starts afresh). */
  load(): KeptState[] {
    const rows = this.db.prepare("SELECT id, kind, key, state FROM tracked").all() as unknown as {
      id: string;
      kind: string;
      key: string;
      state: string;
    }[];
    const kept: KeptState[] = [];
    for (const row of rows) {
      const state = readState(row.state);
      if (state === undefined) {
        this.remove.run(row.id);
        continue;
      }
      this.written.set(row.id, contentOf(state));
      kept.push({ id: row.id, kind: row.kind, key: row.key, state });
    }
    return kept;
  }

  /** Keeps the object's state (kind and key say how to queue it), or forgets it (undefined). */
  keep(id: string, where: { kind: string; key: string }, state: TrackedState | undefined): void {
    if (state === undefined || isSecret(state.lastSeen)) {
      this.forget(id);
      return;
    }
    const kept = keptState(state);
    const content = contentOf(kept);
    if (this.written.get(id) === content) return;
    this.begin();
    this.upsert.run(id, where.kind, where.key, JSON.stringify(kept));
    this.written.set(id, content);
  }

  forget(id: string): void {
    if (!this.written.has(id)) return;
    this.begin();
    this.remove.run(id);
    this.written.delete(id);
  }

  close(): void {
    this.commit();
    this.db.close();
  }

  private begin(): void {
    if (this.open) return;
    this.db.exec("BEGIN");
    this.open = true;
    setImmediate(() => {
      this.commit();
    });
  }

  private commit(): void {
    if (!this.open || !this.db.isOpen) return;
    this.db.exec("COMMIT");
    this.open = false;
  }
}
