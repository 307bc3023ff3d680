/**
 * A sync that changes nothing a render depends on runs no helm: the reconciler's helm is the real
 * one behind a wrapper that counts its runs. The proof that nothing ran is the next sync having
 * finished (its lastSyncTime), then a change of values that does run helm again.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  putGitSync,
  startReconciler,
  syncOnce,
  waitForApplied,
  type Harness,
} from "./helpers/harness.js";
import { ensureHelm } from "./helpers/kustomize.js";

let harness: Harness;
let dir: string;
let log: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gg-helm-cache-"));
  log = join(dir, "runs.log");
  const wrapper = join(dir, "helm");
  writeFileSync(wrapper, `#!/bin/sh\necho "$1" >> '${log}'\nexec '${ensureHelm()}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  harness = await startReconciler({ helm: wrapper });
});
afterAll(async () => {
  await harness.stop();
  rmSync(dir, { recursive: true, force: true });
});

function templateRuns(): number {
  try {
    return readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l === "template").length;
  } catch {
    return 0;
  }
}

async function values(ns: string, level: string): Promise<void> {
  await clientAs("admin").apply({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "values", namespace: ns },
    data: { "values.yaml": `level: ${level}\n` },
  });
}

describe("Helm renders are kept across syncs", () => {
  it("runs no helm when chart, values, spec and cluster are unchanged, and again when values change", async () => {
    const ns = await testNamespace("helm-cache");
    await values(ns, "info");
    const repo = await GitRepo.create();
    const commit = await repo.commit("chart", {
      "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
      "chart/templates/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { level: {{ .Values.level | quote }} }\n",
    });
    await putGitSync(ns, "app", {
      url: repo.url,
      ref: { branch: "main" },
      path: "chart",
      helm: { valuesFrom: [{ kind: "ConfigMap", name: "values" }] },
    });
    await waitForApplied(ns, "app", commit);
    const first = templateRuns();
    expect(first).toBeGreaterThanOrEqual(1);

    await syncOnce(harness, ns, "app");
    await syncOnce(harness, ns, "app");
    expect(templateRuns()).toBe(first);

    await values(ns, "debug");
    await syncOnce(harness, ns, "app");
    expect(templateRuns()).toBe(first + 1);
    const cm = await clientAs("admin").get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns,
      name: "settings",
    });
    expect(cm?.data).toEqual({ level: "debug" });
  });
});
