/**
 * The little of kubectl's configuration the offline paths need, without loading the
 * Kubernetes client: which kubeconfig file applies, and the namespace of its current
 * context (kubeseal fills a Secret's missing namespace from it, as kubectl would).
 */
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { Environment } from "../config.js";
import { ErrorCodes, GuardError } from "../errors.js";

/** --kubeconfig, else the first file in KUBECONFIG, else ~/.kube/config; undefined in a pod. */
export function kubeconfigPath(flag: string | undefined, env: Environment): string | undefined {
  if (flag !== undefined && flag !== "") return flag;
  const fromEnv = env.KUBECONFIG?.split(delimiter).find((p) => p !== "");
  if (fromEnv !== undefined) return fromEnv;
  if (env.KUBERNETES_SERVICE_HOST !== undefined && env.HOME === undefined) return undefined;
  const home = env.HOME ?? env.USERPROFILE;
  if (home === undefined) {
    throw new GuardError(ErrorCodes.KUBECONFIG_INVALID, "no kubeconfig: give --kubeconfig");
  }
  return join(home, ".kube", "config");
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/** The current context's namespace, "default" when it names none or there is no file. */
export async function contextNamespace(path: string | undefined): Promise<string> {
  if (path === undefined) return "default";
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    // No kubeconfig is fine offline: kubectl's default namespace applies.
    return "default";
  }
  const { parse } = await import("yaml");
  const config = record(parse(text) as unknown);
  const contexts = Array.isArray(config.contexts) ? config.contexts : [];
  const current = contexts.map(record).find((c) => c.name === config["current-context"]);
  const namespace = record(current?.context).namespace;
  return typeof namespace === "string" && namespace !== "" ? namespace : "default";
}
