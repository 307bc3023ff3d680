// Tenancy on the real API server: every request made for a GitSync carries its service account
// (spec.serviceAccountName, else the controller's --default-service-account), so RBAC, not the
// reconciler's own cluster-wide rights, decides what a tenant's Git may change; one GitSync
// cannot take over another's objects; deleting a GitSync prunes (or orphans) what it applied.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import {
  GITSYNC,
  OWNER_NAME_LABEL,
  PRUNE_APPROVED_ANNOTATION,
} from "../../src/reconciler/names.js";
import { GITSYNC_FINALIZER } from "../../src/reconciler/finalizer.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  configMapData,
  exists,
  putGitSync,
  readGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForGitSync,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";
import { configMap, yaml } from "./helpers/manifests.js";
import { tenantAccount } from "./helpers/tenants.js";

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;

function clusterRoleBinding(name: string, namespace: string): object {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
    subjects: [{ kind: "ServiceAccount", name: "deployer", namespace }],
  };
}

function waved(name: string, wave: string, namespace?: string): object {
  return configMap(
    name,
    { v: "1" },
    {
      annotations: { "gitops-guard.io/sync-wave": wave },
      ...(namespace === undefined ? {} : { namespace }),
    },
  );
}

let harness: Harness;
beforeAll(async () => {
  // As the chart runs it: GitSyncs that name no account act as "default" of their namespace.
  harness = await startReconciler({}, {}, { defaultServiceAccount: "default" });
});
afterAll(async () => {
  await harness.stop();
});

describe("GitSync tenancy: each GitSync acts as its own service account", () => {
  it("applies in its own namespace, and refuses its ClusterRoleBinding and its object in another namespace by name", async () => {
    const ns = await testNamespace("tenant-a");
    const other = await testNamespace("tenant-x");
    const sa = await tenantAccount(ns, "deployer");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("own namespace", { "a.yaml": yaml(configMap("a", { v: "1" })) });
    await putGitSync(ns, "apps", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    await waitForApplied(ns, "apps", c1);
    expect(await configMapData(ns, "a")).toEqual({ v: "1" });
    // Self-heal goes out as the tenant too (its rights suffice in its own namespace).
    await clientAs("admin").mergePatch(
      { ...CM, namespace: ns, name: "a" },
      { data: { v: "edited" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually(
      "the out-of-band edit healed",
      async () => (await configMapData(ns, "a"))?.["v"] === "1",
    );

    await repo.commit("cluster-wide", {
      "crb.yaml": yaml(clusterRoleBinding(`${ns}-escalate`, ns)),
    });
    await requestSync(ns, "apps");
    const refusedCrb = await waitForReadyReason(ns, "apps", "Forbidden");
    const crbMessage = condition(refusedCrb, "Ready")?.message ?? "";
    expect(crbMessage).toContain(`ClusterRoleBinding ${ns}-escalate`);
    expect(crbMessage).toContain(sa.username);
    expect(crbMessage).toMatch(/cannot (patch|create)/);
    expect(
      await exists({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        name: `${ns}-escalate`,
      }),
    ).toBe(false);

    await repo.commit("other namespace", {
      "crb.yaml": null,
      "x.yaml": yaml(configMap("x", { v: "1" }, { namespace: other })),
    });
    await requestSync(ns, "apps");
    const refusedX = await waitForGitSync(ns, "apps", "refused ConfigMap x", (o) =>
      (condition(o, "Ready")?.message ?? "").includes(`ConfigMap ${other}/x`),
    );
    expect(condition(refusedX, "Ready")?.reason).toBe("Forbidden");
    expect(condition(refusedX, "Ready")?.message).toContain(`in the namespace "${other}"`);
    expect(await exists({ ...CM, namespace: other, name: "x" })).toBe(false);
  });

  it("applies nothing of a wave after the refused one", async () => {
    const ns = await testNamespace("tenant-w");
    const other = await testNamespace("tenant-y");
    await tenantAccount(ns, "deployer");
    const repo = await GitRepo.create();
    await repo.commit("waves", {
      "w0.yaml": yaml(waved("first", "0")),
      "w1.yaml": yaml(waved("elsewhere", "1", other)),
      "w2.yaml": yaml(waved("after", "2")),
    });
    await putGitSync(ns, "waves", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    const failed = await waitForReadyReason(ns, "waves", "Forbidden");
    expect(condition(failed, "Ready")?.message).toContain(`ConfigMap ${other}/elsewhere`);
    expect(await exists({ ...CM, namespace: ns, name: "first" })).toBe(true);
    // The status is written when the sync ends: by then wave 2 would have been applied.
    expect(await exists({ ...CM, namespace: ns, name: "after" })).toBe(false);
  });

  it("gives a GitSync that names no account the default account's rights (none)", async () => {
    const ns = await testNamespace("tenant-d");
    const repo = await GitRepo.create();
    await repo.commit("one", { "a.yaml": yaml(configMap("a", { v: "1" })) });
    await putGitSync(ns, "apps", { url: repo.url, ref: { branch: "main" } });
    const refused = await waitForReadyReason(ns, "apps", "Forbidden");
    expect(condition(refused, "Ready")?.message).toContain(`system:serviceaccount:${ns}:default`);
    expect(await exists({ ...CM, namespace: ns, name: "a" })).toBe(false);
  });

  it("keeps the reconciler's identity for a platform GitSync in the controller's namespace", async () => {
    const target = await testNamespace("platform");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("one", {
      "a.yaml": yaml(configMap("a", { v: "1" }, { namespace: target })),
    });
    const name = `platform-${target}`;
    await putGitSync("gitops-guard-system", name, {
      url: repo.url,
      ref: { branch: "main" },
      deletionPolicy: "Orphan",
    });
    try {
      await waitForApplied("gitops-guard-system", name, c1);
      expect(await configMapData(target, "a")).toEqual({ v: "1" });
    } finally {
      await clientAs("admin").delete({ ...GITSYNC, namespace: "gitops-guard-system", name });
      await eventually(
        "the platform GitSync gone",
        async () => !(await exists({ ...GITSYNC, namespace: "gitops-guard-system", name })),
      );
    }
  });

  it("refuses a GitSync whose RBAC reaches another tenant's object, naming the owner, and leaves the owner Ready", async () => {
    const nsA = await testNamespace("tenant-a");
    const nsB = await testNamespace("tenant-b");
    await tenantAccount(nsB, "deployer");
    // A's account may edit B's namespace too: RBAC alone would let it overwrite B's objects.
    await tenantAccount(nsA, "deployer", [nsA, nsB]);
    const repoB = await GitRepo.create();
    const cB = await repoB.commit("b", {
      "shared.yaml": yaml(configMap("shared", { owner: "b" })),
    });
    await putGitSync(nsB, "b", {
      url: repoB.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    await waitForApplied(nsB, "b", cB);
    const repoA = await GitRepo.create();
    await repoA.commit("a", {
      "own.yaml": yaml(configMap("own", { owner: "a" })),
      "shared.yaml": yaml(configMap("shared", { owner: "a" }, { namespace: nsB })),
    });
    await putGitSync(nsA, "a", {
      url: repoA.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    const refused = await waitForReadyReason(nsA, "a", "OwnershipConflict");
    const message = condition(refused, "Ready")?.message ?? "";
    expect(message).toContain(`ConfigMap ${nsB}/shared`);
    expect(message).toContain(`GitSync ${nsB}/b`);
    expect(await configMapData(nsB, "shared")).toEqual({ owner: "b" });
    const owner = await readGitSync(nsB, "b");
    expect(condition(owner, "Ready")?.status).toBe("True");
    const live = await clientAs("admin").get<KubeObject>({ ...CM, namespace: nsB, name: "shared" });
    expect(live?.metadata.labels?.[OWNER_NAME_LABEL]).toBe("b");
  });
});

describe("GitSync deletion", () => {
  it("prunes what it applied once the prune guard is satisfied, then lets the GitSync go", async () => {
    const ns = await testNamespace("del");
    await tenantAccount(ns, "deployer");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("two", {
      "a.yaml": yaml(configMap("a", { v: "1" })),
      "b.yaml": yaml(configMap("b", { v: "1" })),
    });
    await putGitSync(ns, "apps", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    const applied = await waitForApplied(ns, "apps", c1);
    expect(applied.metadata.finalizers).toContain(GITSYNC_FINALIZER);
    await clientAs("admin").delete({ ...GITSYNC, namespace: ns, name: "apps" });
    // All of the inventory at once is past the default 50%: refused until approved.
    const refused = await waitForReadyReason(ns, "apps", "PruneRefused");
    expect(condition(refused, "Ready")?.message).toContain(`${PRUNE_APPROVED_ANNOTATION}=${c1}`);
    expect(await exists({ ...CM, namespace: ns, name: "a" })).toBe(true);
    await clientAs("admin").mergePatch(
      { ...GITSYNC, namespace: ns, name: "apps" },
      { metadata: { annotations: { [PRUNE_APPROVED_ANNOTATION]: c1 } } },
    );
    await eventually(
      "the GitSync gone",
      async () => !(await exists({ ...GITSYNC, namespace: ns, name: "apps" })),
    );
    expect(await exists({ ...CM, namespace: ns, name: "a" })).toBe(false);
    expect(await exists({ ...CM, namespace: ns, name: "b" })).toBe(false);
  });

  it("leaves the objects in place with deletionPolicy Orphan, no longer labelled as owned", async () => {
    const ns = await testNamespace("orphan");
    await tenantAccount(ns, "deployer");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("one", { "a.yaml": yaml(configMap("a", { v: "1" })) });
    await putGitSync(ns, "apps", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
      deletionPolicy: "Orphan",
    });
    await waitForApplied(ns, "apps", c1);
    await clientAs("admin").delete({ ...GITSYNC, namespace: ns, name: "apps" });
    await eventually(
      "the GitSync gone",
      async () => !(await exists({ ...GITSYNC, namespace: ns, name: "apps" })),
    );
    const live = await clientAs("admin").get<KubeObject>({ ...CM, namespace: ns, name: "a" });
    expect(live).toBeDefined();
    expect(live?.metadata.labels?.[OWNER_NAME_LABEL]).toBeUndefined();
  });
});
