// `gitops-guard diff` on the real API server with a real Git repository: what a sync would
// change (a new value, a new object, a prune), Secret values never printed, nothing changed by
// looking, and exit 0 once the cluster equals Git.
import { expect, it, onTestFinished } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { gitopsGuard } from "../cli/harness.js";
import { clientAs, envtest, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import { putGitSync, requestSync, startReconciler, waitForApplied } from "./helpers/harness.js";
import { ensureHelm, ensureKustomize } from "./helpers/kustomize.js";
import { configMap, yaml } from "./helpers/manifests.js";
import { tenantAccount } from "./helpers/tenants.js";

const PASSWORD = "pw-diff-7f3a-never-printed";
const NEW_PASSWORD = "pw-diff-91bc-never-printed";

const secret = (ns: string, password: string): object => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "db", namespace: ns },
  stringData: { password },
});

function diff(ns: string, ...extra: string[]) {
  return gitopsGuard(
    [
      "diff",
      `${ns}/apps`,
      "--kubeconfig",
      envtest().kubeconfigs.admin,
      "--kustomize",
      ensureKustomize(),
      ...extra,
    ],
    { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
  );
}

it("shows what a sync would change, live against Git, without changing anything", async () => {
  const ns = await testNamespace("diff");
  const repo = await GitRepo.create();
  const first = await repo.commit("v1", {
    "settings.yaml": yaml(configMap("settings", { v: "1", extra: "git" }, { namespace: ns })),
    "old.yaml": yaml(configMap("old", { v: "1" }, { namespace: ns })),
    "secret.yaml": yaml(secret(ns, PASSWORD)),
  });
  // Running throughout (it removes the test's repositories when stopped); the GitSync's
  // interval is an hour, so it syncs the second commit only when asked.
  const reconciler = await startReconciler();
  onTestFinished(() => reconciler.stop());
  await putGitSync(ns, "apps", {
    url: repo.url,
    ref: { branch: "main" },
    prune: true,
    ignoreFields: [{ kinds: ["ConfigMap"], jsonPointers: ["/data/extra"] }],
  });
  await waitForApplied(ns, "apps", first);
  const clean = await diff(ns);
  expect(clean.code, clean.err + clean.out).toBe(0);

  const second = await repo.commit("v2", {
    "settings.yaml": yaml(configMap("settings", { v: "2", extra: "git" }, { namespace: ns })),
    "old.yaml": null,
    "new.yaml": yaml(configMap("new", { v: "1" }, { namespace: ns })),
    "secret.yaml": yaml(secret(ns, NEW_PASSWORD)),
  });
  const shown = await diff(ns);
  expect(shown.code, shown.err).toBe(1);
  expect(shown.out).toContain(`revision main@sha1:${second}`);
  expect(shown.out).toContain(`~ ConfigMap/${ns}/settings`);
  expect(shown.out).toContain('-  v: "1"');
  expect(shown.out).toContain('+  v: "2"');
  expect(shown.out).toContain(`+ ConfigMap/${ns}/new`);
  expect(shown.out).toContain(`- ConfigMap/${ns}/old (prune)`);
  expect(shown.out).toContain(`~ Secret/${ns}/db`);
  expect(shown.out).toContain('+  password: "*** (after)"');
  expect(shown.out).toContain("3 to apply, 1 to prune, 0 unchanged, 0 refused");
  for (const value of [PASSWORD, NEW_PASSWORD]) {
    expect(shown.out + shown.err).not.toContain(value);
    expect(shown.out).not.toContain(Buffer.from(value).toString("base64"));
  }
  const json = await diff(ns, "-o", "json");
  const parsed = JSON.parse(json.out) as { prunes: string[]; changes: { action: string }[] };
  expect(parsed.prunes).toEqual([`ConfigMap/${ns}/old`]);

  // Looking changed nothing: the dry-runs left the live objects as they were.
  const admin = clientAs("admin");
  const live = await admin.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace: ns,
    name: "settings",
  });
  expect(live?.data).toEqual({ v: "1", extra: "git" });
  expect(
    await admin.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "new" }),
  ).toBeUndefined();

  await requestSync(ns, "apps");
  await waitForApplied(ns, "apps", second);
  // An ignored field someone else changed is not something a sync would change.
  await admin.mergePatch(
    { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" },
    { data: { extra: "set-by-someone-else" } },
  );
  // As the reconciler's service account (what the sync itself runs as), the same answer.
  const asReconciler = await diff(
    ns,
    "--as",
    "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
  );
  expect(asReconciler.code, asReconciler.err + asReconciler.out).toBe(0);
  const after = await diff(ns);
  expect(after.code, after.out).toBe(0);
  expect(after.out).toContain("0 to apply, 0 to prune, 3 unchanged, 0 refused");
});

it("shows what a Helm GitSync's next sync would change: new values from Git, rendered by helm", async () => {
  const ns = await testNamespace("diff-helm");
  const repo = await GitRepo.create();
  const chart = {
    "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "chart/templates/cm.yaml":
      "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { level: {{ .Values.level | quote }} }\n",
  };
  const first = await repo.commit("v1", { ...chart, "values.yaml": "level: info\n" });
  const reconciler = await startReconciler();
  onTestFinished(() => reconciler.stop());
  await putGitSync(ns, "apps", {
    url: repo.url,
    ref: { branch: "main" },
    path: "chart",
    helm: { valueFiles: ["values.yaml"] },
  });
  await waitForApplied(ns, "apps", first);
  expect((await diff(ns, "--helm", ensureHelm())).code).toBe(0);
  await repo.commit("v2", { "values.yaml": "level: debug\n" });
  const shown = await diff(ns, "--helm", ensureHelm());
  expect(shown.code, shown.err).toBe(1);
  expect(shown.out).toContain(`~ ConfigMap/${ns}/settings`);
  expect(shown.out).toContain("-  level: info");
  expect(shown.out).toContain("+  level: debug");
});

it("names a GitSync that does not exist, with exit status 2", async () => {
  const ns = await testNamespace("diff");
  const missing = await diff(ns);
  expect(missing.code).toBe(2);
  expect(missing.err).toContain(`GitSync ${ns}/apps does not exist`);
  const bad = await gitopsGuard(["diff", "a/b/c"], { env: {} });
  expect(bad.code).toBe(2);
  expect(bad.err).toContain("GG_DIFF_TARGET_INVALID");
});

it("dry-runs as the GitSync's account: a ClusterRoleBinding it may not create is refused, though the admin running diff could", async () => {
  const ns = await testNamespace("diff-tenant");
  const sa = await tenantAccount(ns, "deployer");
  const binding = `${ns}-escalate`;
  const repo = await GitRepo.create();
  await repo.commit("own namespace and cluster-wide", {
    "a.yaml": yaml(configMap("a", { v: "1" }, { namespace: ns })),
    "crb.yaml": yaml({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: binding },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: ns }],
    }),
  });
  // Never synced: diff alone reads the GitSync (and its Git) and dry-runs.
  await putGitSync(ns, "apps", {
    url: repo.url,
    ref: { branch: "main" },
    serviceAccountName: "deployer",
  });
  const shown = await diff(ns);
  expect(shown.code, shown.err).toBe(1);
  expect(shown.err).toContain(`dry-run as ${sa.username} (the GitSync's account)`);
  const refusal = shown.out.split("\n").find((l) => l.startsWith("! ")) ?? "";
  expect(refusal).toContain(`ClusterRoleBinding/${binding}`);
  expect(refusal).toContain(sa.username);
  expect(refusal).toContain("forbidden");
  expect(shown.out).toContain(`+ ConfigMap/${ns}/a`);
  expect(shown.out).toContain("1 to apply, 0 to prune, 0 unchanged, 1 refused");

  // The admin running diff may create it: as themselves (--as overrides), nothing is refused.
  const asAdmin = await diff(ns, "--as", "envtest-admin", "--as-group", "system:masters");
  expect(asAdmin.err).toContain("dry-run as envtest-admin (--as)");
  expect(asAdmin.out).toContain(`+ ClusterRoleBinding/${binding}`);
  expect(asAdmin.out).toContain("2 to apply, 0 to prune, 0 unchanged, 0 refused");
  // A GitSync that names no account, with the controller's default: that account (no rights).
  await putGitSync(ns, "apps", { url: repo.url, ref: { branch: "main" } });
  const byDefault = await diff(ns, "--default-service-account", "default");
  expect(byDefault.err).toContain(`dry-run as system:serviceaccount:${ns}:default`);
  expect(byDefault.out).toContain("0 to apply, 0 to prune, 0 unchanged, 2 refused");
});
