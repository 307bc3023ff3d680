/**
 * Hook delete policies and PostSync on the real API server, with Jobs run by the real job
 * controller on kwok's nodes: a test watches the namespace's Jobs and keeps the last state each
 * had, so a hook deleted once it succeeded is still seen to have completed, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { startAuditor } from "../auditor/harness.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  exists,
  putGitSync,
  requestSync,
  startReconciler,
  syncOnce,
  waitForApplied,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";
import { configMap, job, yaml } from "./helpers/manifests.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler();
});
afterAll(async () => {
  await harness.stop();
});

type JobObject = KubeObject & {
  status?: { conditions?: { type: string; status: string }[] };
};

interface JobRun {
  readonly name: string;
  readonly uid: string;
  readonly createdAt: number;
  completed: boolean;
  deleted: boolean;
}

/** Every Job created in ns from now on, in order, with whether it completed and was deleted. */
async function watchJobs(ns: string): Promise<{ runs: JobRun[]; stop: () => Promise<void> }> {
  const informer = new Informer<JobObject>({
    client: clientAs("admin"),
    type: { apiVersion: "batch/v1", kind: "Job" },
    namespace: ns,
    clock: realClock(),
  });
  const runs: JobRun[] = [];
  const runOf = (job: JobObject): JobRun => {
    const uid = job.metadata.uid ?? "";
    let run = runs.find((r) => r.uid === uid);
    if (run === undefined) {
      const name = job.metadata.name ?? "";
      run = { name, uid, createdAt: runs.length, completed: false, deleted: false };
      runs.push(run);
    }
    return run;
  };
  const seen = (job: JobObject): void => {
    const run = runOf(job);
    run.completed ||= (job.status?.conditions ?? []).some(
      (c) => c.type === "Complete" && c.status === "True",
    );
  };
  informer.on("add", seen);
  informer.on("update", seen);
  informer.on("delete", (job) => {
    seen(job);
    runOf(job).deleted = true;
  });
  informer.start();
  await informer.waitForSync();
  return { runs, stop: () => informer.stop() };
}

const runsOf = (runs: readonly JobRun[], name: string): JobRun[] =>
  runs.filter((r) => r.name === name);

const HOOK_ONCE = (phase: string): Record<string, string> => ({
  "gitops-guard.io/hook": phase,
  "gitops-guard.io/hook-delete-policy": "BeforeHookCreation,HookSucceeded",
});

describe("hook delete policies and PostSync", () => {
  it("runs PreSync and PostSync hooks once per release, in order, and deletes them once they succeed", async () => {
    const ns = await testNamespace("hookpol");
    const jobs = await watchJobs(ns);
    const auditor = await startAuditor({ attributionGraceMs: 200, pruneWaitMs: 200 });
    try {
      const repo = await GitRepo.create();
      const files = {
        "migrate.yaml": yaml(job("migrate", HOOK_ONCE("PreSync"))),
        "notify.yaml": yaml(job("notify", HOOK_ONCE("PostSync"))),
        "app.yaml": yaml(job("app")),
      };
      const c1 = await repo.commit("hooks", files);
      await putGitSync(ns, "hooked", { url: repo.url });
      const applied = await waitForApplied(ns, "hooked", c1);
      expect(condition(applied, "Healthy")?.status).toBe("True");
      await eventually("both hooks deleted once complete", () =>
        ["migrate", "notify"].every((n) => runsOf(jobs.runs, n).every((r) => r.deleted)),
      );
      const order = jobs.runs.map((r) => r.name);
      expect(order).toEqual(["migrate", "app", "notify"]);
      expect(jobs.runs.every((r) => r.completed)).toBe(true);
      expect(runsOf(jobs.runs, "app")[0]?.deleted).toBe(false);

      // The same release again: the next sync finishes without running either hook.
      await syncOnce(harness, ns, "hooked");
      expect(runsOf(jobs.runs, "migrate")).toHaveLength(1);
      expect(runsOf(jobs.runs, "notify")).toHaveLength(1);

      // A new commit is a new release: both hooks run for it, once each.
      const c2 = await repo.commit("more", { ...files, "more.yaml": yaml(configMap("more", {})) });
      await requestSync(ns, "hooked");
      await waitForApplied(ns, "hooked", c2);
      await eventually("the second runs deleted", () =>
        ["migrate", "notify"].every((n) => runsOf(jobs.runs, n).every((r) => r.deleted)),
      );
      expect(runsOf(jobs.runs, "migrate")).toHaveLength(2);
      expect(runsOf(jobs.runs, "notify")).toHaveLength(2);
      expect(runsOf(jobs.runs, "app")).toHaveLength(1);

      // The auditor takes the hooks' deletions for the reconciler's: an edit made after them is
      // journaled, and nothing about the hooks before it.
      await clientAs("admin").mergePatch(
        { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "more" },
        { data: { edited: "yes" } },
        { fieldManager: "kubectl-edit" },
      );
      await eventually("the edit's drift record", () =>
        auditor.records(ns).some((r) => r.type === "drift-detected" && r.object?.name === "more"),
      );
      const drifted = auditor.records(ns).filter((r) => r.type === "drift-detected");
      expect(drifted.map((r) => r.object?.name)).toEqual(["more"]);
    } finally {
      await jobs.stop();
      await auditor.stop();
    }
  });

  it("deletes a failed hook with HookFailed, says so, applies nothing after it, and runs it again", async () => {
    const ns = await testNamespace("hookfail");
    const jobs = await watchJobs(ns);
    try {
      const repo = await GitRepo.create();
      await repo.commit("failing hook", {
        "migrate.yaml": yaml(
          job(
            "migrate",
            {
              "gitops-guard.io/hook": "PreSync",
              "gitops-guard.io/hook-delete-policy": "HookFailed",
            },
            "registry.example/migrate:crashloop",
          ),
        ),
        "app.yaml": yaml(configMap("app", { v: "1" })),
      });
      await putGitSync(ns, "hooked", { url: repo.url });
      const failed = await waitForReadyReason(ns, "hooked", "PreSyncHookFailed");
      expect(condition(failed, "Ready")?.message).toContain(`PreSync Job ${ns}/migrate failed`);
      expect(condition(failed, "Ready")?.message).toContain("deleted (HookFailed)");
      await eventually(
        "the failed hook deleted",
        () => runsOf(jobs.runs, "migrate")[0]?.deleted === true,
      );
      await eventually(
        "the hook run again by a later sync",
        () => runsOf(jobs.runs, "migrate").length > 1,
      );
      expect(
        await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app" }),
      ).toBe(false);
    } finally {
      await jobs.stop();
    }
  });
});
