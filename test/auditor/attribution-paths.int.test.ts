/**
 * Every path by which the admission webhook allows an out-of-band write makes a fact the auditor
 * names the user from: break-glass, an exempt admin's deletion, an Audit-mode policy, and an
 * object a GitSync applied that no policy selects. On the real API server, no audit webhook.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import {
  createPolicy,
  deployment,
  kubectl,
  readyOf,
  startAdmission,
} from "../admission/harness.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import {
  GUARD_CONFIGMAPS,
  factEvents,
  factsFlowing,
  guarded,
  serviceAccountUser,
  webhookServing,
} from "./attribution-harness.js";
import {
  breakGlassEdit,
  gitSyncWithInventory,
  lastingJournalPath,
  ownedConfigMap,
  ref,
  startAuditor,
} from "./harness.js";

const changesOf = (records: readonly JournalRecord[], name: string): JournalRecord[] =>
  records.filter(
    (r) => (r.type === "drift-detected" || r.type === "break-glass") && r.object?.name === name,
  );

/** The test's GuardPolicy (GUARD_CONFIGMAPS and extra), once Ready. */
async function policyReady(ns: string, extra: Record<string, unknown>): Promise<void> {
  const policy = await createPolicy(ns, { ...GUARD_CONFIGMAPS, ...extra });
  await eventually("the policy Ready", async () => (await readyOf(policy))?.["status"] === "True");
}

describe("attribution from the admission webhook, by the path that allowed the write", () => {
  it("names bob with his break-glass reason", async () => {
    const ns = await testNamespace("attr-glass");
    await guarded(ns, ["api"]);
    const auditor = await startAuditor();
    await startAdmission(ns);
    await policyReady(ns, {
      breakGlass: { groups: ["incident-responders"], maxDuration: "4h", reasonPattern: "^INC-" },
    });
    await webhookServing(ns, "api");

    await breakGlassEdit(clientAs("bob"), ns, "api", "bob");
    await eventually("bob's record", () => changesOf(auditor.records(ns), "api").length > 0);
    const [record] = changesOf(auditor.records(ns), "api");
    expect(record).toMatchObject({
      type: "break-glass",
      user: { username: "bob", groups: expect.arrayContaining(["incident-responders"]) as unknown },
      userSource: "admission",
      reason: "INC-4711 database failover",
    });
    expect(record?.diff).toContainEqual({
      path: "/data/LOG_LEVEL",
      op: "replace",
      from: "info",
      to: "trace",
    });
    expect(record?.event?.uid).toBeDefined();
  });

  it("names the exempt admin who deleted a guarded object", async () => {
    const ns = await testNamespace("attr-del");
    await guarded(ns, ["gone"]);
    const auditor = await startAuditor();
    await startAdmission(ns);
    await policyReady(ns, {});
    await webhookServing(ns, "gone");

    await clientAs("admin").delete(ref(ns, "gone"));
    await eventually(
      "the deletion's record",
      () => changesOf(auditor.records(ns), "gone").length > 0,
    );
    expect(changesOf(auditor.records(ns), "gone")).toMatchObject([
      {
        type: "drift-detected",
        diff: [{ path: "", op: "remove" }],
        user: { username: "envtest-admin" },
        userSource: "admission",
        message: expect.stringContaining(
          "out-of-band deletion by envtest-admin (from admission)",
        ) as unknown,
      },
    ]);
  });

  it("names the user an Audit-mode policy let through, with the UID the API server gave", async () => {
    const ns = await testNamespace("attr-audit");
    await guarded(ns, ["web", "probe"]);
    const deployer = await serviceAccountUser(ns, "deployer");
    const auditor = await startAuditor();
    await startAdmission(ns);
    await policyReady(ns, { mode: "Audit" });
    // Audit mode denies nobody: the webhook shows it judges by the facts it writes.
    await factsFlowing(ns, "probe", "bob");

    await deployer.client.mergePatch(
      ref(ns, "web"),
      { data: { LOG_LEVEL: "debug" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually(
      "the deployer's record",
      () => changesOf(auditor.records(ns), "web").length > 0,
    );
    const [record] = changesOf(auditor.records(ns), "web");
    expect(record).toMatchObject({
      type: "drift-detected",
      user: {
        username: deployer.username,
        uid: deployer.uid,
        groups: expect.arrayContaining([`system:serviceaccounts:${ns}`]) as unknown,
      },
      userSource: "admission",
      diff: [{ path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" }],
    });
    const [fact] = await factEvents(ns, "web");
    expect(fact?.["reason"]).toBe("AuditMode");
    expect(fact?.metadata.annotations?.["gitops-guard.io/uid"]).toBe(deployer.uid);
  });

  it("names who edited an object a GitSync applied that no policy selects, seen or undone unseen", async () => {
    const ns = await testNamespace("attr-inv");
    const journalPath = lastingJournalPath("inventory-journal-");
    await guarded(ns, ["seen", "unseen", "probe"]);
    const first = await startAuditor({ journalPath });
    // No GuardPolicy at all: every write is allowed as NoPolicy.
    await startAdmission(ns);
    await factsFlowing(ns, "probe", "alice");

    const alice = await kubectl("alice", [
      "patch",
      "configmap",
      "seen",
      "-n",
      ns,
      "-p",
      '{"data":{"LOG_LEVEL":"debug"}}',
    ]);
    expect(alice.code, alice.stderr).toBe(0);
    await eventually(
      "the seen edit's record",
      () => changesOf(first.records(ns), "seen").length > 0,
    );
    expect(changesOf(first.records(ns), "seen")).toMatchObject([
      {
        user: { username: "alice" },
        userSource: "admission",
        diff: [{ path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" }],
      },
    ]);
    const [fact] = await factEvents(ns, "seen");
    expect(fact?.["reason"]).toBe("NoPolicy");
    expect(fact?.metadata.annotations?.["gitops-guard.io/changed-fields"]).toBe(
      JSON.stringify(["/data/LOG_LEVEL"]),
    );
    await first.stop();

    // While no auditor runs: alice's edit, and self-heal undoing it. Only the fact's fields
    // (a field Git sets) make it drift to journal.
    await clientAs("alice").mergePatch(
      ref(ns, "unseen"),
      { data: { LOG_LEVEL: "trace" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually(
      "the unseen edit's fact",
      async () => (await factEvents(ns, "unseen")).length > 0,
    );
    await clientAs("reconciler").apply(ownedConfigMap(ns, "unseen"), {
      fieldManager: FIELD_MANAGER,
    });
    const second = await startAuditor({ journalPath });
    await eventually(
      "the unseen edit's record",
      () => changesOf(second.records(ns), "unseen").length > 0,
    );
    expect(changesOf(second.records(ns), "unseen")).toMatchObject([
      {
        user: { username: "alice" },
        userSource: "admission",
        diff: [{ path: "/data/LOG_LEVEL", op: "replace" }],
        message: expect.stringContaining("not seen as drift by the auditor") as unknown,
      },
    ]);
  });

  it("names who scaled a Deployment through its scale subresource, on the Deployment's drift", async () => {
    const ns = await testNamespace("attr-scale");
    const web = deployment(ns);
    await clientAs("reconciler").apply(web, { fieldManager: FIELD_MANAGER });
    await gitSyncWithInventory(ns, [web]);
    const auditor = await startAuditor();
    await startAdmission(ns);
    const policy = await createPolicy(ns, {
      match: { resources: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] },
    });
    await eventually(
      "the policy Ready",
      async () => (await readyOf(policy))?.["status"] === "True",
    );
    await eventually("the webhook to judge requests", async () => {
      const probe = ["label", "deployment", "web", "-n", ns, "probe=1", "--dry-run=server"];
      const r = await kubectl("bob", probe);
      return r.code !== 0 && r.stderr.includes("managed from Git");
    });

    // kubectl scale writes deployments/scale: the request's kind is autoscaling/v1 Scale.
    const scaled = await kubectl("alice", ["scale", "deployment/web", "-n", ns, "--replicas=3"]);
    expect(scaled.code, scaled.stderr).toBe(0);
    const isWeb = (r: JournalRecord): boolean => r.object?.kind === "Deployment";
    await eventually("the scale's record", () => changesOf(auditor.records(ns), "web").some(isWeb));
    expect(changesOf(auditor.records(ns), "web").filter(isWeb)).toMatchObject([
      {
        object: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        user: { username: "alice" },
        userSource: "admission",
        diff: [{ path: "/spec/replicas", op: "replace", from: 1, to: 3 }],
      },
    ]);
    const [fact] = await factEvents(ns, "web");
    expect(fact?.["reason"]).toBe("ScaleSubresource");
    expect(fact?.["regarding"]).toMatchObject({ apiVersion: "apps/v1", kind: "Deployment" });
  });

  it("makes no fact of a write a ValidatingAdmissionPolicy refused: the webhook is never called", async () => {
    const ns = await testNamespace("attr-vap");
    await guarded(ns, ["frozen", "marker"]);
    await startAdmission(ns);
    await policyReady(ns, {});
    await webhookServing(ns, "frozen");
    await refuseUpdatesByVap(ns, "frozen");
    // Dry runs make no fact: wait on them until the API server enforces the VAP.
    const label = ["label", "configmap", "frozen", "-n", ns, "x=1"];
    await eventually("the ValidatingAdmissionPolicy to refuse", async () => {
      const r = await kubectl("admin", [...label, "--dry-run=server"]);
      return r.code !== 0 && r.stderr.includes("frozen by a VAP");
    });
    const refused = await kubectl("admin", label);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("frozen by a VAP");
    // A later write's fact: the webhook writes each fact as it admits, so the refused write's
    // would be there by now. The API server ran the VAP first, and never called the webhook.
    const marker = await kubectl("admin", ["label", "configmap", "marker", "-n", ns, "x=1"]);
    expect(marker.code, marker.stderr).toBe(0);
    await eventually(
      "the later write's fact",
      async () => (await factEvents(ns, "marker")).length > 0,
    );
    expect(await factEvents(ns, "frozen")).toEqual([]);
  });
});

/** A ValidatingAdmissionPolicy (and binding, in ns only) refusing every update of ns/name. */
async function refuseUpdatesByVap(ns: string, name: string): Promise<void> {
  const admin = clientAs("admin");
  const api = "admissionregistration.k8s.io/v1";
  const vapName = `refuse-${ns}`;
  await admin.create({
    apiVersion: api,
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: vapName },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["UPDATE"],
            resources: ["configmaps"],
          },
        ],
      },
      validations: [
        { expression: `object.metadata.name != "${name}"`, message: "frozen by a VAP" },
      ],
    },
  });
  await admin.create({
    apiVersion: api,
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: vapName },
    spec: {
      policyName: vapName,
      validationActions: ["Deny"],
      matchResources: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
      },
    },
  });
  onTestFinished(async () => {
    await admin.delete({
      apiVersion: api,
      kind: "ValidatingAdmissionPolicyBinding",
      name: vapName,
    });
    await admin.delete({ apiVersion: api, kind: "ValidatingAdmissionPolicy", name: vapName });
  });
}
