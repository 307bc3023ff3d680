/**
 * Edits made while no auditor runs (an upgrade, a drain, a leader change) on the real API
 * server: the next auditor, started on the same state directory, journals them against the
 * state last seen, with the field diff and the field manager, and says they were unwatched.
 * A Git change applied meanwhile is not drift, and the heal that follows is journaled.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { BaselineStore } from "../../src/auditor/journal/baseline-store.js";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { gitSyncWithInventory, ownedConfigMap, ref, startAuditor } from "./harness.js";

const about = (records: readonly JournalRecord[], name: string): JournalRecord[] =>
  records.filter((r) => r.object?.name === name);

function keptIds(path: string, ns: string): string[] {
  const store = BaselineStore.open(path);
  try {
    return store
      .load()
      .map((k) => k.id)
      .filter((id) => id.includes(`/${ns}/`))
      .sort();
  } finally {
    store.close();
  }
}

/** The time of the reconciler's apply entry in obj's managedFields (second precision). */
const reconcilerTime = (obj: KubeObject | undefined): string | undefined =>
  obj?.metadata.managedFields?.find((e) => e.manager === FIELD_MANAGER && e.operation === "Apply")
    ?.time;

describe("auditor: changes made while it was not running", () => {
  it("journals an edit and a deletion made while it was down, but not a Git change or a prune, then the heal", async () => {
    const ns = await testNamespace("restart");
    const reconciler = clientAs("reconciler");
    const admin = clientAs("admin");
    const names = ["web", "gone", "git", "pruned"];
    for (const name of names) {
      await reconciler.apply(ownedConfigMap(ns, name), { fieldManager: FIELD_MANAGER });
    }
    await gitSyncWithInventory(
      ns,
      names.map((n) => ownedConfigMap(ns, n)),
    );
    const dir = mkdtempSync(join(tmpdir(), "gg-auditor-restart-"));
    onTestFinished(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const paths = {
      journalPath: join(dir, "journal.db"),
      baselinesPath: join(dir, "auditor-baselines.db"),
      pruneWaitMs: 1000,
    };

    const goneUid = (await admin.get(ref(ns, "gone")))?.metadata.uid;
    expect(goneUid).toBeDefined();
    const first = await startAuditor(paths);
    await eventually(
      "the first auditor to keep the four objects",
      () => keptIds(paths.baselinesPath, ns).length === 4,
    );
    await first.stop();

    // While no auditor runs: an edit, a deletion, and a change from Git. managedFields times
    // have second precision: a re-apply in the second of the first apply, with the same
    // fields, would not show the reconciler as its writer (managed-fields.ts). So the Git
    // change waits until a dry run of it gives the reconciler's entry a later time.
    const git = ownedConfigMap(ns, "git", "warn");
    const applied = reconcilerTime(await admin.get(ref(ns, "git")));
    expect(applied).toBeDefined();
    await eventually("the API server's clock past the first apply's second", async () => {
      const dry = await reconciler.apply(git, { fieldManager: FIELD_MANAGER, dryRun: true });
      return reconcilerTime(dry) !== applied;
    });
    await admin.mergePatch(
      ref(ns, "web"),
      { data: { LOG_LEVEL: "debug" } },
      { fieldManager: "kubectl-edit" },
    );
    await admin.delete(ref(ns, "gone"));
    await reconciler.apply(git, { fieldManager: FIELD_MANAGER });
    // A prune: the object left Git, so the reconciler deletes it and drops it from the inventory.
    await reconciler.delete(ref(ns, "pruned"));
    // Stands in for our reconciler's status write: the auditor is tested alone, while stopped.
    await admin.patchStatus(
      { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync", namespace: ns, name: "app" },
      {
        inventory: ["web", "gone", "git"].map((name) => ({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: ns,
          name,
        })),
      },
    );

    const second = await startAuditor(paths);
    await eventually(
      "the edit and the deletion to be journaled",
      () =>
        about(second.records(ns), "web").length + about(second.records(ns), "gone").length === 2,
    );
    const unwatched =
      /, made while the auditor was not running \(last seen \d{4}-\d\d-\d\dT[\d:.]+Z\)$/;
    expect(about(second.records(ns), "web")).toMatchObject([
      {
        type: "drift-detected",
        // Same-second writes: the reconciler's entry may count too (managed-fields.ts says why).
        fieldManagers: expect.arrayContaining(["kubectl-edit (Update)"]) as unknown,
        diff: [{ path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" }],
        message: expect.stringMatching(unwatched) as unknown,
      },
    ]);
    expect(about(second.records(ns), "gone")).toMatchObject([
      {
        type: "drift-detected",
        object: { kind: "ConfigMap", namespace: ns, name: "gone", uid: goneUid },
        diff: [{ path: "", op: "remove" }],
        message: expect.stringMatching(
          /^out-of-band deletion by an unknown user \(unattributed\), made while the auditor was not running/,
        ) as unknown,
      },
    ]);
    expect(
      second.log
        .lines()
        .find((l) => l["msg"] === "took back the state of the objects an earlier run saw"),
    ).toMatchObject({ gone: expect.any(Number) as unknown });

    // The reconciler puts Git's value back: the drift kept across the restart is healed.
    await reconciler.apply(ownedConfigMap(ns, "web"), { fieldManager: FIELD_MANAGER, force: true });
    await eventually("the heal", () =>
      about(second.records(ns), "web").some((r) => r.type === "drift-healed"),
    );
    expect(about(second.records(ns), "git")).toEqual([]);
    expect(about(second.records(ns), "pruned")).toEqual([]);
    expect(keptIds(paths.baselinesPath, ns)).not.toContain(`/ConfigMap/${ns}/pruned`);
  });
});
