// `gitops-guard run --components reconciler` as a child process of its own, so the bench can
// read its resident memory from /proc without counting the bench's own heap.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { realClock } from "../../src/runtime/clock.js";
import { freePort } from "../envtest/processes.js";
import { createKubeClient } from "../../src/kube/client.js";
import { fetchWithToken, opsReaderToken } from "../helpers/ops-reader.js";
import { tempDir } from "../reconciler/helpers/temp.js";
import { median } from "./stats.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "dist/cli/bin.js");
const BUNDLE = join(ROOT, "scripts/bundle.mjs");
const clock = realClock();

export interface ReconcilerProcess {
  readonly pid: number;
  /** Its ops server: /metrics has the V8 heap figures next to the RSS read from /proc. */
  readonly opsUrl: string;
  /** Median VmRSS in MB over samples, one a second. */
  rssMb(samples: number): Promise<number>;
  /** Its /metrics, read with a reader's token (the ops port checks it, as for Prometheus). */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** True when dist/cli/bin.js is missing or older than any source file it is built from. */
function distIsStale(): boolean {
  if (!existsSync(BIN)) return true;
  const built = statSync(BIN).mtimeMs;
  const src = join(ROOT, "src");
  return readdirSync(src, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .some((file) => statSync(join(src, file)).mtimeMs > built);
}

/** Builds dist/ when it is stale: a stale build would measure other code than src/ holds. */
export function ensureBuilt(): void {
  if (!distIsStale()) return;
  process.stdout.write("dist/ is missing or stale: scripts/bundle.mjs (npm run build)\n");
  execFileSync(process.execPath, [BUNDLE], {
    cwd: ROOT,
    stdio: "inherit",
    timeout: 600_000,
  });
}

/** VmRSS of pid from /proc/<pid>/status, in MB. */
export function vmRssMb(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${String(pid)}/status`);
  return Number(kb) / 1024;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitReady(child: ChildProcess, opsUrl: string, logFile: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline && !exited(child)) {
    const ok = await fetch(`${opsUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await clock.sleep(200);
  }
  // The log's folder is removed when the bench ends, so its end goes into the error.
  const tail = readFileSync(logFile, "utf8").slice(-2000);
  const state = exited(child)
    ? `exited (${String(child.exitCode ?? child.signalCode)})`
    : "running";
  throw new Error(`gitops-guard run not ready within 60 s, ${state}; its log ends:\n${tail}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await gone;
  clearTimeout(timer);
}

/**
 * Starts the reconciler alone as the admin kubeconfig (it impersonates its own service
 * account, as the demo runs it), without a Lease so it leads at once; resolves once /readyz
 * answers 200. The environment is PATH and HOME only: GITOPS_GUARD_* variables of the shell
 * must not change what is measured; nodeArgs (flags for node itself, none by default) are for
 * looking into the process, e.g. --heapsnapshot-signal; runArgs are more `gitops-guard run` flags.
 */
export async function startReconcilerProcess(
  kubeconfig: string,
  nodeArgs: readonly string[] = [],
  runArgs: readonly string[] = [],
): Promise<ReconcilerProcess> {
  const dir = tempDir("gg-scale-run-");
  const port = await freePort();
  const opsUrl = `http://127.0.0.1:${String(port)}`;
  const logFile = join(dir, "run.log");
  const log = openSync(logFile, "a");
  const args = ["run", "--kubeconfig", kubeconfig, "--components", "reconciler"];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      BIN,
      ...args,
      ...["--state-dir", join(dir, "state"), "--ops-listen", `127.0.0.1:${String(port)}`],
      ...["--identity", "bench", "--no-leader-election", "--log-level", "warn"],
      "--allow-file-urls",
      ...runArgs,
    ],
    {
      stdio: ["ignore", log, log],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir },
    },
  );
  closeSync(log);
  const pid = child.pid;
  try {
    if (pid === undefined) throw new Error("gitops-guard run did not start");
    await waitReady(child, opsUrl, logFile);
  } catch (err: unknown) {
    await stopChild(child);
    throw err;
  }
  let token: Promise<string> | undefined;
  return {
    pid,
    opsUrl,
    async rssMb(samples: number): Promise<number> {
      const values: number[] = [];
      for (let i = 0; i < samples; i++) {
        if (i > 0) await clock.sleep(1000);
        values.push(vmRssMb(pid));
      }
      return median(values);
    },
    async metrics(): Promise<string> {
      token ??= opsReaderToken(createKubeClient({ kubeconfig }), "bench-metrics");
      return fetchWithToken(`${opsUrl}/metrics`, await token);
    },
    stop: () => stopChild(child),
  };
}
