import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  exists,
  putGitSync,
  readGitSync,
  reconcilesOf,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForGitSync,
  type Harness,
  waitForReadyReason,
} from "./helpers/harness.js";
import { CRASHLOOP_IMAGE, configMap, deployment, yaml } from "./helpers/manifests.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler();
});
afterAll(async () => {
  await harness.stop();
});

function crd(group: string): object {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
            },
          },
        },
      ],
    },
  };
}

describe("GitSync apply order and health", () => {
  it("applies a Namespace, a CRD and its custom resource from one commit", async () => {
    const ns = await testNamespace("defs");
    const suffix = randomBytes(3).toString("hex");
    const group = `t${suffix}.gitops-guard.test`;
    const appNs = `app-${suffix}`;
    const admin = clientAs("admin");
    onTestFinished(async () => {
      await admin.delete({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        name: `widgets.${group}`,
      });
      await admin.delete({ apiVersion: "v1", kind: "Namespace", name: appNs });
    });
    const repo = await GitRepo.create();
    // Alphabetical file order puts the custom resource first: only the reconciler's order saves it.
    const c1 = await repo.commit("defs", {
      "a-widget.yaml": yaml({
        apiVersion: `${group}/v1`,
        kind: "Widget",
        metadata: { name: "w", namespace: appNs },
        spec: { size: 3 },
      }),
      "b-config.yaml": yaml(configMap("cfg", { v: "1" }, { namespace: appNs })),
      "c-crd.yaml": yaml(crd(group)),
      "d-namespace.yaml": yaml({ apiVersion: "v1", kind: "Namespace", metadata: { name: appNs } }),
    });
    await putGitSync(ns, "defs", { url: repo.url });
    const synced = await waitForApplied(ns, "defs", c1);
    expect(
      await exists({ apiVersion: `${group}/v1`, kind: "Widget", namespace: appNs, name: "w" }),
    ).toBe(true);
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: appNs, name: "cfg" }),
    ).toBe(true);
    expect(synced.status?.inventory?.map((e) => e.kind).sort()).toEqual([
      "ConfigMap",
      "CustomResourceDefinition",
      "Namespace",
      "Widget",
    ]);
    const healthy = await waitForGitSync(
      ns,
      "defs",
      "Healthy",
      (o) => condition(o, "Healthy")?.status === "True",
    );
    expect(condition(healthy, "Healthy")?.observedGeneration).toBe(healthy.metadata.generation);
  });

  it("starts wave 1 only once wave 0 is healthy (a Deployment the controllers report Available)", async () => {
    const ns = await testNamespace("waves");
    const repo = await GitRepo.create();
    // Its image crashes on the fake Nodes, so a Deployment with one replica never becomes
    // Available.
    await repo.commit("waves", {
      "db.yaml": yaml(deployment("db", 1, { "gitops-guard.io/sync-wave": "0" }, CRASHLOOP_IMAGE)),
      "app.yaml": yaml(
        configMap(
          "app-config",
          { v: "1" },
          { annotations: { "argocd.argoproj.io/sync-wave": "1" } },
        ),
      ),
    });
    await putGitSync(ns, "waves", { url: repo.url });
    const waiting = await waitForReadyReason(ns, "waves", "WaitingForWave");
    expect(condition(waiting, "Ready")?.status).toBe("Unknown");
    expect(condition(waiting, "Ready")?.message).toContain(
      `wave 0: 1 of 1 object not healthy: Deployment ${ns}/db`,
    );
    expect(
      await exists({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "db" }),
    ).toBe(true);
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app-config" }),
    ).toBe(false);

    // Zero replicas: the deployment controller reports it complete, so wave 1 goes ahead.
    const c2 = await repo.commit("scale to zero", {
      "db.yaml": yaml(deployment("db", 0, { "gitops-guard.io/sync-wave": "0" }, CRASHLOOP_IMAGE)),
    });
    await requestSync(ns, "waves");
    await waitForApplied(ns, "waves", c2);
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "app-config" }),
    ).toBe(true);
    const healthy = await waitForGitSync(
      ns,
      "waves",
      "Healthy",
      (o) => condition(o, "Healthy")?.status === "True",
    );
    expect(condition(healthy, "Healthy")?.message).toBe("2 objects healthy");
  });

  it("reports a claim that cannot bind as Progressing and a Service as healthy at once", async () => {
    const ns = await testNamespace("pvc");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("pvc", {
      "pvc.yaml": yaml({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data" },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "1Gi" } },
          storageClassName: "none",
        },
      }),
      "svc.yaml": yaml({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { ports: [{ port: 80 }], selector: { app: "web" } },
      }),
    });
    await putGitSync(ns, "pvc", { url: repo.url });
    const synced = await waitForApplied(ns, "pvc", c1);
    const healthy = condition(synced, "Healthy");
    expect(healthy?.status).toBe("False");
    expect(healthy?.reason).toBe("Progressing");
    expect(healthy?.message).toBe(
      `1 of 2 objects not healthy: PersistentVolumeClaim ${ns}/data: claim is Pending`,
    );
    // Health is polled while the claim is pending, yet an unchanged status is never rewritten.
    const before = (await readGitSync(ns, "pvc")).metadata.resourceVersion;
    // Status times have whole seconds: a rewrite stamped with a poll's own time shows from the next.
    const second = Math.floor(Date.now() / 1000);
    await eventually("the next second", () => Math.floor(Date.now() / 1000) > second);
    const polls = await reconcilesOf(harness, ns, "pvc");
    // One reconcile at a time per GitSync: the second to finish after this count started after
    // it, so a whole health poll (its status write awaited before it is counted) ran meanwhile.
    await eventually(
      "two health polls in a later second",
      async () => (await reconcilesOf(harness, ns, "pvc")) >= polls + 2,
    );
    expect((await readGitSync(ns, "pvc")).metadata.resourceVersion).toBe(before);
  });
});
