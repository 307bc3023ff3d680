// Push to applied: a signed GitHub push to /hooks/git until every one of 100 changed objects
// carries its new value (an observer's watch sees the last one), over ROUNDS commits, next to
// the floor measured in the same run: `kubectl apply --server-side` of the same 100 changed
// objects (what applying them costs with no Git, no render and no reconciler). Goal (issue 7):
// push to applied < 2 s for 100 objects. Starts its own control plane.
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { loadConfig } from "../../src/config.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createReconcilerComponent } from "../../src/reconciler/component.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { sink } from "../helpers/log-sink.js";
import type { GitRepo } from "../reconciler/helpers/git-repo.js";
import { configMap, yaml } from "../reconciler/helpers/manifests.js";
import { removeTempDirs, tempDir } from "../reconciler/helpers/temp.js";
import {
  createGitSync,
  createNamespace,
  manifestDir,
  repoWith,
  timeKubectlApply,
  waitGitSyncReady,
} from "./reconciler-scale-fixtures.js";
import { fmt, median, percentile, ratioLine } from "./stats.js";

const OBJECTS = 100;
const ROUNDS = 10;
const SECRET = "push-bench-secret";
const NS = "push-bench";
const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const clock = realClock();
type Cm = KubeObject & { data?: Record<string, string> };

/** 100 ConfigMaps whose "round" value says which commit they come from. */
function files(round: number): Record<string, string> {
  const docs = Array.from({ length: OBJECTS }, (_, i) =>
    configMap(`cm-${String(i).padStart(3, "0")}`, { round: String(round) }),
  );
  return { "configmaps.yaml": yaml(...docs) };
}

/** Resolves when every ConfigMap of the namespace shows the round (bounded: 30 s). */
function allAt(informer: Informer<Cm>, round: number): Promise<void> {
  const done = (): boolean =>
    informer.list().filter((cm) => cm.data?.["round"] === String(round)).length === OBJECTS;
  return new Promise((resolve, reject) => {
    if (done()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      off();
      reject(new Error(`round ${String(round)} not applied within 30 s`));
    }, 30_000);
    const off = informer.on("update", () => {
      if (!done()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

async function startReconciler(info: ControlPlaneInfo, signal: AbortSignal) {
  const config = loadConfig({
    flags: {
      kubeconfig: info.kubeconfigs.reconciler,
      stateDir: tempDir("gg-push-bench-"),
      opsListen: "127.0.0.1:0",
      identity: "bench",
      allowFileUrls: true,
    },
    env: {},
    hostname: "bench-host",
  });
  const component = createReconcilerComponent(
    {
      config,
      logger: createLogger({ level: "warn", destination: sink().stream }),
      metrics: createMetrics(),
      clock,
      kube: createKubeClient({ kubeconfig: info.kubeconfigs.reconciler }),
    },
    { pushSecretName: SECRET },
  );
  const running = component.run(signal);
  const app = express();
  if (component.routes !== undefined) app.use(component.routes());
  const server = createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hooks/git`;
  return { running, server, url };
}

async function push(url: string, repo: GitRepo, commit: string): Promise<void> {
  const body = JSON.stringify({
    ref: "refs/heads/main",
    after: commit,
    repository: { clone_url: repo.url },
  });
  const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "x-github-event": "push", "x-hub-signature-256": signature },
    body,
  });
  if (res.status !== 202)
    throw new Error(`push answered ${String(res.status)}: ${await res.text()}`);
}

async function kubectlFloor(info: ControlPlaneInfo, admin: KubeClient): Promise<number[]> {
  const times: number[] = [];
  await createNamespace(admin, "push-bench-kubectl");
  for (let round = 1; round <= ROUNDS; round++) {
    const dir = manifestDir(files(round));
    times.push(
      await timeKubectlApply(info.kubectl, info.kubeconfigs.admin, dir, "push-bench-kubectl"),
    );
  }
  return times;
}

async function pushRounds(admin: KubeClient, url: string): Promise<number[]> {
  await admin.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: SECRET, namespace: "gitops-guard-system" },
    stringData: { github: SECRET },
  });
  await createNamespace(admin, NS);
  const { repo, commit } = await repoWith(files(0));
  await createGitSync(admin, { namespace: NS, name: "apps" }, repo.url);
  await waitGitSyncReady(admin, { namespace: NS, name: "apps", commit, objects: OBJECTS }, 120_000);
  const observer = new Informer<Cm>({ client: admin, type: CM, clock, namespace: NS });
  observer.start();
  await observer.waitForSync();
  const times: number[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const next = await repo.commit(`round ${String(round)}`, files(round));
      const applied = allAt(observer, round);
      const start = performance.now();
      await push(url, repo, next);
      await applied;
      times.push(performance.now() - start);
    }
  } finally {
    await observer.stop();
  }
  return times;
}

async function main(): Promise<void> {
  const cp = await startControlPlane();
  const abort = new AbortController();
  const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
  const reconciler = await startReconciler(cp.info, abort.signal);
  try {
    const floor = await kubectlFloor(cp.info, admin);
    const pushed = await pushRounds(admin, reconciler.url);
    console.log(
      `push -> all ${String(OBJECTS)} changed objects applied, ${String(ROUNDS)} commits ` +
        `(p90 ${fmt(percentile(pushed, 90) / 1000, 2)} s; kubectl p90 ${fmt(percentile(floor, 90) / 1000, 2)} s)`,
    );
    console.log(ratioLine("push to applied (median)", median(pushed), median(floor), "ms"));
    console.log(
      `goal < 2 s for ${String(OBJECTS)} objects: ${median(pushed) < 2000 ? "met" : "NOT met"}`,
    );
  } finally {
    abort.abort();
    reconciler.server.close();
    await reconciler.running;
    await cp.stop();
    removeTempDirs();
  }
}

await main();
