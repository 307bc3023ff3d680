import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { CRASHLOOP_IMAGE, configMap, job, yaml } from "./helpers/manifests.js";

const JOB = { apiVersion: "batch/v1", kind: "Job" } as const;
const PRESYNC = { "gitops-guard.io/hook": "PreSync" };
/** How long a Job's Pod runs on the fake Nodes (test/envtest/kwok-stages.yaml). */
const RUN_FOR = "envtest.gitops-guard.io/run-for";

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler();
});
afterAll(async () => {
  await harness.stop();
});

describe("PreSync hooks and immutable fields", () => {
  it("stops the sync when a PreSync Job fails, and runs a changed hook again before the rest", async () => {
    const ns = await testNamespace("hook");
    const repo = await GitRepo.create();
    // The hook's container crashes after 3 s on the fake Nodes: the job controller fails it.
    await repo.commit("with hook", {
      "migrate.yaml": yaml(job("migrate", PRESYNC, CRASHLOOP_IMAGE, { [RUN_FOR]: "3s" })),
      "app.yaml": yaml(configMap("app", { v: "1" })),
    });
    await putGitSync(ns, "hooked", { url: repo.url });
    const running = await waitForReadyReason(ns, "hooked", "PreSyncHookRunning");
    expect(condition(running, "Ready")?.message).toBe(
      `waiting for PreSync Job ${ns}/migrate to complete`,
    );
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app" })).toBe(
      false,
    );

    const failed = await waitForReadyReason(ns, "hooked", "PreSyncHookFailed");
    expect(condition(failed, "Ready")?.status).toBe("False");
    expect(condition(failed, "Ready")?.message).toContain(`PreSync Job ${ns}/migrate failed`);
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app" })).toBe(
      false,
    );
    expect(
      (await eventsOf(ns, "hooked")).some(
        (e) => e.type === "Warning" && e.reason === "PreSyncHookFailed",
      ),
    ).toBe(true);

    // A fixed hook (new image: a new template) is deleted and created again, then succeeds.
    const first = await clientAs("admin").get({ ...JOB, namespace: ns, name: "migrate" });
    const c2 = await repo.commit("fix hook", {
      "migrate.yaml": yaml(job("migrate", PRESYNC, "registry.example/migrate:2")),
    });
    await requestSync(ns, "hooked");
    await eventually("the hook Job to be recreated", async () => {
      const again = await clientAs("admin").get({ ...JOB, namespace: ns, name: "migrate" });
      return again !== undefined && again.metadata.uid !== first?.metadata.uid;
    });
    await waitForApplied(ns, "hooked", c2);
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app" })).toBe(
      true,
    );
  });

  it("turns an immutable-field refusal into a condition naming the field and the migration", async () => {
    const ns = await testNamespace("immutable");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("job", { "job.yaml": yaml(job("report")) });
    await putGitSync(ns, "jobs", { url: repo.url });
    await waitForApplied(ns, "jobs", c1);

    await repo.commit("new image", {
      "job.yaml": yaml(job("report", {}, "registry.example/migrate:2")),
    });
    await requestSync(ns, "jobs");
    const refused = await waitForReadyReason(ns, "jobs", "ImmutableField");
    const message = condition(refused, "Ready")?.message ?? "";
    expect(message).toContain(`Job ${ns}/report (job.yaml:1): spec.template is immutable`);
    expect(message).toContain("give the Job a new name in Git");
    expect(message.length).toBeLessThan(600);
    expect(refused.status?.lastAppliedRevision).toBe(`sha1:${c1}`);
  });
});
