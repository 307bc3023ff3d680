import { describe, expect, it } from "vitest";
import { ErrorCodes, GuardError } from "../../src/errors.js";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, testNamespace } from "../envtest/context.js";

const configMap = (namespace: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "app-config", namespace, labels: { app: "demo" } },
  data,
});

async function rejection(promise: Promise<unknown>): Promise<GuardError> {
  try {
    await promise;
  } catch (err: unknown) {
    if (err instanceof GuardError) return err;
    throw err;
  }
  throw new Error("expected the request to be rejected");
}

describe("server-side apply against the real API server", () => {
  it("is idempotent: a second identical apply leaves resourceVersion unchanged", async () => {
    const ns = await testNamespace("apply");
    const kube = clientAs("reconciler");
    const first = await kube.apply(configMap(ns, { mode: "a" }));
    const second = await kube.apply(configMap(ns, { mode: "a" }));
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const changed = await kube.apply(configMap(ns, { mode: "b" }));
    expect(changed.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    expect(changed["data"]).toEqual({ mode: "b" });
    const managers = (changed.metadata.managedFields ?? []).map((m) => [m.manager, m.operation]);
    expect(managers).toContainEqual([FIELD_MANAGER, "Apply"]);
  });

  it("takes back fields another manager changed, and removes fields it no longer applies", async () => {
    const ns = await testNamespace("apply");
    const kube = clientAs("reconciler");
    await kube.apply(configMap(ns, { mode: "a", extra: "x" }));
    await clientAs("alice").apply(configMap(ns, { mode: "edited-by-alice" }), {
      fieldManager: "kubectl-edit",
    });
    const healed = await kube.apply(configMap(ns, { mode: "a" }));
    expect(healed["data"]).toEqual({ mode: "a" });
  });

  it("applies status through the status subresource of a CRD with conditions", async () => {
    const ns = await testNamespace("status");
    const kube = clientAs("admin");
    const gs = await kube.apply({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      metadata: { name: "apps", namespace: ns },
      spec: { url: "https://example.invalid/repo.git" },
    });
    const condition = {
      type: "Ready",
      status: "True",
      reason: "Applied",
      message: "applied abc123",
      observedGeneration: gs.metadata.generation,
      lastTransitionTime: "2026-01-01T00:00:00Z",
    };
    const withStatus = await kube.applyStatus({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      metadata: { name: "apps", namespace: ns },
      status: { observedGeneration: gs.metadata.generation, conditions: [condition] },
    });
    expect(withStatus["status"]).toMatchObject({ conditions: [condition] });
    expect(withStatus.metadata.generation).toBe(gs.metadata.generation);
    const read = await kube.get({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      namespace: ns,
      name: "apps",
    });
    expect(read?.["status"]).toMatchObject({ observedGeneration: 1 });
  });

  it("reports a forbidden write with the API server's own message and a stable code", async () => {
    const ns = await testNamespace("rbac");
    const secrets = clientAs("secrets");
    const err = await rejection(secrets.apply(configMap(ns, { a: "b" })));
    expect(err.code).toBe(ErrorCodes.KUBE_REQUEST_FAILED);
    expect(err.message).toMatch(/403 Forbidden .*cannot patch resource "configmaps"/);
  });

  it("get returns undefined and delete returns false for a missing object", async () => {
    const ns = await testNamespace("missing");
    const kube = clientAs("admin");
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "nope" };
    expect(await kube.get(ref)).toBeUndefined();
    expect(await kube.delete(ref)).toBe(false);
  });

  it("acts as another identity by impersonation", async () => {
    const ns = await testNamespace("imp");
    const asReconciler = clientAs("admin").impersonating({
      user: "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
    });
    const review = await asReconciler.create({
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
      metadata: {},
    });
    const userInfo = (review["status"] as { userInfo: { username: string; groups: string[] } })
      .userInfo;
    expect(userInfo.username).toBe(
      "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
    );
    expect(userInfo.groups).toContain("system:serviceaccounts:gitops-guard-system");
    const applied = await asReconciler.apply(configMap(ns, { by: "impersonation" }));
    expect(applied.metadata.namespace).toBe(ns);
    const asAlice = clientAs("admin").impersonating({ user: "alice", groups: ["developers"] });
    // The aggregated edit role lets developers change workloads but never RBAC.
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `imp-${ns}` },
      rules: [],
    };
    const denied = await rejection(asAlice.apply(role));
    expect(denied.code).toBe(ErrorCodes.KUBE_REQUEST_FAILED);
    expect(denied.message).toContain('User "alice" cannot patch resource "clusterroles"');
  });
});
