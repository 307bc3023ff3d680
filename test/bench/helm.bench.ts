// Helm charts through the reconciler (issue 17), next to baselines measured in the same run:
// 1. a chart of 200 objects from Git: from creating the GitSync until it is Ready with 200
//    objects, next to `helm template | kubectl apply --server-side` of the same chart;
// 2. a sync that changes nothing (a requested sync of the same commit and values): how many
//    helm runs (goal 0) and the controller's CPU for it (goal < 50 ms), next to the CPU of the
//    same process between two reads of /metrics with no sync (what reading the figure costs).
// The controller is `gitops-guard run --components reconciler`, its own process; its helm is the
// real one behind a wrapper that counts runs.
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { REQUESTED_AT_ANNOTATION } from "../../src/reconciler/names.js";
import { startControlPlane } from "../envtest/control-plane.js";
import { ensureHelm } from "../reconciler/helpers/kustomize.js";
import { removeTempDirs, tempDir } from "../reconciler/helpers/temp.js";
import { createNamespace, repoWith, waitGitSyncReady } from "./reconciler-scale-fixtures.js";
import {
  ensureBuilt,
  startReconcilerProcess,
  type ReconcilerProcess,
} from "./reconciler-scale-process.js";
import { fmt, median, ratioLine } from "./stats.js";

const OBJECTS = 200;
const NO_CHANGE_SYNCS = 10;
const NS = "bench-helm";
const GITSYNC = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync" } as const;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const CHART = {
  "chart/Chart.yaml": "apiVersion: v2\nname: many\nversion: 1.0.0\n",
  "chart/values.yaml": `count: ${String(OBJECTS)}\nlevel: info\n`,
  "chart/templates/many.yaml": [
    "{{- range $i := until (int .Values.count) }}",
    "---",
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata: { name: cm-{{ $i }} }",
    "data: { index: {{ $i | quote }}, level: {{ $.Values.level | quote }} }",
    "{{- end }}",
    "",
  ].join("\n"),
};

/** A folder holding a `helm` that logs each run's subcommand and runs the real one. */
function countingHelm(): { dir: string; runs: () => number } {
  const dir = tempDir("gg-bench-helm-");
  const log = join(dir, "runs.log");
  writeFileSync(
    join(dir, "helm"),
    `#!/bin/sh\necho "$1" >> '${log}'\nexec '${ensureHelm()}' "$@"\n`,
  );
  chmodSync(join(dir, "helm"), 0o755);
  const runs = (): number => {
    try {
      return readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l === "template").length;
    } catch {
      return 0;
    }
  };
  return { dir, runs };
}

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? "NaN");
}

async function reconciles(
  p: ReconcilerProcess,
  name = "many",
): Promise<{ count: number; cpuMs: number }> {
  const text = await p.metrics();
  const count = Number(
    new RegExp(
      `gitops_guard_gitsync_reconcile_duration_seconds_count\\{namespace="${NS}",name="${name}"\\} (\\d+)`,
    ).exec(text)?.[1] ?? "0",
  );
  return { count, cpuMs: metric(text, "process_cpu_seconds_total") * 1000 };
}

async function requestSync(admin: KubeClient, name: string, n: number): Promise<void> {
  await admin.apply(
    {
      ...GITSYNC,
      metadata: {
        name,
        namespace: NS,
        annotations: { [REQUESTED_AT_ANNOTATION]: `bench-${String(n)}` },
      },
    },
    { fieldManager: "bench-requester" },
  );
}

async function noChangeSync(
  p: ReconcilerProcess,
  admin: KubeClient,
  at: { name: string; n: number },
): Promise<number> {
  const before = await reconciles(p, at.name);
  await requestSync(admin, at.name, at.n);
  const deadline = performance.now() + 60_000;
  for (;;) {
    const now = await reconciles(p, at.name);
    if (now.count > before.count) return now.cpuMs - before.cpuMs;
    if (performance.now() > deadline) throw new Error("no reconcile within 60 s of the request");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `helm template` of the chart, as a user would run it. */
function helmTemplateOf(release: string, chartDir: string, namespace: string): string {
  return execFileSync(ensureHelm(), ["template", release, chartDir, "-n", namespace], {
    encoding: "utf8",
    env: { PATH: process.env["PATH"] ?? "", HOME: tempDir("gg-bench-helm-home-") },
  });
}

function baselineTemplateApply(chartDir: string, kubeconfig: string, namespace: string): number {
  const start = performance.now();
  const rendered = helmTemplateOf("many", chartDir, namespace);
  execFileSync(
    "kubectl",
    [`--kubeconfig=${kubeconfig}`, "apply", "--server-side", "-n", namespace, "-f", "-"],
    {
      input: rendered,
      stdio: ["pipe", "ignore", "inherit"],
    },
  );
  return performance.now() - start;
}

/** A GitSync "plain" of the chart's objects as YAML files (helm template's output, committed). */
async function plainTwin(admin: KubeClient, chartDir: string): Promise<void> {
  const rendered = helmTemplateOf("plain", chartDir, NS).replaceAll("name: cm-", "name: plain-cm-");
  const { repo, commit } = await repoWith({ "plain/all.yaml": rendered });
  await syncedGitSync(admin, { name: "plain", url: repo.url, path: "plain", commit });
}

/** A GitSync of path in url (an hour's interval: syncs only when asked), once Ready at commit. */
async function syncedGitSync(
  admin: KubeClient,
  at: { name: string; url: string; path: string; commit: string },
): Promise<void> {
  await admin.apply(
    {
      ...GITSYNC,
      metadata: { name: at.name, namespace: NS },
      spec: { url: at.url, path: at.path, interval: "1h" },
    },
    { fieldManager: "bench" },
  );
  await waitGitSyncReady(
    admin,
    { namespace: NS, name: at.name, commit: at.commit, objects: OBJECTS },
    300_000,
  );
}

ensureBuilt();
const cp = await startControlPlane();
try {
  const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
  await createNamespace(admin, NS);
  await createNamespace(admin, `${NS}-baseline`);
  const { repo, commit } = await repoWith(CHART);
  const helm = countingHelm();
  const controller = await startReconcilerProcess(
    cp.info.kubeconfigs.reconciler,
    [],
    ["--tools-path", `${helm.dir}:/usr/local/bin:/usr/bin:/bin`],
  );
  try {
    const start = performance.now();
    await syncedGitSync(admin, { name: "many", url: repo.url, path: "chart", commit });
    const first = performance.now() - start;
    const baseline = baselineTemplateApply(
      join(repo.dir, "chart"),
      cp.info.kubeconfigs.admin,
      `${NS}-baseline`,
    );
    say(ratioLine(`chart of ${String(OBJECTS)} objects: GitSync to Ready`, first, baseline, "ms"));
    await plainTwin(admin, join(repo.dir, "chart"));
    say(`  baseline: helm template | kubectl apply --server-side of the same chart`);

    const runsBefore = helm.runs();
    const cpu: number[] = [];
    // The same 200 objects as plain YAML (helm template's output committed): what a no-change
    // sync costs without helm, measured alternately with the chart's.
    const plain: number[] = [];
    for (let i = 0; i < NO_CHANGE_SYNCS; i++) {
      cpu.push(await noChangeSync(controller, admin, { name: "many", n: i }));
      plain.push(await noChangeSync(controller, admin, { name: "plain", n: i }));
    }
    const idle: number[] = [];
    for (let i = 0; i < NO_CHANGE_SYNCS; i++) {
      const a = await reconciles(controller);
      const b = await reconciles(controller);
      idle.push(b.cpuMs - a.cpuMs);
    }
    const helmRuns = helm.runs() - runsBefore;
    say(ratioLine("no-change sync: controller CPU", median(cpu), median(idle), "ms"));
    say(
      ratioLine("no-change sync: chart / same objects as YAML", median(cpu), median(plain), "ms"),
    );
    say(
      `  ${String(NO_CHANGE_SYNCS)} syncs, CPU ${fmt(Math.min(...cpu))}-${fmt(Math.max(...cpu))} ms; baseline: one /metrics read with no sync`,
    );
    say(`  helm runs in ${String(NO_CHANGE_SYNCS)} no-change syncs: ${String(helmRuns)} (goal 0)`);
    say(
      `  goal < 50 ms CPU and no helm run: ${median(cpu) < 50 && helmRuns === 0 ? "met" : "NOT met"}`,
    );
  } finally {
    await controller.stop();
  }
} finally {
  await cp.stop();
  removeTempDirs();
}
