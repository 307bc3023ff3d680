// gitops-guard next to Flux on the same API server (issue 19), three figures, each ours vs the
// Flux peer in the same run, in alternating turns, with Flux's figure as the baseline:
// 1. one commit of 1,000 ConfigMaps: from the trigger (our GitSync created; Flux's reconcile
//    requested) until an observer's watch sees all 1,000 with their content; the controller's
//    CPU, its peak RSS and the kube-apiserver's CPU over the same window. 3 rounds, each in
//    fresh namespaces. Goals: at most 0.5 of Flux's time, no more CPU than Flux.
// 2. push to applied, 100 ConfigMaps changed by each of 20 commits: ours by a signed GitHub push
//    to /hooks/git, Flux's by the reconcile request a notification-controller Receiver causes.
//    Goal: a median at most Flux's.
// 3. an out-of-band edit until it is corrected, 20 edits: ours by its watch, Flux at its
//    Kustomization interval (10 s: see docs/benchmarks.md, "Next to Flux"). Goal: at least 100x faster.
// The Flux peer is test/bench/flux/engine: Flux's own clone, build and staged server-side apply
// libraries at the versions Flux v1.10.1 pins, behind a small driver of ours, because the Go
// module proxy does not serve all of the controllers' dependencies (docs/benchmarks.md, "Next to Flux").
// Both sides read the same repositories over the same smart-HTTP Git server with a token.
// BENCH_CPU_PROF_DIR=<dir> writes a V8 CPU profile of our process there when it stops.
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { realClock } from "../../src/runtime/clock.js";
import { controlPlanePids } from "./bitnami-controller.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { serveGitHttp, type GitHttpServer } from "../reconciler/helpers/git-http.js";
import { GitRepo } from "../reconciler/helpers/git-repo.js";
import { configMap, yaml } from "../reconciler/helpers/manifests.js";
import { removeTempDirs, tempDir } from "../reconciler/helpers/temp.js";
import { ensureFluxEngine, startFluxEngine, type FluxEngine } from "./flux-engine.js";
import {
  ConfigMapWatch,
  measured,
  namespaceWithToken,
  putGitSync,
  signedPush,
  timeUntil,
  type Cm,
  type RunFigures,
} from "./peers-flux-measure.js";
import { paired, printTable, scaleRows, type Paired } from "./peers-flux-report.js";
import { manifestFiles } from "./reconciler-scale-fixtures.js";
import {
  ensureBuilt,
  startReconcilerProcess,
  type ReconcilerProcess,
} from "./reconciler-scale-process.js";
import { fmt } from "./stats.js";

// PEERS_FLUX_QUICK=1: a smoke run of the whole bench with a tenth of the work (its figures are
// not the goals' figures).
const QUICK = process.env["PEERS_FLUX_QUICK"] === "1";
const SCALE = { configMaps: QUICK ? 100 : 1000, services: 0 } as const;
const SCALE_ROUNDS = QUICK ? 1 : 3;
const PUSH_OBJECTS = QUICK ? 10 : 100;
const PUSH_COMMITS = QUICK ? 2 : 20;
const DRIFT_EDITS = QUICK ? 2 : 20;
// The shortest Kustomization interval that stays well above one reconcile of these objects.
const FLUX_INTERVAL = "10s";
const FLUX_INTERVAL_MS = 10_000;
// The value both sides hold (the repository's last commit) when the drift edits start.
const DRIFT_BASE = 1_000_000;
const TOKEN = "bench-git-token";
const PUSH_SECRET = "peers-flux-push-secret";
const SCALE_TIMEOUT_MS = 600_000;
const PUSH_TIMEOUT_MS = 60_000;
const OURS_DRIFT_TIMEOUT_MS = 10_000;
const FLUX_DRIFT_TIMEOUT_MS = 40_000;

interface Bench {
  readonly info: ControlPlaneInfo;
  readonly admin: KubeClient;
  readonly ours: ReconcilerProcess;
  readonly apiServer: number;
  readonly engine: string;
  readonly git: GitHttpServer;
  readonly root: string;
}

const clock = realClock();
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const SCALE_LABEL = `${SCALE.configMaps.toLocaleString("en-US")} objects`;

const isScaleCm = (cm: Cm): boolean =>
  (cm.metadata.name ?? "").startsWith("cm-") && cm.data?.["owner"] === "team-a";

/** The push repository's content at one value: 100 ConfigMaps whose data.round is value. */
function pushFiles(value: number): Record<string, string> {
  const docs = Array.from({ length: PUSH_OBJECTS }, (_, i) =>
    configMap(`cm-${String(i).padStart(3, "0")}`, { round: String(value) }),
  );
  return { "configmaps.yaml": yaml(...docs) };
}

const atValue =
  (value: number) =>
  (cm: Cm): boolean =>
    (cm.metadata.name ?? "").startsWith("cm-") && cm.data?.["round"] === String(value);

function startEngine(b: Bench, url: string, namespace: string, interval = "0s") {
  return startFluxEngine({
    binary: b.engine,
    info: b.info,
    git: { url, token: TOKEN },
    namespace,
    interval,
  });
}

async function expectNoEngineError(engine: FluxEngine): Promise<void> {
  const status = await engine.status();
  if (status.error !== "") throw new Error(`${engine.name}: ${status.error}`);
}

async function oursScale(b: Bench, url: string, round: number): Promise<RunFigures> {
  const ns = `gg-scale-${String(round)}`;
  await namespaceWithToken(b.admin, ns, TOKEN);
  const watch = new ConfigMapWatch(b.admin, ns);
  await watch.start();
  try {
    return await measured({ controller: b.ours.pid, apiServer: b.apiServer }, () =>
      timeUntil(
        () => watch.until(isScaleCm, SCALE.configMaps, SCALE_TIMEOUT_MS),
        () => putGitSync(b.admin, ns, url),
      ),
    );
  } finally {
    await watch.stop();
  }
}

async function fluxScale(b: Bench, engine: FluxEngine, round: number): Promise<RunFigures> {
  const ns = `flux-scale-${String(round)}`;
  await namespaceWithToken(b.admin, ns, TOKEN);
  const watch = new ConfigMapWatch(b.admin, ns);
  await watch.start();
  try {
    const figures = await measured({ controller: engine.pid, apiServer: b.apiServer }, () =>
      timeUntil(
        () => watch.until(isScaleCm, SCALE.configMaps, SCALE_TIMEOUT_MS),
        () => engine.reconcile(ns),
      ),
    );
    await expectNoEngineError(engine);
    return figures;
  } finally {
    await watch.stop();
  }
}

/** Part 1: SCALE_ROUNDS rounds, the side that goes first alternating. */
async function scaleRounds(b: Bench): Promise<Paired<RunFigures>> {
  const repo = await GitRepo.create(b.root, "scale.git");
  await repo.commit(SCALE_LABEL, manifestFiles(SCALE));
  const url = b.git.url("scale.git");
  const out: Paired<RunFigures> = { ours: [], flux: [] };
  // One engine for every round, as our one process: both start cold in round 1.
  const engine = await startEngine(b, url, "flux-scale-1");
  try {
    for (let round = 1; round <= SCALE_ROUNDS; round++) {
      const turns = [
        async () => out.ours.push(await oursScale(b, url, round)),
        async () => out.flux.push(await fluxScale(b, engine, round)),
      ];
      if (round % 2 === 0) turns.reverse();
      for (const turn of turns) await turn();
      sayRound(round, out);
    }
  } finally {
    await engine.stop();
  }
  return out;
}

function sayRound(round: number, out: Paired<RunFigures>): void {
  const [o, f] = [out.ours.at(-1), out.flux.at(-1)];
  say(
    `  round ${String(round)}: ours ${fmt((o?.ms ?? 0) / 1000, 2)} s, ` +
      `Flux ${fmt((f?.ms ?? 0) / 1000, 2)} s`,
  );
}

interface PushSides {
  readonly repo: GitRepo;
  readonly url: string;
  readonly watch: { readonly ours: ConfigMapWatch; readonly flux: ConfigMapWatch };
}

/** The push repository at value 0, namespaces gg-push and flux-push, watches, ours synced. */
async function pushSetup(b: Bench): Promise<PushSides> {
  await b.admin.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "gitops-guard-push", namespace: "gitops-guard-system" },
    stringData: { github: PUSH_SECRET },
  });
  const repo = await GitRepo.create(b.root, "push.git");
  await repo.commit("value 0", pushFiles(0));
  const url = b.git.url("push.git");
  for (const ns of ["gg-push", "flux-push"]) await namespaceWithToken(b.admin, ns, TOKEN);
  const watch = {
    ours: new ConfigMapWatch(b.admin, "gg-push"),
    flux: new ConfigMapWatch(b.admin, "flux-push"),
  };
  for (const w of Object.values(watch)) await w.start();
  await timeUntil(
    () => watch.ours.until(atValue(0), PUSH_OBJECTS, PUSH_TIMEOUT_MS),
    () => putGitSync(b.admin, "gg-push", url),
  );
  return { repo, url, watch };
}

/** Part 2: PUSH_COMMITS commits to each side, alternating; each side's own commit. */
async function pushRounds(b: Bench, p: PushSides): Promise<Paired<number>> {
  const engine = await startEngine(b, p.url, "flux-push");
  await timeUntil(
    () => p.watch.flux.until(atValue(0), PUSH_OBJECTS, PUSH_TIMEOUT_MS),
    () => engine.reconcile(),
  );
  const out: Paired<number> = { ours: [], flux: [] };
  let value = 0;
  const oursTurn = async (): Promise<void> => {
    const commit = await p.repo.commit(`value ${String(++value)}`, pushFiles(value));
    const want = atValue(value);
    const hook = `${b.ours.opsUrl}/hooks/git`;
    out.ours.push(
      await timeUntil(
        () => p.watch.ours.until(want, PUSH_OBJECTS, PUSH_TIMEOUT_MS),
        () => signedPush(hook, PUSH_SECRET, { cloneUrl: p.url, commit }),
      ),
    );
  };
  const fluxTurn = async (): Promise<void> => {
    await p.repo.commit(`value ${String(++value)}`, pushFiles(value));
    const want = atValue(value);
    out.flux.push(
      await timeUntil(
        () => p.watch.flux.until(want, PUSH_OBJECTS, PUSH_TIMEOUT_MS),
        () => engine.reconcile(),
      ),
    );
  };
  try {
    for (let i = 0; i < PUSH_COMMITS; i++) {
      const turns = i % 2 === 0 ? [oursTurn, fluxTurn] : [fluxTurn, oursTurn];
      for (const turn of turns) await turn();
    }
    await expectNoEngineError(engine);
  } finally {
    await engine.stop();
  }
  return out;
}

/**
 * Edits one ConfigMap out of band and times from sending the edit until the watch sees its Git
 * value again in a newer version than the edit's (the cache may still hold the old version).
 */
async function editAndTime(
  b: Bench,
  at: { readonly namespace: string; readonly name: string; readonly watch: ConfigMapWatch },
  timeoutMs: number,
): Promise<number> {
  const before = at.watch.get(at.name);
  const value = before?.data?.["round"] ?? "";
  const start = performance.now();
  const edited = await b.admin.mergePatch<Cm>(
    { apiVersion: "v1", kind: "ConfigMap", namespace: at.namespace, name: at.name },
    { data: { round: "edited out of band" } },
    { fieldManager: "bench-edit" },
  );
  const stale = new Set([before?.metadata.resourceVersion, edited.metadata.resourceVersion]);
  const healed = (cm: Cm): boolean =>
    cm.metadata.name === at.name &&
    cm.data?.["round"] === value &&
    !stale.has(cm.metadata.resourceVersion);
  await at.watch.until(healed, 1, timeoutMs);
  return performance.now() - start;
}

/** Commits one more value and brings both sides to it: Flux's by the interval engine. */
async function driftBase(b: Bench, p: PushSides, engine: FluxEngine): Promise<void> {
  const commit = await p.repo.commit("drift base", pushFiles(DRIFT_BASE));
  const hook = `${b.ours.opsUrl}/hooks/git`;
  await timeUntil(
    () => p.watch.ours.until(atValue(DRIFT_BASE), PUSH_OBJECTS, PUSH_TIMEOUT_MS),
    () => signedPush(hook, PUSH_SECRET, { cloneUrl: p.url, commit }),
  );
  await timeUntil(
    () => p.watch.flux.until(atValue(DRIFT_BASE), PUSH_OBJECTS, PUSH_TIMEOUT_MS),
    () => engine.reconcile(),
  );
}

/**
 * How long to wait before Flux's i-th edit. The previous edit was corrected just after a tick of
 * the interval, so editing at once would always land at the start of an interval and wait it
 * out whole; these delays spread the edits evenly over the interval's phase (golden-ratio
 * steps), as edits at random times would fall, so the median is about half the interval.
 */
function phaseDelayMs(i: number): number {
  return ((i * 0.618034) % 1) * FLUX_INTERVAL_MS;
}

/** Part 3: DRIFT_EDITS edits each, one object each, alternating; Flux at FLUX_INTERVAL. */
async function driftRounds(b: Bench, p: PushSides): Promise<Paired<number>> {
  const engine = await startEngine(b, p.url, "flux-push", FLUX_INTERVAL);
  const out: Paired<number> = { ours: [], flux: [] };
  try {
    await driftBase(b, p, engine);
    for (let i = 0; i < DRIFT_EDITS; i++) {
      const name = `cm-${String(i).padStart(3, "0")}`;
      const ours = { namespace: "gg-push", name, watch: p.watch.ours };
      const flux = { namespace: "flux-push", name, watch: p.watch.flux };
      const turns = [
        async () => out.ours.push(await editAndTime(b, ours, OURS_DRIFT_TIMEOUT_MS)),
        async () => {
          await clock.sleep(phaseDelayMs(i));
          out.flux.push(await editAndTime(b, flux, FLUX_DRIFT_TIMEOUT_MS));
        },
      ];
      if (i % 2 === 1) turns.reverse();
      for (const turn of turns) await turn();
    }
    await expectNoEngineError(engine);
  } finally {
    await engine.stop();
  }
  return out;
}

function cpuProfileArgs(): string[] {
  const dir = process.env["BENCH_CPU_PROF_DIR"];
  return dir === undefined || dir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

async function run(b: Bench): Promise<boolean> {
  say(`part 1: one commit of ${SCALE_LABEL}, ${String(SCALE_ROUNDS)} alternating rounds`);
  const scale = await scaleRounds(b);
  say(`part 2: push to applied, ${String(PUSH_COMMITS)} commits of ${String(PUSH_OBJECTS)} each`);
  const sides = await pushSetup(b);
  try {
    const push = await pushRounds(b, sides);
    say(`part 3: out-of-band edit to corrected, ${String(DRIFT_EDITS)} edits each`);
    const drift = await driftRounds(b, sides);
    return printTable([
      ...scaleRows(SCALE_LABEL, scale),
      { label: `push to ${String(PUSH_OBJECTS)} applied`, unit: "s", ...paired(push), maxRatio: 1 },
      {
        label: `edit to corrected, Flux every ${FLUX_INTERVAL}`,
        unit: "ms",
        ...paired(drift),
        maxRatio: 0.01,
      },
    ]);
  } finally {
    await sides.watch.ours.stop();
    await sides.watch.flux.stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  ensureBuilt();
  const engine = ensureFluxEngine();
  const cp = await startControlPlane();
  const root = tempDir("gg-peers-flux-git-");
  const git = await serveGitHttp(root, TOKEN);
  const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
  let ours: ReconcilerProcess | undefined;
  try {
    ours = await startReconcilerProcess(cp.info.kubeconfigs.admin, cpuProfileArgs());
    const apiServer = controlPlanePids(cp.info).apiServer;
    const allMet = await run({ info: cp.info, admin, ours, apiServer, engine, git, root });
    say(`goals: ${allMet ? "all met" : "NOT all met"}`);
  } finally {
    await ours?.stop();
    await git.close();
    await cp.stop();
    removeTempDirs();
    say(`wall time ${fmt((performance.now() - started) / 1000, 0)} s`);
  }
}

await main();
