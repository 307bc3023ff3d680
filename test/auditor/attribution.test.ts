import { describe, expect, it } from "vitest";
import { parseAdmissionEvent } from "../../src/auditor/attribution/admission-events.js";
import {
  attribute,
  isReconcilerChange,
  type AttributeInput,
} from "../../src/auditor/attribution/attribute.js";
import { createAuditParser } from "../../src/auditor/attribution/audit-events.js";
import type { AdmissionFact, AuditFact } from "../../src/auditor/attribution/facts.js";
import { FactIndex } from "../../src/auditor/attribution/index.js";
import { changedManagers } from "../../src/auditor/attribution/managed-fields.js";
import type { KubeObject, ManagedFieldsEntry } from "../../src/kube/objects.js";
import { FakeClock } from "../helpers/fake-clock.js";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const iso = (ms: number): string => new Date(ms).toISOString();
const secondIso = (ms: number): string => iso(Math.floor(ms / 1000) * 1000).replace(".000", "");

function withManagers(managedFields: ManagedFieldsEntry[], rv = "10"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "web", namespace: "shop", resourceVersion: rv, managedFields },
  };
}

const OBJECT = {
  group: "",
  kind: "ConfigMap",
  resource: "configmaps",
  namespace: "shop",
  name: "web",
};

function auditFact(overrides: Partial<AuditFact> = {}): AuditFact {
  return {
    user: { username: "alice", groups: ["developers"] },
    verb: "update",
    group: "",
    resource: "configmaps",
    namespace: "shop",
    name: "web",
    code: 200,
    receivedMs: T0 + 300,
    auditId: "a-1",
    ...overrides,
  };
}

function admissionFact(overrides: Partial<AdmissionFact> = {}): AdmissionFact {
  return {
    user: { username: "bob", groups: ["incident-responders"] },
    group: "",
    kind: "ConfigMap",
    namespace: "shop",
    name: "web",
    decision: "BreakGlass",
    breakGlass: { reason: "INC-1", expires: iso(T0 + 3_600_000) },
    changedFields: ["/data/x"],
    timeMs: T0 + 200,
    ...overrides,
  };
}

function input(overrides: Partial<AttributeInput> = {}): AttributeInput {
  return {
    object: OBJECT,
    resourceVersion: "11",
    managers: [{ manager: "kubectl-edit", operation: "Update", timeMs: T0 }],
    sinceMs: T0 - 5000,
    observedMs: T0 + 500,
    audit: [],
    admission: [],
    ...overrides,
  };
}

describe("changedManagers", () => {
  it("names the managers that wrote, not those that only lost fields, nor status writers", () => {
    const before = withManagers([
      {
        manager: "gitops-guard",
        operation: "Apply",
        time: "2026-03-01T09:00:00Z",
        fieldsV1: { a: 1 },
      },
      {
        manager: "kubectl-edit",
        operation: "Update",
        time: "2026-03-01T09:30:00Z",
        fieldsV1: { b: 1 },
      },
    ]);
    const after = withManagers([
      {
        manager: "gitops-guard",
        operation: "Apply",
        time: secondIso(T0),
        fieldsV1: { a: 1, b: 1 },
      },
      { manager: "kubectl-edit", operation: "Update", time: "2026-03-01T09:30:00Z", fieldsV1: {} },
      { manager: "kcm", operation: "Update", subresource: "status", time: secondIso(T0) },
    ]);
    expect(changedManagers(before, after)).toEqual([
      { manager: "gitops-guard", operation: "Apply", timeMs: T0 },
    ]);
  });

  it("counts a scale's writer (no time on its entry), so a scale is never taken for Git's apply", () => {
    const apply = { manager: "gitops-guard", operation: "Apply", time: "2026-03-01T09:00:00Z" };
    const before = withManagers([{ ...apply, fieldsV1: { replicas: 1, image: 1 } }]);
    const after = withManagers([
      { ...apply, fieldsV1: { image: 1 } },
      { manager: "kubectl", operation: "Update", subresource: "scale", fieldsV1: { replicas: 1 } },
    ]);
    const managers = changedManagers(before, after);
    expect(managers).toContainEqual({
      manager: "kubectl",
      operation: "Update",
      subresource: "scale",
    });
    const identities = {
      usernames: new Set<string>(),
      groups: new Set<string>(),
      fieldManager: "gitops-guard",
    };
    expect(
      isReconcilerChange({ source: "managedFields", fieldManagers: [] }, managers, identities),
    ).toBe(false);
    // The Apply entry's old time is no write time: the fact is matched in the observation window.
    const fact = admissionFact({ changedFields: ["/spec/replicas"], timeMs: T0 + 200 });
    const named = attribute(input({ managers, admission: [fact], paths: ["/spec/replicas"] }));
    expect(named.user?.username).toBe("bob");
  });

  it("counts a same-second rewrite by its changed fields", () => {
    const t = secondIso(T0);
    const before = withManagers([
      { manager: "m", operation: "Update", time: t, fieldsV1: { a: 1 } },
    ]);
    const after = withManagers([
      { manager: "m", operation: "Update", time: t, fieldsV1: { a: 2 } },
    ]);
    expect(changedManagers(before, after).map((m) => m.manager)).toEqual(["m"]);
  });
});

describe("attribute", () => {
  it("is unattributed without facts, but keeps the field managers", () => {
    expect(attribute(input())).toEqual({
      source: "managedFields",
      fieldManagers: ["kubectl-edit (Update)"],
    });
  });

  it("takes the user from the audit event near the write, and the reason from the Event", () => {
    const result = attribute(
      input({
        audit: [
          auditFact({ receivedMs: T0 - 60_000, user: { username: "old", groups: [] } }),
          auditFact(),
          auditFact({ name: "other", user: { username: "mallory", groups: [] } }),
          auditFact({ code: 409, user: { username: "conflicted", groups: [] } }),
          auditFact({ subresource: "status", user: { username: "status", groups: [] } }),
        ],
        admission: [admissionFact()],
      }),
    );
    expect(result).toEqual({
      user: { username: "alice", groups: ["developers"] },
      source: "audit-webhook",
      fieldManagers: ["kubectl-edit (Update)"],
      breakGlass: { reason: "INC-1", expires: iso(T0 + 3_600_000) },
    });
  });

  it("prefers the audit event whose response carried this resourceVersion", () => {
    const result = attribute(
      input({
        audit: [
          auditFact({ resourceVersion: "11", receivedMs: T0 - 600_000 }),
          auditFact({ user: { username: "near", groups: [] } }),
        ],
      }),
    );
    expect(result.user?.username).toBe("alice");
  });

  it("falls back to the admission Event's user", () => {
    const result = attribute(input({ admission: [admissionFact()] }));
    expect(result.user?.username).toBe("bob");
    expect(result.source).toBe("admission");
  });

  it("joins a fact only to a change of a field it names, and never to a second record", () => {
    const fact = admissionFact({
      changedFields: ["/data/x"],
      event: { namespace: "shop", name: "web.1", uid: "u-1" },
    });
    expect(attribute(input({ admission: [fact], paths: ["/data/x"] })).user?.username).toBe("bob");
    expect(attribute(input({ admission: [fact], paths: ["/data"] })).user?.username).toBe("bob");
    expect(attribute(input({ admission: [fact], paths: ["/spec/replicas"] })).user).toBeUndefined();
    const joined = attribute(
      input({ admission: [fact], paths: ["/data/x"], consumed: () => true }),
    );
    expect(joined.user).toBeUndefined();
    expect(joined.source).toBe("managedFields");
    expect(attribute(input({ admission: [fact], paths: ["/data/x"] })).event?.uid).toBe("u-1");
  });

  it("never takes a later request's fact (made on this very state) for the write that made it", () => {
    // alice edits (old rv 10, writes 11); self-heal undoes it at once (old rv 11): both facts in
    // the window, and the later one (the reconciler's, no policy to tell) must not win.
    const alice = admissionFact({
      user: { username: "alice", groups: [] },
      oldResourceVersion: "10",
      timeMs: T0 + 100,
    });
    const heal = admissionFact({
      user: { username: "reconciler", groups: [] },
      oldResourceVersion: "11",
      timeMs: T0 + 105,
    });
    const seen = attribute(input({ admission: [alice, heal], paths: ["/data/x"] }));
    expect(seen.user?.username).toBe("alice");
    // A deletion's request starts from the last state seen: its own fact still counts.
    const gone = admissionFact({ operation: "DELETE", oldResourceVersion: "11" });
    expect(attribute(input({ admission: [gone], deletion: true })).user?.username).toBe("bob");
  });

  it("uses the observation window when the API server recorded no write time", () => {
    const result = attribute(
      input({ managers: [], audit: [auditFact({ receivedMs: T0 - 4000 })] }),
    );
    expect(result.user?.username).toBe("alice");
    const late = attribute(input({ managers: [], audit: [auditFact({ receivedMs: T0 + 9000 })] }));
    expect(late.user).toBeUndefined();
  });
});

describe("isReconcilerChange", () => {
  const identities = {
    usernames: new Set(["system:serviceaccount:gitops-guard-system:gitops-guard-reconciler"]),
    groups: new Set(["gitops"]),
    fieldManager: "gitops-guard",
  };
  const apply = [{ manager: "gitops-guard", operation: "Apply" }];

  it("decides on the user when one is known, never on the field manager name", () => {
    const mallory = {
      source: "audit-webhook",
      fieldManagers: [],
      user: { username: "mallory", groups: [] },
    } as const;
    expect(isReconcilerChange(mallory, apply, identities)).toBe(false);
    const sa = { ...mallory, user: { username: [...identities.usernames][0] ?? "", groups: [] } };
    expect(isReconcilerChange(sa, [], identities)).toBe(true);
    const grouped = { ...mallory, user: { username: "ci", groups: ["gitops"] } };
    expect(isReconcilerChange(grouped, [], identities)).toBe(true);
  });

  it("without a user, only an Apply by the product's field manager alone", () => {
    const none = { source: "managedFields", fieldManagers: [] } as const;
    expect(isReconcilerChange(none, apply, identities)).toBe(true);
    expect(
      isReconcilerChange(none, [...apply, { manager: "kubectl", operation: "Update" }], identities),
    ).toBe(false);
    expect(isReconcilerChange(none, [], identities)).toBe(false);
  });
});

describe("audit webhook EventList", () => {
  const parse = createAuditParser();
  const event = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    auditID: "id-1",
    stage: "ResponseComplete",
    verb: "patch",
    requestReceivedTimestamp: iso(T0),
    user: { username: "admin", groups: ["system:masters"] },
    objectRef: { resource: "configmaps", namespace: "shop", name: "web", apiVersion: "v1" },
    responseStatus: { code: 200 },
    ...overrides,
  });
  const list = (items: unknown[]): unknown => ({
    apiVersion: "audit.k8s.io/v1",
    kind: "EventList",
    items,
  });

  it("keeps completed writes only, with the impersonated user when there is one", () => {
    const facts = parse(
      list([
        event(),
        event({ verb: "get" }),
        event({ stage: "RequestReceived" }),
        event({ objectRef: { resource: "configmaps", namespace: "shop" } }),
        event({
          auditID: "id-2",
          impersonatedUser: {
            username: "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
          },
          responseObject: { metadata: { resourceVersion: "42" }, data: { secret: "hidden" } },
        }),
      ]),
    );
    expect(facts).toEqual([
      {
        user: { username: "admin", groups: ["system:masters"] },
        verb: "patch",
        group: "",
        resource: "configmaps",
        namespace: "shop",
        name: "web",
        code: 200,
        receivedMs: T0,
        auditId: "id-1",
      },
      expect.objectContaining({
        user: {
          username: "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
          groups: [],
        },
        resourceVersion: "42",
      }),
    ]);
    expect(JSON.stringify(facts)).not.toContain("hidden");
  });

  it("rejects what is not an audit.k8s.io/v1 EventList", () => {
    expect(
      parse({ apiVersion: "audit.k8s.io/v1beta1", kind: "EventList", items: [] }),
    ).toBeUndefined();
    expect(parse(list([{ verb: "update" }]))).toBeUndefined();
    expect(parse("text")).toBeUndefined();
  });
});

describe("admission Events", () => {
  const event: KubeObject = {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: {
      name: "web.1",
      namespace: "shop",
      annotations: {
        "gitops-guard.io/user": "bob",
        "gitops-guard.io/groups": '["incident-responders"]',
        "gitops-guard.io/decision": "BreakGlass",
        "gitops-guard.io/operation": "UPDATE",
        "gitops-guard.io/changed-fields": '["/data/x"]',
        "gitops-guard.io/break-glass-reason": "INC-7",
        "gitops-guard.io/break-glass-expires": "2026-03-01T11:00:00Z",
      },
    },
    eventTime: "2026-03-01T10:00:00.123456Z",
    reportingController: "gitops-guard.io/admission",
    reason: "BreakGlass",
    regarding: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" },
  };

  it("reads who, what and why from the webhook's Event", () => {
    expect(parseAdmissionEvent(event)).toEqual({
      user: { username: "bob", groups: ["incident-responders"] },
      group: "apps",
      kind: "Deployment",
      namespace: "shop",
      name: "web",
      decision: "BreakGlass",
      operation: "UPDATE",
      breakGlass: { reason: "INC-7", expires: "2026-03-01T11:00:00Z" },
      changedFields: ["/data/x"],
      timeMs: Date.parse("2026-03-01T10:00:00.123Z"),
      apiVersion: "apps/v1",
    });
  });

  it("ignores Events from other reporters and malformed annotations", () => {
    expect(parseAdmissionEvent({ ...event, reportingController: "kubelet" })).toBeUndefined();
    const broken = {
      ...event,
      metadata: {
        ...event.metadata,
        annotations: { "gitops-guard.io/user": "bob", "gitops-guard.io/groups": "{" },
      },
    };
    expect(parseAdmissionEvent(broken)?.user.groups).toEqual([]);
  });
});

describe("FactIndex", () => {
  it("forgets facts after their time to live and beyond its bound", async () => {
    const clock = new FakeClock(T0);
    const index = new FactIndex<AuditFact>({ clock, ttlMs: 1000, maxEntries: 2 });
    index.add(auditFact({ auditId: "1" }));
    index.add(auditFact({ auditId: "2" }));
    index.add(auditFact({ auditId: "3" }));
    expect(index.about(OBJECT).map((f) => f.auditId)).toEqual(["2", "3"]);
    await clock.advance(1001);
    expect(index.about(OBJECT)).toEqual([]);
    expect(index.size()).toBe(0);
  });
});
