// The Flux peer of peers-flux.bench.ts: test/bench/flux/engine (Flux's own libraries at the
// versions source-controller and kustomize-controller v1.10.1 pin, behind a small driver of
// ours), built once into the user's cache folder by test/tools/build-go-tool.sh and started out
// of cluster under the envtest watchdog, loopback only.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ControlPlaneInfo } from "../envtest/control-plane.js";
import { freePort, startProcess, waitFor } from "../envtest/processes.js";
import { managed, type ControllerProcess } from "./bitnami-controller.js";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
// Flux v1.10 and the fluxcd/pkg modules it pins declare `go 1.27.0`; the machine has Go 1.26,
// and the Go module proxy serves this approved toolchain (about 10 s to fetch, once).
const GO_TOOLCHAIN = "go1.27.3";
const BUILD_TIMEOUT_MS = 900_000;

export interface FluxEngineStatus {
  readonly reconciles: number;
  readonly revision: string;
  readonly objects: number;
  readonly changed: number;
  readonly error: string;
  readonly durationMs: number;
}

export interface FluxEngine extends ControllerProcess {
  /**
   * POST /reconcile: what a notification-controller Receiver causes (a reconcile now), into
   * namespace (by default, the engine's target namespace).
   */
  reconcile(namespace?: string): Promise<void>;
  status(): Promise<FluxEngineStatus>;
}

/** Builds the engine unless cached (6 min cold on 2 cores) and returns its binary's path. */
export function ensureFluxEngine(): string {
  const start = performance.now();
  const out = execFileSync(
    "bash",
    [here("../tools/build-go-tool.sh"), here("./flux/engine"), ".", "flux-engine"],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: BUILD_TIMEOUT_MS,
      env: { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN },
    },
  );
  const path = out.trim().split("\n").at(-1);
  if (path === undefined || path === "") throw new Error("build-go-tool.sh printed no path");
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(`flux-engine: ${path} (ready in ${seconds.toFixed(1)} s)\n`);
  return path;
}

export interface FluxEngineOptions {
  readonly binary: string;
  readonly info: ControlPlaneInfo;
  /** The Git repository over HTTP, and the token its server demands (as basic auth). */
  readonly git: { readonly url: string; readonly token: string };
  readonly namespace: string;
  /** The Kustomization interval; "0s": only on reconcile(). */
  readonly interval: string;
}

/**
 * Flux's client limit as Flux sets it on a default API server. fluxcd/pkg/runtime/client turns
 * the client-side limit off when API Priority and Fairness is on (the default since Kubernetes
 * 1.20), and applies --kube-api-qps 50 / --kube-api-burst 300 only when it is off. The test API
 * server runs with it off (test/envtest/control-plane.ts), so the engine is told what Flux would
 * choose on a default cluster: no limit.
 */
const FLUX_DEFAULT_CLUSTER_CLIENT = ["--kube-api-qps=-1"];

/** Starts the engine as the admin (Flux's kustomize-controller runs as cluster-admin). */
export async function startFluxEngine(opts: FluxEngineOptions): Promise<FluxEngine> {
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  const logFile = join(opts.info.dir, `flux-engine-${opts.namespace}.log`);
  const proc = startProcess({
    name: `flux-engine (${opts.namespace})`,
    binary: opts.binary,
    args: [
      `--kubeconfig=${opts.info.kubeconfigs.admin}`,
      `--url=${opts.git.url}`,
      `--token=${opts.git.token}`,
      `--target-namespace=${opts.namespace}`,
      `--interval=${opts.interval}`,
      `--listen=127.0.0.1:${String(port)}`,
      ...FLUX_DEFAULT_CLUSTER_CLIENT,
    ],
    logFile,
  });
  const healthy = (): Promise<boolean> =>
    fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  await waitFor("flux-engine /healthz", healthy, { timeoutMs: 30_000, process: proc, logFile });
  const controller = await managed(proc, url, logFile);
  return {
    ...controller,
    async reconcile(namespace?: string): Promise<void> {
      const query = namespace === undefined ? "" : `?namespace=${encodeURIComponent(namespace)}`;
      const res = await fetch(`${url}/reconcile${query}`, { method: "POST" });
      if (res.status !== 202) throw new Error(`flux-engine /reconcile: ${String(res.status)}`);
    },
    async status(): Promise<FluxEngineStatus> {
      const res = await fetch(`${url}/status`);
      return (await res.json()) as FluxEngineStatus;
    },
  };
}
