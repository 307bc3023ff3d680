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

    // Controllers write status, revisions and defaults meanwhile; a second apply is Git again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const obj of objects) await reconciler.apply(obj, { fieldManager: FIELD_MANAGER });
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const drifted = await driftOf(objects);
    expect(drifted).toEqual({});
    expect(auditor.records(ns)).toEqual([]);

    // The auditor was watching all along: a real edit is seen, and only that one.
    await editImage(objects, "registry.example.com/web:9.9.9");
    await eventually("the one real drift", () => auditor.records(ns).length === 1);
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
