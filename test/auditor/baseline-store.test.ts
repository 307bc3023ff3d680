/**
 * The auditor's memory across restarts: what it keeps on disk (comparable forms, never a
 * Secret), that a write changing nothing is skipped, and that a tracker restored from it
 * judges the next state against the state last seen.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { fieldDiff } from "../../src/auditor/diff/diff.js";
import { DriftTracker, type TrackedState } from "../../src/auditor/drift-tracker.js";
import {
  BaselineStore,
  keptForm,
  type KeptState,
} from "../../src/auditor/journal/baseline-store.js";
import { secretValueDigest } from "../../src/auditor/journal/record.js";
import { whereOf } from "../../src/auditor/restore.js";
import type { KubeObject, ManagedFieldsEntry } from "../../src/kube/objects.js";

const PASSWORD = "correct-horse-battery-staple";
const b64 = (s: string): string => Buffer.from(s).toString("base64");

const MANAGED = (manager: string): ManagedFieldsEntry[] => [
  { manager, operation: "Apply", time: "2026-11-23T08:00:00Z", fieldsV1: { "f:data": {} } },
  { manager: "kubelet", operation: "Update", subresource: "status", fieldsV1: {} },
];

function configMap(rv: string, level = "info", manager = "gitops-guard"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "web",
      namespace: "shop",
      resourceVersion: rv,
      uid: "u-1",
      managedFields: MANAGED(manager),
    },
    data: { LOG_LEVEL: level },
  };
}

function secret(rv: string, password = PASSWORD): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "shop", resourceVersion: rv, managedFields: MANAGED("x") },
    data: { password: b64(password) },
  };
}

/** Every byte SQLite left in the store's folder (the WAL is folded in on close). */
function filesOf(path: string): string {
  const dir = join(path, "..");
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString("latin1"))
    .join("");
}

const dirs: string[] = [];
function storePath(): string {
  const dir = mkdtempSync(join(tmpdir(), "gg-baselines-"));
  dirs.push(dir);
  return join(dir, "baselines.db");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What another process opening the file finds (it is closed again after). */
function keptAt(path: string): KeptState[] {
  const other = BaselineStore.open(path);
  try {
    return other.load();
  } finally {
    other.close();
  }
}

/** A new store file holding one state under id, closed. */
function storeWith(id: string, state: TrackedState): string {
  const path = storePath();
  const store = BaselineStore.open(path);
  store.keep(id, whereOf(state), state);
  store.close();
  return path;
}

describe("BaselineStore", () => {
  it("keeps the comparable form and the managers of the main resource", () => {
    const state = { baseline: configMap("1"), lastSeen: configMap("1"), lastSeenMs: 1000 };
    const [kept] = keptAt(storeWith("/ConfigMap/shop/web", state));
    expect(kept).toMatchObject({ id: "/ConfigMap/shop/web", kind: "/ConfigMap", key: "shop/web" });
    expect(kept?.state.lastSeen["data"]).toEqual({ LOG_LEVEL: "info" });
    expect(kept?.state.lastSeen.metadata.managedFields?.map((m) => m.manager)).toEqual([
      "gitops-guard",
    ]);
    expect(kept?.state.lastSeen.metadata.resourceVersion).toBe("1");
    expect(kept?.state.lastSeen.metadata.uid).toBe("u-1");
    expect(kept?.state.lastSeen.metadata.creationTimestamp).toBeUndefined();
  });

  it("never keeps a Secret, not even digests of its values", () => {
    const state = { baseline: secret("1"), lastSeen: secret("1"), lastSeenMs: 1000 };
    const path = storeWith("/Secret/shop/db", state);
    expect(keptAt(path)).toEqual([]);
    const bytes = filesOf(path);
    for (const form of [PASSWORD, b64(PASSWORD), secretValueDigest(PASSWORD)]) {
      expect(bytes).not.toContain(form);
    }
  });

  it("drops a row it cannot read (that object starts afresh) and keeps the others", () => {
    const state = { baseline: configMap("1"), lastSeen: configMap("1"), lastSeenMs: 1000 };
    const path = storeWith("good", state);
    const db = new DatabaseSync(path);
    const insert = db.prepare("INSERT INTO tracked (id, kind, key, state) VALUES (?, ?, ?, ?)");
    insert.run("bad", "/ConfigMap", "shop/bad", "{not json");
    insert.run("odd", "/ConfigMap", "shop/odd", '{"baseline": 1, "lastSeen": null}');
    db.close();
    expect(keptAt(path).map((k) => k.id)).toEqual(["good"]);
    expect(keptAt(path).map((k) => k.id)).toEqual(["good"]);
  });

  it("compares a kept form equal to the object it came from", () => {
    expect(fieldDiff(keptForm(configMap("1")), configMap("2"))).toEqual([]);
    expect(fieldDiff(keptForm(configMap("1")), configMap("2", "debug"))).toEqual([
      { path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" },
    ]);
  });

  it("skips a write that changes only the resourceVersion, and forgets on request", async () => {
    const path = storePath();
    const store = BaselineStore.open(path);
    // Writes of one turn of the event loop commit together, at the end of the turn.
    const committed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const first = { baseline: configMap("1"), lastSeen: configMap("1"), lastSeenMs: 1000 };
    store.keep("id", whereOf(first), first);
    expect(keptAt(path)).toEqual([]);
    await committed();
    expect(keptAt(path)).toHaveLength(1);
    const statusOnly = { ...first, lastSeen: configMap("2"), lastSeenMs: 2000 };
    store.keep("id", whereOf(statusOnly), statusOnly);
    await committed();
    expect(keptAt(path)[0]?.state.lastSeen.metadata.resourceVersion).toBe("1");
    const edited = { ...first, lastSeen: configMap("3", "edited"), lastSeenMs: 3000 };
    store.keep("id", whereOf(edited), edited);
    await committed();
    expect(keptAt(path)[0]?.state.lastSeenMs).toBe(3000);
    store.keep("id", whereOf(undefined), undefined);
    store.close();
    expect(keptAt(path)).toEqual([]);
  });

  it("a tracker writes through it, and one restored from it says the change was unwatched", () => {
    const path = storePath();
    const store = BaselineStore.open(path);
    const first = new DriftTracker((id, state) => {
      store.keep(id, whereOf(state), state);
    });
    expect(first.observe("id", configMap("1"), 1000, {}).kind).toBe("first-seen");
    store.close();

    // An object found as it was left: a later change is a watched one.
    const unchanged = new DriftTracker();
    for (const kept of keptAt(path)) unchanged.restore(kept.id, kept.state);
    expect(unchanged.observe("id", configMap("1"), 8000, {}).kind).toBe("unchanged");
    const later = unchanged.observe("id", configMap("2", "debug", "kubectl-edit"), 8500, {});
    expect(later).toMatchObject({ kind: "changed" });
    expect(later.restored).toBeUndefined();

    const second = new DriftTracker();
    for (const kept of keptAt(path)) second.restore(kept.id, kept.state);
    const edited = configMap("5", "edited", "kubectl-edit");
    const seen = second.observe("id", edited, 9000, {});
    expect(seen).toMatchObject({ kind: "changed", restored: true, previousMs: 1000 });
    expect(seen.changes).toEqual([
      { path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "edited" },
    ]);
    // Looked at again while it waits for attribution: still the unwatched change.
    expect(second.observe("id", edited, 9200, {}).restored).toBe(true);
    // Once judged, later changes are watched ones.
    second.markDrift("id", edited, 9300);
    const again = second.observe("id", configMap("6", "again", "kubectl-edit"), 9500, {});
    expect(again.restored).toBeUndefined();
  });

  it("keeps a change held for attribution, so a process killed after self-heal undid it leaves it to the next", () => {
    const path = storePath();
    const store = BaselineStore.open(path);
    const first = new DriftTracker((id, state) => {
      store.keep(id, whereOf(state), state);
    });
    first.observe("id", configMap("1"), 1000, {});
    const edited = configMap("2", "debug", "kubectl-edit");
    const seen = first.observe("id", edited, 2000, {});
    first.hold("id", edited, seen, 2000);
    // Killed here: self-heal puts Git's state back (rv 3) before anything is journaled.
    store.close();

    const second = new DriftTracker();
    for (const kept of keptAt(path)) second.restore(kept.id, kept.state);
    const held = second.overtaken("id", configMap("3"));
    expect(held).toMatchObject({
      object: { metadata: { resourceVersion: "2" } },
      sinceMs: 2000,
      seen: { kind: "changed", restored: true, previousMs: 1000 },
    });
    expect(held?.seen.changes).toEqual([
      { path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" },
    ]);
  });

  it("stops keeping the held change once it is journaled", () => {
    const states: (TrackedState | undefined)[] = [];
    const tracker = new DriftTracker((_id, state) => states.push(state));
    tracker.observe("id", configMap("1"), 1000, {});
    const edited = configMap("2", "debug", "kubectl-edit");
    tracker.hold("id", edited, tracker.observe("id", edited, 2000, {}), 2000);
    expect(states.at(-1)?.pending?.sinceMs).toBe(2000);
    tracker.markDrift("id", edited, 2500);
    expect(states.at(-1)?.pending).toBeUndefined();
  });
});
