import { renameSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import type { GitSyncObject } from "../../src/reconciler/gitsync.js";
import {
  OWNER_NAME_LABEL,
  PRUNE_APPROVED_ANNOTATION,
  GITSYNC,
} from "../../src/reconciler/names.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  eventsOf,
  exists,
  putGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  type Harness,
  waitForReadyReason,
} from "./helpers/harness.js";
import { configMap, yaml } from "./helpers/manifests.js";
import { ageKeySecretData, fixture } from "./helpers/sops-fixtures.js";

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
/** The value sops encrypted in kc-history/secret.age.v2-3.7.0.yaml. */
const PLAINTEXT = "my-sops-age-secret";

async function data(namespace: string, name: string): Promise<Record<string, string> | undefined> {
  const obj = await clientAs("admin").get<KubeObject & { data?: Record<string, string> }>({
    ...CM,
    namespace,
    name,
  });
  return obj?.data;
}

function inventoryNames(obj: GitSyncObject): string[] {
  return (obj.status?.inventory ?? []).map((e) => e.name).sort();
}

/** Events say what changed (Flux's lines); metrics carry Ready, the revision and durations. */
async function expectHistoryRecorded(ns: string, c4: string, c5: string): Promise<void> {
  const events = await eventsOf(ns, "apps");
  expect(events.map((e) => e.message).join("\n")).toContain(`ConfigMap/${ns}/a created`);
  expect(events.map((e) => e.message).join("\n")).toContain(`ConfigMap/${ns}/a configured`);
  expect(events.map((e) => e.message).join("\n")).toContain(`ConfigMap/${ns}/b deleted`);
  const metrics = await harness.metrics.text();
  expect(metrics).toContain(`gitops_guard_gitsync_ready{namespace="${ns}",name="apps"} 1`);
  expect(metrics).toContain(
    `gitops_guard_gitsync_revision_info{namespace="${ns}",name="apps",revision="main@sha1:${c5}"} 1`,
  );
  expect(metrics).not.toContain(`revision="main@sha1:${c4}"`);
  expect(metrics).toMatch(
    new RegExp(
      `gitops_guard_gitsync_reconcile_duration_seconds_count\\{namespace="${ns}",name="apps"\\} \\d+`,
    ),
  );
}

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler();
});
afterAll(async () => {
  await harness.stop();
});

describe("GitSync: Git to cluster", () => {
  it("applies a commit, rolls back a revert, prunes a removed file and keeps a prune-disabled one", async () => {
    const ns = await testNamespace("gs");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("first", {
      "apps/a.yaml": yaml(configMap("a", { v: "1" })),
      "apps/b.yaml": yaml(configMap("b", { v: "1" })),
      "apps/more/c.yaml": yaml(configMap("c", { v: "1" })),
      "apps/keep.yaml": yaml(
        configMap("keep", { v: "1" }, { annotations: { "gitops-guard.io/prune": "disabled" } }),
      ),
      "README.md": "not rendered\n",
    });
    await putGitSync(ns, "apps", { url: repo.url, ref: { branch: "main" }, path: "apps" });
    const first = await waitForApplied(ns, "apps", c1);
    expect(first.status?.lastAppliedRevision).toBe(`main@sha1:${c1}`);
    expect(inventoryNames(first)).toEqual(["a", "b", "c", "keep"]);
    const a = await clientAs("admin").get({ ...CM, namespace: ns, name: "a" });
    expect(a?.metadata.labels?.[OWNER_NAME_LABEL]).toBe("apps");
    // Applied by server-side apply under the reconciler's own identity and field manager.
    expect(a?.metadata.managedFields?.map((m) => [m.manager, m.operation])).toContainEqual([
      "gitops-guard",
      "Apply",
    ]);

    const c2 = await repo.commit("a v2", { "apps/a.yaml": yaml(configMap("a", { v: "2" })) });
    await requestSync(ns, "apps");
    await waitForApplied(ns, "apps", c2);
    expect(await data(ns, "a")).toEqual({ v: "2" });

    const c3 = await repo.revertLast();
    await requestSync(ns, "apps");
    await waitForApplied(ns, "apps", c3);
    expect(await data(ns, "a")).toEqual({ v: "1" });

    const c4 = await repo.commit("drop b", { "apps/b.yaml": null });
    await requestSync(ns, "apps");
    const afterPrune = await waitForApplied(ns, "apps", c4);
    await eventually(
      "b to be pruned",
      async () => !(await exists({ ...CM, namespace: ns, name: "b" })),
    );
    expect(inventoryNames(afterPrune)).toEqual(["a", "c", "keep"]);

    const c5 = await repo.commit("drop keep", { "apps/keep.yaml": null });
    await requestSync(ns, "apps");
    const released = await waitForApplied(ns, "apps", c5);
    expect(await data(ns, "keep")).toEqual({ v: "1" });
    expect(inventoryNames(released)).toEqual(["a", "c"]);

    await expectHistoryRecorded(ns, c4, c5);
  });

  it("refuses an empty commit with the prune guard, then prunes once approved for that commit", async () => {
    const ns = await testNamespace("guard");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("three", {
      "one.yaml": yaml(configMap("one", { v: "1" }), configMap("two", { v: "1" })),
      "three.yaml": yaml(configMap("three", { v: "1" })),
    });
    await putGitSync(ns, "guarded", { url: repo.url });
    await waitForApplied(ns, "guarded", c1);

    const empty = await repo.commit("oops", {
      "one.yaml": null,
      "three.yaml": null,
      "README.md": "moved\n",
    });
    await requestSync(ns, "guarded");
    const refused = await waitForReadyReason(ns, "guarded", "PruneRefused");
    const ready = condition(refused, "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.message).toContain("refusing to delete 3 of 3 objects (100%)");
    expect(ready?.message).toContain(`${PRUNE_APPROVED_ANNOTATION}=${empty}`);
    expect(refused.status?.lastAppliedRevision).toBe(`sha1:${c1}`);
    expect(refused.status?.inventory).toHaveLength(3);
    for (const name of ["one", "two", "three"])
      expect(await exists({ ...CM, namespace: ns, name })).toBe(true);

    await clientAs("admin").apply(
      {
        ...GITSYNC,
        metadata: {
          name: "guarded",
          namespace: ns,
          annotations: { [PRUNE_APPROVED_ANNOTATION]: empty },
        },
      },
      { fieldManager: "approver" },
    );
    const approved = await waitForApplied(ns, "guarded", empty);
    expect(approved.status?.inventory).toEqual([]);
    await eventually(
      "every ConfigMap to be pruned",
      async () => !(await exists({ ...CM, namespace: ns, name: "one" })),
    );
    expect(await exists({ ...CM, namespace: ns, name: "three" })).toBe(false);
  });

  it("keeps the last state with a clear condition while Git is unreachable, and recovers", async () => {
    const ns = await testNamespace("offline");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("one", { "cm.yaml": yaml(configMap("cm", { v: "1" })) });
    await putGitSync(ns, "offline", { url: repo.url, ref: { branch: "main" } });
    await waitForApplied(ns, "offline", c1);

    renameSync(repo.dir, `${repo.dir}.moved`);
    await requestSync(ns, "offline");
    const down = await waitForReadyReason(ns, "offline", "GitUnreachable");
    expect(condition(down, "Ready")?.status).toBe("False");
    expect(condition(down, "Ready")?.message).toContain("the Git repository cannot be reached");
    expect(condition(down, "Ready")?.message).toContain("does not appear to be a git repository");
    expect(down.status?.lastAppliedRevision).toBe(`main@sha1:${c1}`);
    expect(down.status?.inventory).toHaveLength(1);
    expect(await data(ns, "cm")).toEqual({ v: "1" });

    renameSync(`${repo.dir}.moved`, repo.dir);
    const c2 = await repo.commit("two", { "cm.yaml": yaml(configMap("cm", { v: "2" })) });
    await requestSync(ns, "offline");
    await waitForApplied(ns, "offline", c2);
    expect(await data(ns, "cm")).toEqual({ v: "2" });
  });

  it("names the file and line of invalid YAML and a missing ref, and changes nothing", async () => {
    const ns = await testNamespace("bad");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("good", { "cm.yaml": yaml(configMap("cm", { v: "1" })) });
    await putGitSync(ns, "bad", { url: repo.url, ref: { branch: "main" } });
    await waitForApplied(ns, "bad", c1);

    await repo.commit("broken", {
      "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  v: [2\n",
    });
    await requestSync(ns, "bad");
    const broken = await waitForReadyReason(ns, "bad", "InvalidYAML");
    expect(condition(broken, "Ready")?.message).toMatch(/^cm\.yaml:\d+:\d+: /);
    expect(await data(ns, "cm")).toEqual({ v: "1" });

    await putGitSync(ns, "bad", { url: repo.url, ref: { branch: "no-such-branch" } });
    const missing = await waitForReadyReason(ns, "bad", "GitRefNotFound");
    expect(condition(missing, "Ready")?.message).toContain("branch no-such-branch");
    expect(condition(missing, "Ready")?.observedGeneration).toBe(missing.metadata.generation);
    expect(await data(ns, "cm")).toEqual({ v: "1" });
  });

  it("renders a kustomization with the real kustomize, decrypting its SOPS file with the GitSync's age key", async () => {
    const ns = await testNamespace("kust");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("kustomize", {
      "deploy/kustomization.yaml": yaml({
        resources: ["cm.yaml"],
        namePrefix: "prod-",
        commonLabels: { tier: "web" },
      }),
      "deploy/cm.yaml": yaml(configMap("settings", { v: "1" })),
    });
    await putGitSync(ns, "kust", { url: repo.url, path: "deploy" });
    await waitForApplied(ns, "kust", c1);
    const cm = await clientAs("admin").get({ ...CM, namespace: ns, name: "prod-settings" });
    expect(cm?.metadata.labels?.["tier"]).toBe("web");

    // A Secret encrypted by the real sops (age), added to the kustomization.
    const c2 = await repo.commit("sops", {
      "deploy/secret.yaml": fixture("kc-history/secret.age.v2-3.7.0.yaml"),
      "deploy/kustomization.yaml": yaml({
        resources: ["cm.yaml", "secret.yaml"],
        namePrefix: "prod-",
      }),
    });
    await requestSync(ns, "kust");
    const failed = await waitForReadyReason(ns, "kust", "DecryptionUnavailable");
    expect(condition(failed, "Ready")?.message).toBe(
      "deploy/secret.yaml is SOPS-encrypted and spec.decryption.secretRef is not set",
    );

    await clientAs("admin").apply({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "sops-age", namespace: ns },
      data: ageKeySecretData(),
    });
    await putGitSync(ns, "kust", {
      url: repo.url,
      path: "deploy",
      decryption: { provider: "sops", secretRef: { name: "sops-age" } },
    });
    const synced = await waitForApplied(ns, "kust", c2);
    const secret = await clientAs("admin").get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: "v1",
      kind: "Secret",
      namespace: ns,
      name: "prod-sops-age",
    });
    expect(Buffer.from(secret?.data?.["secret"] ?? "", "base64").toString("utf8")).toBe(PLAINTEXT);
    const shown = [
      JSON.stringify(synced),
      JSON.stringify(await eventsOf(ns, "kust")),
      harness.logs.raw(),
    ].join("\n");
    expect(shown).not.toContain(PLAINTEXT);
  });
});
