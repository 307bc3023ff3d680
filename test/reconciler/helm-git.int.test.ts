/**
 * A Helm chart in Git (spec.path holds Chart.yaml), rendered by the real helm v4 and applied by
 * the reconciler like any manifest: a local dependency, the chart's CRDs first, values merged in
 * order (a SOPS-encrypted values file, inline values, a Secret), the cluster's version and API
 * list as .Capabilities, a post-render patch, a values Secret that changes, one that is missing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientAs, testNamespace } from "../envtest/context.js";
import { ensureGoTool } from "../tools/go-tools.js";
import { GitRepo } from "./helpers/git-repo.js";
import { configMapData } from "./helpers/helm-tests.js";
import {
  condition,
  putGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";
import { ageKeySecretData } from "./helpers/sops-fixtures.js";

const AGE_RECIPIENT = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";

const CHART = {
  "charts/app/Chart.yaml": [
    "apiVersion: v2",
    "name: app",
    "version: 1.2.3",
    "dependencies:",
    "  - name: lib",
    "    version: 0.1.0",
    "    repository: file://../lib",
    "",
  ].join("\n"),
  "charts/app/values.yaml":
    "greeting: hello\nlevel: info\nlist: [a, b]\nlib:\n  libValue: from-defaults\n",
  "charts/app/crds/widgets.yaml": [
    "apiVersion: apiextensions.k8s.io/v1",
    "kind: CustomResourceDefinition",
    "metadata: { name: widgets.helm-test.gitops-guard.io }",
    "spec:",
    "  group: helm-test.gitops-guard.io",
    "  names: { kind: Widget, plural: widgets, singular: widget }",
    "  scope: Namespaced",
    "  versions:",
    "    - name: v1",
    "      served: true",
    "      storage: true",
    "      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }",
    "",
  ].join("\n"),
  "charts/app/templates/settings.yaml": [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: {{ .Release.Name }}-settings",
    "data:",
    "  greeting: {{ .Values.greeting | quote }}",
    "  level: {{ .Values.level | quote }}",
    '  list: {{ join "," .Values.list | quote }}',
    '  token: {{ .Values.token | default "none" | quote }}',
    "  namespace: {{ .Release.Namespace | quote }}",
    "  kube: {{ .Capabilities.KubeVersion.Version | quote }}",
    '  pdb: {{ .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" | quote }}',
    '  widgets: {{ .Capabilities.APIVersions.Has "helm-test.gitops-guard.io/v1" | quote }}',
    "",
  ].join("\n"),
  "charts/app/templates/widget.yaml": [
    "apiVersion: helm-test.gitops-guard.io/v1",
    "kind: Widget",
    "metadata: { name: {{ .Release.Name }}-widget }",
    "spec: { size: 3 }",
    "",
  ].join("\n"),
  "charts/app/templates/tests/test.yaml": [
    "apiVersion: v1",
    "kind: Pod",
    "metadata:",
    "  name: {{ .Release.Name }}-test",
    "  annotations: { helm.sh/hook: test }",
    "spec: { containers: [{ name: t, image: busybox }] }",
    "",
  ].join("\n"),
  "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\n",
  "charts/lib/values.yaml": "libValue: lib-default\n",
  "charts/lib/templates/lib.yaml": [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata: { name: {{ .Release.Name }}-lib }",
    "data: { value: {{ .Values.libValue | quote }} }",
    "",
  ].join("\n"),
};

let harness: Harness;
let work: string;
beforeAll(async () => {
  harness = await startReconciler();
  work = mkdtempSync(join(tmpdir(), "gg-helm-git-"));
});
afterAll(async () => {
  await harness.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A values file encrypted by the real sops for the test age key. */
function sopsValues(plain: string): string {
  const file = join(work, "secret-values.yaml");
  writeFileSync(file, plain);
  return execFileSync(
    ensureGoTool("sops"),
    ["--encrypt", "--age", AGE_RECIPIENT, "--input-type", "yaml", "--output-type", "yaml", file],
    { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", HOME: work } },
  );
}

async function valuesSecret(ns: string, values: string): Promise<void> {
  await clientAs("admin").apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "app-values", namespace: ns },
    stringData: { "values.yaml": values },
  });
}

describe("a Helm chart in Git", () => {
  it("renders with helm and applies like any manifest: dependency, CRDs, values in order, capabilities", async () => {
    const ns = await testNamespace("helm-git");
    const admin = clientAs("admin");
    await admin.apply({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "sops-age", namespace: ns },
      data: ageKeySecretData(),
    });
    await valuesSecret(ns, "level: from-secret\n");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("chart", {
      ...CHART,
      "env/prod.yaml": "greeting: from-file\nlevel: from-file\nlist: [x]\n",
      "env/secret.yaml": sopsValues("token: s3cr3t-from-sops\n"),
    });
    await putGitSync(ns, "shop", {
      url: repo.url,
      ref: { branch: "main" },
      path: "charts/app",
      decryption: { provider: "sops", secretRef: { name: "sops-age" } },
      helm: {
        releaseName: "web",
        valueFiles: ["env/prod.yaml", "env/secret.yaml"],
        values: { level: "inline", lib: { libValue: "inline-lib" } },
        valuesFrom: [{ kind: "Secret", name: "app-values" }],
        postRender: {
          patches: [
            {
              patch: "- op: add\n  path: /data/patched\n  value: by-post-render\n",
              target: { kind: "ConfigMap", name: "web-settings" },
            },
          ],
        },
      },
    });
    const synced = await waitForApplied(ns, "shop", c1);
    expect(await configMapData(ns, "web-settings")).toMatchObject({
      greeting: "from-file",
      level: "from-secret",
      list: "x",
      token: "s3cr3t-from-sops",
      namespace: ns,
      pdb: "true",
      patched: "by-post-render",
      // Its own CRD was not served yet when the first sync rendered the chart.
      widgets: "false",
    });
    expect((await configMapData(ns, "web-settings"))?.["kube"]).toMatch(/^v1\.\d+\.\d+$/);
    expect(await configMapData(ns, "web-lib")).toEqual({ value: "inline-lib" });
    const widget = await admin.get({
      apiVersion: "helm-test.gitops-guard.io/v1",
      kind: "Widget",
      namespace: ns,
      name: "web-widget",
    });
    expect(widget?.["spec"]).toEqual({ size: 3 });
    const inventory = (synced.status?.inventory ?? []).map((e) => `${e.kind}/${e.name}`).sort();
    expect(inventory).toEqual([
      "ConfigMap/web-lib",
      "ConfigMap/web-settings",
      "CustomResourceDefinition/widgets.helm-test.gitops-guard.io",
      "Widget/web-widget",
    ]);
    // Chart.yaml's name and version, a digest of the values: no value reaches the status.
    expect(synced.status?.helm).toEqual({
      chart: "app",
      version: "1.2.3",
      valuesDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
    });
    expect(JSON.stringify(synced.status)).not.toContain("s3cr3t");

    // An out-of-band edit of an object from the chart is healed like any other.
    await admin.mergePatch(
      { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "web-settings" },
      { data: { greeting: "edited-by-hand" } },
      { fieldManager: "kubectl-edit" },
    );
    await expect
      .poll(async () => (await configMapData(ns, "web-settings"))?.["greeting"])
      .toBe("from-file");

    // The values Secret changes: the next sync applies the new values.
    await valuesSecret(ns, "level: changed-in-secret\n");
    await requestSync(ns, "shop");
    await waitForApplied(ns, "shop", c1);
    await expect
      .poll(async () => (await configMapData(ns, "web-settings"))?.["level"])
      .toBe("changed-in-secret");
    // Rendered again against the cluster as it is now: the CRD is served.
    expect((await configMapData(ns, "web-settings"))?.["widgets"]).toBe("true");
  });

  it("fails the GitSync naming a missing values Secret, and renders once it is optional", async () => {
    const ns = await testNamespace("helm-missing");
    const repo = await GitRepo.create();
    const c1 = await repo.commit("chart", CHART);
    const spec = {
      url: repo.url,
      ref: { branch: "main" },
      path: "charts/app",
      helm: { valuesFrom: [{ kind: "Secret", name: "nowhere", key: "prod.yaml" }] },
    };
    await putGitSync(ns, "shop", spec);
    const failed = await waitForReadyReason(ns, "shop", "HelmValuesMissing");
    expect(condition(failed, "Ready")?.message).toContain(
      "spec.helm.valuesFrom Secret nowhere key prod.yaml does not exist",
    );
    await putGitSync(ns, "shop", {
      ...spec,
      helm: { valuesFrom: [{ kind: "Secret", name: "nowhere", key: "prod.yaml", optional: true }] },
    });
    await waitForApplied(ns, "shop", c1);
    expect(await configMapData(ns, "shop-settings")).toMatchObject({
      greeting: "hello",
      level: "info",
    });
  });
});
