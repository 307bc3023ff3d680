/**
 * Who changed it, without an audit webhook: the admission webhook turns every allowed
 * out-of-band write it judges (an exempt admin, a break-glass) into a fact, an Event naming the
 * user, and the auditor joins it to the drift it sees. On the real API server, with no audit
 * webhook configured.
 */
import { describe, expect, it } from "vitest";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import { kubectl } from "../admission/harness.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { vetoUpdates } from "../helpers/veto-webhook.js";
import { drifts, guarded, guardedByWebhook } from "./attribution-harness.js";
import { lastingJournalPath, ownedConfigMap, ref, startAuditor } from "./harness.js";

describe("attribution from the admission webhook (no audit webhook)", () => {
  it("names the exempt admin in each of 20 out-of-band edits, source admission", async () => {
    const ns = await testNamespace("attr");
    const names = Array.from({ length: 20 }, (_, i) => `cm-${String(i)}`);
    await guarded(ns, names);
    const auditor = await startAuditor();
    await guardedByWebhook(ns, "cm-0");

    const admin = clientAs("admin");
    for (const name of names) {
      await admin.mergePatch(
        ref(ns, name),
        { data: { LOG_LEVEL: "debug" } },
        { fieldManager: "kubectl-edit" },
      );
    }
    await eventually("20 drift records", () => drifts(auditor.records(), ns).length === 20);
    const records = drifts(auditor.records(), ns);
    expect(new Set(records.map((r) => r.object?.name))).toEqual(new Set(names));
    for (const record of records) {
      expect(record.user?.username).toBe("envtest-admin");
      expect(record.user?.groups).toContain("system:masters");
      expect(record.userSource).toBe("admission");
      expect(record.diff).toEqual([
        { path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" },
      ]);
      expect(record.message).toContain("by envtest-admin (from admission)");
    }
    const metrics = await auditor.metrics.text();
    expect(metrics).not.toContain(
      `gitops_guard_drift_unattributed_total{kind="ConfigMap",namespace="${ns}"}`,
    );
  });

  it("names the right person when two edit two objects at the same moment", async () => {
    const ns = await testNamespace("attr2");
    await guarded(ns, ["a", "b"]);
    const auditor = await startAuditor();
    await guardedByWebhook(ns, "a");

    await Promise.all([
      clientAs("admin").mergePatch(
        ref(ns, "a"),
        { data: { LOG_LEVEL: "debug" } },
        { fieldManager: "kubectl-edit" },
      ),
      clientAs("alice").mergePatch(
        ref(ns, "b"),
        { data: { LOG_LEVEL: "trace" } },
        { fieldManager: "kubectl-edit" },
      ),
    ]);
    await eventually("both drift records", () => drifts(auditor.records(), ns).length === 2);
    const byName = new Map(drifts(auditor.records(), ns).map((r) => [r.object?.name, r]));
    expect(byName.get("a")?.user?.username).toBe("envtest-admin");
    expect(byName.get("b")?.user?.username).toBe("alice");
    expect(byName.get("b")?.userSource).toBe("admission");
  });

  it("makes no fact of a dry run", async () => {
    const ns = await testNamespace("attr3");
    await guarded(ns, ["a"]);
    await guardedByWebhook(ns, "a");
    const dry = await kubectl("alice", [
      "label",
      "configmap",
      "a",
      "-n",
      ns,
      "dry=1",
      "--dry-run=server",
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    // The real edit after it makes one fact: the dry run, judged first, made none.
    const real = await kubectl("alice", ["label", "configmap", "a", "-n", ns, "real=1"]);
    expect(real.code, real.stderr).toBe(0);
    const facts = async (): Promise<string[]> => {
      const { items } = await clientAs("admin").list<
        { metadata: { annotations?: Record<string, string> } } & {
          reason?: string;
          kind: string;
          apiVersion: string;
        }
      >({ apiVersion: "events.k8s.io/v1", kind: "Event" }, { namespace: ns });
      return items
        .filter((e) => e.reason === "Exempt")
        .map((e) => e.metadata.annotations?.["gitops-guard.io/changed-fields"] ?? "");
    };
    await eventually("the real edit's fact", async () => (await facts()).length > 0);
    expect(await facts()).toEqual([JSON.stringify(["/metadata/labels/real"])]);
  });

  it("journals an edit undone before the auditor saw it from its fact, once across restarts", async () => {
    const ns = await testNamespace("attr4");
    const journalPath = lastingJournalPath("unseen-journal-");
    await guarded(ns, ["seen", "unseen"]);
    await guardedByWebhook(ns, "seen");
    const admin = clientAs("admin");
    const first = await startAuditor({ journalPath });
    await admin.mergePatch(
      ref(ns, "seen"),
      { data: { LOG_LEVEL: "debug" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the seen edit's record", () => drifts(first.records(), ns).length === 1);
    await first.stop();

    // While no auditor runs (a SIGKILLed leader): an edit, and self-heal undoing it.
    await admin.mergePatch(
      ref(ns, "unseen"),
      { data: { LOG_LEVEL: "trace" } },
      { fieldManager: "kubectl-edit" },
    );
    await clientAs("reconciler").apply(ownedConfigMap(ns, "unseen"), {
      fieldManager: FIELD_MANAGER,
    });

    const second = await startAuditor({ journalPath });
    await eventually("the unseen edit's record", () => drifts(second.records(), ns).length === 2);
    const unseen = drifts(second.records(), ns).find((r) => r.object?.name === "unseen");
    expect(unseen?.user?.username).toBe("envtest-admin");
    expect(unseen?.userSource).toBe("admission");
    expect(unseen?.diff).toEqual([{ path: "/data/LOG_LEVEL", op: "replace" }]);
    expect(unseen?.message).toContain("not seen as drift by the auditor");
    expect(unseen?.event?.uid).toBeDefined();
    await second.stop();

    // A third run finds both facts journaled: no record twice. Facts older than the settle time
    // are checked as soon as the informer lists them, before the workers take the marker edit,
    // which also waits out the attribution grace: by its record, any repeat would be written.
    const third = await startAuditor({ journalPath });
    await admin.mergePatch(
      ref(ns, "seen"),
      { data: { LOG_LEVEL: "warn" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the marker edit's record", () =>
      drifts(third.records(), ns).some((r) => r.diff?.[0]?.to === "warn"),
    );
    const names = drifts(third.records(), ns).map((r) => r.object?.name);
    expect(names.filter((n) => n === "unseen")).toHaveLength(1);
    expect(names.filter((n) => n === "seen")).toHaveLength(2);
  });

  it("makes no record of a write a later admission step refused: its fact expires", async () => {
    const ns = await testNamespace("attr5");
    await guarded(ns, ["frozen", "marker"]);
    const auditor = await startAuditor();
    await guardedByWebhook(ns, "frozen");
    // The later step is a second validating webhook, not a ValidatingAdmissionPolicy: the API
    // server runs ValidatingAdmissionPolicies before validating webhooks, so a VAP's denial
    // means ours is never called and no fact exists to expire (attribution-paths.int.test.ts
    // shows that). Webhooks run after it, as does ResourceQuota, which is the case to cover.
    await vetoUpdates(ns, "frozen");
    const expired = async (): Promise<number> =>
      Number(
        /gitops_guard_attribution_unseen_facts_total\{outcome="expired"\} (\d+)/.exec(
          await auditor.metrics.text(),
        )?.[1] ?? "0",
      );
    const before = await expired();
    // Ours allows the exempt admin (and writes its fact); the other webhook refuses the write.
    await eventually("the other webhook to refuse", async () => {
      const r = await kubectl("admin", ["label", "configmap", "frozen", "-n", ns, "x=1"]);
      return r.code !== 0 && r.stderr.includes("vetoed");
    });
    await eventually(
      "the refused write's fact checked and expired",
      async () => (await expired()) > before,
    );
    await clientAs("admin").mergePatch(
      ref(ns, "marker"),
      { data: { LOG_LEVEL: "debug" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the marker's record", () => drifts(auditor.records(), ns).length > 0);
    expect(drifts(auditor.records(), ns).map((r) => r.object?.name)).toEqual(["marker"]);
  });

  it("names nobody, never the wrong person, for an edit made while the webhook was down", async () => {
    const ns = await testNamespace("attr6");
    await guarded(ns, ["a"]);
    const auditor = await startAuditor();
    const webhook = await guardedByWebhook(ns, "a");
    await clientAs("alice").mergePatch(
      ref(ns, "a"),
      { data: { LOG_LEVEL: "debug" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("alice's record", () => drifts(auditor.records(), ns).length === 1);
    // failurePolicy Ignore: with the webhook gone the write passes unjudged, and no fact is made.
    await webhook.stop();
    await clientAs("admin").mergePatch(
      ref(ns, "a"),
      { data: { LOG_LEVEL: "trace" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the second record", () => drifts(auditor.records(), ns).length === 2);
    const [first, second] = drifts(auditor.records(), ns);
    expect(first?.user?.username).toBe("alice");
    expect(second?.diff).toEqual([
      { path: "/data/LOG_LEVEL", op: "replace", from: "debug", to: "trace" },
    ]);
    expect(second?.user).toBeUndefined();
    expect(second?.userSource).toBe("managedFields");
    expect(second?.message).toContain("by an unknown user (unattributed)");
  });
});
