import { describe, expect, it } from "vitest";
import { BreakGlassBook } from "../../src/auditor/break-glass.js";
import { DriftTracker } from "../../src/auditor/drift-tracker.js";
import { buildScope, isGuarded, newlyInventoried, objectId } from "../../src/auditor/scope.js";
import type { KubeObject } from "../../src/kube/objects.js";

function cm(rv: string, value: string, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "c",
      namespace: "ns",
      resourceVersion: rv,
      ...(annotations === undefined ? {} : { annotations }),
    },
    data: { k: value },
  };
}

describe("DriftTracker", () => {
  it("classifies first sight, noise, change, drift and heal against the baseline", () => {
    const t = new DriftTracker();
    expect(t.observe("c", cm("1", "a"), 0, {}).kind).toBe("first-seen");
    expect(t.observe("c", cm("1", "a"), 1, {}).kind).toBe("unchanged");
    expect(t.observe("c", cm("2", "a"), 2, {}).kind).toBe("noise");
    const change = t.observe("c", cm("3", "b"), 3, {});
    expect(change).toMatchObject({
      kind: "changed",
      changes: [{ path: "/data/k", from: "a", to: "b" }],
    });
    t.markDrift("c", cm("3", "b"), 3);
    expect(t.isDrifted("c")).toBe(true);
    expect(t.observe("c", cm("4", "z"), 4, {})).toMatchObject({ kind: "changed", driftSinceMs: 3 });
    t.markDrift("c", cm("4", "z"), 4);
    expect(t.observe("c", cm("5", "a"), 9, {})).toMatchObject({ kind: "healed", driftSinceMs: 3 });
  });

  it("holds an unattributed change until the object moves on from it", () => {
    const t = new DriftTracker();
    t.observe("c", cm("1", "a"), 0, {});
    const seen = t.observe("c", cm("2", "b"), 1, {});
    expect(t.hold("c", cm("2", "b"), seen, 1)).toBe(1);
    expect(t.hold("c", cm("2", "b"), seen, 5)).toBe(1);
    expect(t.overtaken("c", cm("2", "b"))).toBeUndefined();
    expect(t.overtaken("c", cm("3", "a"))?.object.metadata.resourceVersion).toBe("2");
  });
});

describe("buildScope", () => {
  const policy: KubeObject = {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GuardPolicy",
    metadata: { name: "default" },
    spec: {
      match: {
        resources: [{ apiGroups: ["apps"], kinds: ["Deployment"] }, { kinds: ["ConfigMap"] }],
      },
      reconcilers: {
        serviceAccounts: ["flux-system/kustomize-controller"],
        users: ["ci"],
        groups: ["gitops"],
      },
      ignoreFields: [
        { apiGroups: ["apps"], kinds: ["Deployment"], jsonPointers: ["/spec/replicas"] },
      ],
      alerts: [{ type: "slack", secretRef: { name: "slack" } }],
    },
  };
  const gitSync: KubeObject = {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { name: "app", namespace: "team" },
    spec: { url: "https://x", path: "deploy" },
    status: {
      lastAppliedRevision: "main@sha1:1",
      inventory: [
        { apiVersion: "v1", kind: "Service", namespace: "team", name: "web" },
        { apiVersion: "apps/v1", kind: "Deployment", namespace: "team", name: "web" },
      ],
    },
  };

  it("collects kinds, inventory with Git origin, ignore rules, reconcilers and sinks", () => {
    const scope = buildScope({
      policies: [policy],
      gitSyncs: [gitSync],
      productAccounts: ["gitops-guard-system/gitops-guard-reconciler"],
      fieldManager: "gitops-guard",
    });
    expect(scope.kinds).toEqual([
      { group: "apps", kind: "Deployment", apiVersion: "apps/v1" },
      { group: "", kind: "ConfigMap" },
      { group: "", kind: "Service", apiVersion: "v1" },
    ]);
    expect([...scope.guardedKinds]).toEqual(["apps/Deployment", "/ConfigMap"]);
    expect(scope.inventory.get(objectId("", "Service", "team", "web"))).toEqual({
      gitSync: { namespace: "team", name: "app" },
      revision: "main@sha1:1",
      path: "deploy",
    });
    expect(scope.ignore.get("apps/Deployment")).toEqual(["/spec/replicas"]);
    expect([...scope.reconcilers.usernames].sort()).toEqual([
      "ci",
      "system:serviceaccount:flux-system:kustomize-controller",
      "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
    ]);
    expect([...scope.reconcilers.groups]).toEqual(["gitops"]);
    expect(scope.alerts).toEqual([
      { type: "slack", secretRef: { name: "slack" }, id: "default#0" },
    ]);
  });

  it("names the chart, its version and digest and the values' digest in a Helm GitSync's revision", () => {
    const helm = {
      ...gitSync,
      status: {
        ...(gitSync["status"] as object),
        helm: {
          chart: "app",
          version: "1.2.0",
          digest: "sha256:ab",
          repoURL: "https://charts",
          valuesDigest: "sha256:cd",
        },
      },
    };
    const scope = buildScope({
      policies: [],
      gitSyncs: [helm],
      productAccounts: [],
      fieldManager: "gg",
    });
    expect(scope.inventory.get(objectId("", "Service", "team", "web"))?.revision).toBe(
      "main@sha1:1 chart app-1.2.0@sha256:ab values sha256:cd",
    );
  });

  it("counts the service accounts of the presets a policy names as reconcilers", () => {
    const withPresets: KubeObject = {
      ...policy,
      spec: { ...(policy["spec"] as object), reconcilers: { presets: ["argocd", "flux", "nope"] } },
    };
    const scope = buildScope({
      policies: [withPresets],
      gitSyncs: [],
      productAccounts: [],
      fieldManager: "gitops-guard",
    });
    expect([...scope.reconcilers.usernames].sort()).toEqual([
      "system:serviceaccount:argocd:argocd-application-controller",
      "system:serviceaccount:flux-system:helm-controller",
      "system:serviceaccount:flux-system:kustomize-controller",
    ]);
  });
});

describe("BreakGlassBook", () => {
  it("counts unexpired break-glass annotations", () => {
    const book = new BreakGlassBook();
    const at = Date.parse("2026-03-01T10:00:00Z");
    book.note(
      "a",
      cm("1", "x", {
        "gitops-guard.io/break-glass": "INC-1",
        "gitops-guard.io/break-glass-expires": "2026-03-01T11:00:00Z",
      }),
    );
    book.note("b", cm("1", "x", { "gitops-guard.io/break-glass": "INC-2" }));
    book.note("c", cm("1", "x"));
    expect(book.active(at)).toBe(2);
    expect(book.active(at + 2 * 3_600_000)).toBe(1);
    book.note("b", undefined);
    expect(book.active(at)).toBe(1);
  });
});

describe("namespaceSelector", () => {
  const guarded = (selector: unknown): KubeObject => ({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GuardPolicy",
    metadata: { name: "prod-only" },
    spec: {
      match: {
        resources: [{ apiGroups: [""], kinds: ["ConfigMap", "Namespace"] }],
        ...(selector === undefined ? {} : { namespaceSelector: selector }),
      },
    },
  });
  const labels: Record<string, Record<string, string>> = {
    prod: { env: "prod", team: "shop" },
    dev: { env: "dev" },
  };
  const labelsOf = (ns: string): Record<string, string> | undefined => labels[ns];
  const inNs = (namespace: string): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace },
  });
  const scopeOf = (...policies: KubeObject[]) =>
    buildScope({ policies, gitSyncs: [], productAccounts: [], fieldManager: "gitops-guard" });

  it("guards an object only where its namespace's labels match the policy's selector", () => {
    const scope = scopeOf(guarded({ matchLabels: { env: "prod" } }));
    expect(isGuarded(scope, inNs("prod"), labelsOf)).toBe(true);
    expect(isGuarded(scope, inNs("dev"), labelsOf)).toBe(false);
    expect(isGuarded(scope, inNs("unknown"), labelsOf)).toBe(false);
    const ns = (name: string, own: Record<string, string>): KubeObject => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: own },
    });
    // A Namespace is judged by its own labels.
    expect(isGuarded(scope, ns("x", { env: "prod" }), labelsOf)).toBe(true);
    expect(isGuarded(scope, ns("y", { env: "dev" }), labelsOf)).toBe(false);
  });

  it("evaluates expressions, the name label, and any matching policy", () => {
    const expr = scopeOf(
      guarded({
        matchExpressions: [
          { key: "env", operator: "In", values: ["prod", "staging"] },
          { key: "team", operator: "Exists" },
          { key: "frozen", operator: "DoesNotExist" },
          { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["legacy"] },
        ],
      }),
    );
    expect(isGuarded(expr, inNs("prod"), labelsOf)).toBe(true);
    labels["legacy"] = { env: "prod", team: "old" };
    expect(isGuarded(expr, inNs("legacy"), labelsOf)).toBe(false);
    expect(isGuarded(expr, inNs("dev"), labelsOf)).toBe(false);
    const either = scopeOf(guarded({ matchLabels: { env: "prod" } }), guarded(undefined));
    expect(isGuarded(either, inNs("dev"), labelsOf)).toBe(true);
    expect(isGuarded(scopeOf(guarded({})), inNs("dev"), labelsOf)).toBe(true);
    // A requirement the schema should have refused selects nothing rather than everything.
    const broken = scopeOf(guarded({ matchExpressions: [{ key: "env", operator: "Near" }] }));
    expect(isGuarded(broken, inNs("prod"), labelsOf)).toBe(false);
  });

  it("reaches cluster-scoped objects whatever the selector, and only kinds it names", () => {
    const scope = scopeOf(guarded({ matchLabels: { env: "prod" } }));
    const role: KubeObject = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "r" },
    };
    expect(isGuarded(scope, role, labelsOf)).toBe(false);
    const roles = scopeOf({
      ...guarded({ matchLabels: { env: "prod" } }),
      spec: {
        match: {
          resources: [{ apiGroups: ["rbac.authorization.k8s.io"], kinds: ["ClusterRole"] }],
          namespaceSelector: { matchLabels: { env: "prod" } },
        },
      },
    });
    expect(isGuarded(roles, role, labelsOf)).toBe(true);
  });
});

describe("newlyInventoried", () => {
  const gitSync = (
    inventory: { kind: string; namespace?: string; name: string }[],
  ): KubeObject => ({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { namespace: "apps", name: "web" },
    spec: { url: "https://git.example.com/r.git" },
    status: {
      inventory: inventory.map((e) => ({
        apiVersion: e.kind === "ClusterRole" ? "rbac.authorization.k8s.io/v1" : "v1",
        ...e,
      })),
    },
  });
  const scopeOf = (inventory: { kind: string; namespace?: string; name: string }[]) =>
    buildScope({
      policies: [],
      gitSyncs: [gitSync(inventory)],
      productAccounts: [],
      fieldManager: "gitops-guard",
    });

  it("names the objects a GitSync's inventory added, as work-queue kind and key", () => {
    const before = scopeOf([{ kind: "ConfigMap", namespace: "apps", name: "a" }]);
    const after = scopeOf([
      { kind: "ConfigMap", namespace: "apps", name: "a" },
      { kind: "ConfigMap", namespace: "apps", name: "b" },
      { kind: "ClusterRole", name: "reader" },
    ]);
    expect(newlyInventoried(before, after)).toEqual([
      { kind: "/ConfigMap", key: "apps/b" },
      { kind: "rbac.authorization.k8s.io/ClusterRole", key: "reader" },
    ]);
    expect(newlyInventoried(after, after)).toEqual([]);
  });
});
