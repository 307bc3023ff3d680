import { describe, expect, it } from "vitest";
import { desiredDrift, fieldDiff, secretSafeChanges } from "../../src/auditor/diff/diff.js";
import { normalizeObject } from "../../src/auditor/diff/normalize.js";
import { parseQuantity, sameScalar } from "../../src/auditor/diff/quantity.js";
import { secretValueDigest } from "../../src/auditor/journal/record.js";
import type { KubeObject } from "../../src/kube/objects.js";

function deployment(replicas: number, image: string, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "shop",
      resourceVersion: String(replicas * 7),
      generation: replicas,
      uid: "u-1",
      creationTimestamp: "2026-01-01T00:00:00Z",
      managedFields: [
        { manager: "gitops-guard", operation: "Apply", time: "2026-01-01T00:00:00Z" },
      ],
      annotations: { "deployment.kubernetes.io/revision": String(replicas) },
    },
    spec: {
      replicas,
      template: { spec: { containers: [{ name: "web", image, ports: [{ containerPort: 80 }] }] } },
    },
    status: { readyReplicas: replicas },
    ...extra,
  };
}

describe("fieldDiff", () => {
  it("is empty when only server-set fields, defaults' bookkeeping and status changed", () => {
    const a = deployment(2, "nginx:1");
    const b: KubeObject = {
      ...a,
      metadata: {
        ...a.metadata,
        resourceVersion: "999",
        generation: 9,
        managedFields: [{ manager: "kube-controller-manager", operation: "Update" }],
        annotations: { "deployment.kubernetes.io/revision": "9" },
      },
      status: { readyReplicas: 0, conditions: [] },
    };
    expect(fieldDiff(a, b)).toEqual([]);
  });

  it("names each changed field by JSON pointer with its old and new value", () => {
    const a = deployment(2, "nginx:1");
    const b = deployment(2, "nginx:2");
    const labelled: KubeObject = {
      ...b,
      metadata: { ...b.metadata, labels: { "a/b~c": "x" } },
    };
    expect(fieldDiff(a, labelled)).toEqual([
      {
        path: "/spec/template/spec/containers/0/image",
        op: "replace",
        from: "nginx:1",
        to: "nginx:2",
      },
      { path: "/metadata/labels", op: "add", to: { "a/b~c": "x" } },
    ]);
  });

  it("escapes / and ~ in keys (RFC 6901) and reports removals with their old value", () => {
    const a: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", annotations: { "x/y~z": "1" } },
      data: { k: "v" },
    };
    const b: KubeObject = {
      ...a,
      metadata: { name: "c", annotations: { "x/y~z": "2" } },
      data: {},
    };
    expect(fieldDiff(a, b)).toEqual([
      { path: "/data/k", op: "remove", from: "v" },
      { path: "/metadata/annotations/x~1y~0z", op: "replace", from: "1", to: "2" },
    ]);
  });

  it("leaves out ignored pointers and everything under them", () => {
    const a = deployment(2, "nginx:1");
    const b = deployment(5, "nginx:1");
    expect(fieldDiff(a, b, { ignore: ["/spec/replicas"] })).toEqual([]);
    expect(fieldDiff(a, b)).toEqual([{ path: "/spec/replicas", op: "replace", from: 2, to: 5 }]);
  });

  it("shows a Secret's values only as digests of their bytes", () => {
    const secret = (data: Record<string, string>): KubeObject => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db" },
      data,
    });
    const b64 = (s: string): string => Buffer.from(s).toString("base64");
    const changes = fieldDiff(secret({ pw: b64("old-pw") }), secret({ pw: b64("new-pw") }));
    expect(changes).toEqual([
      {
        path: "/data/pw",
        op: "replace",
        from: secretValueDigest("old-pw"),
        to: secretValueDigest("new-pw"),
      },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/old-pw|new-pw|b2xk|bmV3/);
  });
});

describe("normalizeObject", () => {
  it("turns stringData and data into the same digests, and does not touch its input", () => {
    const fromGit: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      stringData: { token: "abc" },
    };
    const live: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", uid: "1" },
      data: { token: Buffer.from("abc").toString("base64") },
    };
    expect(normalizeObject(fromGit)).toEqual(normalizeObject(live));
    expect(fromGit["stringData"]).toEqual({ token: "abc" });
    expect(live.metadata.uid).toBe("1");
  });
});

describe("secretSafeChanges", () => {
  it("digests every value and splits a whole data map per key", () => {
    const d = secretValueDigest("x");
    const out = secretSafeChanges([
      { path: "/data", op: "add", to: { a: d, b: d } },
      { path: "/metadata/labels/team", op: "replace", from: "a", to: "b" },
    ]);
    expect(out).toEqual([
      { path: "/data/a", op: "add", to: d },
      { path: "/data/b", op: "add", to: d },
      {
        path: "/metadata/labels/team",
        op: "replace",
        from: secretValueDigest('"a"'),
        to: secretValueDigest('"b"'),
      },
    ]);
  });
});

describe("desiredDrift (Git against live)", () => {
  it("ignores defaults the server added and canonical quantity spellings", () => {
    const git: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", labels: { app: "p" } },
      spec: {
        containers: [{ name: "c", image: "i", resources: { limits: { cpu: 0.5, memory: "1Gi" } } }],
        securityContext: {},
      },
    };
    const live: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", labels: { app: "p" }, uid: "u", resourceVersion: "1" },
      spec: {
        containers: [
          {
            name: "c",
            image: "i",
            imagePullPolicy: "IfNotPresent",
            resources: { limits: { cpu: "500m", memory: "1Gi" } },
          },
        ],
        restartPolicy: "Always",
      },
      status: { phase: "Pending" },
    };
    expect(desiredDrift(git, live)).toEqual([]);
  });

  it("reports fields Git sets that the live object lacks or holds otherwise", () => {
    const git: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { a: "1", b: "2" },
    };
    const live: KubeObject = { ...git, data: { a: "9" } };
    expect(desiredDrift(git, live)).toEqual([
      { path: "/data/a", op: "replace", from: "1", to: "9" },
      { path: "/data/b", op: "remove", from: "2" },
    ]);
  });

  it("treats a list of another length as one replaced list", () => {
    const git: KubeObject = { apiVersion: "v1", kind: "X", metadata: { name: "x" }, list: [1, 2] };
    const live: KubeObject = { ...git, list: [1] };
    expect(desiredDrift(git, live)).toEqual([
      { path: "/list", op: "replace", from: [1, 2], to: [1] },
    ]);
  });
});

describe("quantities", () => {
  it.each([
    ["500m", 0.5],
    ["1Gi", 2 ** 30],
    ["1e3", 1000],
    ["2k", 2000],
    [3, 3],
  ] as const)("parses %s", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it("compares spellings, not arbitrary strings", () => {
    expect(sameScalar("0.1", "100m")).toBe(true);
    expect(sameScalar(1, "1")).toBe(true);
    expect(sameScalar("abc", "abc")).toBe(true);
    expect(sameScalar("1Gi", "1G")).toBe(false);
    expect(sameScalar("nginx", "100m")).toBe(false);
  });
});
