import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Binaries {
  readonly dir: string;
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
}

/** Builds (first time) or finds (cached) the pinned control-plane binaries. */
export function ensureBinaries(): Binaries {
  const script = fileURLToPath(new URL("./build.sh", import.meta.url));
  const out = execFileSync("bash", [script], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const dir = out.trim().split("\n").at(-1) ?? "";
  return {
    dir,
    etcd: `${dir}/etcd`,
    kubeApiserver: `${dir}/kube-apiserver`,
    kubeControllerManager: `${dir}/kube-controller-manager`,
    kubectl: `${dir}/kubectl`,
  };
}
