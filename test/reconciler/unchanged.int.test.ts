/**
 * A sync sends no apply for an object that neither Git nor anyone in the cluster changed since
 * its last apply (the reconciler's gitops_guard_gitsync_applies_total says which were sent), and
 * still sends one as soon as either changed: an out-of-band edit with self-heal off is put back
 * by the next sync, and a Git change is applied.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  putGitSync,
  requestSync,
  startReconciler,
  syncOnce as syncedOnce,
  waitForApplied,
  type Harness,
} from "./helpers/harness.js";
import { configMap, yaml } from "./helpers/manifests.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler();
});
afterAll(async () => {
  await harness.stop();
});

type Cm = KubeObject & { data?: Record<string, string> };

async function counter(ns: string, pattern: string): Promise<number> {
  const text = await harness.metrics.text();
  const line = new RegExp(`gitops_guard_${pattern}\\{namespace="${ns}",name="app"[^}]*\\} (\\d+)`);
  return Number(line.exec(text)?.[1] ?? "0");
}

interface Applies {
  readonly sent: number;
  readonly skipped: number;
}

async function applies(ns: string): Promise<Applies> {
  return {
    sent: await counter(ns, 'gitsync_applies_total(?=\\{[^}]*outcome="sent")'),
    skipped: await counter(ns, 'gitsync_applies_total(?=\\{[^}]*outcome="skipped")'),
  };
}

/** Asks for a sync, waits until a reconcile finished after the ask, and says what it applied. */
async function syncOnce(ns: string): Promise<Applies> {
  const before = await applies(ns);
  await syncedOnce(harness, ns, "app");
  const after = await applies(ns);
  return { sent: after.sent - before.sent, skipped: after.skipped - before.skipped };
}

async function value(ns: string, name: string): Promise<string | undefined> {
  const cm = await clientAs("admin").get<Cm>({
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace: ns,
    name,
  });
  return cm?.data?.["v"];
}

/** Nothing sent, each of the 3 objects skipped (once per sync: a request may bring two). */
function expectSkippedAll(applied: Applies): void {
  expect(applied.sent).toBe(0);
  expect(applied.skipped).toBeGreaterThan(0);
  expect(applied.skipped % 3).toBe(0);
}

describe("a sync skips what has not changed", () => {
  it("sends nothing for untouched objects, and the edited or changed ones again", async () => {
    const ns = await testNamespace("unchanged");
    const repo = await GitRepo.create();
    const files = {
      "a.yaml": yaml(configMap("a", { v: "1" })),
      "b.yaml": yaml(configMap("b", { v: "1" })),
      "c.yaml": yaml(configMap("c", { v: "1" })),
    };
    const commit = await repo.commit("apps", files);
    await putGitSync(ns, "app", { url: repo.url, selfHeal: false });
    await waitForApplied(ns, "app", commit);
    // The watches start after the first sync: a later sync may still send what they had not seen.
    await eventually("a sync that sends nothing", async () => (await syncOnce(ns)).sent === 0);
    expectSkippedAll(await syncOnce(ns));

    await clientAs("admin").mergePatch(
      { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "a" },
      { data: { v: "edited" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the next sync to put a back", async () => {
      await syncOnce(ns);
      return (await value(ns, "a")) === "1";
    });

    const next = await repo.commit("apps", {
      ...files,
      "b.yaml": yaml(configMap("b", { v: "2" })),
    });
    await requestSync(ns, "app");
    await waitForApplied(ns, "app", next);
    expect(await value(ns, "b")).toBe("2");
    expectSkippedAll(await syncOnce(ns));
  });
});
