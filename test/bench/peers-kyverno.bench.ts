// gitops-guard's admission webhook against Kyverno v1.19.1 (issue 19), both on one test API
// server with the same Git-only rule: the same AdmissionReview (a kubectl patch of a guarded
// Deployment, denied by both) over HTTPS keep-alive, requests/s at saturation, p50/p99 at fixed
// rates and CPU per request from /proc, in alternating rounds; then 1,000 real API-server writes
// through each registered webhook. Kyverno is the baseline of every ratio. Goals: at least 2x
// Kyverno's requests/s, a lower p99 at every rate.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { kubectl } from "../envtest/bootstrap.js";
import { ensureBinaries } from "../envtest/binaries.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { createKubeClient } from "../../src/kube/client.js";
import { aliceDeniedBy, setUp, startWebhook, until, VWC, writes } from "./admission-writes.js";
import { processCpuMs } from "./bitnami-controller.js";
import { atRate, decision, saturate, type Endpoint } from "./peers-kyverno-load.js";
import {
  ensureKyverno,
  installKyverno,
  KYVERNO_FLAGS,
  KYVERNO_VERSION,
  startKyverno,
} from "./peers-kyverno-process.js";
import { fmt, median, percentile, ratioLine } from "./stats.js";

const RATES = [200, 500, 1000];
const RATE_MS = Number(process.env["PEERS_KYVERNO_RATE_MS"] ?? "4000");
const SATURATE_MS = 3000;
const CLIENTS = 16;
const ROUNDS = Number(process.env["PEERS_KYVERNO_ROUNDS"] ?? "3");
const WRITES = 1000;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = "test/fixtures/admission/08-update-deployment-kubectl-patch.json";
const out = (line: string): void => void process.stdout.write(`${line}\n`);

interface Subject {
  readonly endpoint: Endpoint;
  /** CPU time of the webhook's process so far, ms (utime + stime from /proc). */
  cpuMs(): number;
}

interface Round {
  readonly rps: number;
  readonly cpuUs: number;
  readonly p50: Map<number, number>;
  readonly p99: Map<number, number>;
}

function startGuardServer(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const ca = makeTestCa();
  const serving = makeServingCert(ca, ["localhost", "127.0.0.1"]);
  writeFileSync(join(dir, "ca.crt"), ca.cert);
  writeFileSync(join(dir, "tls.crt"), serving.cert);
  writeFileSync(join(dir, "tls.key"), serving.key);
  const policy = join(ROOT, "test/fixtures/admission/guardpolicy-default.yaml");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "test/bench/admission-server.ts",
      "webhook",
      join(dir, "tls.crt"),
      join(dir, "tls.key"),
      policy,
    ],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => {
      resolve({ port: Number(chunk.toString().trim()), child });
    });
    child.once("exit", (code) => {
      reject(new Error(`webhook server exited ${String(code)}`));
    });
  });
}

/** The path Kyverno registered for its Enforce rules (from its webhook configuration). */
async function kyvernoPath(info: ControlPlaneInfo): Promise<string> {
  const json = await kubectl(ensureBinaries(), info.kubeconfigs.admin, [
    "get",
    "validatingwebhookconfigurations",
    "kyverno-resource-validating-webhook-cfg",
    "-o",
    "jsonpath={.webhooks[*].clientConfig.url}",
  ]);
  const url = json.split(" ").find((u) => u.includes("/validate/fail")) ?? json.split(" ")[0];
  return new URL(url ?? "https://127.0.0.1/validate/fail").pathname;
}

/** Waits (up to 30 s) until neither webhook uses more than 5 % of a core: a backlog left by
 *  one round (queued requests, events, reports) must not run during the next. */
async function quiesce(subjects: readonly Subject[]): Promise<void> {
  const total = (): number => subjects.reduce((sum, s) => sum + s.cpuMs(), 0);
  const deadline = performance.now() + 30_000;
  for (;;) {
    const before = total();
    await delay(500);
    if (total() - before < 25 || performance.now() > deadline) return;
  }
}

async function round(subject: Subject, all: readonly Subject[]): Promise<Round> {
  await quiesce(all);
  const e = subject.endpoint;
  await saturate(e, CLIENTS, 1000); // warm-up: JIT, TLS sessions, caches
  const before = subject.cpuMs();
  const { rps, requests } = await saturate(e, CLIENTS, SATURATE_MS);
  const cpuUs = ((subject.cpuMs() - before) * 1000) / requests;
  const p50 = new Map<number, number>();
  const p99 = new Map<number, number>();
  for (const rate of RATES) {
    const run = await atRate(e, rate, RATE_MS);
    if (run.failed > 0) out(`  ${e.name}: ${String(run.failed)} failed at ${String(rate)}/s`);
    p50.set(rate, median(run.latenciesMs));
    p99.set(rate, percentile(run.latenciesMs, 99));
  }
  out(
    `  round ${e.name}: ${fmt(rps, 0)} req/s, ${fmt(cpuUs, 0)} us CPU/req, p99 ${RATES.map((r) => fmt(p99.get(r) ?? NaN, 2)).join(" / ")} ms`,
  );
  return { rps, cpuUs, p50, p99 };
}

const range = (xs: readonly number[], digits = 1): string =>
  `${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}`;

function report(guard: readonly Round[], kyverno: readonly Round[]): void {
  const med = (rs: readonly Round[], f: (r: Round) => number): number => median(rs.map(f));
  const g = (f: (r: Round) => number): number => med(guard, f);
  const k = (f: (r: Round) => number): number => med(kyverno, f);
  out(
    `\nmedians of ${String(guard.length)} alternating rounds; ranges over the rounds below each line`,
  );
  const rps = g((r) => r.rps) / k((r) => r.rps);
  out(
    ratioLine(
      `requests/s (${String(CLIENTS)} keep-alive clients)`,
      g((r) => r.rps),
      k((r) => r.rps),
      "req/s",
    ),
  );
  out(
    `  ranges: gitops-guard ${range(
      guard.map((r) => r.rps),
      0,
    )}, Kyverno ${range(
      kyverno.map((r) => r.rps),
      0,
    )}`,
  );
  out(
    ratioLine(
      "webhook CPU per request (saturated)",
      g((r) => r.cpuUs),
      k((r) => r.cpuUs),
      "us",
    ),
  );
  const verdicts: boolean[] = [rps >= 2];
  out(`  goal >= 2x Kyverno's requests/s: ${rps >= 2 ? "PASS" : "MISS"} (${fmt(rps, 2)}x)`);
  for (const rate of RATES) {
    const at = (r: Round, m: "p50" | "p99"): number => r[m].get(rate) ?? Number.NaN;
    out(
      ratioLine(
        `p50 at ${fmt(rate, 0)} req/s`,
        g((r) => at(r, "p50")),
        k((r) => at(r, "p50")),
        "ms",
      ),
    );
    const [gp, kp] = [g((r) => at(r, "p99")), k((r) => at(r, "p99"))];
    out(ratioLine(`p99 at ${fmt(rate, 0)} req/s`, gp, kp, "ms"));
    out(
      `  ranges: gitops-guard ${range(
        guard.map((r) => at(r, "p99")),
        2,
      )} ms, Kyverno ${range(
        kyverno.map((r) => at(r, "p99")),
        2,
      )} ms; goal lower p99: ${gp < kp ? "PASS" : "MISS"}`,
    );
    verdicts.push(gp < kp);
  }
  out(`  overall: ${verdicts.every(Boolean) ? "PASS" : "MISS"}`);
}

async function throughput(guard: Subject, kyverno: Subject): Promise<void> {
  for (const s of [guard, kyverno]) {
    const allowed = await decision(s.endpoint);
    out(`  ${s.endpoint.name} on ${s.endpoint.path}: allowed=${String(allowed)}`);
    if (allowed !== false) throw new Error(`${s.endpoint.name} does not deny the fixture`);
  }
  const both = [guard, kyverno];
  const g: Round[] = [];
  const k: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    if (i % 2 === 0) k.push(await round(kyverno, both));
    g.push(await round(guard, both));
    if (i % 2 === 1) k.push(await round(kyverno, both));
  }
  report(g, k);
}

async function deleteKyvernoWebhooks(info: ControlPlaneInfo): Promise<void> {
  for (const kind of ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]) {
    const names = await kubectl(ensureBinaries(), info.kubeconfigs.admin, [
      "get",
      kind,
      "-o",
      "name",
    ]);
    const ours = names.split("\n").filter((n) => n.includes("kyverno"));
    if (ours.length > 0)
      await kubectl(ensureBinaries(), info.kubeconfigs.admin, ["delete", ...ours]);
  }
}

function writeLine(label: string, times: readonly number[], baseline: readonly number[]): void {
  out(ratioLine(`write median, ${label}`, median(times), median(baseline), "ms"));
  out(
    `  p99 ${fmt(percentile(times, 99), 2)} ms, added median ${fmt(median(times) - median(baseline), 2)} ms (${String(times.length)} writes)`,
  );
}

async function main(): Promise<void> {
  const binary = ensureKyverno(out);
  const cp = await startControlPlane();
  const dir = mkdtempSync(join(tmpdir(), "peers-kyverno-"));
  const info = cp.info;
  try {
    const admin = createKubeClient({ kubeconfig: info.kubeconfigs.admin });
    const reconciler = createKubeClient({ kubeconfig: info.kubeconfigs.reconciler });
    await setUp(info, admin);
    await writes(reconciler, 100, 0);
    const none = await writes(reconciler, WRITES, 1000);

    await installKyverno(info);
    const kyverno = await startKyverno({ binary, info });
    const guardServer = await startGuardServer(dir);
    const body = readFileSync(join(ROOT, FIXTURE), "utf8");
    const guardPid = guardServer.child.pid ?? 0;
    out(`Kyverno ${KYVERNO_VERSION} flags: ${KYVERNO_FLAGS.join(" ")} (plus --kubeconfig, ports)`);
    try {
      await throughput(
        {
          endpoint: {
            name: "gitops-guard",
            port: guardServer.port,
            path: "/validate",
            ca: readFileSync(join(dir, "ca.crt"), "utf8"),
            body,
          },
          cpuMs: () => processCpuMs(guardPid),
        },
        {
          endpoint: {
            name: "Kyverno",
            port: kyverno.port,
            path: await kyvernoPath(info),
            ca: kyverno.ca,
            body,
          },
          cpuMs: () => kyverno.cpuMs(),
        },
      );
    } finally {
      guardServer.child.stdin?.end();
    }

    out("\nAPI-server writes (reconciler's merge patch of a guarded ConfigMap, one at a time)");
    await until("Kyverno to deny alice", () => aliceDeniedBy(info, "git-only"));
    await writes(reconciler, 100, 0);
    const viaKyverno = await writes(reconciler, WRITES, 2000);
    await kyverno.stop();
    await deleteKyvernoWebhooks(info);

    const webhook = startWebhook(info, false);
    await until("the webhook to deny alice", () =>
      aliceDeniedBy(info, 'admission webhook "validate.gitops-guard.io"'),
    );
    await writes(reconciler, 100, 0);
    const viaGuard = await writes(reconciler, WRITES, 3000);
    await webhook.stop();
    await admin.delete({ ...VWC, name: "gg-bench" });
    const noneAgain = await writes(reconciler, WRITES, 4000);

    writeLine("no admission", none, none);
    writeLine("Kyverno", viaKyverno, none);
    writeLine("gitops-guard webhook", viaGuard, none);
    writeLine("no admission (again)", noneAgain, none);
    const addedK = median(viaKyverno) - median(none);
    const addedG = median(viaGuard) - median(none);
    out(
      `  added median: gitops-guard ${fmt(addedG, 2)} ms, Kyverno ${fmt(addedK, 2)} ms, ratio ${fmt(addedG / addedK, 2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cp.stop();
  }
}

await main();
