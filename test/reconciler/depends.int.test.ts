import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  exists,
  putGitSync,
  requestSync,
  startReconciler,
  syncOnce,
  waitForApplied,
  waitForGitSync,
  type Harness,
} from "./helpers/harness.js";
import { CRASHLOOP_IMAGE, configMap, deployment, yaml } from "./helpers/manifests.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler();
});
afterAll(async () => {
  await harness.stop();
});

describe("GitSync dependsOn and suspend", () => {
  it("waits until the GitSync it depends on is Ready and Healthy", async () => {
    const ns = await testNamespace("deps");
    const infra = await GitRepo.create();
    const apps = await GitRepo.create();
    const i1 = await infra.commit("db", {
      "db.yaml": yaml(deployment("db", 1, {}, CRASHLOOP_IMAGE)),
    });
    const a1 = await apps.commit("app", { "app.yaml": yaml(configMap("app", { v: "1" })) });
    await putGitSync(ns, "infra", { url: infra.url });
    await putGitSync(ns, "apps", { url: apps.url, dependsOn: [{ name: "infra" }] });

    // infra applies, but its Deployment never becomes Available (its image crashes on the fake
    // Nodes): apps must wait.
    await waitForApplied(ns, "infra", i1);
    // First "not Ready" while infra's own sync finishes, then "not Healthy" for as long as its
    // Deployment is unavailable: wait for the second, which is the state this test is about.
    const blocked = await waitForGitSync(
      ns,
      "apps",
      "DependencyNotReady (infra not Healthy)",
      (o) =>
        condition(o, "Ready")?.reason === "DependencyNotReady" &&
        (condition(o, "Ready")?.message ?? "").includes("not Healthy"),
    );
    expect(condition(blocked, "Ready")?.message).toContain(`GitSync ${ns}/infra is not Healthy`);
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app" })).toBe(
      false,
    );

    const i2 = await infra.commit("scale to zero", {
      "db.yaml": yaml(deployment("db", 0, {}, CRASHLOOP_IMAGE)),
    });
    await requestSync(ns, "infra");
    await waitForApplied(ns, "infra", i2);
    await waitForApplied(ns, "apps", a1);
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app" })).toBe(
      true,
    );
  });

  it("applies nothing while suspended, and catches up once resumed", async () => {
    const ns = await testNamespace("suspend");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("one", { "cm.yaml": yaml(configMap("first", { v: "1" })) });
    await putGitSync(ns, "paused", { url: repo.url });
    await waitForApplied(ns, "paused", c1);

    await putGitSync(ns, "paused", { url: repo.url, suspend: true });
    const c2 = await repo.commit("two", { "cm2.yaml": yaml(configMap("second", { v: "1" })) });
    await requestSync(ns, "paused");
    // The reconciler watches all GitSyncs on one watch, so by the time it applied a GitSync made
    // after the request it had queued "paused" for it. Runs of one key do not overlap: of two
    // finishing one after the other after that, the second started after it and saw the request
    // (and c2 in Git), and would have applied c2 had it ignored suspend.
    const marker = await GitRepo.create();
    const m1 = await marker.commit("marker", { "m.yaml": yaml(configMap("marker", { v: "1" })) });
    await putGitSync(ns, "marker", { url: marker.url });
    await waitForApplied(ns, "marker", m1);
    await syncOnce(harness, ns, "paused");
    await syncOnce(harness, ns, "paused");
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "second" }),
    ).toBe(false);

    await putGitSync(ns, "paused", { url: repo.url, suspend: false });
    await waitForApplied(ns, "paused", c2);
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "second" }),
    ).toBe(true);
  });
});
