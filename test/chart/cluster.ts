/**
 * The rendered chart on the shared test API server, through envtest's kubectl as admin. Releases
 * are named after the test's namespace, so cluster-scoped names (ClusterRoles and their
 * bindings) never collide with another test's, and they are deleted when the test finishes.
 */
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { envtest } from "../envtest/context.js";
import { ensureGoTool } from "../tools/go-tools.js";
import { render } from "./helm.js";

export interface KubectlResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** kubectl as admin; stdin is written when given. Resolves whatever the exit status. */
export function kubectl(args: readonly string[], stdin?: string): Promise<KubectlResult> {
  const info = envtest();
  return new Promise((resolve, reject) => {
    const child = spawn(info.kubectl, [`--kubeconfig=${info.kubeconfigs.admin}`, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ status: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin ?? "");
  });
}

export async function kubectlOk(args: readonly string[], stdin?: string): Promise<string> {
  const result = await kubectl(args, stdin);
  if (result.status !== 0) {
    throw new Error(`kubectl ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

/** A List kubectl reads from stdin: JSON, so no YAML round trip can change a value. */
export function asList(objects: readonly KubeObject[]): string {
  return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
}

const RBAC_KINDS = new Set([
  "ServiceAccount",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
]);

/**
 * Applies the release's service accounts and RBAC for real (nothing that runs or intercepts:
 * no Deployments, no webhook configuration) and deletes the cluster-scoped part afterwards; the
 * namespaced part goes with the test's namespace.
 */
export async function installRbac(
  release: string,
  namespace: string,
  values?: Record<string, unknown>,
): Promise<KubeObject[]> {
  const rendered = render({ release, namespace, ...(values === undefined ? {} : { values }) });
  const objects = rendered.filter((o) => RBAC_KINDS.has(o.kind));
  onTestFinished(async () => {
    await kubectlOk([
      "delete",
      "clusterrole,clusterrolebinding",
      "-l",
      `app.kubernetes.io/instance=${release}`,
      "--wait=false",
    ]);
  });
  await kubectlOk(["apply", "--server-side", "-f", "-"], asList(objects));
  return objects;
}

export interface Access {
  readonly verb: string;
  /** As kubectl auth can-i takes it: secrets, deployments.apps, serviceaccounts/NAME. */
  readonly resource: string;
  /** Absent: every namespace (kubectl -A), which is also how a cluster-scoped kind is asked. */
  readonly namespace?: string;
  readonly subresource?: string;
}

/** kubectl auth can-i, as the service account: true for "yes", false for "no". */
export async function canI(serviceAccount: string, access: Access): Promise<boolean> {
  const [namespace, name] = serviceAccount.split("/");
  const args = [
    "auth",
    "can-i",
    access.verb,
    access.resource,
    `--as=system:serviceaccount:${namespace!}:${name!}`,
    ...(access.namespace === undefined ? ["--all-namespaces"] : ["-n", access.namespace]),
    ...(access.subresource === undefined ? [] : [`--subresource=${access.subresource}`]),
  ];
  const result = await kubectl(args);
  const answer = result.stdout.trim();
  // An unknown kind is asked as group "" (kubectl cannot map it), so its "no" would prove
  // nothing: refuse it instead.
  if ((answer !== "yes" && answer !== "no") || result.stderr.includes("doesn't have a resource")) {
    throw new Error(`kubectl ${args.join(" ")}: ${result.stdout}${result.stderr}`);
  }
  return answer === "yes";
}

/**
 * Bitnami's SealedSecret CRD, as test/secrets/bitnami.int.test.ts installs it (same file, same
 * server-side apply, so the two never conflict), so that its kind can be asked about.
 */
export async function ensureBitnamiCrd(): Promise<void> {
  ensureGoTool("kubeseal"); // its module, in the Go module cache, holds the CRD
  const modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  const crd = join(
    modcache,
    "github.com/bitnami-labs/sealed-secrets@v0.36.0/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml",
  );
  await kubectlOk(["apply", "--server-side", "-f", crd]);
  await kubectlOk([
    "wait",
    "--for=condition=Established",
    "crd/sealedsecrets.bitnami.com",
    "--timeout=60s",
  ]);
}
