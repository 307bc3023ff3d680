import { describe, expect, it } from "vitest";
import { alertFromRecord, alertText } from "../../src/auditor/alerts/alert.js";
import { attribute, type AttributeInput } from "../../src/auditor/attribution/attribute.js";
import type { AuditFact } from "../../src/auditor/attribution/facts.js";
import { DriftTracker, WHOLE_OBJECT_REMOVED } from "../../src/auditor/drift-tracker.js";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import type { KubeObject } from "../../src/kube/objects.js";

const T0 = Date.parse("2026-03-01T10:00:00Z");

function cm(rv: string, value: string, uid = "u1"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace: "ns", uid, resourceVersion: rv },
    data: { k: value },
  };
}

describe("DriftTracker deletions", () => {
  it("hands out the last state of a vanished object, and a re-creation as Git has it heals", () => {
    const t = new DriftTracker();
    expect(t.vanished("c")).toBeUndefined();
    t.observe("c", cm("1", "a"), 0, {});
    const gone = t.vanished("c");
    expect(gone).toMatchObject({
      last: { metadata: { resourceVersion: "1" } },
      recorded: false,
      observation: { kind: "deleted", previousMs: 0, changes: [WHOLE_OBJECT_REMOVED] },
    });
    t.markDeleted("c", 5);
    expect(t.vanished("c")?.recorded).toBe(true);
    expect(t.isDrifted("c")).toBe(true);
    // The reconciler re-creates it: a new uid and resourceVersion, the same content.
    expect(t.observe("c", cm("7", "a", "u2"), 9, {})).toMatchObject({
      kind: "healed",
      driftSinceMs: 5,
    });
  });

  it("a held deletion is overtaken by the re-creation, a held edit by the deletion", () => {
    const t = new DriftTracker();
    t.observe("c", cm("1", "a"), 0, {});
    const gone = t.vanished("c");
    if (gone === undefined) throw new Error("not tracked");
    expect(t.hold("c", gone.last, gone.observation, 1)).toBe(1);
    expect(t.hold("c", gone.last, gone.observation, 4)).toBe(1);
    expect(t.overtaken("c", undefined)).toBeUndefined();
    expect(t.overtaken("c", cm("3", "a", "u2"))?.seen.kind).toBe("deleted");

    const u = new DriftTracker();
    u.observe("c", cm("1", "a"), 0, {});
    const edit = u.observe("c", cm("2", "b"), 1, {});
    u.hold("c", cm("2", "b"), edit, 1);
    expect(u.overtaken("c", undefined)?.object.metadata.resourceVersion).toBe("2");
    u.markDrift("c", cm("2", "b"), 1);
    expect(u.vanished("c")?.last.data).toEqual({ k: "b" });
  });
});

describe("attributing a deletion", () => {
  const object = {
    group: "",
    kind: "ConfigMap",
    resource: "configmaps",
    namespace: "ns",
    name: "c",
  };
  const fact = (verb: string, receivedMs: number, resourceVersion?: string): AuditFact => ({
    user: { username: verb === "delete" ? "carol" : "alice", groups: ["system:masters"] },
    verb,
    group: "",
    resource: "configmaps",
    namespace: "ns",
    name: "c",
    code: 200,
    receivedMs,
    auditId: `${verb}-${String(receivedMs)}`,
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
  });
  const input = (audit: AuditFact[]): AttributeInput => ({
    object,
    managers: [],
    sinceMs: T0,
    observedMs: T0 + 10_000,
    audit,
    admission: [],
    deletion: true,
  });

  it("matches only delete requests, by time even when the audit level kept the response", () => {
    const attributed = attribute(
      input([fact("update", T0 + 9000), fact("delete", T0 + 5000, "41")]),
    );
    expect(attributed).toMatchObject({ source: "audit-webhook", user: { username: "carol" } });
    expect(attribute(input([fact("update", T0 + 9000)]))).toEqual({
      source: "managedFields",
      fieldManagers: [],
    });
  });

  it("takes a DELETE admission Event, never an UPDATE one", () => {
    const event = {
      user: { username: "bob", groups: ["incident-responders"] },
      group: "",
      kind: "ConfigMap",
      namespace: "ns",
      name: "c",
      decision: "AuditMode",
      changedFields: [],
      timeMs: T0 + 2000,
    };
    const withEvents = (operation: string): AttributeInput => ({
      ...input([]),
      admission: [{ ...event, operation }],
    });
    expect(attribute(withEvents("DELETE")).user?.username).toBe("bob");
    expect(attribute(withEvents("UPDATE")).user).toBeUndefined();
  });
});

describe("deletion alerts", () => {
  it("say deletion, and the text lists no empty field path", () => {
    const record: JournalRecord = {
      seq: 4,
      time: "2026-03-01T10:00:00.000Z",
      type: "drift-detected",
      object: { apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "c" },
      fieldManagers: [],
      diff: [WHOLE_OBJECT_REMOVED],
      message: "out-of-band deletion by an unknown user (unattributed)",
      prevHash: "0".repeat(64),
      hash: "1".repeat(64),
    };
    const alert = alertFromRecord(record);
    expect(alert).toMatchObject({
      title: "Unattributed deletion of ConfigMap ns/c",
      severity: "critical",
    });
    if (alert === undefined) throw new Error("no alert");
    expect(alertText(alert)).toBe(
      "Unattributed deletion of ConfigMap ns/c by unattributed; journal #4",
    );
  });
});
