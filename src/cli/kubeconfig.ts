/**
 * The little of kubectl's configuration the offline paths need, without loading the
 * Kubernetes client: which kubeconfig files apply, and the namespace of their current
 * context (kubeseal fills a Secret's missing namespace from it, as kubectl would). The
 * commands that talk to the API server hand the same files to kube/kubeconfig.ts.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Environment } from "../config.js";
import { ErrorCodes, GuardError } from "../errors.js";
import { kubeconfigList, mergeKubeconfigs } from "../kube/kubeconfig-merge.js";

/**
 * --kubeconfig (one file), else every file in KUBECONFIG (merged as kubectl merges them), else
 * ~/.kube/config; undefined in a pod, for its service account.
 */
export function kubeconfigFiles(
  flag: string | undefined,
  env: Environment,
): readonly string[] | undefined {
  if (flag !== undefined && flag !== "") return [flag];
  const fromEnv = kubeconfigList(env.KUBECONFIG);
  if (fromEnv.length > 0) return fromEnv;
  if (env.KUBERNETES_SERVICE_HOST !== undefined && env.HOME === undefined) return undefined;
  const home = env.HOME ?? env.USERPROFILE;
  if (home === undefined) {
    throw new GuardError(ErrorCodes.KUBECONFIG_INVALID, "no kubeconfig: give --kubeconfig");
  }
  return [join(home, ".kube", "config")];
}

interface Named {
  readonly name: string;
  readonly context?: { readonly namespace?: unknown };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function named(list: unknown): Named[] {
  const items = Array.isArray(list) ? list.map(record) : [];
  return items.flatMap((item) =>
    typeof item.name === "string" ? [{ name: item.name, context: record(item.context) }] : [],
  );
}

/** What one file says; undefined when it cannot be read (kubectl skips a missing file). */
async function readParts(
  path: string,
): Promise<{ contexts: Named[]; currentContext: string | undefined } | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    // No kubeconfig is fine offline: kubectl's default namespace applies.
    return undefined;
  }
  const { parse } = await import("yaml");
  const config = record(parse(text) as unknown);
  const current = config["current-context"];
  return {
    contexts: named(config.contexts),
    currentContext: typeof current === "string" ? current : undefined,
  };
}

/** The current context's namespace, "default" when it names none or there is no file. */
export async function contextNamespace(files: readonly string[] | undefined): Promise<string> {
  const parts = await Promise.all((files ?? []).map(readParts));
  const merged = mergeKubeconfigs(
    parts.flatMap((p) => (p === undefined ? [] : [{ ...p, clusters: [], users: [] }])),
  );
  const current = merged.contexts.find((c) => c.name === merged.currentContext);
  const namespace = current?.context?.namespace;
  return typeof namespace === "string" && namespace !== "" ? namespace : "default";
}
