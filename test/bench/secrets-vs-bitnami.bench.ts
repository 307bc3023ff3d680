// Secrets controller side by side with Bitnami's own (sealed-secrets v0.36.0 cmd/controller,
// built with `go install` on first use): the time for 1,000 SealedSecrets (2 values each,
// RSA-4096) created at once (16 in flight) to become Secrets on one real API server, and each
// controller's CPU per SealedSecret (utime + stime of its process from /proc) next to the raw
// RSA-4096 OAEP cost of its 2 values; plus the unseal rate against raw RSA decrypt, all in the
// same run. Order: Bitnami unthrottled (--kubeclient-qps=-1), Bitnami with its defaults (5
// requests/s), then ours (`gitops-guard run --components secrets`), each in a fresh namespace,
// one controller at a time.
// BENCH_BITNAMI_DEFAULT_N (1000): SealedSecrets of the Bitnami-defaults run (about 0.6 s each);
// BENCH_BITNAMI_DEFAULT=false skips that run; BENCH_VS_BITNAMI_N (1000): the other two runs;
// BENCH_COMPARE_HTTP1_ROUNDS=N then runs ours N more times over each of HTTP/2 and HTTP/1.1
// (--no-kube-http2), alternating which goes first, and prints the medians side by side;
// BENCH_UNSEAL_THREADS sets our --unseal-threads; BENCH_CPU_PROF_DIR has ours write V8 CPU
// profiles there. Each run also prints its CPU by thread and the API server's and etcd's CPU.
import { fetchWithToken, opsReaderToken } from "../helpers/ops-reader.js";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { ensureGoTool } from "../tools/go-tools.js";
import {
  ensureBuilt,
  fetchCertPem,
  prepareBitnami,
  startBitnami,
  startGuard,
  controlPlanePids,
  processCpuMs,
  threadCpuMs,
  type ControllerProcess,
  type ThreadCpu,
} from "./bitnami-controller.js";
import {
  activeGuardKey,
  countOwnedSecrets,
  createAll,
  sealedBenchDocs,
  unsealRates,
} from "./secrets-bench-helpers.js";
import { fmt, median, ratioLine } from "./stats.js";

const N = Number(process.env["BENCH_VS_BITNAMI_N"] ?? "1000");
const DEFAULT_N = Number(process.env["BENCH_BITNAMI_DEFAULT_N"] ?? "1000");
const RUN_DEFAULT = process.env["BENCH_BITNAMI_DEFAULT"] !== "false";
const COMPARE_ROUNDS = Number(process.env["BENCH_COMPARE_HTTP1_ROUNDS"] ?? "0");
const MINUTE = 60_000;
const GOAL_SECONDS = 20;
const GOAL_TIME_RATIO = 0.4;
const GOAL_CPU_RATIO = 1.2;
const UNTHROTTLED = ["--kubeclient-qps=-1", "--kubeclient-burst=100000"];

interface RunResult {
  readonly label: string;
  readonly n: number;
  readonly createdMs: number;
  readonly totalMs: number;
  readonly cpuMs: number;
  /** Per thread name: CPU during the run (user and system), where the process's time went. */
  readonly threads: ReadonlyMap<string, ThreadCpu>;
  /** CPU of the API server and etcd during the run (they share the two cores). */
  readonly apiServerMs: number;
  readonly etcdMs: number;
  /** CPU of this process (creating the SealedSecrets, watching for their Secrets). */
  readonly clientMs: number;
}

interface Ctx {
  readonly info: ControlPlaneInfo;
  readonly admin: KubeClient;
  /** dist/cli/bin.js */
  readonly cli: string;
}

/** Creates docs at once and waits for their Secrets; CPU until the controller went quiet. */
async function measure(
  ctx: Ctx,
  c: ControllerProcess,
  docs: readonly KubeObject[],
  timeoutMs: number,
): Promise<Omit<RunResult, "label">> {
  const namespace = docs[0]?.metadata.namespace ?? "";
  const counter = await countOwnedSecrets(ctx.admin, namespace, docs.length);
  try {
    const cpu0 = c.cpuMs();
    const threads0 = threadCpuMs(c.pid);
    const pids = controlPlanePids(ctx.info);
    const api0 = processCpuMs(pids.apiServer);
    const etcd0 = processCpuMs(pids.etcd);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    await createAll(docs, ctx.admin);
    const createdMs = performance.now() - t0;
    await counter.allThere(timeoutMs);
    const totalMs = performance.now() - t0;
    // The last status writes and Events follow the last Secret: count them, then stop.
    await delay(2000);
    const cpuMs = c.cpuMs() - cpu0;
    return {
      n: docs.length,
      createdMs,
      totalMs,
      cpuMs,
      threads: threadDelta(threads0, c.pid),
      apiServerMs: processCpuMs(pids.apiServer) - api0,
      etcdMs: processCpuMs(pids.etcd) - etcd0,
      clientMs: cpuMsSince(client0),
    };
  } finally {
    await counter.stop();
  }
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** CPU per thread name during the run (threads that ended before its end are not counted). */
function threadDelta(before: Map<string, ThreadCpu>, pid: number): Map<string, ThreadCpu> {
  const delta = new Map<string, ThreadCpu>();
  for (const [name, t] of threadCpuMs(pid)) {
    const b = before.get(name) ?? { userMs: 0, systemMs: 0 };
    delta.set(name, { userMs: t.userMs - b.userMs, systemMs: t.systemMs - b.systemMs });
  }
  return delta;
}

/** "name user+system ms" per thread name, largest first. */
function threadText(threads: ReadonlyMap<string, ThreadCpu>): string {
  return [...threads]
    .filter(([, t]) => t.userMs + t.systemMs > 0)
    .sort(([, a], [, b]) => b.userMs + b.systemMs - (a.userMs + a.systemMs))
    .map(([name, t]) => `${name} ${fmt(t.userMs, 0)}+${fmt(t.systemMs, 0)} ms`)
    .join(", ");
}

async function createNamespace(admin: KubeClient, name: string): Promise<void> {
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

async function runBitnami(
  ctx: Ctx,
  run: { binary: string; runDir: string; label: string; n: number },
  flags: readonly string[],
  timeoutMs: number,
): Promise<RunResult> {
  const namespace = `bench-bitnami-${run.label}`;
  await createNamespace(ctx.admin, namespace);
  const c = await startBitnami({ ...run, info: ctx.info, namespace, flags });
  try {
    const keyStart = performance.now();
    const cert = parseCertificate(await fetchCertPem(c, 3 * MINUTE), "bitnami cert");
    process.stdout.write(
      `Bitnami ${run.label}: certificate served after ${fmt(performance.now() - keyStart, 0)} ms (flags: ${flags.join(" ") || "defaults"})\n`,
    );
    const docs = sealedBenchDocs({
      n: run.n,
      namespace,
      publicKey: cert.publicKey,
      apiVersion: "bitnami.com/v1alpha1",
    });
    const result = await measure(ctx, c, docs, timeoutMs);
    report(`Bitnami ${run.label}`, result);
    return { label: `Bitnami ${run.label}`, ...result };
  } finally {
    await c.stop();
  }
}

/** gitops_guard_secrets_unseal_cpu_seconds_total from the controller's /metrics, in ms. */
async function unsealCpuMs(c: ControllerProcess, token: string): Promise<number> {
  const text = await fetchWithToken(`${c.url}/metrics`, token);
  const line = text
    .split("\n")
    .find((l) => l.startsWith("gitops_guard_secrets_unseal_cpu_seconds_total "));
  return Number(line?.split(" ")[1] ?? Number.NaN) * 1000;
}

interface GuardResult extends RunResult {
  readonly unseal: number;
  readonly raw: number;
  /** CPU the unsealing itself took on its threads, during the run. */
  readonly unsealCpuMs: number;
}

interface OursRun {
  readonly result: RunResult;
  readonly docs: KubeObject[];
  readonly namespace: string;
  readonly unsealMs: number;
}

/** One run of our controller in a namespace of its own; its SealedSecrets are deleted after. */
async function runOurs(ctx: Ctx, opts: { http1: boolean; tag: string }): Promise<OursRun> {
  const label = opts.http1
    ? `ours (HTTP/1.1${opts.tag})`
    : `ours${opts.tag === "" ? "" : ` (HTTP/2${opts.tag})`}`;
  const namespace = `bench-guard${opts.http1 ? "-http1" : ""}${opts.tag.replace(/[^a-z0-9]+/g, "-")}`;
  await createNamespace(ctx.admin, namespace);
  const stateDir = mkdtempSync(join(tmpdir(), "gitops-guard-bench-state-"));
  const c = await startGuard({
    cli: ctx.cli,
    info: ctx.info,
    namespace,
    stateDir,
    args: opts.http1 ? ["--no-kube-http2"] : [],
  });
  try {
    const keyStart = performance.now();
    const cert = parseCertificate(await fetchCertPem(c, 3 * MINUTE), "our cert");
    process.stdout.write(
      `${label}: certificate served after ${fmt(performance.now() - keyStart, 0)} ms\n`,
    );
    const docs = sealedBenchDocs({ n: N, namespace, publicKey: cert.publicKey });
    // The ops port checks a /metrics reader's token, as it does Prometheus's.
    const token = await opsReaderToken(ctx.admin, "bench-metrics");
    const before = await unsealCpuMs(c, token);
    const result = { label, ...(await measure(ctx, c, docs, 10 * MINUTE)) };
    const unsealMs = (await unsealCpuMs(c, token)) - before;
    report(label, result);
    return { result, docs, namespace, unsealMs };
  } finally {
    await c.stop();
    rmSync(stateDir, { recursive: true, force: true });
    // A later run of ours watches every namespace: it must not find these, sealed to another key.
    await ctx.admin.rest.json({
      method: "DELETE",
      path: `/apis/gitops-guard.io/v1alpha1/namespaces/${namespace}/sealedsecrets`,
    });
  }
}

async function runGuard(ctx: Ctx): Promise<GuardResult> {
  const run = await runOurs(ctx, { http1: false, tag: "" });
  // With the controller stopped, so that both rates have the core to themselves.
  const rates = unsealRates(run.docs, await activeGuardKey(ctx.admin, run.namespace));
  return { ...run.result, ...rates, unsealCpuMs: run.unsealMs };
}

/** Rounds of HTTP/2 and HTTP/1.1 runs, alternating which goes first (the machine drifts). */
async function compareTransports(ctx: Ctx): Promise<{ h2: RunResult[]; h1: RunResult[] }> {
  const h2: RunResult[] = [];
  const h1: RunResult[] = [];
  for (let round = 1; round <= COMPARE_ROUNDS; round++) {
    const order = round % 2 === 1 ? [true, false] : [false, true];
    for (const http1 of order) {
      const { result } = await runOurs(ctx, { http1, tag: `, round ${String(round)}` });
      (http1 ? h1 : h2).push(result);
    }
  }
  return { h2, h1 };
}

function report(label: string, r: Omit<RunResult, "label">): void {
  process.stdout.write(
    `${label}: ${String(r.n)} SealedSecrets created in ${fmt(r.createdMs, 0)} ms; all Secrets present after ${fmt(r.totalMs, 0)} ms; controller CPU ${fmt(r.cpuMs, 0)} ms\n  by thread (user+system): ${threadText(r.threads)}\n  meanwhile API server CPU ${fmt(r.apiServerMs, 0)} ms, etcd ${fmt(r.etcdMs, 0)} ms, bench client ${fmt(r.clientMs, 0)} ms\n`,
  );
}

const seconds = (r: RunResult): number => r.totalMs / 1000;
/** Seconds for N at the run's own rate (the defaults run may hold fewer). */
const secondsForN = (r: RunResult): number => (seconds(r) * N) / r.n;
const cpuPer = (r: RunResult): number => r.cpuMs / r.n;
const verdict = (ok: boolean): string => (ok ? "met" : "NOT met");

function printSummary(
  ours: GuardResult,
  unthrottled: RunResult,
  defaults: RunResult | undefined,
): void {
  const rawCost = (2 * 1000) / ours.raw;
  const lines = [
    "",
    `raw RSA-4096 OAEP decrypt (this process, 1 core): ${fmt(ours.raw)}/s, so ${fmt(rawCost, 2)} ms for the 2 values of one SealedSecret`,
    ratioLine(
      `ours: ${String(N)} -> Secrets vs Bitnami -qps=-1`,
      seconds(ours),
      seconds(unthrottled),
      "s",
    ),
  ];
  if (defaults !== undefined) {
    const scaled = defaults.n === N ? "" : ` (${String(defaults.n)} run, scaled)`;
    lines.push(
      ratioLine(`ours vs Bitnami defaults${scaled}`, seconds(ours), secondsForN(defaults), "s"),
    );
  }
  lines.push(
    ratioLine(
      `ours: ${String(N)} -> Secrets vs the ${String(GOAL_SECONDS)} s goal`,
      seconds(ours),
      GOAL_SECONDS,
      "s",
    ),
    ratioLine("ours CPU per SealedSecret vs raw RSA (2 values)", cpuPer(ours), rawCost, "ms"),
    ratioLine(
      "of which unsealing (unseal threads, under load) vs raw",
      ours.unsealCpuMs / ours.n,
      rawCost,
      "ms",
    ),
    ratioLine("Bitnami -qps=-1 CPU per SealedSecret vs raw", cpuPer(unthrottled), rawCost, "ms"),
  );
  if (defaults !== undefined)
    lines.push(
      ratioLine("Bitnami defaults CPU per SealedSecret vs raw", cpuPer(defaults), rawCost, "ms"),
    );
  lines.push(
    ratioLine(
      "ours CPU per SealedSecret vs Bitnami -qps=-1",
      cpuPer(ours),
      cpuPer(unthrottled),
      "ms",
    ),
    ratioLine("unseal values/s (controller path, 1 core)", ours.unseal, ours.raw, "/s"),
    "",
    `goal: ours ${String(N)} in under ${String(GOAL_SECONDS)} s: ${verdict(seconds(ours) < GOAL_SECONDS)} (${fmt(seconds(ours))} s)`,
    `goal: ours at most ${String(GOAL_TIME_RATIO)} of Bitnami's unthrottled time: ${verdict(seconds(ours) <= GOAL_TIME_RATIO * seconds(unthrottled))} (${fmt(seconds(ours) / seconds(unthrottled), 2)})`,
    `goal: our CPU per SealedSecret at most ${String(GOAL_CPU_RATIO)}x raw RSA of its values: ${verdict(cpuPer(ours) <= GOAL_CPU_RATIO * rawCost)} (${fmt(cpuPer(ours) / rawCost, 2)})`,
    "(CPU: utime+stime of each controller's process from /proc, from the first create until 2 s after the last Secret appeared)",
    floorLine(ours, rawCost, unthrottled),
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * The run is CPU-bound: every process shares the cores. Had our controller spent nothing but
 * the raw RSA of its values, the same API server, etcd and client work would still take this
 * long, which bounds the time ratio any controller could reach here.
 */
function floorLine(ours: RunResult, rawCost: number, bitnami: RunResult): string {
  const cores = availableParallelism();
  const cpuMs = rawCost * ours.n + ours.apiServerMs + ours.etcdMs + ours.clientMs;
  const floor = cpuMs / cores / 1000;
  return `floor: a controller spending only raw RSA, with this run's API server, etcd and client CPU on ${String(cores)} cores: ${fmt(floor)} s, ${fmt(floor / seconds(bitnami), 2)} of Bitnami's unthrottled time`;
}

/** Our controller over HTTP/2 (the default) next to HTTP/1.1: medians of the rounds. */
function printTransport(h2: readonly RunResult[], h1: readonly RunResult[]): void {
  // Node names its event-loop thread MainThread.
  const mainMs = (r: RunResult): number => {
    const t = r.threads.get("MainThread");
    return t === undefined ? Number.NaN : t.userMs + t.systemMs;
  };
  const med = (runs: readonly RunResult[], f: (r: RunResult) => number): number =>
    median(runs.map(f));
  const line = (label: string, f: (r: RunResult) => number, unit: string): string =>
    ratioLine(`ours HTTP/2 vs HTTP/1.1: ${label}`, med(h2, f), med(h1, f), unit);
  process.stdout.write(
    [
      "",
      `transport comparison, medians of ${String(h2.length)} rounds (order alternating):`,
      line("controller CPU per SealedSecret", cpuPer, "ms"),
      line("event-loop thread CPU per SealedSecret", (r) => mainMs(r) / r.n, "ms"),
      line("API server CPU per SealedSecret", (r) => r.apiServerMs / r.n, "ms"),
      line(`${String(N)} -> Secrets`, seconds, "s"),
      "",
    ].join("\n"),
  );
}

async function main(): Promise<void> {
  const binary = ensureGoTool("bitnami-controller");
  const cli = ensureBuilt();
  const cp = await startControlPlane();
  try {
    const ctx: Ctx = {
      info: cp.info,
      cli,
      admin: createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin }),
    };
    const runDir = await prepareBitnami(cp.info);
    const unthrottled = await runBitnami(
      ctx,
      { binary, runDir, label: "unthrottled", n: N },
      UNTHROTTLED,
      10 * MINUTE,
    );
    const defaults = RUN_DEFAULT
      ? await runBitnami(ctx, { binary, runDir, label: "defaults", n: DEFAULT_N }, [], 15 * MINUTE)
      : undefined;
    const ours = await runGuard(ctx);
    printSummary(ours, unthrottled, defaults);
    if (COMPARE_ROUNDS > 0) {
      const { h2, h1 } = await compareTransports(ctx);
      printTransport(h2, h1);
    }
  } finally {
    await cp.stop();
  }
}

await main();
