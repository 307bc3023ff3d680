import { describe, expect, it, onTestFinished } from "vitest";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { createKubeClient, FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { auditedApiServer, gitSyncWithInventory, ownedConfigMap, startAuditor } from "./harness.js";

const RECONCILER_SA = "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler";

const ref = (namespace: string, name: string) =>
  ({ apiVersion: "v1", kind: "ConfigMap", namespace, name }) as const;

const about = (records: readonly JournalRecord[], name: string): JournalRecord[] =>
  records.filter((r) => r.object?.name === name);

/** Who the auditor's debug log says made the deletions it excused, for ns/name. */
function excused(lines: readonly Record<string, unknown>[], ns: string, name: string): unknown[] {
  return lines
    .filter((l) => l["msg"] === "deletion by the reconciler: not drift")
    .filter((l) => l["object"] === `/ConfigMap/${ns}/${name}`)
    .map((l) => l["by"]);
}

describe("auditor: deletions and policy changes against the real API server", () => {
  it("journals an unattributed out-of-band delete and its heal, but not the reconciler's prune", async () => {
    const ns = await testNamespace("delete");
    const reconciler = clientAs("reconciler");
    const admin = clientAs("admin");
    const held = ownedConfigMap(ns, "held");
    held.metadata.finalizers = ["example.com/hold"];
    const objects = [ownedConfigMap(ns, "web"), ownedConfigMap(ns, "old"), held];
    for (const obj of objects) await reconciler.apply(obj, { fieldManager: FIELD_MANAGER });
    await gitSyncWithInventory(ns, objects);
    const auditor = await startAuditor({ pruneWaitMs: 2000 });

    // The reconciler's prune: the object left Git, so it deletes it, then drops it from the
    // GitSync's inventory. Nobody can tell the auditor who deleted it (no audit webhook here).
    await reconciler.delete(ref(ns, "old"), { propagationPolicy: "Background" });
    // The status write stands in for our reconciler (this test runs the auditor alone), so the
    // prune happens at a moment the test chooses.
    await admin.patchStatus(
      { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync", namespace: ns, name: "app" },
      {
        inventory: ["web", "held"].map((name) => ({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: ns,
          name,
        })),
      },
    );

    // An exempt admin deletes a guarded object: the webhook would not have stopped it.
    const uid = (await admin.get<KubeObject>(ref(ns, "web")))?.metadata.uid;
    await admin.delete(ref(ns, "web"));
    // With a finalizer the object stays, terminating: the delete is journaled now, and the
    // finalizer's removal later is part of it, not a change of its own.
    await admin.delete(ref(ns, "held"));
    await eventually("the deletion to be journaled", () =>
      about(auditor.records(ns), "web").some((r) => r.type === "drift-detected"),
    );
    const [deleted] = about(auditor.records(ns), "web");
    expect(deleted).toMatchObject({
      type: "drift-detected",
      object: { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "web", uid },
      diff: [{ path: "", op: "remove" }],
      gitSync: { namespace: ns, name: "app" },
      revision: expect.stringMatching(/^main@sha1:/) as unknown,
      message: "out-of-band deletion by an unknown user (unattributed)",
    });
    expect(deleted?.user).toBeUndefined();

    // Self-heal re-creates it as Git has it.
    await reconciler.apply(ownedConfigMap(ns, "web"), { fieldManager: FIELD_MANAGER });
    await eventually("the heal to be journaled", () =>
      about(auditor.records(ns), "web").some((r) => r.type === "drift-healed"),
    );
    expect(about(auditor.records(ns), "web").map((r) => r.type)).toEqual([
      "drift-detected",
      "drift-healed",
    ]);

    await eventually(
      "the terminating object's deletion",
      () => about(auditor.records(ns), "held").length > 0,
    );
    const metrics = await auditor.metrics.text();
    expect(metrics).toContain(
      `gitops_guard_drift_unattributed_total{kind="ConfigMap",namespace="${ns}"} 2`,
    );
    await admin.mergePatch(ref(ns, "held"), { metadata: { finalizers: null } });
    await eventually(
      "the object to be gone",
      async () => (await admin.get(ref(ns, "held"))) === undefined,
    );

    // Nothing about the pruned object, which was seen and excused. web's deletion, journaled
    // above, is the marker: old's came before it on the same ConfigMap watch and, were it not
    // excused, would have waited the same pruneWaitMs (both owned, both unattributed), so it
    // would have been journaled by then.
    expect(about(auditor.records(ns), "old")).toEqual([]);
    expect(excused(auditor.log.lines(), ns, "old")).toEqual([
      "a prune (it left its GitSync's inventory)",
    ]);
    expect(about(auditor.records(ns), "held")).toMatchObject([
      { type: "drift-detected", diff: [{ path: "", op: "remove" }] },
    ]);
  });

  it("attributes deletes and GuardPolicy changes through the audit webhook; the reconciler's delete is not drift", async () => {
    const ns = await testNamespace("delaudit");
    const reconciler = clientAs("reconciler");
    for (const name of ["web", "old"]) {
      await reconciler.apply(ownedConfigMap(ns, name), { fieldManager: FIELD_MANAGER });
    }
    await gitSyncWithInventory(ns, [ownedConfigMap(ns, "web"), ownedConfigMap(ns, "old")]);
    const ca = makeTestCa();
    const auditor = await startAuditor({
      auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]) },
      // Long: only the audit webhook can have attributed (or excused) these deletions.
      attributionGraceMs: 20_000,
      pruneWaitMs: 20_000,
    });
    const server = await auditedApiServer(auditor, ca, ns);
    const admin2 = createKubeClient({ kubeconfig: server.kubeconfig });
    // The reconciler as it runs out of a cluster: impersonating its service account.
    const reconciler2 = admin2.impersonating({
      user: RECONCILER_SA,
      groups: ["system:serviceaccounts", "system:serviceaccounts:gitops-guard-system"],
    });

    // The reconciler deletes an object still in the inventory: its identity says it is Git's.
    await reconciler2.delete(ref(ns, "old"), { propagationPolicy: "Background" });
    await admin2.delete(ref(ns, "web"));
    await eventually(
      "the admin's deletion to be journaled",
      () => about(auditor.records(ns), "web").length > 0,
    );
    expect(about(auditor.records(ns), "web")).toMatchObject([
      {
        type: "drift-detected",
        object: { kind: "ConfigMap", namespace: ns, name: "web" },
        user: {
          username: "envtest-admin-2",
          groups: expect.arrayContaining(["system:masters"]) as unknown,
        },
        diff: [{ path: "", op: "remove" }],
        message: "out-of-band deletion by envtest-admin-2 (from audit-webhook)",
      },
    ]);

    const name = `policy-${ns}`;
    const policyRef = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GuardPolicy", name };
    await admin2.create({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      metadata: { name },
      spec: {
        mode: "Audit",
        match: {
          resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }],
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
        },
      },
    });
    onTestFinished(async () => {
      await clientAs("admin").delete(policyRef);
    });
    const policies = (): JournalRecord[] =>
      auditor.records().filter((r) => r.type === "policy-changed" && r.object?.name === name);
    await eventually("the policy's creation", () => policies().length === 1);
    await admin2.mergePatch(
      policyRef,
      {
        spec: {
          ignoreFields: [{ apiGroups: [""], kinds: ["ConfigMap"], jsonPointers: ["/data/x"] }],
        },
      },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the policy's change", () => policies().length === 2);
    await admin2.delete(policyRef);
    await eventually("the policy's deletion", () => policies().length === 3);
    const [created, changed, removed] = policies();
    const admin2User = {
      username: "envtest-admin-2",
      groups: expect.arrayContaining(["system:masters"]) as unknown,
    };
    expect(created).toMatchObject({
      object: { apiVersion: "gitops-guard.io/v1alpha1", kind: "GuardPolicy", name },
      user: admin2User,
      message: `GuardPolicy ${name} created (generation 1) by envtest-admin-2 (from audit-webhook)`,
    });
    expect(created?.diff?.map((c) => c.path)).toContain("/spec");
    expect(changed).toMatchObject({
      user: admin2User,
      // Same-second writes: the creator's entry may count too (managed-fields.ts says why).
      fieldManagers: expect.arrayContaining(["kubectl-edit (Update)"]) as unknown,
      diff: [
        {
          path: "/spec/ignoreFields/0",
          op: "add",
          to: { apiGroups: [""], kinds: ["ConfigMap"], jsonPointers: ["/data/x"] },
        },
      ],
      message: `GuardPolicy ${name} changed (generation 2) by envtest-admin-2 (from audit-webhook)`,
    });
    expect(removed).toMatchObject({
      user: admin2User,
      diff: [{ path: "", op: "remove" }],
      message: `GuardPolicy ${name} deleted by envtest-admin-2 (from audit-webhook)`,
    });

    // The reconciler's delete is attributed well before its grace (20 s) runs out, and excused.
    const excusedOld = (): unknown[] => excused(auditor.log.lines(), ns, "old");
    await eventually(
      "the reconciler's delete to be excused",
      () => excusedOld().length > 0,
      15_000,
    ).catch(() => undefined);
    const aboutOld = auditor.log.lines().filter((l) => JSON.stringify(l).includes(`/${ns}/old`));
    expect(excusedOld(), `auditor lines about ${ns}/old: ${JSON.stringify(aboutOld)}`).toEqual([
      RECONCILER_SA,
    ]);
    expect(about(auditor.records(ns), "old")).toEqual([]);
  });
});
