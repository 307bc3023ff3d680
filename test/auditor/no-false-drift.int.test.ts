import { describe, expect, it, onTestFinished } from "vitest";
import { desiredDrift } from "../../src/auditor/diff/diff.js";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import { groupOf, refOf, type KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { coreKinds } from "./fixtures/core-kinds.js";
import { gitSyncWithInventory, startAuditor } from "./harness.js";

/** Git against live for each object, keyed "group/Kind"; empty when nothing drifted. */
async function driftOf(objects: readonly KubeObject[]): Promise<Record<string, unknown>> {
  const reconciler = clientAs("reconciler");
  const drifted: Record<string, unknown> = {};
  for (const obj of objects) {
    const live = await reconciler.get<KubeObject>(refOf(obj));
    const drift = live === undefined ? "missing" : desiredDrift(obj, live);
    if (drift.length > 0) drifted[`${groupOf(obj.apiVersion)}/${obj.kind}`] = drift;
  }
  return drifted;
}

/** An admin's out-of-band edit of the Deployment's image. */
async function editImage(objects: readonly KubeObject[], image: string): Promise<void> {
  const admin = clientAs("admin");
  const deployment = objects.find((o) => o.kind === "Deployment");
  if (deployment === undefined) throw new Error("no Deployment in the fixture");
  const live = await admin.get<KubeObject>(refOf(deployment));
  const spec = structuredClone(live?.["spec"]) as {
    template: { spec: { containers: { image: string }[] } };
  };
  const container = spec.template.spec.containers[0];
  if (live === undefined || container === undefined) throw new Error("no container");
  container.image = image;
  await admin.replace({ ...live, spec });
}

/**
 * Whether kube-controller-manager has written what it writes of a new object: the workload
 * controllers their observedGeneration (a Deployment's revision annotation comes first), the
 * disruption controller the budget's status.
 */
async function controllersWrote(objects: readonly KubeObject[]): Promise<boolean> {
  const admin = clientAs("admin");
  for (const obj of objects) {
    const live = await admin.get<KubeObject>(refOf(obj));
    const status = live?.["status"] as Record<string, unknown> | undefined;
    if (["Deployment", "StatefulSet", "DaemonSet"].includes(obj.kind)) {
      if (status?.["observedGeneration"] !== live?.metadata.generation) return false;
    }
    if (obj.kind === "PodDisruptionBudget" && status?.["expectedPods"] === undefined) return false;
  }
  return true;
}

describe("no false drift", () => {
  it("every core kind applied from Git and read back shows zero drift, to the diff and the auditor", async () => {
    const ns = await testNamespace("nodrift");
    const reconciler = clientAs("reconciler");
    const objects = coreKinds(ns, ns);
    const clusterRole = objects.find((o) => o.kind === "ClusterRole");
    onTestFinished(async () => {
      if (clusterRole !== undefined) await clientAs("admin").delete(refOf(clusterRole));
    });
    for (const obj of objects) await reconciler.apply(obj, { fieldManager: FIELD_MANAGER });
    await gitSyncWithInventory(ns, objects);
    const auditor = await startAuditor();

    // Controllers write status, revisions and defaults; a second apply is Git again.
    await eventually("the controllers' writes", () => controllersWrote(objects));
    for (const obj of objects) await reconciler.apply(obj, { fieldManager: FIELD_MANAGER });

    const drifted = await driftOf(objects);
    expect(drifted).toEqual({});

    // The auditor was watching all along: a real edit is seen, and only that one. The edit is
    // the marker: made after the controllers' writes and the second apply, it is journaled the
    // way a false drift would be (unattributed, after the same grace), so they would be too.
    await editImage(objects, "registry.example.com/web:9.9.9");
    const image = "/spec/template/spec/containers/0/image";
    await eventually("the real drift", () =>
      auditor.records(ns).some((r) => r.diff?.some((c) => c.path === image)),
    );
    expect(auditor.records(ns)).toHaveLength(1);
    expect(auditor.records(ns)[0]?.diff).toEqual([
      {
        path: "/spec/template/spec/containers/0/image",
        op: "replace",
        from: "registry.example.com/web:1.2.3",
        to: "registry.example.com/web:9.9.9",
      },
    ]);
    expect(auditor.log.raw()).not.toContain("t0ken-value");
  });
});
