// Secrets controller memory next to unrelated Secrets: the resident memory (VmRSS from /proc)
// of `gitops-guard run --components secrets`, its own process watching every namespace, once
// its caches synced and it settled, first with no other Secrets in the cluster, then with
// BENCH_SECRETS_RSS_N (10,000) unrelated Secrets of 1 KiB each in a namespace of their own.
// Each case is BENCH_SECRETS_RSS_ROUNDS (3) fresh processes; the figures are the median of each
// process's samples, then the median and range over the rounds. Both cases also reconcile the
// same BENCH_SECRETS_RSS_SEALED (20) SealedSecrets, so the owned Secrets are watched as usual.
// The issue's goal: with the unrelated Secrets, at most 1.10x the RSS without them.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { fetchWithToken, opsReaderToken } from "../helpers/ops-reader.js";
import {
  ensureBuilt,
  fetchCertPem,
  startGuard,
  type ControllerProcess,
} from "./bitnami-controller.js";
import { countOwnedSecrets, createAll, sealedBenchDocs } from "./secrets-bench-helpers.js";
import { fmt, median } from "./stats.js";

const N = Number(process.env["BENCH_SECRETS_RSS_N"] ?? "10000");
const ROUNDS = Number(process.env["BENCH_SECRETS_RSS_ROUNDS"] ?? "3");
const SEALED = Number(process.env["BENCH_SECRETS_RSS_SEALED"] ?? "20");
const GOAL_RATIO = 1.1;
/** After /readyz: time for the start-up garbage to be collected before sampling. */
const SETTLE_MS = 10_000;
const SAMPLES = 5;
const NS = "bench-rss";
const APPS = "bench-rss-apps";
const UNRELATED = "bench-rss-unrelated";
const SECRET = { apiVersion: "v1", kind: "Secret" } as const;

interface Reading {
  readonly rssMb: number;
  readonly heapMb: number;
  /** From the process's start to /readyz answering 200 (keys loaded, caches synced). */
  readonly readyMs: number;
}

function vmRssMb(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${String(pid)}/status`);
  return Number(kb) / 1024;
}

/**
 * V8's heap in use, from /metrics (read with a reader's token, as Prometheus does); NaN when
 * the ops port cannot check the token (the secrets account alone may not ask for a review).
 */
async function heapUsedMb(opsUrl: string, token: string): Promise<number> {
  const text = await fetchWithToken(`${opsUrl}/metrics`, token).catch(() => "");
  const bytes = /^nodejs_heap_size_used_bytes\s+(\S+)/m.exec(text)?.[1];
  return bytes === undefined ? Number.NaN : Number(bytes) / 1024 / 1024;
}

async function waitReady(c: ControllerProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const ok = await fetch(`${c.url}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await delay(100);
  }
  throw new Error(`${c.name} not ready after ${String(timeoutMs)} ms; see ${c.logFile}`);
}

interface Ctx {
  readonly info: ControlPlaneInfo;
  readonly admin: KubeClient;
  readonly cli: string;
  readonly stateDir: string;
  /** A reader of the ops port's /metrics. */
  readonly token: string;
}

function start(ctx: Ctx): Promise<ControllerProcess> {
  return startGuard({ cli: ctx.cli, info: ctx.info, namespace: NS, stateDir: ctx.stateDir });
}

/** One fresh process: ready, settled, then the median of its RSS samples (one a second). */
async function measureOnce(ctx: Ctx): Promise<Reading> {
  const t0 = performance.now();
  const c = await start(ctx);
  try {
    await waitReady(c, 300_000);
    const readyMs = performance.now() - t0;
    await delay(SETTLE_MS);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      if (i > 0) await delay(1000);
      samples.push(vmRssMb(c.pid));
    }
    return { rssMb: median(samples), heapMb: await heapUsedMb(c.url, ctx.token), readyMs };
  } finally {
    await c.stop();
  }
}

async function rounds(ctx: Ctx, label: string): Promise<Reading[]> {
  const out: Reading[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const reading = await measureOnce(ctx);
    process.stdout.write(
      `${label.padEnd(26)} round ${String(r + 1)}: RSS ${fmt(reading.rssMb)} MB, heap used ${Number.isNaN(reading.heapMb) ? "n/a" : `${fmt(reading.heapMb)} MB`}, ready after ${fmt(reading.readyMs, 0)} ms\n`,
    );
    out.push(reading);
  }
  return out;
}

function summary(readings: readonly Reading[], pick: (r: Reading) => number): string {
  const values = readings.map(pick).filter((v) => !Number.isNaN(v));
  if (values.length === 0) return "    n/a";
  return `${fmt(median(values)).padStart(7)} MB (${fmt(Math.min(...values))}-${fmt(Math.max(...values))})`;
}

/** Makes the key, then the SealedSecrets and their Secrets; the process is not measured. */
async function warmUp(ctx: Ctx): Promise<void> {
  const c = await start(ctx);
  try {
    const cert = parseCertificate(await fetchCertPem(c, 300_000), "cert");
    const docs = sealedBenchDocs({ n: SEALED, namespace: APPS, publicKey: cert.publicKey });
    const owned = await countOwnedSecrets(ctx.admin, APPS, SEALED);
    try {
      await createAll(docs, ctx.admin);
      await owned.allThere(300_000);
    } finally {
      await owned.stop();
    }
  } finally {
    await c.stop();
  }
}

/** n Secrets of 1 KiB (random, so nothing compresses), 16 creates in flight. */
async function createUnrelated(admin: KubeClient, n: number): Promise<number> {
  const docs: KubeObject[] = Array.from({ length: n }, (_, i) => ({
    ...SECRET,
    metadata: { name: `u${String(i)}`, namespace: UNRELATED, labels: { app: "unrelated" } },
    type: "Opaque",
    data: { blob: randomBytes(1024).toString("base64") },
  }));
  const t0 = performance.now();
  // In batches, so at most one batch of documents (1.4 MB of JSON) waits in this process.
  const BATCH = 1000;
  for (let i = 0; i < docs.length; i += BATCH) await createAll(docs.slice(i, i + BATCH), admin);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const cli = ensureBuilt();
  const cp = await startControlPlane();
  const stateDir = mkdtempSync(join(tmpdir(), "gg-secrets-rss-"));
  try {
    const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
    for (const name of [NS, APPS, UNRELATED])
      await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    const token = await opsReaderToken(admin, "bench-metrics");
    const ctx: Ctx = { info: cp.info, admin, cli, stateDir, token };
    await warmUp(ctx);
    const none = await rounds(ctx, "no unrelated Secrets");
    const createdMs = await createUnrelated(admin, N);
    process.stdout.write(
      `${String(N)} unrelated Secrets (1 KiB each) created in ${fmt(createdMs, 0)} ms\n`,
    );
    const many = await rounds(ctx, `${String(N)} unrelated Secrets`);
    const ratio = median(many.map((r) => r.rssMb)) / median(none.map((r) => r.rssMb));
    process.stdout.write(
      [
        `RSS, median (range) of ${String(ROUNDS)} processes:`,
        `  ${"no unrelated Secrets".padEnd(26)} ${summary(none, (r) => r.rssMb)}   heap used ${summary(none, (r) => r.heapMb)}`,
        `  ${`${String(N)} unrelated Secrets`.padEnd(26)} ${summary(many, (r) => r.rssMb)}   heap used ${summary(many, (r) => r.heapMb)}`,
        `  ratio ${fmt(ratio, 3)} (goal at most ${fmt(GOAL_RATIO, 2)}: ${ratio <= GOAL_RATIO ? "met" : "NOT met"})`,
        "",
      ].join("\n"),
    );
  } finally {
    await cp.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
