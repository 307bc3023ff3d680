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

/** Builds (first time) or finds (cached) the pinned control-plane and workload binaries. */
export function ensureBinaries(): Binaries {
  const dir = lastLines("./build.sh").at(-1) ?? "";
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
    kubeScheduler: find("kube-scheduler"),
    kwok: find("kwok"),
  };
}
