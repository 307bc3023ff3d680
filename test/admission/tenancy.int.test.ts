/**
 * Admission knows who owns what, on the real API server: a tenant GitSync's service account is
 * a reconciler only for its own GitSync's objects (and unowned ones of its own namespace), so
 * team A's account cannot change team B's object even where RBAC lets it; with the webhook
 * stopped, the compiled ValidatingAdmissionPolicy keeps the namespace bound.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { backstopName } from "../../src/admission/vap/compile.js";
import { GITSYNC } from "../../src/reconciler/names.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "../reconciler/helpers/git-repo.js";
import {
  putGitSync,
  startReconciler,
  waitForApplied,
  type Harness,
} from "../reconciler/helpers/harness.js";
import { configMap, yaml } from "../reconciler/helpers/manifests.js";
import { tenantAccount } from "../reconciler/helpers/tenants.js";
import { createPolicy, kubectl, readyOf, startAdmission } from "./harness.js";

const GUARD_CONFIGMAPS = {
  match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] },
  reconcilers: { presets: ["gitops-guard"] },
};

let reconciler: Harness;
beforeAll(async () => {
  reconciler = await startReconciler({}, {}, { defaultServiceAccount: "default" });
});
afterAll(async () => {
  await reconciler.stop();
});

function as(user: string, args: readonly string[]): ReturnType<typeof kubectl> {
  return kubectl("admin", [`--as=${user}`, ...args]);
}

/** ConfigMap "platform" in namespace, applied by a platform GitSync (orphaned when it goes). */
async function platformConfigMap(namespace: string): Promise<void> {
  const platform = await GitRepo.create();
  const commit = await platform.commit("p", {
    "p.yaml": yaml(configMap("platform", { v: "1" }, { namespace })),
  });
  const name = `platform-${namespace}`;
  await putGitSync("gitops-guard-system", name, {
    url: platform.url,
    ref: { branch: "main" },
    deletionPolicy: "Orphan",
  });
  onTestFinished(async () => {
    await clientAs("admin").delete({ ...GITSYNC, namespace: "gitops-guard-system", name });
  });
  await waitForApplied("gitops-guard-system", name, commit);
}

/** The API server loads a changed backstop asynchronously: until it trusts user in namespace. */
async function trustedIn(user: string, namespace: string): Promise<void> {
  await eventually(`the API server to trust ${user} in ${namespace}`, async () => {
    const r = await as(user, ["create", "configmap", "probe", "-n", namespace, "--dry-run=server"]);
    return r.code === 0;
  });
}

describe("admission and tenant GitSyncs", () => {
  it("accepts a tenant's account for its own GitSync's objects only, webhook or backstop", async () => {
    const nsA = await testNamespace("adm-a");
    const nsB = await testNamespace("adm-b");
    const running = await startAdmission(nsA, { namespaces: [nsA, nsB] });
    const policy = await createPolicy(nsA, GUARD_CONFIGMAPS);
    const a = await tenantAccount(nsA, "deployer", [nsA, nsB]);
    const b = await tenantAccount(nsB, "deployer");
    const repo = await GitRepo.create();
    const commit = await repo.commit("b", {
      "shared.yaml": yaml(configMap("shared", { owner: "b" })),
    });
    await putGitSync(nsB, "b", {
      url: repo.url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
    });
    await putGitSync(nsA, "a", {
      url: (await GitRepo.create()).url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
      suspend: true,
    });
    // Applied as b's account through the webhook and the backstop: both know it as b's reconciler.
    await waitForApplied(nsB, "b", commit);
    await eventually("the backstop lists both tenants", async () => {
      const vap = await clientAs("admin").get({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        name: backstopName(policy),
      });
      return JSON.stringify(vap?.["spec"] ?? {}).includes(`${nsA}/${a.username}`);
    });
    expect(String((await readyOf(policy))?.["status"])).toBe("True");
    await trustedIn(a.username, nsA);

    // a's account has RBAC in nsB, but the object is b's GitSync's.
    const takeOver = await as(a.username, [
      "patch",
      "configmap",
      "shared",
      "-n",
      nsB,
      "-p",
      '{"data":{"owner":"a"}}',
    ]);
    expect(takeOver.code).toBe(1);
    expect(takeOver.stderr).toContain(`${a.username} may not change it directly`);
    // In its own namespace, the namespace bound (all CEL can say) lets it through, and the
    // webhook's inventory bound still refuses an object a platform GitSync owns there.
    await platformConfigMap(nsA);
    await eventually("the webhook knows the platform GitSync's inventory", async () => {
      const r = await as(a.username, [
        "label",
        "configmap",
        "platform",
        "-n",
        nsA,
        "x=1",
        "--dry-run=server",
      ]);
      return r.stderr.includes("admission webhook");
    });
    const platformEdit = await as(a.username, ["label", "configmap", "platform", "-n", nsA, "x=1"]);
    expect(platformEdit.code).toBe(1);
    expect(platformEdit.stderr).toContain("admission webhook");
    expect(platformEdit.stderr).toContain("denied the request");
    const stray = await as(a.username, ["create", "configmap", "stray", "-n", nsB]);
    expect(stray.code).toBe(1);
    const own = await as(a.username, [
      "create",
      "configmap",
      "own",
      "-n",
      nsA,
      "--from-literal=v=1",
    ]);
    expect(own.code, own.stderr).toBe(0);
    const owner = await as(b.username, [
      "patch",
      "configmap",
      "shared",
      "-n",
      nsB,
      "-p",
      '{"data":{"owner":"b2"}}',
    ]);
    expect(owner.code, owner.stderr).toBe(0);

    // Webhook down (failurePolicy Ignore): the CEL backstop keeps the namespace bound. The API
    // server loads a policy asynchronously; it runs policies before webhooks, so a denial that
    // names the policy shows it is in force before the webhook goes.
    await eventually("the API server to enforce the backstop itself", async () => {
      const r = await as(a.username, [
        "create",
        "configmap",
        "stray2",
        "-n",
        nsB,
        "--dry-run=server",
      ]);
      return r.stderr.includes(`ValidatingAdmissionPolicy '${backstopName(policy)}'`);
    });
    await running.stop();
    const outage = await as(a.username, ["create", "configmap", "stray2", "-n", nsB]);
    expect(outage.code).toBe(1);
    expect(outage.stderr).toContain(`ValidatingAdmissionPolicy '${backstopName(policy)}'`);
    const ownDuringOutage = await as(a.username, ["create", "configmap", "own2", "-n", nsA]);
    expect(ownDuringOutage.code, ownDuringOutage.stderr).toBe(0);
  });

  it("does not trust an inventory entry a tenant wrote itself into its GitSync's status", async () => {
    // In the tenant's own namespace, where the backstop's namespace bound lets its account
    // through: only the webhook's ownership rule stands between it and the platform's object.
    const nsA = await testNamespace("adm-a");
    await startAdmission(nsA, { namespaces: [nsA] });
    await createPolicy(nsA, GUARD_CONFIGMAPS);
    const a = await tenantAccount(nsA, "deployer");
    // a's role may also write its GitSync's status (a tenant given too much, or a leaked token).
    const admin = clientAs("admin");
    const rbac = "rbac.authorization.k8s.io/v1";
    await admin.create({
      apiVersion: rbac,
      kind: "Role",
      metadata: { name: "status-writer", namespace: nsA },
      rules: [
        { apiGroups: ["gitops-guard.io"], resources: ["gitsyncs/status"], verbs: ["get", "patch"] },
      ],
    });
    await admin.create({
      apiVersion: rbac,
      kind: "RoleBinding",
      metadata: { name: "status-writer", namespace: nsA },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "status-writer" },
      subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: nsA }],
    });
    await platformConfigMap(nsA);
    // Suspended: the reconciler never writes its status, so the claim below stays.
    await putGitSync(nsA, "a", {
      url: (await GitRepo.create()).url,
      ref: { branch: "main" },
      serviceAccountName: "deployer",
      suspend: true,
    });
    await trustedIn(a.username, nsA);
    const claim = {
      status: {
        inventory: [{ apiVersion: "v1", kind: "ConfigMap", namespace: nsA, name: "platform" }],
      },
    };
    const wrote = await as(a.username, [
      "patch",
      "gitsync",
      "a",
      "-n",
      nsA,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify(claim),
    ]);
    expect(wrote.code, wrote.stderr).toBe(0);
    // nsA/a sorts before gitops-guard-system/...: once the webhook reads the claim, its
    // message names a's GitSync as where the object comes from.
    const takeOver = ["label", "configmap", "platform", "-n", nsA, "x=1"];
    let last = "";
    await eventually("the webhook to read a's claim", async () => {
      const r = await as(a.username, [...takeOver, "--dry-run=server"]);
      last = r.stderr;
      const webhook = r.stderr.includes("admission webhook");
      return r.code === 0 || (webhook && r.stderr.includes(`GitSync ${nsA}/a`));
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answer: ${last}`);
    });
    const refused = await as(a.username, takeOver);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("admission webhook");
    expect(refused.stderr).toContain(`${a.username} may not change it directly`);
  });
});
