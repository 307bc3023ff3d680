// Health gating under load (issue 18): 1,000 Pods' worth of Deployments from one commit, on kwok's
// fake nodes with the real scheduler, deployment and replicaset controllers, until every
// Deployment is Available. Ours: a GitSync until Ready and Healthy (the reconciler reads each
// Deployment's health). Baseline, alternating with it in the same run: `kubectl apply
// --server-side` of the same files, then `kubectl wait --for=condition=Available` on them, the
// floor the cluster itself sets. Printed: wall time, our controller's CPU, and the control plane's
// CPU (kube-apiserver, etcd, controller-manager, scheduler, kwok) in each.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import type { GitSyncObject } from "../../src/reconciler/gitsync.js";
import { gitSyncRef } from "../../src/reconciler/gitsync.js";
import { realClock } from "../../src/runtime/clock.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { deployment, yaml } from "../reconciler/helpers/manifests.js";
import { removeTempDirs } from "../reconciler/helpers/temp.js";
import { processCpuMs } from "./bitnami-controller.js";
import {
  createGitSync,
  createNamespace,
  manifestDir,
  repoWith,
} from "./reconciler-scale-fixtures.js";
import { ensureBuilt, startReconcilerProcess } from "./reconciler-scale-process.js";
import { fmt, median, ratioLine } from "./stats.js";

const exec = promisify(execFile);
const clock = realClock();
const DEPLOYMENTS = 100;
const REPLICAS = 10;
const ROUNDS = 2;
const LIMIT_MS = 600_000;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** 100 Deployments of 10 replicas, 10 to a file. */
function files(): Record<string, string> {
  const out: Record<string, string> = {};
  for (let f = 0; f < DEPLOYMENTS / 10; f++) {
    const docs = Array.from({ length: 10 }, (_, i) =>
      deployment(`web-${String(f * 10 + i).padStart(3, "0")}`, REPLICAS),
    );
    out[`deploy-${String(f)}.yaml`] = docs.map((d) => yaml(d)).join("---\n");
  }
  return out;
}

/** Every process of the control plane in info.dir (kwok and the scheduler included). */
function controlPlaneCpuMs(info: ControlPlaneInfo): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const exe = argv[0] ?? "";
      const ours = argv.some((a) => a.includes(info.dir));
      if (ours && /\/(kube-apiserver|etcd|kube-controller-manager|kube-scheduler|kwok)$/.test(exe))
        total += processCpuMs(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

function condition(obj: GitSyncObject | undefined, type: string): string | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type)?.status;
}

async function untilHealthy(admin: KubeClient, namespace: string): Promise<void> {
  const deadline = performance.now() + LIMIT_MS;
  while (performance.now() < deadline) {
    const obj = await admin.get<GitSyncObject>(gitSyncRef(namespace, "pods"));
    if (condition(obj, "Ready") === "True" && condition(obj, "Healthy") === "True") return;
    await clock.sleep(200);
  }
  throw new Error(`GitSync ${namespace}/pods not Ready and Healthy within ${String(LIMIT_MS)} ms`);
}

/** Deletes the namespace and waits until it is gone, so the next round has the nodes' room. */
async function cleared(info: ControlPlaneInfo, namespace: string): Promise<void> {
  await exec(info.kubectl, [
    `--kubeconfig=${info.kubeconfigs.admin}`,
    "delete",
    "namespace",
    namespace,
    "--wait=true",
    "--timeout=600s",
  ]);
}

interface Round {
  readonly ms: number;
  readonly controlPlaneMs: number;
  readonly controllerMs?: number;
}

async function measured(info: ControlPlaneInfo, work: () => Promise<void>): Promise<Round> {
  const cpu = controlPlaneCpuMs(info);
  const start = performance.now();
  await work();
  return { ms: performance.now() - start, controlPlaneMs: controlPlaneCpuMs(info) - cpu };
}

const cp = await startControlPlane({ workloads: true });
try {
  ensureBuilt();
  const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
  const manifests = files();
  const { repo, commit } = await repoWith(manifests);
  const dir = manifestDir(manifests);
  const controller = await startReconcilerProcess(cp.info.kubeconfigs.reconciler);
  const ours: Round[] = [];
  const kubectl: Round[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const ns = `bench-pods-ours-${String(round)}`;
      await createNamespace(admin, ns);
      const before = processCpuMs(controller.pid);
      const r = await measured(cp.info, async () => {
        await createGitSync(admin, { namespace: ns, name: "pods" }, repo.url);
        await untilHealthy(admin, ns);
      });
      ours.push({ ...r, controllerMs: processCpuMs(controller.pid) - before });
      say(`round ${String(round)} ours (${commit.slice(0, 8)}): ${fmt(r.ms)} ms`);
      await cleared(cp.info, ns);

      const base = `bench-pods-kubectl-${String(round)}`;
      await createNamespace(admin, base);
      const args = [`--kubeconfig=${cp.info.kubeconfigs.admin}`, "-n", base];
      kubectl.push(
        await measured(cp.info, async () => {
          await exec(cp.info.kubectl, [...args, "apply", "--server-side", "-f", dir]);
          await exec(cp.info.kubectl, [
            ...args,
            "wait",
            "--for=condition=Available",
            "deployment",
            "--all",
            "--timeout=600s",
          ]);
        }),
      );
      say(`round ${String(round)} kubectl: ${fmt(kubectl.at(-1)?.ms ?? 0)} ms`);
      await cleared(cp.info, base);
    }
  } finally {
    await controller.stop();
  }
  const pods = DEPLOYMENTS * REPLICAS;
  say(
    `${String(DEPLOYMENTS)} Deployments x ${String(REPLICAS)} replicas = ${String(pods)} Pods on kwok nodes, ${String(ROUNDS)} alternating rounds`,
  );
  const wall = (rs: readonly Round[]): number[] => rs.map((r) => r.ms);
  const plane = (rs: readonly Round[]): number[] => rs.map((r) => r.controlPlaneMs);
  say(
    ratioLine(
      "commit to all Available: GitSync Healthy",
      median(wall(ours)),
      median(wall(kubectl)),
      "ms",
    ),
  );
  say(
    ratioLine("control plane CPU in that time", median(plane(ours)), median(plane(kubectl)), "ms"),
  );
  const controllerMs = ours.map((r) => r.controllerMs ?? 0);
  say(
    `  our controller's CPU: median ${fmt(median(controllerMs))} ms, range ${fmt(Math.min(...controllerMs))}-${fmt(Math.max(...controllerMs))} ms`,
  );
  say(
    `  wall ranges: ours ${fmt(Math.min(...wall(ours)))}-${fmt(Math.max(...wall(ours)))} ms, kubectl ${fmt(Math.min(...wall(kubectl)))}-${fmt(Math.max(...wall(kubectl)))} ms`,
  );
  say("  baseline: kubectl apply --server-side, then kubectl wait --for=condition=Available");
} finally {
  await cp.stop();
  removeTempDirs();
}
