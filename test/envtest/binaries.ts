import { execFileSync } from "node:child_process";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

export interface Binaries {
  readonly dir: string;
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
  /** Built by build-workloads.sh, cached apart from the rest (their own keys). */
  readonly kubeScheduler: string;
  readonly kwok: string;
}

function lastLines(script: string): string[] {
  const out = execFileSync("bash", [fileURLToPath(new URL(script, import.meta.url))], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim().split("\n");
}

/**
 * The Kubernetes versions the tests run on: the current one, and the oldest the chart supports
 * (`ENVTEST_KUBERNETES=1.30`, as CI's second run sets it).
 */
const VERSIONS: Readonly<Record<string, string>> = {
  "1.35": "./build.sh",
  "1.30": "./build-v1.30.sh",
};

/** The version test/envtest starts, from ENVTEST_KUBERNETES (default 1.35); unknown ones refused. */
export function kubernetesVersion(): string {
  const wanted = process.env["ENVTEST_KUBERNETES"] ?? "1.35";
  if (VERSIONS[wanted] === undefined) {
    throw new Error(
      `envtest: ENVTEST_KUBERNETES=${wanted} is not built here; use ${Object.keys(VERSIONS).join(" or ")}`,
    );
  }
  return wanted;
}

/** Builds (first time) or finds (cached) the pinned control-plane and workload binaries. */
export function ensureBinaries(): Binaries {
  const version = kubernetesVersion();
  const dir = lastLines(VERSIONS[version] ?? "./build.sh").at(-1) ?? "";
  const workloads = lastLines("./build-workloads.sh");
  const find = (name: string): string => {
    const path = workloads.find((line) => basename(line) === name);
    if (path === undefined) throw new Error(`envtest: build-workloads.sh printed no ${name}`);
    return path;
  };
  return {
    dir,
    etcd: `${dir}/etcd`,
    kubeApiserver: `${dir}/kube-apiserver`,
    kubeControllerManager: `${dir}/kube-controller-manager`,
    kubectl: `${dir}/kubectl`,
    // The scheduler of the same Kubernetes as the API server (never newer than it).
    kubeScheduler: version === "1.35" ? find("kube-scheduler") : `${dir}/kube-scheduler`,
    kwok: find("kwok"),
  };
}
