import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Binaries } from "./binaries.js";
import type { IdentityName } from "./control-plane.js";
import { kubeconfigYaml } from "./kubeconfig.js";
import { makeClientCert, type CertPair } from "./pki.js";
import { waitFor } from "./processes.js";

const exec = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const SYSTEM_NS = "gitops-guard-system";

export async function kubectl(
  bin: Binaries,
  kubeconfig: string,
  args: readonly string[],
): Promise<string> {
  const { stdout } = await exec(bin.kubectl, [`--kubeconfig=${kubeconfig}`, ...args], {
    encoding: "utf8",
    maxBuffer: 32 * 1024 * 1024,
  });
  return stdout;
}

/**
 * Installs the product's namespace, service accounts, RBAC and CRDs, then writes one kubeconfig
 * per fixed identity: users by client certificate, service accounts by a real TokenRequest token.
 */
export async function bootstrap(opts: {
  bin: Binaries;
  dir: string;
  apiServerUrl: string;
  ca: CertPair;
  admin: CertPair;
}): Promise<Record<IdentityName, string>> {
  const write = (name: IdentityName, content: string): string => {
    const path = join(opts.dir, `${name}.kubeconfig`);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const base = { server: opts.apiServerUrl, caCert: opts.ca.cert };
  const admin = write("admin", kubeconfigYaml({ ...base, name: "admin", clientCert: opts.admin }));
  await kubectl(opts.bin, admin, ["apply", "-f", join(repoRoot, "test/envtest/bootstrap.yaml")]);
  // The admission component's own least-privilege role, as the chart installs it.
  await kubectl(opts.bin, admin, ["apply", "-f", join(repoRoot, "webhooks/webhook-rbac.yaml")]);
  await kubectl(opts.bin, admin, ["apply", "-f", join(repoRoot, "crds")]);
  await kubectl(opts.bin, admin, [
    "wait",
    "--for=condition=Established",
    "crd",
    "--all",
    "--timeout=60s",
  ]);
  await waitFor(
    "the aggregated edit ClusterRole to fill (clusterrole-aggregation-controller)",
    async () => {
      const role = JSON.parse(
        await kubectl(opts.bin, admin, ["get", "clusterrole", "edit", "-o", "json"]),
      ) as { rules?: unknown[] | null };
      return (role.rules ?? []).length > 0;
    },
    { timeoutMs: 60_000, logFile: join(opts.dir, "kube-controller-manager.log") },
  );
  const token = async (sa: string): Promise<string> =>
    (
      await kubectl(opts.bin, admin, ["create", "token", sa, "-n", SYSTEM_NS, "--duration=24h"])
    ).trim();
  const user = (name: "alice" | "bob", group: string): string =>
    write(
      name,
      kubeconfigYaml({
        ...base,
        name,
        clientCert: makeClientCert(opts.ca, { user: name, groups: [group] }),
      }),
    );
  return {
    admin,
    reconciler: write(
      "reconciler",
      kubeconfigYaml({
        ...base,
        name: "reconciler",
        token: await token("gitops-guard-reconciler"),
      }),
    ),
    secrets: write(
      "secrets",
      kubeconfigYaml({ ...base, name: "secrets", token: await token("gitops-guard-secrets") }),
    ),
    alice: user("alice", "developers"),
    bob: user("bob", "incident-responders"),
  };
}
