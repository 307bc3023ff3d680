// Admission webhook: requests per second and p50/p99 at fixed rates against a bare Node HTTPS
// server answering a constant AdmissionReview (same certificate, keep-alive and timeouts), in
// the same run; then the latency the webhook, the compiled ValidatingAdmissionPolicy, and both
// add to 1,000 real API server writes. Goals (issue 6): ratio >= 0.7, p99 < 5 ms at 1,000
// requests/s, added write latency <= 1.5 ms median.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { atRate, saturate, type Target } from "./admission-load.js";
import { writeLatencies } from "./admission-writes.js";
import { fmt, median, percentile, ratioLine } from "./stats.js";

const RATES = [500, 1000, 2000];
const RATE_MS = 3000;
const SATURATE_MS = 3000;
const CLIENTS = 16;
const WRITES = 1000;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const out = (line: string): void => void process.stdout.write(`${line}\n`);

interface Server {
  readonly port: number;
  readonly child: ChildProcess;
  /** The server process's CPU time so far, in microseconds. */
  cpu(): Promise<number>;
}

function startServer(kind: "bare" | "webhook", files: Record<string, string>): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "test/bench/admission-server.ts",
      kind,
      files["cert"] ?? "",
      files["key"] ?? "",
      files["policy"] ?? "",
    ],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const cpu = (): Promise<number> =>
    new Promise((resolve) => {
      child.stdout.once("data", (chunk: Buffer) => {
        resolve(Number(chunk.toString().trim()));
      });
      child.stdin.write("\n");
    });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => {
      resolve({ port: Number(chunk.toString().trim()), child, cpu });
    });
    child.once("exit", (code) => {
      reject(new Error(`${kind} server exited ${String(code)}`));
    });
  });
}

interface Measured {
  readonly rps: number;
  /** Server CPU per request at saturation, microseconds. */
  readonly cpuUs: number;
  /** The same for the small AdmissionReview. */
  readonly smallCpuUs: number;
  readonly rates: Map<number, number[]>;
}

async function measure(
  kind: "bare" | "webhook",
  files: Record<string, string>,
  target: Omit<Target, "port"> & { readonly small: string },
): Promise<Measured> {
  const server = await startServer(kind, files);
  const t = { ...target, port: server.port };
  try {
    await saturate(t, CLIENTS, 1000); // warm-up: JIT, TLS sessions
    const before = await server.cpu();
    const { rps, requests } = await saturate(t, CLIENTS, SATURATE_MS);
    const cpuUs = ((await server.cpu()) - before) / requests;
    const small = { ...t, body: target.small };
    const smallBefore = await server.cpu();
    const smallRun = await saturate(small, CLIENTS, SATURATE_MS);
    const smallCpuUs = ((await server.cpu()) - smallBefore) / smallRun.requests;
    const rates = new Map<number, number[]>();
    for (const rate of RATES) {
      const result = await atRate(t, rate, RATE_MS);
      if (result.failed > 0)
        throw new Error(`${kind}: ${String(result.failed)} failed at ${String(rate)}/s`);
      rates.set(rate, result.latenciesMs);
    }
    return { rps, cpuUs, smallCpuUs, rates };
  } finally {
    server.child.stdin?.end();
  }
}

async function throughput(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "admission-bench-"));
  try {
    const ca = makeTestCa();
    const serving = makeServingCert(ca, ["localhost", "127.0.0.1"]);
    const files = {
      cert: join(dir, "tls.crt"),
      key: join(dir, "tls.key"),
      policy: join(ROOT, "test/fixtures/admission/guardpolicy-default.yaml"),
    };
    writeFileSync(files.cert, serving.cert);
    writeFileSync(files.key, serving.key);
    // A kubectl patch of a guarded Deployment: the full path (parse, diff, deny with a message).
    const body = readFileSync(
      join(ROOT, "test/fixtures/admission/08-update-deployment-kubectl-patch.json"),
      "utf8",
    );
    // A kubectl create of a ConfigMap: a small review (2.7 kB instead of 14.8 kB).
    const small = readFileSync(
      join(ROOT, "test/fixtures/admission/02-create-configmap-kubectl-create.json"),
      "utf8",
    );
    const target = { ca: ca.cert, body, small };
    const bare = await measure("bare", files, target);
    const webhook = await measure("webhook", files, target);
    out(
      ratioLine(
        `webhook requests/s (${String(CLIENTS)} keep-alive clients)`,
        webhook.rps,
        bare.rps,
        "req/s",
      ),
    );
    out(ratioLine("server CPU per request (saturated)", webhook.cpuUs, bare.cpuUs, "us"));
    out(
      ratioLine("server CPU per request, 2.7 kB review", webhook.smallCpuUs, bare.smallCpuUs, "us"),
    );
    const capacity = bare.cpuUs / webhook.cpuUs;
    out(`  capacity ratio (bare CPU / webhook CPU per request): ${fmt(capacity, 2)}`);
    out(
      `  goal ratio >= 0.7: measured ${webhook.rps / bare.rps >= 0.7 ? "met" : "NOT met"}, capacity ${capacity >= 0.7 ? "met" : "NOT met"}`,
    );
    for (const rate of RATES) {
      const w = webhook.rates.get(rate) ?? [];
      const b = bare.rates.get(rate) ?? [];
      out(ratioLine(`p50 at ${fmt(rate, 0)} req/s`, median(w), median(b), "ms"));
      out(ratioLine(`p99 at ${fmt(rate, 0)} req/s`, percentile(w, 99), percentile(b, 99), "ms"));
    }
    const p99 = percentile(webhook.rates.get(1000) ?? [], 99);
    out(`  goal p99 < 5 ms at 1,000 req/s: ${p99 < 5 ? "met" : "NOT met"} (${fmt(p99, 2)} ms)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function apiWrites(): Promise<void> {
  const figures = await writeLatencies(WRITES, out);
  const baseline = figures["no admission"] ?? [];
  for (const [config, times] of Object.entries(figures)) {
    out(ratioLine(`write median, ${config}`, median(times), median(baseline), "ms"));
    out(
      `  p99 ${fmt(percentile(times, 99), 2)} ms, added median ${fmt(median(times) - median(baseline), 2)} ms (${String(times.length)} writes)`,
    );
  }
  const added = median(figures["webhook"] ?? []) - median(baseline);
  out(
    `  goal added median <= 1.5 ms (webhook): ${added <= 1.5 ? "met" : "NOT met"} (${fmt(added, 2)} ms)`,
  );
}

const only = process.env["ADMISSION_BENCH"];
if (only !== "writes") await throughput();
if (only !== "throughput") await apiWrites();
