// Every request made for a GitSync carries its service account, not the reconciler's own
// cluster-wide rights: prune, hooks, health reads and self-heal each meet the account's RBAC on
// the real API server, and a refused GitSync leaves the others alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isGuardError } from "../../src/errors.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  configMapData,
  exists,
  putGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForGitSync,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";
import { configMap, job, yaml } from "./helpers/manifests.js";
import { accountWithRules, tenantAccount } from "./helpers/tenants.js";

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const RBAC = "rbac.authorization.k8s.io/v1";

function service(name: string): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: name } },
  };
}

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler({}, {}, { defaultServiceAccount: "default" });
});
afterAll(async () => {
  await harness.stop();
});

describe("a GitSync's account, not the reconciler's rights, meets RBAC", () => {
  it("prunes as the account: without delete on ConfigMaps the object stays and Ready=False names it", async () => {
    const ns = await testNamespace("id-prune");
    await accountWithRules(ns, "deployer", [
      {
        apiGroups: [""],
        resources: ["configmaps"],
        verbs: ["get", "list", "watch", "create", "patch", "update"],
      },
    ]);
    const repo = await GitRepo.create();
    const c1 = await repo.commit("three", {
      "a.yaml": yaml(configMap("a", { v: "1" })),
      "b.yaml": yaml(configMap("b", { v: "1" })),
      "c.yaml": yaml(configMap("c", { v: "1" })),
    });
    const spec = { url: repo.url, ref: { branch: "main" }, serviceAccountName: "deployer" };
    await putGitSync(ns, "apps", { ...spec, prune: true });
    await waitForApplied(ns, "apps", c1);
    await repo.commit("c leaves Git", { "c.yaml": null });
    await requestSync(ns, "apps");
    const failed = await waitForReadyReason(ns, "apps", "PruneFailed");
    const message = condition(failed, "Ready")?.message ?? "";
    expect(condition(failed, "Ready")?.status).toBe("False");
    expect(message).toContain(`ConfigMap ${ns}/c`);
    expect(message).toContain(`system:serviceaccount:${ns}:deployer`);
    expect(message).toContain("cannot delete");
    expect(await exists({ ...CM, namespace: ns, name: "c" })).toBe(true);
  });

  it("runs a PreSync hook as the account: a Job in a namespace it cannot write is refused, nothing after it applied", async () => {
    const ns = await testNamespace("id-hook");
    const other = await testNamespace("id-hook-x");
    const sa = await tenantAccount(ns, "deployer");
    const repo = await GitRepo.create();
    await repo.commit("hook elsewhere", {
      "migrate.yaml": yaml({
        ...job("migrate", { "gitops-guard.io/hook": "PreSync" }),
        metadata: {
          name: "migrate",
          namespace: other,
          annotations: { "gitops-guard.io/hook": "PreSync" },
        },
      }),
      "app.yaml": yaml(configMap("app", { v: "1" })),
    });
    await putGitSync(ns, "apps", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    const refused = await waitForReadyReason(ns, "apps", "Forbidden");
    const message = condition(refused, "Ready")?.message ?? "";
    expect(message).toContain(`Job ${other}/migrate`);
    expect(message).toContain(sa.username);
    expect(message).toMatch(/cannot (patch|create)/);
    expect(
      await exists({ apiVersion: "batch/v1", kind: "Job", namespace: other, name: "migrate" }),
    ).toBe(false);
    expect(await exists({ ...CM, namespace: ns, name: "app" })).toBe(false);
  });

  it("reads health as the account: one that may apply a Service but not get it is not Ready, naming the verb and object", async () => {
    const ns = await testNamespace("id-health");
    const sa = await accountWithRules(ns, "deployer", [
      { apiGroups: [""], resources: ["services"], verbs: ["create", "patch"] },
    ]);
    const repo = await GitRepo.create();
    await repo.commit("service", { "svc.yaml": yaml(service("web")) });
    await putGitSync(ns, "apps", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    const refused = await waitForReadyReason(ns, "apps", "Forbidden");
    const ready = condition(refused, "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.message).toContain(`may not read Service ${ns}/web`);
    expect(ready?.message).toContain(sa.username);
    expect(ready?.message).toContain("cannot get");
    // It was applied (the account may patch it); only reading it was refused.
    expect(await exists({ apiVersion: "v1", kind: "Service", namespace: ns, name: "web" })).toBe(
      true,
    );
    expect(condition(refused, "Healthy")?.message).toContain("could not be read");
  });

  it("self-heals as the account: once its RoleBinding is gone an edit stays and Drifted says why", async () => {
    const ns = await testNamespace("id-heal");
    const sa = await tenantAccount(ns, "deployer");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("one", { "a.yaml": yaml(configMap("a", { v: "1" })) });
    await putGitSync(ns, "apps", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    await waitForApplied(ns, "apps", c1);
    const admin = clientAs("admin");
    await admin.delete({
      apiVersion: RBAC,
      kind: "RoleBinding",
      namespace: ns,
      name: `${ns}-deployer-edit`,
    });
    // RBAC learns of the deletion through an informer: wait until the account is refused.
    const asTenant = admin.impersonating({ user: sa.username });
    await eventually("the account refused once its RoleBinding is gone", async () =>
      asTenant.get({ ...CM, namespace: ns, name: "a" }).then(
        () => false,
        (err: unknown) => isGuardError(err),
      ),
    );
    await admin.mergePatch(
      { ...CM, namespace: ns, name: "a" },
      { data: { v: "edited" } },
      { fieldManager: "kubectl-edit" },
    );
    const drifted = await waitForGitSync(
      ns,
      "apps",
      "heal refused",
      (o) => condition(o, "Drifted")?.reason === "HealForbidden",
    );
    const message = condition(drifted, "Drifted")?.message ?? "";
    expect(message).toContain(`ConfigMap ${ns}/a`);
    expect(message).toContain(sa.username);
    expect(message).toMatch(/cannot (patch|create)/);
    expect(await configMapData(ns, "a")).toEqual({ v: "edited" });
  });
});

describe("a refused GitSync leaves the others alone", () => {
  it("applies another namespace's new commit while one GitSync is Forbidden", async () => {
    const nsA = await testNamespace("id-refused");
    const nsB = await testNamespace("id-fine");
    await tenantAccount(nsB, "deployer");
    const repoB = await GitRepo.create();
    const b1 = await repoB.commit("b1", { "b.yaml": yaml(configMap("b", { v: "1" })) });
    await putGitSync(nsB, "b", {
      url: repoB.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    await waitForApplied(nsB, "b", b1);
    // A names no account: the default account, with no rights at all.
    const repoA = await GitRepo.create();
    await repoA.commit("a", { "a.yaml": yaml(configMap("a", { v: "1" })) });
    await putGitSync(nsA, "a", { url: repoA.url, ref: { branch: "main" } });
    await waitForReadyReason(nsA, "a", "Forbidden");

    const b2 = await repoB.commit("b2", { "b.yaml": yaml(configMap("b", { v: "2" })) });
    await requestSync(nsB, "b");
    const applied = await waitForApplied(nsB, "b", b2);
    expect(condition(applied, "Ready")?.status).toBe("True");
    expect(applied.status?.lastAppliedRevision).toContain(b2);
    expect(await configMapData(nsB, "b")).toEqual({ v: "2" });
    const stillRefused = await waitForReadyReason(nsA, "a", "Forbidden");
    expect(condition(stillRefused, "Ready")?.status).toBe("False");
    expect(await exists({ ...CM, namespace: nsA, name: "a" })).toBe(false);
  });
});
